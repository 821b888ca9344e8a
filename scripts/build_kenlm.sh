#!/usr/bin/env bash
# Build KenLM's n-gram estimator `lmplz` (recipes/build_lm.py runs it) into $VENV/bin. Idempotent: a working
# $VENV/bin/lmplz is left as it is. Sources: the PyPI kenlm 0.3.0 source distribution (sha256-checked), which carries
# the builder (lm/builder); built with CMake against Debian's Boost. Needs: cmake g++ make libboost-program-options-dev
# libboost-system-dev libboost-thread-dev libboost-test-dev zlib1g-dev libbz2-dev liblzma-dev (installed with apt when
# run as root, otherwise named with the command to run). Nothing here touches Python packages or torch.
#   scripts/build_kenlm.sh            (= make kenlm; VENV=.venv by default)
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
VERSION=0.3.0
SHA256=c4628bb9fb63c8a6f9240035b8b037385cfc404cb72e933cf48878291edac1e8
CACHE="$VENV/kenlm"
BIN="$VENV/bin/lmplz"

# `lmplz --help` exits 1 by design; a broken binary (missing shared library) exits 127.
if [ -x "$BIN" ]; then
  rc=0; "$BIN" --help >/dev/null 2>&1 || rc=$?
  [ "$rc" -le 1 ] && exit 0
fi

packages=(cmake g++ make libboost-program-options-dev libboost-system-dev libboost-thread-dev libboost-test-dev
          zlib1g-dev libbz2-dev liblzma-dev)
missing=()
command -v cmake >/dev/null || missing+=(cmake)
command -v g++ >/dev/null || missing+=(g++)
command -v make >/dev/null || missing+=(make)
[ -e /usr/include/boost/program_options.hpp ] || missing+=(libboost-program-options-dev)
[ -e /usr/include/boost/thread.hpp ] || missing+=(libboost-thread-dev)
[ -e /usr/include/boost/test/unit_test.hpp ] || missing+=(libboost-test-dev)  # CMakeLists requires the component
ls /usr/lib/*/libboost_system.so >/dev/null 2>&1 || missing+=(libboost-system-dev)
[ -e /usr/include/zlib.h ] || missing+=(zlib1g-dev)
[ -e /usr/include/bzlib.h ] || missing+=(libbz2-dev)
[ -e /usr/include/lzma.h ] || missing+=(liblzma-dev)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "build_kenlm: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
  else
    echo "error: building KenLM's lmplz needs: ${missing[*]}" >&2
    echo "       install them with: sudo apt-get install -y ${packages[*]}" >&2
    exit 1
  fi
fi

mkdir -p "$CACHE"
sdist="$CACHE/kenlm-$VERSION.tar.gz"
if ! echo "$SHA256  $sdist" | sha256sum -c --status 2>/dev/null; then
  # pip's own client; --no-build-isolation: only the sdist is wanted, not a build of its build requirements
  "$VENV/bin/pip" download -q --no-deps --no-binary kenlm --no-build-isolation -d "$CACHE" "kenlm==$VERSION"
  echo "$SHA256  $sdist" | sha256sum -c --status || { echo "error: $sdist does not have the expected sha256" >&2; exit 1; }
fi
src="$CACHE/kenlm-$VERSION"
[ -f "$src/lm/builder/lmplz_main.cc" ] || tar -xzf "$sdist" -C "$CACHE"

# KENLM_MAX_ORDER bounds lmplz -o; 6 is KenLM's default and above what recipes/build_lm.py uses.
cmake -S "$src" -B "$CACHE/build" -DCMAKE_BUILD_TYPE=Release -DKENLM_MAX_ORDER=6 -DCOMPILE_TESTS=OFF \
      -DBUILD_TESTING=OFF >"$CACHE/cmake.log" 2>&1 || { tail -20 "$CACHE/cmake.log" >&2; exit 1; }
jobs=$(nproc 2>/dev/null || echo 2)
cmake --build "$CACHE/build" --target lmplz -j "$jobs" >"$CACHE/build.log" 2>&1 \
  || { tail -30 "$CACHE/build.log" >&2; exit 1; }
install -m 755 "$CACHE/build/bin/lmplz" "$BIN"
echo "build_kenlm: $BIN"
