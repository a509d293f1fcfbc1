# Sourced by run-short.sh / run-long.sh: how to drive cargo-fuzz on the stable toolchain.
#
# cargo-fuzz needs unstable rustc flags (-Zsanitizer=address). The machines have one stable
# toolchain and cannot fetch a nightly, so RUSTC_BOOTSTRAP=1 unlocks them on stable.
# link.sh drops the module's own -Wl,--no-undefined (build.rs) for the instrumented cdylib
# that cargo builds alongside the rlib the fuzz targets use.
FUZZ_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export RUSTC_BOOTSTRAP=1
export RUSTFLAGS="-Clinker=$FUZZ_DIR/link.sh -Clinker-flavor=gcc"
unset CARGO_TARGET_DIR CARGO_ENCODED_RUSTFLAGS
TARGETS=(args ask_wire context limits numbers reply user_record userdb_reply varlink_reply)

ensure_cargo_fuzz() {
    if ! cargo fuzz --version >/dev/null 2>&1; then
        echo "installing cargo-fuzz (crates.io)"
        cargo install --locked cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz
    fi
}

# run_target NAME SECONDS [extra libFuzzer args...]: fuzz NAME for SECONDS, starting from the
# committed seeds plus the local corpus; prints "fuzz NAME: N executions, rc R".
run_target() {
    local t=$1 secs=$2
    shift 2
    mkdir -p "$FUZZ_DIR/corpus/$t" "$FUZZ_DIR/artifacts/$t"
    local log="$FUZZ_DIR/artifacts/$t/last-run.log"
    (cd "$FUZZ_DIR" && cargo fuzz run "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
        -print_final_stats=1 "$@") >"$log" 2>&1
    local rc=$?
    local execs
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    echo "fuzz $t: ${execs:-?} executions in ${secs}s, rc $rc"
    if [ "$rc" -ne 0 ]; then
        grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -20
        ls "$FUZZ_DIR/artifacts/$t"
    fi
    return "$rc"
}
