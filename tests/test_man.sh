#!/bin/sh
# The manual page has a section per subcommand and formats without
# warnings; the bash completion offers subcommands, options and values.
set -eu
: "${GASP_BUILDDIR:?}" "${GASP_SRCDIR:?}" "${GASP_BIN:?}"
man="$GASP_BUILDDIR/gasp.1"
test -s "$man"
for cmd in $("$GASP_BIN" --help | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p'); do
  [ "$cmd" = color ] && continue
  grep -q "^\.SS gasp $(echo "$cmd" | sed 's/-/\\\\-/g')\$" "$man" ||
    { echo "no section for $cmd"; exit 1; }
done
grep -q 'damping factor' "$man"
if command -v groff >/dev/null 2>&1; then
  warn=$(groff -man -Tutf8 -ww -z "$man" 2>&1)
  [ -z "$warn" ] || { echo "$warn"; exit 1; }
fi
command -v bash >/dev/null 2>&1 || exit 0
complete() { # COMPLETE WORD... -> the candidates for the last word
  bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _gasp;
           printf "%s\n" "${COMPREPLY[@]}"' _ "$GASP_SRCDIR/doc/completion/gasp" "$@"
}
[ "$(complete "$GASP_BIN" pa | tr '\n' ' ')" = "pagerank partition " ]
[ "$(complete "$GASP_BIN" pagerank --damp)" = "--damping" ]
complete "$GASP_BIN" cc --eng | grep -qx -- --engine
[ "$(complete "$GASP_BIN" cc --engine a)" = "async" ]
[ "$(complete "$GASP_BIN" generate kr)" = "kronecker" ]
echo "man page and completion: ok"
