#!/bin/bash
# Short fuzz run for CI: every target for FUZZ_SECONDS (default 10) seconds, ~1 min in all
# after the build. Exits non-zero if any target finds a crash (the input is kept under
# fuzz/artifacts/<target>/, replay it with `cargo fuzz run <target> <file>`).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
secs=${FUZZ_SECONDS:-10}
ensure_cargo_fuzz
(cd "$FUZZ_DIR" && cargo fuzz build) || { echo "fuzz build failed"; exit 1; }
fail=0
for t in "${TARGETS[@]}"; do
    run_target "$t" "$secs" || fail=1
done
[ "$fail" -eq 0 ] && echo "fuzz: ${#TARGETS[@]} targets, no crash" || echo "fuzz: CRASH found"
exit "$fail"
