#!/usr/bin/env bash
# Builds the Python package `norsk` (crates/norsk-python, PyO3 + maturin) and
# installs it into a virtual environment: the one active ($VIRTUAL_ENV), else
# target/python-venv (made here). The wheel carries the shipped models and
# needs neither Rust nor PyTorch at run time.
#
#   scripts/python.sh          build the wheel (target/wheels/) and install it
#   scripts/python.sh --test   also install pytest and Dask, build the CLI,
#                              and run the package's tests (pytest)
#
# Everything comes from crates.io and PyPI, versions pinned. Idempotent; works
# from any folder.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

MATURIN=maturin==1.15.0
TEST_DEPS=("pytest==8.4.2" "dask[distributed]==2026.8.0")

VENV=${VIRTUAL_ENV:-$PWD/target/python-venv}
if [[ ! -x "$VENV/bin/python" ]]; then
    echo "python: making the virtual environment $VENV"
    "${PYTHON:-python3}" -m venv "$VENV"
fi
PY="$VENV/bin/python"
"$PY" -m pip install --quiet --disable-pip-version-check "$MATURIN"

echo "python: building the wheel (release)"
rm -f target/wheels/norsk-*.whl
"$VENV/bin/maturin" build --release --quiet -m crates/norsk-python/Cargo.toml --out target/wheels
"$PY" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps target/wheels/norsk-*.whl
echo "python: installed $(ls target/wheels/norsk-*.whl) into $VENV"

if [[ "${1:-}" == "--test" ]]; then
    "$PY" -m pip install --quiet --disable-pip-version-check "${TEST_DEPS[@]}"
    cargo build --release --quiet -p norsk-cli
    # Run from outside the source tree, so the installed package is what is tested.
    (cd target && NORSK_BIN="$PWD/release/norsk" "$PY" -m pytest -q ../crates/norsk-python/tests)
fi
