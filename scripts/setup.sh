#!/usr/bin/env bash
# Sets up what norsk's fastest products need, from package registries only:
#
#   * oneDNN (Debian's libdnnl2), opened at run time for the f32 and int8
#     products on every x86-64 CPU with AVX2, and the bf16 products on CPUs
#     with AVX512-BF16 or AMX; installed with apt-get when this
#     runs as root on Debian/Ubuntu, else a note says how.
#   * oneMKL (the PyPI wheel `mkl`, licence ISSL), opened at run time on Intel
#     CPUs with AVX-512 (its AVX-512, VNNI, AVX512-BF16 and AMX products); the
#     few libraries it needs are unpacked into target/kernel-libs/, where the
#     binaries look for them. Fetched on Intel CPUs with AVX-512, and with
#     --tests (the tests check its products on any x86-64 CPU).
#   * with --tests, the small pretrained test model (scripts/fetch_test_models.sh).
#
# norsk runs without any of them (its own kernels); `norsk info` says what it
# picked and why. Idempotent; works from any folder.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

TESTS=0
[[ "${1:-}" == "--tests" ]] && TESTS=1

# oneDNN
if ! ldconfig -p 2>/dev/null | grep -qE 'libdnnl\.so\.(2|3)'; then
    if [[ $(id -u) == 0 ]] && command -v apt-get > /dev/null; then
        echo "setup: installing oneDNN (libdnnl2) with apt-get"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q libdnnl2 > /dev/null \
            || { apt-get update -q > /dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q libdnnl2 > /dev/null; } \
            || echo "setup: note: could not install libdnnl2; norsk will use its own kernels"
    else
        echo "setup: note: oneDNN not found; install libdnnl2 (or libdnnl3) for faster products"
    fi
fi

# oneMKL
MKL_VERSION=2026.2.0
MKL_WHEEL=mkl-${MKL_VERSION}-py2.py3-none-manylinux_2_28_x86_64.whl
MKL_SHA256=eaab1875ce9f47ab3c66d5632cef06baf768c05781f2f28847bdbc4343500ed7
MKL_LIBS="libmkl_rt libmkl_core libmkl_sequential libmkl_intel_lp64 libmkl_def libmkl_mc3 libmkl_avx2 libmkl_avx512 libmkl_avx10"
DEST=target/kernel-libs
intel_avx512() { grep -q GenuineIntel /proc/cpuinfo && grep -qw avx512f /proc/cpuinfo; }
if [[ $(uname -m) == x86_64 && ( $TESTS == 1 ) ]] || { [[ $(uname -m) == x86_64 ]] && intel_avx512; }; then
    if [[ -f "$DEST/libmkl_rt.so.3" && -f "$DEST/libmkl_avx10.so.3" ]]; then
        echo "setup: oneMKL already in $DEST"
    else
        PY=${PYTHON:-python3}
        TMP=$(mktemp -d)
        trap 'rm -rf "$TMP"' EXIT
        echo "setup: downloading oneMKL $MKL_VERSION from PyPI (about 220 MB)"
        "$PY" -m pip download --quiet --no-deps "mkl==$MKL_VERSION" -d "$TMP"
        echo "$MKL_SHA256  $TMP/$MKL_WHEEL" | sha256sum -c --quiet -
        mkdir -p "$DEST"
        "$PY" - "$TMP/$MKL_WHEEL" "$DEST" $MKL_LIBS <<'PYEOF'
import sys, zipfile, os
wheel, dest, names = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as w:
    for info in w.infolist():
        base = os.path.basename(info.filename)
        if any(base == f"{n}.so.3" for n in names):
            with w.open(info) as src, open(os.path.join(dest, base), "wb") as dst:
                dst.write(src.read())
            print(f"setup: {dest}/{base}")
PYEOF
    fi
fi

if [[ $TESTS == 1 ]]; then
    scripts/fetch_test_models.sh
fi
