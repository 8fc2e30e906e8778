#!/usr/bin/env bash
# build.sh -- set up a fresh Debian machine, build gasp, and run it.
#
#   ./build.sh run      install what is missing, build, run the sample job
#   ./build.sh check    install what is missing, build, run the test suite
#   ./build.sh check --sanitizers   the suite under ASan + UBSan (own build dir)
#   ./build.sh check --no-cuda      the suite without the CUDA path
#   ./build.sh fuzz [SECONDS]       the libFuzzer harnesses (clang, own build
#                                   dir), each for SECONDS (30); see README
#
# Missing Debian packages are installed with apt-get (as root, or via sudo).
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES="build-essential libmetis-dev libevent-dev libmsgpack-dev libcmocka-dev \
zlib1g-dev autoconf automake libtool pkg-config \
python3-dev python3-setuptools python3-numpy python3-scipy python3-networkx \
python3-matplotlib python3-pytest"

install_deps() {
  local missing=""
  for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
      missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  echo "build.sh: installing:$missing" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # shellcheck disable=SC2086
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
}

configure_in() { # configure_in DIR CONFIGURE-ARGS...
  local dir=$1
  shift
  [ -x configure ] && [ configure -nt configure.ac ] && [ configure -nt Makefile.am ] ||
    autoreconf -fi
  mkdir -p "$dir"
  if [ ! -f "$dir/config.status" ] || [ "$dir/config.status" -ot configure ] ||
     [ "$(cat "$dir/.args" 2>/dev/null)" != "$*" ]; then
    (cd "$dir" && ../configure -q "$@")
    echo "$*" > "$dir/.args"
  fi
}

build() { # build DIR CONFIGURE-ARGS...
  configure_in "$@"
  make -C "$1" -j"$(nproc)" -s
}

cmd=${1:-run}
shift || true
dir=_build
args=()
fuzz_seconds=30
if [ "$cmd" = fuzz ]; then
  case "${1:-}" in
    "" | *[!0-9]*) ;;
    *) fuzz_seconds=$1; shift ;;
  esac
  # libFuzzer comes with Debian's clang
  command -v clang >/dev/null || PACKAGES="$PACKAGES clang"
  dir=_build-fuzz
  args=(CC=clang --enable-fuzzing --without-cuda)
fi
for a in "$@"; do
  case "$a" in
    --sanitizers) dir=_build-asan; args+=(--enable-sanitizers --without-cuda) ;;
    --tsan) dir=_build-tsan; args+=(--enable-tsan --without-cuda) ;;
    --no-cuda) dir=_build-nocuda; args+=(--without-cuda) ;;
    *) echo "build.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

install_deps
if [ "$cmd" = fuzz ]; then
  # builds only what the harnesses need, then runs each in turn
  configure_in "$dir" "${args[@]}"
  make -C "$dir" -j"$(nproc)" -s fuzz FUZZ_SECONDS="$fuzz_seconds"
  exit
fi
build "$dir" "${args[@]}"
case "$cmd" in
  run)
    # The main job: PageRank on the bundled sample, top 10 vertices.
    "$dir/gasp" info data/sample.el
    "$dir/gasp" pagerank -i data/sample.el --top 10
    # The Python package, built in the tree against this build (use it
    # with PYTHONPATH=python; `pip install ./python` after make install)
    py=
    for p in python3 /usr/bin/python3; do
      if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import numpy, setuptools' 2>/dev/null; then
        py=$p
        break
      fi
    done
    if [ -n "$py" ]; then
      (cd python && GASP_BUILD_DIR="../$dir" "$py" setup.py -q build_ext --inplace) \
        >/dev/null 2>&1 &&
        PYTHONPATH=python "$py" -c 'import gasp
g = gasp.load("data/sample.el")
r = gasp.pagerank(g)
top = r.argsort()[::-1][:3]
print("python: gasp.pagerank top 3:",
      ", ".join("%d %.6f" % (g.ids[i], r[i]) for i in top))' ||
        echo "build.sh: the Python package did not build (see python/)" >&2
    fi
    ;;
  check)
    make -C "$dir" -j"$(nproc)" check || {
      # the logs of the failed tests, whole (the end of each is the story)
      for t in "$dir"/tests/*.trs; do
        grep -q '^:test-result: \(FAIL\|ERROR\)' "$t" 2>/dev/null || continue
        echo "==== ${t%.trs}.log" >&2
        tail -n 300 "${t%.trs}.log" >&2
      done
      exit 1
    }
    ;;
  *) echo "usage: ./build.sh run|check [--sanitizers|--tsan|--no-cuda]," \
       "./build.sh fuzz [SECONDS]" >&2; exit 2 ;;
esac
