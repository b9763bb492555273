#!/bin/sh
# Runs each fuzz target for a short while (CI's fuzz-smoke job): fuzz/smoke.sh [SECONDS]
# [TARGET...]. SECONDS defaults to 60 per target; the targets default to all of them. Each
# target starts from the committed seeds (fuzz/seeds/TARGET) plus whatever corpus earlier runs
# left in fuzz/corpus/TARGET (gitignored). Exits non-zero if any target found a crash, a
# timeout (an input taking over 10 s) or an out-of-memory (over 2 GiB); the input is then in
# fuzz/artifacts/TARGET/.
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a nightly toolchain; without one, stable
# is used with RUSTC_BOOTSTRAP=1 (cargo-fuzz needs -Z flags).
set -u
secs=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-head chunked stream split client_url client_decode}
cd "$(dirname "$0")" || exit 2

if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    tc=+nightly
else
    tc=
    RUSTC_BOOTSTRAP=1
    export RUSTC_BOOTSTRAP
fi

# -O: optimised; -a: keep debug assertions and overflow checks, which find parser bugs.
cargo $tc fuzz build -O -a || exit 2

failed=
for t in $targets; do
    mkdir -p "corpus/$t"
    echo "== fuzz target $t for ${secs}s"
    if ! cargo $tc fuzz run -O -a "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1; then
        failed="$failed $t"
    fi
done
if [ -n "$failed" ]; then
    echo "fuzz smoke: FAILED:$failed (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzz smoke: all targets ran ${secs}s without a finding"
