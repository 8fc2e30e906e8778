#!/bin/sh
# Installs gasp into a scratch DESTDIR and builds examples/pagerank_raw.c
# against the installed header, library and gasp.pc only (pkg-config), then
# runs it on the bundled sample and checks its output.
set -eu
: "${GASP_BUILDDIR:?}" "${GASP_SRCDIR:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
make -s -C "$GASP_BUILDDIR" install DESTDIR="$tmp/root" >/dev/null
prefix=$(sed -n 's/^prefix=//p' "$GASP_BUILDDIR/gasp.pc")
root="$tmp/root$prefix"
libdir=$(ls -d "$root"/lib* | head -n 1)
test -f "$root/include/gasp.h"
test -f "$libdir/pkgconfig/gasp.pc"
flags=$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config \
  --define-variable=prefix="$root" --cflags --libs gasp)
# shellcheck disable=SC2086 # (flag lists are meant to split)
${CC:-cc} -std=c99 -Wall -Werror ${GASP_SAN_CFLAGS:-} -o "$tmp/pagerank" \
  "$GASP_SRCDIR/examples/pagerank_raw.c" $flags -lm
out=$(LD_LIBRARY_PATH="$libdir" "$tmp/pagerank" "$GASP_SRCDIR/data/sample.el" 3)
echo "$out"
# 4 lines: the summary, then the top 3; ranks positive and descending
test "$(echo "$out" | wc -l)" -eq 4
echo "$out" | head -n 1 | grep -q '^supersteps [1-9]'
echo "$out" | tail -n 3 | awk -F'\t' 'NR > 1 && $2 > prev { exit 1 } $2 <= 0 { exit 1 } { prev = $2 }'

# The examples on the command-line driver (gasp-cli.pc): built against the
# installed headers and libraries only, checked against the toolkits.
test -f "$root/include/gasp_cli.h"
test -f "$libdir/pkgconfig/gasp-cli.pc"
cflags=$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config \
  --define-variable=prefix="$root" --cflags --libs gasp-cli)
for ex in bfs sssp pagerank; do
  # shellcheck disable=SC2086
  ${CC:-cc} -std=c99 -Wall -Werror ${GASP_SAN_CFLAGS:-} -o "$tmp/ex_$ex" \
    "$GASP_SRCDIR/examples/$ex.c" $cflags -lm
done
run() { LD_LIBRARY_PATH="$libdir" "$@"; }
gasp=${GASP_BIN:?}
sample="$GASP_SRCDIR/data/sample.el"
# BFS depths are unit-weight directed shortest paths
"$gasp" sssp -i "$sample" --source 153 --directed -o "$tmp/ref.tsv" --quiet
for args in "" "-t 1" "--np 2"; do
  # shellcheck disable=SC2086
  run "$tmp/ex_bfs" -i "$sample" --source 153 $args -o "$tmp/out.tsv" --quiet
  cmp "$tmp/ref.tsv" "$tmp/out.tsv"
done
run "$tmp/ex_bfs" -i "$sample" --source 153 --json |
  grep -q '"program":"bfs".*"converged":true'
# SSSP by messages over weights 1..9, on both engines and across ranks
awk '{ print $1 "\t" $2 "\t" (NR * 7) % 9 + 1 }' "$sample" > "$tmp/w.el"
"$gasp" sssp -i "$tmp/w.el" --source 153 --directed -o "$tmp/ref.tsv" --quiet
for args in "" "--engine async" "--np 3" "--np 2 --staleness 2"; do
  # shellcheck disable=SC2086
  run "$tmp/ex_sssp" -i "$tmp/w.el" --source 153 $args -o "$tmp/out.tsv" --quiet
  cmp "$tmp/ref.tsv" "$tmp/out.tsv"
done
# PageRank (dangling vertices too) equals the toolkit's
"$gasp" generate kronecker --scale 9 --edge-factor 8 -o "$tmp/k.el" --quiet
"$gasp" pagerank -i "$tmp/k.el" --tol 1e-13 -o "$tmp/ref.tsv" --quiet
for args in "" "--np 2"; do
  # shellcheck disable=SC2086
  run "$tmp/ex_pagerank" -i "$tmp/k.el" --tol 1e-13 $args -o "$tmp/out.tsv" \
    --quiet
  paste "$tmp/ref.tsv" "$tmp/out.tsv" | awk -F'\t' '
    $1 != $3 { print "ids differ at line " NR; exit 1 }
    { d = $2 - $4; if (d < 0) d = -d; if (d > 1e-9) { print "vertex " $1 ": " $2 " vs " $4; exit 1 } }
    END { if (NR < 100) { print "too few lines: " NR; exit 1 } }'
done
# usage errors: exit 2 with one line
status() { set +e; run "$@" >/dev/null 2>"$tmp/err"; s=$?; set -e; echo $s; }
test "$(status "$tmp/ex_bfs" -i "$sample")" -eq 2
grep -q '^bfs: --source ID is required' "$tmp/err"
test "$(status "$tmp/ex_bfs" -i "$sample" --source 153 --engine async)" -eq 2
test "$(status "$tmp/ex_bfs" -i "$sample" --source 99999999)" -eq 2
grep -q 'unknown vertex id 99999999' "$tmp/err"
test "$(status "$tmp/ex_sssp" -i "$sample" --source 153 --tol 1)" -eq 2
test "$(status "$tmp/ex_pagerank" -i "$tmp/missing.el")" -eq 2
echo "examples: bfs, sssp, pagerank match the toolkits"

# The manual page and the bash completion are installed.
test -s "$root/share/man/man1/gasp.1"
test -s "$root/share/bash-completion/completions/gasp"

# The Python package builds against the installed library through
# pkg-config, as `pip install ./python` does after `make install` (skipped
# in sanitizer builds and without python3's numpy and headers).
pyok() {
  "$1" -c 'import os, sysconfig, numpy, setuptools
assert os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))' \
    2>/dev/null
}
py=
for p in python3 /usr/bin/python3; do
  command -v "$p" >/dev/null 2>&1 && pyok "$p" && { py=$p; break; }
done
if [ -z "${GASP_SAN_CFLAGS:-}" ] && [ -n "$py" ]; then
  mkdir "$tmp/py"
  cp -R "$GASP_SRCDIR/python/setup.py" "$GASP_SRCDIR/python/gasp" "$tmp/py/"
  chmod -R u+w "$tmp/py"
  rm -rf "$tmp/py/gasp/"*.so "$tmp/py/gasp/__pycache__"
  (cd "$tmp/py" && PKG_CONFIG_PATH="$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$tmp/root" \
    "$py" setup.py -q build_ext --inplace >/dev/null 2>&1)
  n=$(cd / && PYTHONPATH="$tmp/py" "$py" -c 'import gasp
print(gasp.load("'"$sample"'").num_vertices)')
  test "$n" -eq "$("$gasp" info "$sample" --quiet | awk -F'\t' '$1 == "vertices" { print $2 }')"
  echo "python: built against the installed library"
fi
