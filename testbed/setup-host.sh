#!/bin/bash
# Prepare a fresh Debian 12 host (as root) for the pam_systemd_rs testbed.
#
# * installs the packages the testbed and the end-to-end tests use (apt is
#   skipped entirely when they are all installed already, so re-runs are fast);
# * downloads elogind 246 + libelogind0 from Debian *without installing them*
#   (elogind conflicts with systemd) and unpacks them into a cache folder,
#   default /var/cache/pam_systemd_rs/elogind, override with $PAM_SYSTEMD_RS_CACHE;
# * compiles the tiny /dev/log listener used by testbed/testbed into the cache;
# * builds (or reuses) the roots of the debian13 and debian14 worlds (testbed/build-root debian13,
#   debian14), the two at once.
#
# Idempotent: every step checks whether its result is already there.
set -euo pipefail

CACHE="${PAM_SYSTEMD_RS_CACHE:-/var/cache/pam_systemd_rs/elogind}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Packages, one per need:
#   dbus-daemon/dbus-bin   system bus + dbus-send; busctl comes with systemd (installed on Debian 12)
#   pamtester              PAM client for open/close_session
#   openssh-server/client  the sshd end-to-end test
#   libpam0g-dev gcc libc6-dev   C PAM clients (tests/c) and the syslog listener
#   valgrind               memory checks of the module inside real clients
#   util-linux             unshare, runuser, su, findmnt, nsenter
#   procps iproute2        pgrep/pkill-free process checks, ss for free ports
#   libpam-systemd         the reference C module (/lib/x86_64-linux-gnu/security/pam_systemd.so)
#   systemd                busctl
#   python3 python3-dbus   stand-in fake logind for testing the --logind fake path without testkit
#                          (python3 also reads `cargo metadata` in scripts/build-deb)
#   groff-base man-db      tests/manpage.rs: groff -ww, man --warnings, lexgrog
#   mmdebstrap             testbed/build-root: the roots of the debian13/debian14 worlds and of the package proof
PACKAGES=(
  dbus-daemon dbus-bin pamtester openssh-server openssh-client libpam0g-dev gcc libc6-dev
  valgrind util-linux procps iproute2 libpam-systemd systemd python3 python3-dbus libcap2-bin
  groff-base man-db mmdebstrap
)

log() { printf 'setup-host: %s\n' "$*" >&2; }

missing_packages() {
  local p status
  for p in "${PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)"
    [[ "$status" == installed ]] || printf '%s\n' "$p"
  done
}

install_packages() {
  local missing
  mapfile -t missing < <(missing_packages)
  if ((${#missing[@]} == 0)); then
    log "all packages already installed"
    return
  fi
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  # policy-rc.d 101 keeps maintainer scripts from starting services (sshd) on the host.
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    created_policy=1
  fi
  local rc=0
  apt-get install -y --no-install-recommends "${missing[@]}" || rc=$?
  if ((created_policy)); then rm -f "$policy"; fi
  return "$rc"
}

fetch_elogind() {
  local root="$CACHE/root"
  if [[ -x "$root/lib/elogind/elogind" && -e "$root/.complete" ]]; then
    log "elogind already unpacked in $root"
    return
  fi
  mkdir -p "$CACHE/debs"
  (
    cd "$CACHE/debs"
    if ! ls elogind_*.deb >/dev/null 2>&1 || ! ls libelogind0_*.deb >/dev/null 2>&1; then
      # apt-get download needs the package lists; fetch them if this host never ran apt-get update.
      # The cache is root-only: download as root instead of the _apt sandbox user.
      local dl=(apt-get -o APT::Sandbox::User=root download elogind libelogind0)
      "${dl[@]}" || { apt-get update && "${dl[@]}"; }
    fi
  )
  rm -rf "$root.tmp"
  mkdir -p "$root.tmp"
  local deb
  for deb in "$CACHE"/debs/elogind_*.deb "$CACHE"/debs/libelogind0_*.deb; do
    dpkg -x "$deb" "$root.tmp"
  done
  touch "$root.tmp/.complete"
  rm -rf "$root"
  mv "$root.tmp" "$root"
  log "elogind unpacked in $root"
}

build_syslog_listener() {
  local src="$HERE/syslog-listener.c" bin="$CACHE/bin/testbed-syslogd"
  mkdir -p "$CACHE/bin"
  if [[ -x "$bin" && "$bin" -nt "$src" ]]; then
    return
  fi
  gcc -O2 -Wall -Wextra -o "$bin.tmp" "$src"
  mv "$bin.tmp" "$bin"
  log "built $bin"
}

main() {
  if ((EUID != 0)); then
    log "must run as root"
    exit 1
  fi
  install_packages
  fetch_elogind
  build_syslog_listener
  # The worlds' roots (debian13: systemd 257, debian14: forky's 262): built once, the two at once
  # (cold ~40-60 s together, mostly download and unpacking), reused while their recipes are
  # unchanged (a hash check, instant). PAM_SYSTEMD_RS_SKIP_ROOTS=1 skips them (hosts without a
  # Debian mirror; the debian13/debian14 tests then fail with the reason).
  if [[ -z "${PAM_SYSTEMD_RS_SKIP_ROOTS:-}" ]]; then
    local r pids=() rc=0
    for r in debian13 debian14; do
      "$HERE/build-root" "$r" >/dev/null &
      pids+=($!)
    done
    for r in "${pids[@]}"; do wait "$r" || rc=$?; done
    ((rc == 0)) || { log "building a world's root failed (above)"; return "$rc"; }
  fi
  log "done (cache: $CACHE)"
}

main "$@"
