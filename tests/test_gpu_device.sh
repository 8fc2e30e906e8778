#!/bin/sh
# On a machine with a CUDA device: the device paths give the CPU's
# answers.  PageRank (whole iterations on the device) per vertex within
# 1e-9 on a Kronecker graph and the shared Wiki-Vote graph; ALS (normal
# equations solved on the device) train and test RMSE within 1e-3 at
# k = 20 and k = 100 on generated ratings and on ml-latest-small, and
# implicit-feedback ALS (Y^T Y on the device) test MPR within 1e-3.
# Skipped (77) where there is no device or no CUDA build.
set -eu
B=${GASP_BIN:?}
S=${GASP_SRCDIR:-..}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
n=$("$B" info --gpu --json | sed -n 's/.*"devices":\([0-9]*\).*/\1/p')
if [ "${n:-0}" -eq 0 ]; then
  # No device: --gpu on fails clearly (exit 2, the reason), auto and off
  # give the same results, and toolkits without device kernels refuse --gpu.
  "$B" generate ratings --users 300 --items 200 --per-user 20 -o "$t/r.tsv" --quiet
  for cmd in "pagerank -i $S/data/sample.el" "als -i $t/r.tsv" "sgd -i $t/r.tsv" \
    "cc -i $S/data/sample.el"; do
    set +e
    # shellcheck disable=SC2086
    "$B" $cmd --gpu on --quiet -o "$t/x" 2>"$t/err"
    rc=$?
    set -e
    [ $rc -eq 2 ] || fail "$cmd --gpu on without a device: exit $rc, not 2"
    grep -q "gasp: .*\(--gpu on\|GPU on\|--gpu does not apply\)" "$t/err" ||
      fail "$cmd: no reason given: $(cat "$t/err")"
    [ ! -s "$t/x" ] || fail "$cmd --gpu on wrote results"
  done
  for cmd in pagerank als; do
    in=$S/data/sample.el
    [ $cmd = als ] && in=$t/r.tsv
    "$B" $cmd -i "$in" --gpu off --quiet -o "$t/$cmd.off" >/dev/null
    "$B" $cmd -i "$in" --gpu auto --quiet --json -o "$t/$cmd.auto" >"$t/j"
    grep -q '"gpu":"none"' "$t/j" || fail "$cmd --gpu auto: $(cat "$t/j")"
    for f in "$t/$cmd.off"*; do
      cmp -s "$f" "$t/$cmd.auto${f#"$t/$cmd.off"}" ||
        fail "$cmd: --gpu auto differs from off in ${f#"$t/"}"
    done
  done
  ls "$t/als.auto.users.tsv" "$t/pagerank.auto" >/dev/null
  "$B" pagerank -i "$S/data/sample.el" --gpu sometimes 2>"$t/err" && fail "--gpu sometimes accepted"
  grep -q "expected auto, on or off" "$t/err" || fail "bad --gpu value: $(cat "$t/err")"
  echo "no CUDA device: checked the CPU fallback only"
  exit 0
fi
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

# implicit feedback: the device adds the other side's Y^T Y, set before
# each half-step
awk 'NR % 10 != 0' "$t/r.tsv" >"$t/train.tsv"
awk 'NR % 10 == 0' "$t/r.tsv" >"$t/held.tsv"
for dev in off on; do
  "$B" als -i "$t/train.tsv" --implicit 1 -k 20 --max-iter 5 \
    --test "$t/held.tsv" --json --quiet --gpu "$dev" >"$t/i$dev.json"
done
grep -q '"gpu":"none"' "$t/ion.json" && fail "implicit als did not use the device"
a=$(json "$t/ion.json" test_mpr)
b=$(json "$t/ioff.json" test_mpr)
close "$a" "$b" 1e-3 || fail "implicit als: test MPR $a on the device, $b on the CPU"
echo "ok: implicit als k=20: test MPR $a"
