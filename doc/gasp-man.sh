#!/bin/sh
# gasp-man.sh GASP -- writes the gasp(1) manual page to stdout, made from
# the same text the command prints: `gasp --help` and each subcommand's
# `--help`.  `gasp plot` runs the Python package, which a build machine
# may lack, so its page section is the usage the package prints.
set -eu
gasp=${1:?usage: gasp-man.sh PATH-TO-GASP}
version=$("$gasp" --version | sed 's/^gasp //')

# roff-safe text: backslashes, leading dots and quotes, minus signs
esc() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/" -e 's/-/\\-/g'; }

cat <<HEAD
.TH GASP 1 "" "gasp $version" "User Commands"
.SH NAME
gasp \\- a gather-apply-scatter graph engine: graph analytics, matrix factorization and topic models
.SH SYNOPSIS
.B gasp
.I command
[\\fIoptions\\fR]
.br
.B gasp
.I command
.B \\-\\-help
.SH DESCRIPTION
.nf
HEAD
"$gasp" --help | esc
echo ".fi"
echo ".SH COMMANDS"
"$gasp" --help | sed -n 's/^  \([a-z][a-z-]*\)  *\(.*\)$/\1 \2/p' |
  while read -r cmd summary; do
    case "$summary" in "the same as"*) continue ;; esac
    echo ".SS gasp $(echo "$cmd" | sed 's/-/\\-/g')"
    echo ".nf"
    if [ "$cmd" = plot ]; then
      cat <<'PLOT' | esc
usage: gasp plot TRACE -o FILE.png|FILE.svg [--title T]
       gasp plot --degrees GRAPH -o FILE.png|FILE.svg [--format F] [--symmetric]

Draws a per-iteration trace (the --trace FILE of any gasp toolkit):
residual (log scale) for pagerank, cc, sssp, labelprop, kcore ...; train
and test RMSE for als and sgd; log-likelihood per token for lda.  With
--degrees, the degree distribution of a graph (any format gasp reads).
The image type follows the output's extension.  Runs python3 -m gasp
plot ($GASP_PYTHON names another interpreter): needs the gasp Python
package (pip install ./python) and matplotlib.
PLOT
    else
      "$gasp" "$cmd" --help | esc
    fi
    echo ".fi"
  done
cat <<'TAIL'
.SH EXIT STATUS
0 success, 1 runtime failure, 2 usage or input error; errors are one line
on standard error, \fIgasp: FILE:LINE: reason\fR.
.SH ENVIRONMENT
.TP
.B OMP_NUM_THREADS
threads when \fB\-t\fR is not given.
.TP
.B GASP_CLUSTER_KEY, GASP_CLUSTER_TIMEOUT
the cluster key and the wait bound of distributed runs.
.TP
.B GASP_PYTHON
the interpreter \fBgasp plot\fR runs (python3).
.SH SEE ALSO
The README of the gasp sources; \fIpkg\-config \-\-cflags \-\-libs gasp\fR for
the library, and the Python package \fBgasp\fR (\fIpython3 \-c "import gasp; help(gasp)"\fR).
TAIL
