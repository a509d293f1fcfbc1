#!/bin/bash
# bench/run.sh: the whole `make bench` (see BENCHMARKS.md for what each number means).
#
#   bench/run.sh [OUTDIR]        (as root; default OUTDIR bench/results/run-YYYYmmdd-HHMMSS)
#
# 1. host preparation: testbed/setup-host.sh, cargo build --release (our module), the testkit
#    (fake logind), an unstripped copy of our module for symbol-level profiles
#    (target/bench-prof, same code, strip=false), bench/loginbench.c;
# 2. static facts on the host: .so sizes, relocations, crates, dlopen/dlclose times;
# 3. one testbed with elogind 246: latency (interleaved A/B), RSS/threads/fds probes,
#    callgrind, 32-client concurrency;
# 4. one testbed with the instant fake logind: the same, plus pidfd=1 vs pidfd=0;
# 5. the real-systemd worlds (testbed --world debian12|debian13|debian14 --logind systemd):
#    latency (interleaved A/B) and callgrind of one login each, against real logind 252, 257
#    and 262 as PID 1's, each against the C module of the same world (Debian 12's, 13's and
#    14's own). debian14 (262, forky's C module registering over Varlink) gets the whole set:
#    per-step latency, callgrind with a no-module baseline (Ir due to the module), peak RSS
#    probes, cold dlopen in the world, 32-client concurrency;
# 6. bench/report.py turns the raw files into OUTDIR/summary.md, copied to
#    bench/results/latest.md and printed.
#
# Knobs (environment): BENCH_LOGINS (500), BENCH_PIDFD_LOGINS (200), BENCH_DLOPEN (1000),
# BENCH_CLIENTS (32), BENCH_SECONDS (10, split in two halves per module: A B B A),
# BENCH_KINDS ("elogind fake"), BENCH_WORLDS ("debian12 debian13 debian14"; empty: none),
# BENCH_SKIP_SETUP=1 (skip setup-host.sh and the builds).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
LOGINS="${BENCH_LOGINS:-500}"
PIDFD_LOGINS="${BENCH_PIDFD_LOGINS:-200}"
DLOPEN_N="${BENCH_DLOPEN:-1000}"
CLIENTS="${BENCH_CLIENTS:-32}"
SECONDS_EACH="${BENCH_SECONDS:-10}"
WORLDS="${BENCH_WORLDS-debian12 debian13 debian14}"
KINDS="${BENCH_KINDS-elogind fake}"
MOD_C=/lib/x86_64-linux-gnu/security/pam_systemd.so
MOD_RS="$ROOT/target/release/libpam_systemd_rs.so"
MOD_RS_PROF="$ROOT/target/bench-prof/release/libpam_systemd_rs.so"
BIN="$HERE/build/loginbench"
SHIM="$HERE/build/pidfd_shim.so"   # pidfd_open for valgrind 3.19, see bench/pidfd_shim.c
HELPER="$HERE/build/pidfd_helper"  # real pidfds for the shim in the 262 world, bench/pidfd_helper.c
VG_WORLD="$HERE/build/valgrind"
ITEMS=(--item tty=pts/7 --item rhost=10.0.0.9)

log() { printf 'bench: %s\n' "$*" >&2; }

# ---------------------------------------------------------------------------
# Inside a testbed: bench/run.sh __inner elogind|fake OUTDIR
# ---------------------------------------------------------------------------

list_sessions() { # number of sessions logind knows
  busctl --system call org.freedesktop.login1 /org/freedesktop/login1 \
    org.freedesktop.login1.Manager ListSessions 2>/dev/null | awk '{print $2}'
}

sessions_left() { # elogind, systemd: ListSessions; fake: sessions created whose fd has not hit EOF yet
  if [[ "$TESTBED_LOGIND" == elogind || "$TESTBED_LOGIND" == systemd ]]; then
    list_sessions
  else
    local c e
    c="$(count_created)"
    e="$(grep -c '"event":"fifo-eof"' "$TESTBED_STATE/fake-calls.jsonl" 2>/dev/null || true)"
    echo $((c - e))
  fi
}

dlopen_rounds() { # DIR C_MODULE: $DLOPEN_N cold dlopen+dlclose of ours and of C's, five interleaved chunks
  local dir="$1" mod_c="$2" chunk=$((DLOPEN_N / 5)) i
  : >"$dir/dlopen-rs.txt"
  : >"$dir/dlopen-c.txt"
  for ((i = 0; i < 5; i++)); do
    "$BIN" dlopen -n "$chunk" "$MOD_RS" >>"$dir/dlopen-rs.txt"
    "$BIN" dlopen -n "$chunk" "$mod_c" >>"$dir/dlopen-c.txt"
  done
}

busy_ticks() { # the machine's busy CPU time so far (/proc/stat: user nice system irq softirq steal; USER_HZ ticks)
  awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

wait_no_sessions() { # wait (bounded, 30 s) until no session is left; print the count left
  local i n
  for ((i = 0; i < 300; i++)); do
    n="$(sessions_left)"
    [[ "$n" == 0 ]] && break
    sleep 0.1
  done
  echo "${n:-?}"
}

# Real logind: its journal lines. 256+ also registers a session of class 'manager' for each
# start of user@UID.service ("New session 'c2' of user 'u' with class 'manager' ..."): not a
# login of the benchmark, so neither counted as created nor as released.
logind_sessions() { # created|released
  journalctl --sync 2>/dev/null || true
  journalctl -q --no-pager -u systemd-logind.service 2>/dev/null | awk -v what="$1" '
    /New session / {
      if ($0 ~ /with class .manager/) { mgr[id($0)] = 1; next }
      created++
    }
    /Removed session / { s = $0; sub(/.*Removed session /, "", s); sub(/\.$/, "", s); if (!(s in mgr)) released++ }
    function id(l) { sub(/.*New session .?/, "", l); sub(/[ '\''].*/, "", l); return l }
    END { print (what == "created" ? created : released) + 0 }'
}

# Counts of session creations / releases logind saw so far.
count_created() {
  if [[ "$TESTBED_LOGIND" == systemd ]]; then
    logind_sessions created
  elif [[ "$TESTBED_LOGIND" == elogind ]]; then
    grep -c 'New session ' "$TESTBED_STATE/logind.log" || true
  else
    grep -c '"reply":{[^}]*"id"' "$TESTBED_STATE/fake-calls.jsonl" 2>/dev/null || true
  fi
}
count_released() {
  if [[ "$TESTBED_LOGIND" == systemd ]]; then
    logind_sessions released
  elif [[ "$TESTBED_LOGIND" == elogind ]]; then
    grep -c 'Removed session ' "$TESTBED_STATE/logind.log" || true
  else
    # Successful ReleaseSession calls, and fifo-eof (the session fd's last writer closed).
    local rel eof
    rel="$(grep '"method":"ReleaseSession"' "$TESTBED_STATE/fake-calls.jsonl" 2>/dev/null | grep -vc '"error"' || true)"
    eof="$(grep -c '"event":"fifo-eof"' "$TESTBED_STATE/fake-calls.jsonl" 2>/dev/null || true)"
    echo "$rel/$eof"
  fi
}
count_attempts() { # CreateSession* calls in the fake's record (pidfd attempts included)
  grep -c '"method":"CreateSession' "$TESTBED_STATE/fake-calls.jsonl" 2>/dev/null || true
}

fake_conf() { printf '%s\n' "$@" >"$TESTBED_STATE/fake.conf"; }

# callgrind_logins KIND RAWDIR CFG LOGINBENCH-ARGS...: one login per module under callgrind.
# On the host's testbeds the pidfd shim stands in for pidfd_open (valgrind 3.19 lacks it). In the
# 252/257 worlds there is no shim (a real logind 257 refuses its /dev/null stand-in): both
# modules get ENOSYS and send CreateSession. In the 262 world the shim gets REAL pidfds from
# bench/pidfd_helper running outside valgrind (forky's C module fails the login without one), so
# both modules register as they do outside valgrind. valgrind is the host's callgrind copied into
# bench/build (the worlds bind no host system directory).
callgrind_logins() {
  local kind="$1" raw="$2" cfg="$3" svc
  shift 3
  local vg=(env LD_PRELOAD="$SHIM" valgrind) helper_pid=""
  [[ "$kind" == world-* ]] && vg=(env VALGRIND_LIB="$VG_WORLD" "$VG_WORLD/valgrind.bin")
  if [[ "$kind" == world-debian14 ]]; then
    local sock=/run/bench-pidfd-helper.sock i
    "$HELPER" "$sock" &
    helper_pid=$!
    for ((i = 0; i < 50; i++)); do [[ -S "$sock" ]] && break; sleep 0.1; done
    vg=(env LD_PRELOAD="$SHIM" PIDFD_HELPER="$sock" VALGRIND_LIB="$VG_WORLD" "$VG_WORLD/valgrind.bin")
  fi
  log "[$kind] callgrind ($cfg): one login each"
  local svcs=(bench-rs bench-c bench-rsprof)
  # debian14: also a stack without any module (pam_open_session says PAM_PERM_DENIED), the
  # baseline for "instructions due to the module" (whole process minus this).
  [[ "$kind" == world-debian14 ]] && svcs+=(bench-none)
  for svc in "${svcs[@]}"; do
    "${vg[@]}" --tool=callgrind --callgrind-out-file="$raw/callgrind-$cfg-$svc.out" \
      "$BIN" once "$@" "$svc" >"$raw/callgrind-$cfg-$svc.log" 2>&1 ||
      [[ "$svc" == bench-none ]] ||
      log "[$kind] callgrind $cfg $svc failed (see $raw/callgrind-$cfg-$svc.log)"
  done
  if [[ -n "$helper_pid" ]]; then
    kill "$helper_pid"
    wait "$helper_pid" 2>/dev/null || true
  fi
}

# bench/run.sh __inner elogind|fake|world-debianNN OUTDIR. In a real-systemd world the C module
# is the world's own (Debian 12's 252, 13's 257, 14's 262); debian12/13 run only latency and
# callgrind, debian14 everything (plus dlopen times and the module-less baseline).
inner() {
  local kind="$1" out="$2"
  local raw="$out/$kind" mod_c="$MOD_C" world=""
  if [[ "$kind" == world-* ]]; then
    world="${kind#world-}"
    mod_c="$TESTBED_MODULE_C"
  fi
  mkdir -p "$raw"
  local confdir="$raw/pam.d"
  mkdir -p "$confdir"
  echo "session required $MOD_RS" >"$confdir/bench-rs"
  echo "session required $mod_c" >"$confdir/bench-c"
  echo "session required $MOD_RS_PROF" >"$confdir/bench-rsprof"
  echo "# no module: the baseline of the instructions due to the module" >"$confdir/bench-none"
  local a=(--confdir "$confdir" --user "$TESTBED_USER1" "${ITEMS[@]}")
  [[ "$kind" == fake ]] && fake_conf session_busy_on_second=0 pidfd=0
  if [[ -n "$world" ]]; then
    echo "c_module=$mod_c" >"$raw/world.txt"
    echo "systemd=$(systemctl --version | head -n 1)" >>"$raw/world.txt"
    echo "c_package=$(dpkg-query -W -f='${Package} ${Version}' libpam-systemd 2>/dev/null || echo '?')" >>"$raw/world.txt"
    echo "glibc=$(dpkg-query -W -f='${Version}' libc6 2>/dev/null || echo '?')" >>"$raw/world.txt"
    echo "libpam=$(dpkg-query -W -f='${Version}' libpam0g 2>/dev/null || echo '?')" >>"$raw/world.txt"
    echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$raw/world.txt"
  fi

  log "[$kind] sanity: one login each"
  "$BIN" once "${a[@]}" bench-rs >&2
  "$BIN" once "${a[@]}" bench-c >&2

  log "[$kind] warm-up (20 rounds), then latency: $LOGINS rounds, interleaved"
  "$BIN" latency "${a[@]}" -n 20 bench-rs bench-c >/dev/null
  "$BIN" latency "${a[@]}" -n "$LOGINS" bench-rs bench-c >"$raw/latency.txt"
  wait_no_sessions >"$raw/latency-left.txt"

  if [[ "$kind" == fake ]]; then
    log "[$kind] pidfd=1 (fake implements CreateSessionWithPIDFD): $PIDFD_LOGINS rounds"
    fake_conf session_busy_on_second=0 pidfd=1
    local before
    before="$(count_attempts)"
    "$BIN" latency "${a[@]}" -n "$PIDFD_LOGINS" bench-rs bench-c >"$raw/latency-pidfd1.txt"
    echo "$(( $(count_attempts) - before ))" >"$raw/latency-pidfd1-attempts.txt"
    fake_conf session_busy_on_second=0 pidfd=0
  fi

  if [[ -n "$world" && "$world" != debian14 ]]; then
    callgrind_logins "$kind" "$raw" pidfd0 "${a[@]}"
    wait_no_sessions >/dev/null
    echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$raw/world.txt"
    return
  fi

  if [[ "$world" == debian14 ]]; then
    # The world's own glibc and ld.so load both modules (forky's C module needs forky's
    # libsystemd-shared-262.so, which the host cannot load).
    log "[$kind] dlopen(RTLD_NOW)+dlclose in a fresh child: $DLOPEN_N each, interleaved in chunks"
    dlopen_rounds "$raw" "$mod_c"
    cp "$mod_c" "$raw/c-module.so"
  fi

  log "[$kind] probes (RSS, threads, fds): 7 each, alternating"
  local i
  : >"$raw/probe.txt"
  for ((i = 0; i < 7; i++)); do
    for svc in bench-rs bench-c; do
      printf 'svc=%s %s\n' "$svc" "$("$BIN" probe "${a[@]}" "$svc")" >>"$raw/probe.txt"
    done
  done

  local svc cfg
  for cfg in pidfd0 pidfd1; do
    [[ "$cfg" == pidfd1 && "$kind" != fake ]] && continue
    [[ "$kind" == fake ]] && fake_conf session_busy_on_second=0 "pidfd=${cfg#pidfd}"
    callgrind_logins "$kind" "$raw" "$cfg" "${a[@]}"
  done
  [[ "$kind" == fake ]] && fake_conf session_busy_on_second=0 pidfd=0
  wait_no_sessions >/dev/null

  log "[$kind] concurrency: $CLIENTS clients, ${SECONDS_EACH}s per module in two halves (A B B A)"
  local half c0 r0 left
  half="$(awk -v s="$SECONDS_EACH" 'BEGIN { print s / 2 }')"
  : >"$raw/concurrent.txt"
  local b0 b1
  for svc in bench-rs bench-c bench-c bench-rs; do
    c0="$(count_created)"
    r0="$(count_released)"
    local line
    b0="$(busy_ticks)"
    line="$("$BIN" concurrent "${a[@]}" --clients "$CLIENTS" --seconds "$half" "$svc")"
    b1="$(busy_ticks)"
    left="$(wait_no_sessions)"
    printf '%s created=%s released=%s left=%s created_before=%s released_before=%s load=%s busy_ticks=%s\n' \
      "$line" "$(count_created)" "$(count_released)" "$left" "$c0" "$r0" \
      "$(cut -d' ' -f1 /proc/loadavg)" "$((b1 - b0))" >>"$raw/concurrent.txt"
  done
  cat "$raw/concurrent.txt" >&2
  [[ -n "$world" ]] && echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$raw/world.txt"
  return 0
}

# ---------------------------------------------------------------------------
# On the host
# ---------------------------------------------------------------------------

prepare() {
  if [[ "${BENCH_SKIP_SETUP:-0}" != 1 ]]; then
    log "setup-host"
    "$ROOT/testbed/setup-host.sh"
    command -v cargo >/dev/null || { log "cargo missing (install a Rust toolchain)"; exit 1; }
    log "cargo build --release (module, testkit, unstripped profiling copy)"
    (cd "$ROOT" && cargo build --release)
    cargo build --release --manifest-path "$ROOT/testkit/Cargo.toml"
    (cd "$ROOT" && CARGO_TARGET_DIR="$ROOT/target/bench-prof" CARGO_PROFILE_RELEASE_STRIP=false \
      cargo build --release)
  fi
  mkdir -p "$HERE/build"
  gcc -O2 -Wall -Wextra -o "$BIN" "$HERE/loginbench.c" -lpam -ldl
  gcc -O2 -Wall -Wextra -shared -fPIC -o "$SHIM" "$HERE/pidfd_shim.c" -ldl
  gcc -O2 -Wall -Wextra -o "$HELPER" "$HERE/pidfd_helper.c"
  # The host's callgrind for the worlds: the launcher, the tool and its preload, the suppressions.
  mkdir -p "$VG_WORLD"
  cp /usr/bin/valgrind.bin /usr/libexec/valgrind/callgrind-amd64-linux \
    /usr/libexec/valgrind/vgpreload_core-amd64-linux.so /usr/libexec/valgrind/default.supp "$VG_WORLD/"
}

relocs() { # total relocation entries of an ELF file
  readelf -rW "$1" | awk '/^Relocation section/ { for (i = 1; i <= NF; i++) if ($i == "contains") n += $(i + 1) } END { print n + 0 }'
}

# The C modules of the 257 and 262 worlds, read from their cached roots (on the host: sizes,
# relocations; the 262 world copies its own to OUTDIR/world-debian14/c-module.so as well).
c_module_of() { echo "$("$ROOT/testbed/build-root" "$1")/usr/lib/x86_64-linux-gnu/security/pam_systemd.so"; }

static_facts() {
  local out="$1" f="$1/static.txt" tmp v
  tmp="$(mktemp -d)"
  cp "$MOD_C" "$tmp/c.so"
  strip "$tmp/c.so"
  cp "$MOD_RS" "$tmp/rs.so"
  strip "$tmp/rs.so"
  mkdir -p "$out/modules"
  cp "$tmp/rs.so" "$out/modules/rs.so"
  cp "$tmp/c.so" "$out/modules/c252.so"
  for v in 13:257 14:262; do
    cp "$(c_module_of "debian${v%%:*}")" "$tmp/c${v#*:}.so"
    strip "$tmp/c${v#*:}.so"
    cp "$tmp/c${v#*:}.so" "$out/modules/c${v#*:}.so"
  done
  {
    echo "size_c257_stripped=$(stat -c %s "$tmp/c257.so")"
    echo "size_c262_stripped=$(stat -c %s "$tmp/c262.so")"
    echo "relocs_c257=$(relocs "$tmp/c257.so")"
    echo "relocs_c262=$(relocs "$tmp/c262.so")"
    echo "needed_c262=$(readelf -dW "$tmp/c262.so" | awk '/NEEDED/ { gsub(/[][]/, "", $NF); printf "%s ", $NF }')"
    echo "size_rs=$(stat -c %s "$MOD_RS")"
    echo "size_rs_stripped=$(stat -c %s "$tmp/rs.so")"
    echo "size_c=$(stat -c %s "$MOD_C")"
    echo "size_c_stripped=$(stat -c %s "$tmp/c.so")"
    echo "relocs_rs=$(relocs "$MOD_RS")"
    echo "relocs_c=$(relocs "$MOD_C")"
    echo "needed_rs=$(readelf -dW "$MOD_RS" | awk '/NEEDED/ { gsub(/[][]/, "", $NF); printf "%s ", $NF }')"
    echo "needed_c=$(readelf -dW "$MOD_C" | awk '/NEEDED/ { gsub(/[][]/, "", $NF); printf "%s ", $NF }')"
    # Libraries the module brings that a plain PAM client (libpam + libc) does not already have.
    local extra_rs extra_c
    extra_rs="$(ldd "$MOD_RS" | awk '{print $1}' | { grep -vE '^(linux-vdso|/lib64/ld-linux|libc\.so|libpam\.so|libaudit|libcap-ng)' || true; } | tr '\n' ' ')"
    extra_c="$(ldd "$MOD_C" | awk '{print $1}' | { grep -vE '^(linux-vdso|/lib64/ld-linux|libc\.so|libpam\.so|libaudit|libcap-ng)' || true; } | tr '\n' ' ')"
    echo "extra_libs_rs=$extra_rs"
    echo "extra_libs_c=$extra_c"
    echo "crates_tree=$(cd "$ROOT" && cargo tree -e normal --prefix none 2>/dev/null | sed 's/ (\*)//; s/ (proc-macro)//' | sort -u | wc -l)"
    echo "crates_linked=$(cd "$ROOT" && cargo tree -e normal,no-proc-macro --prefix none 2>/dev/null | sed 's/ (\*)//' | sort -u | wc -l)"
  } >"$f"
  (cd "$ROOT" && cargo tree -e normal,no-proc-macro --prefix none 2>/dev/null | sed 's/ (\*)//' | sort -u) >"$out/crates.txt"
  rm -rf "$tmp"

  log "dlopen(RTLD_NOW)+dlclose in a fresh child: $DLOPEN_N each, interleaved in chunks"
  dlopen_rounds "$out" "$MOD_C"
}

machine() {
  local f="$1/machine.txt"
  {
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "nproc=$(nproc)"
    echo "cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "kernel=$(uname -r)"
    echo "rustc=$(rustc --version 2>/dev/null || echo '?')"
    echo "commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- src Cargo.toml Cargo.lock 2>/dev/null || echo '+dirty')"
    echo "c_module=$(dpkg-query -W -f='${Package} ${Version}' libpam-systemd 2>/dev/null || echo '?')"
    echo "elogind=$(dpkg-deb -f "$(ls /var/cache/pam_systemd_rs/elogind/debs/elogind_*.deb 2>/dev/null | head -1)" Version 2>/dev/null || echo '?')"
    echo "valgrind=$(valgrind --version 2>/dev/null || echo '?')"
    echo "logins=$LOGINS pidfd_logins=$PIDFD_LOGINS dlopen=$DLOPEN_N clients=$CLIENTS seconds=$SECONDS_EACH"
    echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "memory=$(awk '/^MemTotal/ { printf "%d MB", $2 / 1024 }' /proc/meminfo)"
  } >"$f"
}

# Where the bytes go: bench/sizes.py on the unstripped copy (target/bench-prof, same code), the
# stripped module next to the C modules 252, 257, 262.
size_table() {
  local out="$1"
  python3 "$HERE/sizes.py" "$MOD_RS_PROF" "$out/modules/rs.so" "C 252=$out/modules/c252.so" \
    "C 257=$out/modules/c257.so" "C 262=$out/modules/c262.so" >"$out/sizes.md"
}

main() {
  if [[ "${1:-}" == __inner ]]; then
    shift
    inner "$@"
    return
  fi
  ((EUID == 0)) || { log "must run as root (the testbed needs namespaces)"; exit 1; }
  local t0=$SECONDS
  local out="${1:-$HERE/results/run-$(date +%Y%m%d-%H%M%S)}"
  mkdir -p "$out"
  out="$(cd "$out" && pwd)"
  prepare
  machine "$out"
  static_facts "$out"
  local kind
  for kind in $KINDS; do
    log "testbed with $kind"
    rm -rf "$out/tb-$kind"
    "$ROOT/testbed/testbed" run --logind "$kind" --state "$out/tb-$kind" -- \
      "$HERE/run.sh" __inner "$kind" "$out"
  done
  local world
  for world in $WORLDS; do
    log "real systemd world $world"
    rm -rf "$out/tb-$world"
    "$ROOT/testbed/testbed" run --world "$world" --logind systemd --state "$out/tb-$world" \
      --bind "$out" -- \
      "$HERE/run.sh" __inner "world-$world" "$out"
  done
  echo "total_seconds=$((SECONDS - t0))" >>"$out/machine.txt"
  echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/machine.txt"
  size_table "$out"
  python3 "$HERE/report.py" "$out" >"$out/summary.md"
  mkdir -p "$HERE/results"
  cp "$out/summary.md" "$HERE/results/latest.md"
  ln -sfn "$out" "$HERE/results/latest"
  cat "$out/summary.md"
  log "raw data in $out; summary in bench/results/latest.md"
}

main "$@"
