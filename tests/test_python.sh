#!/bin/sh
# Builds the Python bindings (python/) against this build's libgasp in a
# scratch copy (the source tree may be read-only) and runs their pytest
# suite.  Skipped (77) in sanitizer builds, whose libgasp would need the
# sanitizer runtime preloaded into python3, and without a python3 that has
# numpy, scipy, networkx, matplotlib, pytest and its headers (./build.sh
# installs them).
set -eu
: "${GASP_BUILDDIR:?}" "${GASP_SRCDIR:?}"
if [ -n "${GASP_SAN_CFLAGS:-}" ]; then
  echo "test_python: skipped in a sanitizer build"
  exit 77
fi
py=
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c '
import os, sysconfig
import numpy, scipy, networkx, matplotlib, pytest, setuptools
assert os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))
' 2>/dev/null; then
    py=$p
    break
  fi
done
if [ -z "$py" ]; then
  echo "test_python: skipped: no python3 with numpy, scipy, networkx," \
    "matplotlib, pytest and Python.h (python3-dev)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -R "$GASP_SRCDIR/python/." "$tmp/"
chmod -R u+w "$tmp"
rm -rf "$tmp/build" "$tmp"/gasp/*.so "$tmp"/gasp/__pycache__ "$tmp"/tests/__pycache__
cd "$tmp"
GASP_BUILD_DIR=$GASP_BUILDDIR GASP_INCLUDE_DIR=$GASP_SRCDIR/include \
  "$py" setup.py -q build_ext --inplace 2>&1 | grep -v '^$' || true
test -n "$(ls gasp/_gasp*.so 2>/dev/null)"
GASP_BUILD_DIR=$GASP_BUILDDIR MPLBACKEND=Agg "$py" -m pytest -q -p no:cacheprovider tests
