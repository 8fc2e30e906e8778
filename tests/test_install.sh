#!/bin/sh
# Installs gasp into a scratch DESTDIR and builds examples/pagerank.c
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
  "$GASP_SRCDIR/examples/pagerank.c" $flags -lm
out=$(LD_LIBRARY_PATH="$libdir" "$tmp/pagerank" "$GASP_SRCDIR/data/sample.el" 3)
echo "$out"
# 4 lines: the summary, then the top 3; ranks positive and descending
test "$(echo "$out" | wc -l)" -eq 4
echo "$out" | head -n 1 | grep -q '^supersteps [1-9]'
echo "$out" | tail -n 3 | awk -F'\t' 'NR > 1 && $2 > prev { exit 1 } $2 <= 0 { exit 1 } { prev = $2 }'
