#!/bin/bash
# bench/candidates.sh: measure build-configuration candidates for the .so's size, one by one
# (BENCHMARKS.md, "Size candidates"). Not part of `make bench`; as root.
#
#   bench/candidates.sh build NAME [CARGO-ARG...]   release build of the cdylib into
#       target/cand/NAME (own target dir), with the extra cargo args (e.g.
#       --config 'profile.release.package."*".opt-level="s"') and $RUSTFLAGS as given;
#       the .so is copied to bench/build/cand/NAME.so
#   bench/candidates.sh measure NAME...              in ONE debian14 world (real systemd 262):
#       callgrind of one login per candidate and of forky's C module (Ir whole process,
#       pam_sm_open_session / pam_sm_close_session incl.), then prints one table row per
#       candidate: stripped bytes, ratio to C 262's stripped size, Ir, exported symbols.
#       Needs bench/build/{loginbench,pidfd_shim.so,pidfd_helper,valgrind} (bench/run.sh
#       builds them).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
CAND="$HERE/build/cand"
BIN="$HERE/build/loginbench"
VG_WORLD="$HERE/build/valgrind"

build() {
  local name="$1"
  shift
  mkdir -p "$CAND"
  (cd "$ROOT" && CARGO_TARGET_DIR="$ROOT/target/cand/$name" cargo build --release --lib "$@")
  cp "$ROOT/target/cand/$name/release/libpam_systemd_rs.so" "$CAND/$name.so"
  printf '%s\t%s\t%s\n' "$name" "${RUSTFLAGS:-}" "$*" >"$CAND/$name.how"
}

inner() { # in the world: callgrind one login per module
  local out="$1"
  shift
  local confdir="$out/pam.d" name sock=/run/bench-pidfd-helper.sock helper_pid i
  mkdir -p "$confdir"
  # Real pidfds for both modules under valgrind 3.19, as in bench/run.sh (forky's C module
  # fails the login without one).
  "$HERE/build/pidfd_helper" "$sock" &
  helper_pid=$!
  for ((i = 0; i < 50; i++)); do [[ -S "$sock" ]] && break; sleep 0.1; done
  for name in "$@" c262; do
    if [[ "$name" == c262 ]]; then
      echo "session required $TESTBED_MODULE_C" >"$confdir/cand-$name"
    else
      echo "session required $CAND/$name.so" >"$confdir/cand-$name"
    fi
    env LD_PRELOAD="$HERE/build/pidfd_shim.so" PIDFD_HELPER="$sock" VALGRIND_LIB="$VG_WORLD" \
      "$VG_WORLD/valgrind.bin" --tool=callgrind \
      --callgrind-out-file="$out/$name.out" "$BIN" once --confdir "$confdir" \
      --user "$TESTBED_USER1" --item tty=pts/7 --item rhost=10.0.0.9 "cand-$name" \
      >"$out/$name.log" 2>&1 || echo "candidates: $name: login failed (see $out/$name.log)" >&2
  done
  kill "$helper_pid"
  wait "$helper_pid" 2>/dev/null || true
  cp "$TESTBED_MODULE_C" "$out/c262.so"
}

measure() {
  local out
  out="$HERE/results/cand-$(date +%Y%m%d-%H%M%S)"
  mkdir -p "$out"
  "$ROOT/testbed/testbed" run --world debian14 --logind systemd --state "$out/tb" --bind "$out" -- \
    "$HERE/candidates.sh" __inner "$out" "$@"
  python3 - "$out" "$CAND" "$@" <<'EOF'
import os, subprocess, sys
sys.path.insert(0, os.path.join(os.path.dirname(sys.argv[2]), ".."))
from cgparse import Profile
out, cand, names = sys.argv[1], sys.argv[2], sys.argv[3:]
def stripped(path):
    tmp = os.path.join(out, "strip.tmp")
    subprocess.run(["cp", path, tmp], check=True)
    subprocess.run(["strip", tmp], check=True)
    n = os.path.getsize(tmp)
    os.unlink(tmp)
    return n
def exports(path):
    r = subprocess.run(["readelf", "--dyn-syms", "-W", path], capture_output=True, text=True).stdout
    return sorted(l.split()[-1] for l in r.splitlines() if " GLOBAL " in l and " UND " not in l)
def prof(name):
    log = open(os.path.join(out, name + ".log")).read()
    if "open_rc=0 close_rc=0" not in log:
        return None
    return Profile(os.path.join(out, name + ".out"))
c = prof("c262")
csize = stripped(os.path.join(out, "c262.so"))
print(f"| candidate | .so stripped (B) | ×C 262 | Ir whole process | Ir open incl. | Ir close incl. | exports |")
print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
for n in names + ["c262"]:
    so = os.path.join(out, "c262.so") if n == "c262" else os.path.join(cand, n + ".so")
    p = prof(n)
    s = stripped(so)
    ir = (f"{p.total:,} | {p.incl_of('pam_sm_open_session'):,} | {p.incl_of('pam_sm_close_session'):,}"
          if p else "FAILED | | ")
    print(f"| {n} | {s:,} | {s / csize:.3f} | {ir} | {' '.join(exports(so))} |")
EOF
  echo "raw: $out" >&2
}

case "${1:-}" in
  build) shift; build "$@" ;;
  measure) shift; measure "$@" ;;
  __inner) shift; inner "$@" ;;
  *) echo "usage: see the comment at the top of bench/candidates.sh" >&2; exit 2 ;;
esac
