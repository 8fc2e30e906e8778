#!/bin/sh
# run.sh DIR FUZZER... -- runs each libFuzzer harness DIR/FUZZER for
# $FUZZ_SECONDS (default 30) seconds on a fresh copy of its seeds
# (DIR/seeds/FUZZER) in DIR/corpus/FUZZER, findings written to
# DIR/artifacts/FUZZER/, the run's output to DIR/FUZZER.log.  Prints each
# harness's executions and coverage (libFuzzer's cov: edges, ft:
# features); fails when any harness reported a crash, a leak, a timeout
# or an out-of-memory.  FUZZ_FLAGS adds libFuzzer flags to every run.
set -u
dir=$1
shift
secs=${FUZZ_SECONDS:-30}
failed=""
for f in "$@"; do
  corpus=$dir/corpus/$f art=$dir/artifacts/$f log=$dir/$f.log
  rm -rf "$corpus" "$art"
  mkdir -p "$corpus" "$art"
  cp "$dir/seeds/$f"/* "$corpus"/ 2>/dev/null || true
  # the model readers print each rejected file on stderr
  extra=""
  case $f in fuzz_lda_model | fuzz_mf_model) extra=-close_fd_mask=2 ;; esac
  # shellcheck disable=SC2086
  "$dir/$f" -max_total_time="$secs" -print_final_stats=1 -timeout=20 \
    -rss_limit_mb=2048 -artifact_prefix="$art/" $extra ${FUZZ_FLAGS:-} \
    "$corpus" > "$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
  cov=$(printf '%s\n' "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
  ft=$(printf '%s\n' "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
  if [ "$rc" -eq 0 ] && [ -z "$(ls -A "$art")" ]; then
    echo "$f: ${execs:-?} executions in ${secs} s, cov ${cov:-?}, ft ${ft:-?}"
  else
    echo "$f: FAILED (exit $rc) after ${execs:-?} executions; findings in $art, log $log" >&2
    tail -n 60 "$log" >&2
    failed="$failed $f"
  fi
done
if [ -n "$failed" ]; then
  echo "fuzz: findings in:$failed" >&2
  exit 1
fi
