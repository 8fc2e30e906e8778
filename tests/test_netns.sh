#!/bin/sh
# test_netns.sh -- two ranks in separate network namespaces joined by a
# veth pair, so cluster traffic really crosses an interface: the ranks
# meet by --rank/--peers with a key file, PageRank, CC and triangles must
# equal the single-process results, and a rank holding the wrong key is
# refused.
# Needs root and iproute2 (creates and removes its own namespaces);
# skipped (exit 77) otherwise.
set -u
bin=${GASP_BIN:-}
src=${GASP_SRCDIR:-.}
skip() { echo "SKIP: $*"; exit 77; }
[ -n "$bin" ] && [ -x "$bin" ] || skip "GASP_BIN not set"
[ "$(id -u)" = 0 ] || skip "not root: cannot create network namespaces"
command -v ip >/dev/null 2>&1 || skip "no ip (iproute2)"

tag=g$$
ns0=${tag}a ns1=${tag}b
dir=$(mktemp -d)
cleanup() {
  ip netns del "$ns0" 2>/dev/null
  ip netns del "$ns1" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM
ip netns add "$ns0" 2>/dev/null || skip "ip netns add failed (no CAP_SYS_ADMIN?)"
ip netns add "$ns1" || exit 1
ip link add "${tag}0" type veth peer name "${tag}1" || skip "no veth support"
ip link set "${tag}0" netns "$ns0" && ip link set "${tag}1" netns "$ns1" || exit 1
ip -n "$ns0" addr add 10.213.0.1/24 dev "${tag}0" && ip -n "$ns1" addr add 10.213.0.2/24 dev "${tag}1" || exit 1
ip -n "$ns0" link set "${tag}0" up && ip -n "$ns1" link set "${tag}1" up || exit 1
ip -n "$ns0" link set lo up; ip -n "$ns1" link set lo up
# the namespaces see each other only through the veth pair: every byte
# between the ranks crosses it

graph=$src/data/sample.el
peers=10.213.0.1:47311,10.213.0.2:47312
echo "netns-test-cluster-key" > "$dir/key"
echo "someone-elses-key-123" > "$dir/bad"
bytes() { ip netns exec "$ns0" cat "/sys/class/net/${tag}0/statistics/tx_bytes" 2>/dev/null || echo 0; }
before=$(bytes)
fail=0
for tool in pagerank cc triangles; do
  "$bin" $tool -i "$graph" -o "$dir/one.tsv" --quiet || { echo "FAIL: single $tool"; exit 1; }
  ip netns exec "$ns1" "$bin" $tool -i "$graph" --rank 1 --peers $peers \
    --cluster-key-file "$dir/key" --quiet -o "$dir/r1.tsv" 2>"$dir/err1" &
  p1=$!
  ip netns exec "$ns0" "$bin" $tool -i "$graph" --rank 0 --peers $peers \
    --cluster-key-file "$dir/key" --quiet -o "$dir/two.tsv" 2>"$dir/err0"
  s0=$?
  wait $p1; s1=$?
  if [ $s0 != 0 ] || [ $s1 != 0 ]; then
    echo "FAIL: $tool across namespaces: $s0/$s1: $(cat "$dir/err0" "$dir/err1")"
    fail=1
    continue
  fi
  [ ! -e "$dir/r1.tsv" ] || { echo "FAIL: rank 1 wrote a result file"; fail=1; }
  if [ $tool != pagerank ]; then
    cmp -s "$dir/one.tsv" "$dir/two.tsv" || { echo "FAIL: $tool results differ"; fail=1; }
  else
    awk 'NR==FNR {a[$1]=$2; next} {d=a[$1]-$2; if (d<0) d=-d; s+=d; n++}
         END {if (n == 0 || s > 1e-9) {print "FAIL: pagerank L1 " s; exit 1}}' \
      "$dir/one.tsv" "$dir/two.tsv" || fail=1
  fi
  echo "ok: $tool over veth"
done

after=$(bytes)
if [ "$after" -le "$before" ]; then
  echo "FAIL: no bytes crossed the veth ($before -> $after)"
  fail=1
else
  echo "ok: $((after - before)) bytes sent through the veth"
fi

# the wrong key: rank 1 is refused and both ranks fail without a result
rm -f "$dir/two.tsv"
ip netns exec "$ns1" "$bin" pagerank -i "$graph" --rank 1 --peers $peers \
  --cluster-key-file "$dir/bad" --quiet 2>"$dir/err1" &
p1=$!
GASP_CLUSTER_TIMEOUT=5 ip netns exec "$ns0" timeout 90 "$bin" pagerank -i "$graph" --rank 0 \
  --peers $peers --cluster-key-file "$dir/key" --quiet -o "$dir/two.tsv" 2>"$dir/err0"
s0=$?
wait $p1; s1=$?
if [ $s1 = 0 ] || ! grep -q "key" "$dir/err1"; then
  echo "FAIL: a rank with the wrong key was not refused ($s1: $(cat "$dir/err1"))"
  fail=1
fi
if [ $s0 = 0 ] || [ -e "$dir/two.tsv" ]; then
  echo "FAIL: rank 0 went on without its peer ($s0)"
  fail=1
fi
[ $fail = 0 ] && echo "ok: wrong key refused"
exit $fail
