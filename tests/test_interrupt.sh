#!/bin/sh
# test_interrupt.sh -- runs cut short leave nothing behind: SIGINT while a
# result is being written leaves neither the result nor a temporary file;
# killing the --np launcher (SIGTERM, or SIGKILL) ends its ranks, which do
# not go on to write the output; and a rank that fails at once (partition
# files for 2 ranks run at --np 4) ends the whole run within seconds, not
# after the cluster timeout.
set -u
bin=${GASP_BIN:-}
[ -n "$bin" ] && [ -x "$bin" ] || { echo "SKIP: GASP_BIN not set"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
leftovers() { ls "$1" | grep -c '\.tmp\.' ; }

# 1. SIGINT (and SIGTERM) once the output file is open -- the writer
#    holds a descriptor into the output's directory -- and a little later.
#    A background job of a script starts with SIGINT ignored: perl puts
#    the default back.
sigs=TERM
command -v perl >/dev/null && sigs="INT TERM"
for sig in $sigs; do
  for delay in 0 0.2; do
    w="$dir/w$sig$delay"
    mkdir "$w"
    perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV' \
      "$bin" generate kronecker --scale 19 -t 1 -o "$w/k.el" --quiet &
    p=$!
    for i in $(seq 1 400); do
      ls -l "/proc/$p/fd" 2>/dev/null | grep -q -- "$w/" && break
      sleep 0.025
    done
    sleep "$delay"
    kill -$sig $p 2>/dev/null
    wait $p
    st=$?
    # A signal that lands after the output was named (the run was all but
    # over) may leave it, but only whole: the same bytes as a full run.
    if [ -e "$w/k.el" ] && [ $st -ne 0 ]; then
      [ -e "$dir/ref.el" ] || "$bin" generate kronecker --scale 19 -t 1 \
        -o "$dir/ref.el" --quiet
      if ! cmp -s "$w/k.el" "$dir/ref.el"; then
        echo "FAIL: SIG$sig ${delay}s into writing (status $st) left a partial k.el"
        fail=1
      fi
    fi
    if [ "$(leftovers "$w")" -ne 0 ]; then
      echo "FAIL: SIG$sig ${delay}s into writing: left $(ls "$w")"
      fail=1
    fi
  done
done
[ $fail = 0 ] && echo "ok: SIG$(echo $sigs | tr ' ' /) while writing leave nothing"

# 2. the launcher killed: its ranks end and write nothing
"$bin" generate kronecker --scale 14 -o "$dir/g.el" --quiet || exit 1
for sig in TERM KILL; do
  out="$dir/pr-$sig.tsv"
  "$bin" pagerank -i "$dir/g.el" --np 2 -t 1 --tol 0 --max-iter 100000 \
    -o "$out" --quiet 2>/dev/null &
  p=$!
  sleep 1.5
  kill -$sig $p
  wait $p 2>/dev/null
  gone=0
  for i in $(seq 1 50); do
    if ! pgrep -f -- "$out" >/dev/null; then gone=1; break; fi
    sleep 0.1
  done
  if [ $gone = 0 ]; then
    echo "FAIL: SIG$sig to the launcher left ranks running"
    pkill -f -- "$out"
    fail=1
  fi
  sleep 0.2
  if [ -e "$out" ]; then echo "FAIL: SIG$sig: an orphan rank wrote $out"; fail=1; fi
  if [ "$(leftovers "$dir")" -ne 0 ]; then
    echo "FAIL: SIG$sig: temporary left: $(ls "$dir")"; fail=1
  fi
done
[ $fail = 0 ] && echo "ok: ranks end with their launcher"

# 3. a rank that fails at once ends the run quickly
"$bin" partition -i "$dir/g.el" --parts 2 -o "$dir/parts" --quiet || exit 1
start=$(date +%s)
"$bin" pagerank --partitions "$dir/parts" --np 4 -o "$dir/p4.tsv" --quiet \
  2>"$dir/err"
st=$?
took=$(( $(date +%s) - start ))
if [ $st -eq 0 ]; then echo "FAIL: a partition set for 2 ran at --np 4"; fail=1; fi
if [ $took -gt 10 ]; then echo "FAIL: the failed run took ${took}s"; fail=1; fi
grep -q "part 0 of 2" "$dir/err" ||
  { echo "FAIL: the cause is not named: $(cat "$dir/err")"; fail=1; }
# the ranks share stderr: each message is one whole line
if grep -v '^gasp: ' "$dir/err" | grep -q .; then
  echo "FAIL: messages of the ranks run into each other:"; cat "$dir/err"
  fail=1
fi
[ -e "$dir/p4.tsv" ] && { echo "FAIL: output written by a failed run"; fail=1; }
[ $fail = 0 ] && echo "ok: a failing rank ends the run in ${took}s"

# 4. ranks started one by one (--rank/--peers): the failing rank tells the
#    others why (an ABORT frame), and they stop at once saying so
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + $$ % 20000)))
peers="127.0.0.1:$port,127.0.0.1:0,127.0.0.1:0,127.0.0.1:0"
start=$(date +%s)
pids=
for r in 3 2 1 0; do
  GASP_CLUSTER_KEY=interrupt-test-key-7 GASP_CLUSTER_TIMEOUT=30 \
    "$bin" pagerank --partitions "$dir/parts" --rank $r --peers "$peers" \
    -o "$dir/p4r.tsv" --quiet 2>"$dir/err$r" &
  pids="$pids $!"
done
for p in $pids; do
  if wait $p; then echo "FAIL: a rank of a mismatched set exited 0"; fail=1; fi
done
took=$(( $(date +%s) - start ))
if [ $took -gt 10 ]; then echo "FAIL: the ranks took ${took}s to stop"; fail=1; fi
for r in 1 2 3; do
  grep -q "part 0 of 2" "$dir/err$r" ||
    { echo "FAIL: rank $r was not told why: $(cat "$dir/err$r")"; fail=1; }
done
[ $fail = 0 ] && echo "ok: the other ranks are told why, in ${took}s"
exit $fail
