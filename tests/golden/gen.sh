#!/bin/bash
# Regenerates tests/golden/expected.tsv from tests/golden/cases.tsv by running the cases through
# Debian 12's libsystemd-shared-252.so (package `systemd` 252.x, which the C pam_systemd.so is
# built from). Needs gcc and that library; no root.
#   tests/golden/gen.sh            rewrite expected.tsv
#   tests/golden/gen.sh --check    only compare (exit 1 and show the difference if it changed)
#   tests/golden/gen.sh --run      build, then read cases from stdin and answer on stdout
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
libdir=${SYSTEMD_SHARED_DIR:-/usr/lib/x86_64-linux-gnu/systemd}
lib=$libdir/libsystemd-shared-252.so
[[ -e $lib ]] || { echo "gen.sh: $lib not found (Debian 12: apt-get install systemd)" >&2; exit 2; }
out=${CARGO_TARGET_TMPDIR:-${TMPDIR:-/tmp}}/golden-gen.$$
trap 'rm -f "$out"' EXIT
gcc -O1 -Wall -Wextra -Werror -o "$out" "$here/gen.c" -L"$libdir" -l:libsystemd-shared-252.so -Wl,-rpath,"$libdir"
case ${1:-} in
  --run) "$out" ;;
  --check) "$out" <"$here/cases.tsv" | diff -u "$here/expected.tsv" - ;;
  *) "$out" <"$here/cases.tsv" >"$here/expected.tsv"; echo "gen.sh: $(wc -l <"$here/expected.tsv") rows in expected.tsv" ;;
esac
