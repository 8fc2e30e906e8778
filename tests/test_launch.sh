#!/bin/sh
# test_launch.sh -- ranks started by a launcher: rank and size from the
# environment as OpenMPI (OMPI_COMM_WORLD_RANK/SIZE) and MPICH/PMI
# (PMI_RANK/PMI_SIZE) set them, meeting at $GASP_COORDINATOR with the key
# in $GASP_CLUSTER_KEY; the result must equal one process (PageRank, and
# triangles' per-vertex counts).
set -u
bin=${GASP_BIN:-}
src=${GASP_SRCDIR:-.}
[ -n "$bin" ] && [ -x "$bin" ] || { echo "SKIP: GASP_BIN not set"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
graph=$src/data/sample.el
"$bin" pagerank -i "$graph" -o "$dir/one.tsv" --quiet || exit 1
# a free port: bind 0 and let it go (the rank rebinds it, SO_REUSEADDR)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + $$ % 20000)))
export GASP_CLUSTER_KEY=launcher-test-key-42 GASP_COORDINATOR=127.0.0.1:$port GASP_CLUSTER_TIMEOUT=20
fail=0
for flavour in ompi pmi; do
  pids=
  for r in 2 1 0; do
    if [ $flavour = ompi ]; then
      env OMPI_COMM_WORLD_RANK=$r OMPI_COMM_WORLD_SIZE=3 "$bin" pagerank -i "$graph" \
        --quiet -o "$dir/$flavour.tsv" 2>"$dir/err$r" &
    else
      env PMI_RANK=$r PMI_SIZE=3 "$bin" pagerank -i "$graph" --quiet \
        -o "$dir/$flavour.tsv" 2>"$dir/err$r" &
    fi
    pids="$pids $!"
  done
  for p in $pids; do wait $p || { echo "FAIL: $flavour rank exited $?: $(cat "$dir"/err*)"; fail=1; }; done
  awk 'NR==FNR {a[$1]=$2; next} {d=a[$1]-$2; if (d<0) d=-d; s+=d; n++}
       END {if (n == 0 || s > 1e-9) {print "FAIL: L1 " s; exit 1}}' \
    "$dir/one.tsv" "$dir/$flavour.tsv" || fail=1
  [ $fail = 0 ] && echo "ok: $flavour environment, 3 ranks"
done
# triangles: the same per-vertex file as one process, byte for byte
"$bin" triangles -i "$graph" -o "$dir/tri1.tsv" --quiet || exit 1
pids=
for r in 1 0; do
  env OMPI_COMM_WORLD_RANK=$r OMPI_COMM_WORLD_SIZE=2 "$bin" triangles -i "$graph" \
    --quiet -o "$dir/tri2.tsv" 2>"$dir/err$r" &
  pids="$pids $!"
done
for p in $pids; do wait $p || { echo "FAIL: triangles rank exited $?: $(cat "$dir"/err*)"; fail=1; }; done
if cmp -s "$dir/tri1.tsv" "$dir/tri2.tsv"; then
  echo "ok: triangles, 2 ranks"
else
  echo "FAIL: triangles per-vertex counts differ from one process"
  fail=1
fi
exit $fail
