#!/bin/sh
# On a machine with a CUDA device: the device paths give the CPU's
# answers.  PageRank (whole iterations on the device) per vertex within
# 1e-9 on a Kronecker graph and the shared Wiki-Vote graph; ALS (normal
# equations solved on the device) train and test RMSE within 1e-3 at
# k = 20 and k = 100 on generated ratings and on ml-latest-small.
# Skipped (77) where there is no device or no CUDA build.
set -eu
B=${GASP_BIN:?}
S=${GASP_SRCDIR:-..}
n=$("$B" info --gpu --json | sed -n 's/.*"devices":\([0-9]*\).*/\1/p')
if [ "${n:-0}" -eq 0 ]; then
  echo "no CUDA device: skipped"
  exit 77
fi
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
json() { sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p" "$1"; }
close() { # a b tol: |a - b| <= tol (1 + |b|)
  awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN {
    d = a - b; if (d < 0) d = -d; m = b < 0 ? -b : b; exit !(d <= t * (1 + m)) }'
}

"$B" generate kronecker --scale 16 --edge-factor 16 -o "$t/k.el" --quiet
graphs="$t/k.el"
w="$S/../shared/data/graphs/Wiki-Vote.txt"
[ -f "$w" ] && graphs="$graphs $w"
for g in $graphs; do
  "$B" pagerank -i "$g" -o "$t/cpu.tsv" --gpu off --quiet
  "$B" pagerank -i "$g" -o "$t/gpu.tsv" --gpu on --quiet --json >"$t/j"
  grep -q '"gpu":"none"' "$t/j" && fail "pagerank did not use the device"
  paste "$t/cpu.tsv" "$t/gpu.tsv" | awk '
    { d = $2 - $4; if (d < 0) d = -d; if ($1 != $3 || d > 1e-9) bad++ }
    END { if (bad) print bad " vertices differ" > "/dev/stderr"; exit bad > 0 }' ||
    fail "pagerank on $g: device ranks differ from the CPU's"
  echo "ok: pagerank on $(basename "$g")"
done

"$B" generate ratings --users 3000 --items 2000 --rank 10 --per-user 40 \
  -o "$t/r.tsv" --quiet
head -n 100000 "$t/r.tsv" | awk 'NR % 10 == 0' >"$t/test.tsv"
sets="$t/r.tsv"
m="$S/../shared/data/ratings/ml-latest-small/ratings.csv"
[ -f "$m" ] && sets="$sets $m"
for r in $sets; do
  for k in 20 100; do
    for dev in off on; do
      "$B" als -i "$r" -k "$k" --max-iter 5 --test "$t/test.tsv" --json \
        --quiet --gpu "$dev" >"$t/$dev.json"
    done
    grep -q '"gpu":"none"' "$t/on.json" && fail "als did not use the device"
    for key in train_rmse test_rmse; do
      a=$(json "$t/on.json" $key)
      b=$(json "$t/off.json" $key)
      close "$a" "$b" 1e-3 || fail "als k=$k on $r: $key $a on the device, $b on the CPU"
    done
    echo "ok: als k=$k on $(basename "$r"): train RMSE $(json "$t/on.json" train_rmse)"
  done
done
