# shellcheck shell=bash
# Sourced by testbed/testbed: worlds with REAL systemd as PID 1 (`--logind systemd`).
#
# A world is a Debian system booted as a container of its own:
#   debian12  the host's own files (systemd 252, Debian 12's pam_systemd.so)
#   debian13  the cached Debian 13 root from `testbed/build-root debian13` (systemd 257,
#             Debian 13's pam_systemd.so)
#   debian14  the cached Debian 14 (forky) root from `testbed/build-root debian14` (systemd 262,
#             forky's pam_systemd.so; logind answers on Varlink and D-Bus)
# A world other than debian12 is a root of testbed/build-root with the world's name: adding one
# is a recipe there plus a line in WORLDS below.
# Either way the world's root is an overlay (the files above as the read-only lower layer, a
# tmpfs as the upper layer) that PID 1 pivot_roots into, so nothing the world writes reaches
# the host or the cached root: /etc (systemd config, passwd...), /var/lib/systemd, /root are
# private copies; /run, /tmp and /home are fresh tmpfs mounts. Host paths the tests need are
# bind-mounted at their own paths: the repository, the state dir, the testbed cache, our
# module's directory and any --bind PATH.
#
# Process and cgroup layout (host view, <cg2> = the host's cgroup2 mount, <own> = our cgroup):
#   runner (testbed/testbed run)
#   ├─ guardian (own session; removes everything if the runner dies without cleaning up)
#   └─ setpriv --pdeathsig KILL unshare --kill-child=SIGKILL --pid --fork --mount --uts --ipc --net
#      └─ PID 1 of the world: this file's world_boot, then `exec systemd`
#   <cg2><own>/testbed-<hash>            the world's cgroup namespace root (systemd's "/")
#   <cg2><own>/testbed-<hash>/testbed-exec   commands entered with nsenter (below the root, so
#                                        PID 1 can move them into session scopes)
# Teardown: `systemctl exit`, bounded wait, then cgroup.kill on the subtree; the subtree is
# removed bottom-up. PR_SET_PDEATHSIG on unshare plus the guardian cover a SIGKILLed runner.

# The worlds: name, then a description for messages.
declare -A WORLDS=(
  [debian12]="Debian 12 (the host's files)"
  [debian13]="Debian 13 root"
  [debian14]="Debian 14 (forky) root"
)

WORLD_WAIT_BOOT=100  # tenths of a second for PID 1 to finish booting (10 s)
WORLD_WAIT_EXIT=50   # tenths of a second for `systemctl exit` to end the world (5 s)
WORLD_IN_LIMIT=10    # seconds for one command run in the world by the runner (3 when failing)
# Dropped from the bounding set of PID 1 (and so of everything in the world).
WORLD_DROP_CAPS=-sys_module,-sys_time,-sys_rawio,-syslog,-wake_alarm,-block_suspend,-mac_admin,-mac_override,-audit_control,-audit_read

# Units copied from the world's /usr/lib/systemd/system (with their .d drop-in folders).
WORLD_UNITS=(
  systemd-journald.service systemd-journald.socket
  dbus.service dbus.socket
  systemd-logind.service dbus-org.freedesktop.login1.service
  user@.service user@0.service user-runtime-dir@.service user.slice user-.slice
  exit.target systemd-exit.service shutdown.target final.target umount.target
  slices.target nss-user-lookup.target
  # 258+ (debian14): logind's Varlink socket /run/systemd/io.systemd.Login is a socket unit
  # passed to logind (sockets.target wants it on a real system); systemd-userdbd, where the root
  # has it, for userdb lookups as on a real system with the package installed.
  systemd-logind-varlink.socket systemd-userdbd.socket systemd-userdbd.service
)
# Of the units above, those testbed.target wants when the world has them (sockets.target, a stub
# here, wants them on a real system).
WORLD_SOCKETS=(systemd-logind-varlink.socket systemd-userdbd.socket)
# Targets other units pull in that must exist but do nothing here (no udev, fstab, tmpfiles).
WORLD_STUBS=(sysinit.target basic.target sockets.target timers.target paths.target local-fs.target)

# The cgroup2 hierarchy: $TESTBED_CGROUP2 (for tests of the failure path), else
# /sys/fs/cgroup/unified (hybrid hosts), else /sys/fs/cgroup (unified hosts).
world_cgroup2_root() {
  local c
  for c in ${TESTBED_CGROUP2:-/sys/fs/cgroup/unified /sys/fs/cgroup}; do
    if [[ "$(stat -f -c %T "$c" 2>/dev/null)" == cgroup2fs ]]; then
      printf '%s\n' "$c"
      return 0
    fi
  done
  return 1
}

# world_lower WORLD: prints the read-only lower layer of the world's root.
world_lower() {
  case "$1" in
    debian12) printf '/\n' ;;
    *)
      [[ -n "${WORLDS[$1]:-}" ]] || return 1
      local out rc=0
      out="$("$TESTBED_DIR/build-root" "$1" 2>"$STATE_TMP_ERR")" || rc=$?
      if ((rc != 0)) || [[ ! -x "$out/usr/lib/systemd/systemd" ]]; then
        printf 'cannot get the %s: %s\n' "${WORLDS[$1]}" "$(tail -n 1 "$STATE_TMP_ERR" 2>/dev/null)" >&2
        return 1
      fi
      printf '%s\n' "$out"
      ;;
  esac
}

# world_units LOWER DIR [DROPIN_SPEC...]: the private unit directory.
world_units() {
  local lower="$1" dir="$2" src u
  shift 2
  src="$lower/usr/lib/systemd/system"
  mkdir -p "$dir"
  for u in "${WORLD_UNITS[@]}"; do
    [[ -e "$src/$u" || -L "$src/$u" ]] && cp -P "$src/$u" "$dir/"
    [[ -d "$src/$u.d" ]] && cp -r "$src/$u.d" "$dir/"
  done
  # journald without /dev/log (the testbed's listener owns it) or the audit socket.
  sed -i -E 's/ ?systemd-journald-(dev-log|audit)\.socket//g; s/ ?syslog\.socket//g' "$dir/systemd-journald.service"
  for u in "${WORLD_STUBS[@]}"; do
    printf '[Unit]\nDescription=%s (testbed stub)\n' "$u" >"$dir/$u"
  done
  local sockets=""
  for u in "${WORLD_SOCKETS[@]}"; do
    [[ -e "$dir/$u" ]] && sockets+=" $u"
  done
  cat >"$dir/testbed.target" <<EOF
[Unit]
Description=testbed world
Requires=systemd-journald.service dbus.socket
Wants=dbus.service systemd-logind.service$sockets
After=systemd-journald.service dbus.socket dbus.service systemd-logind.service$sockets
AllowIsolate=yes
EOF
  # --unit-dropin UNIT:TEXT (a drop-in file UNIT.d/50-testbed.conf) and --unit-dir DIR
  # (copied over the unit dir: whole units or UNIT.d/NAME.conf drop-ins).
  local spec unit text n=50
  for spec in "$@"; do
    if [[ -d "$spec" ]]; then
      cp -r "$spec"/. "$dir/"
      continue
    fi
    unit="${spec%%:*}"
    text="${spec#*:}"
    mkdir -p "$dir/$unit.d"
    printf '%b\n' "$text" >"$dir/$unit.d/$n-testbed.conf"
    n=$((n + 1))
  done
}

# world_etc_systemd ETC_SYSTEMD [LOGIND_CONF_LINE...]: testbed drop-ins in the world's /etc/systemd.
world_etc_systemd() {
  local d="$1" l
  shift
  mkdir -p "$d/journald.conf.d" "$d/logind.conf.d" "$d/system.conf.d"
  printf '[Journal]\nStorage=volatile\nForwardToSyslog=no\nForwardToConsole=no\nForwardToWall=no\n' \
    >"$d/journald.conf.d/90-testbed.conf"
  printf '[Manager]\nShowStatus=no\nDefaultTimeoutStopSec=5s\n' >"$d/system.conf.d/90-testbed.conf"
  {
    printf '[Login]\n'
    for l in "$@"; do printf '%b\n' "$l"; done
  } >"$d/logind.conf.d/90-testbed.conf"
}

# Users pamtest1/pamtest2 (first free ids >= 59001 in the world's files), homes on a tmpfs.
world_users() {
  local etc="$1" home="$2" id=59001 i name uid
  for i in 1 2; do
    name="pamtest$i"
    sed -i "/^$name:/d" "$etc/passwd" "$etc/group" "$etc/shadow"
    while awk -F: -v id="$id" '$3 == id { f = 1 } END { exit !f }' "$etc/passwd" "$etc/group"; do id=$((id + 1)); done
    uid=$id
    id=$((id + 1))
    echo "$name:x:$uid:$uid:PAM test user $i:/home/$name:/bin/bash" >>"$etc/passwd"
    echo "$name:x:$uid:" >>"$etc/group"
    echo "$name:*:19000:0:99999:7:::" >>"$etc/shadow"
    mkdir -m 700 "$home/$name"
    chown "$uid:$uid" "$home/$name"
    printf 'TESTBED_USER%s=%s\nTESTBED_UID%s=%s\n' "$i" "$name" "$i" "$uid" >>"$STATE/.world/users.env"
  done
}

# ---------------------------------------------------------------------------
# PID 1 of the world, before systemd (runs in the new pid/mount/uts/ipc/net namespaces).
# ---------------------------------------------------------------------------
world_boot() {
  set -euo pipefail
  local cg="$TESTBED_W_CG" lower="$TESTBED_W_LOWER" world="$TESTBED_W_WORLD"
  STATE="$TESTBED_W_STATE"
  # TESTBED_TRACE=1: trace PID 1's set-up into boot.trace.
  if [[ -n "${TESTBED_TRACE:-}" ]]; then
    exec 2>>"$STATE/boot.trace"
    set -x
  fi
  if [[ -z "${TESTBED_W_STAGE2:-}" ]]; then
    # Into the world's cgroup, then a cgroup namespace rooted there (same PID: no fork).
    echo $$ >"$cg/cgroup.procs"
    export TESTBED_W_STAGE2=1
    exec unshare --cgroup "$SELF" __world_boot
  fi
  local nr="$STATE/.world/root" rw="$STATE/.world/rw" p binds=()
  eval "$TESTBED_W_CONF"
  mapfile -t binds <<<"$TESTBED_W_BINDS_STR"
  hostname "testbed-$world"
  ip link set lo up 2>/dev/null || true

  mount -t tmpfs -o mode=755 tmpfs "$rw"
  mkdir -p "$rw/upper" "$rw/work"
  mount -t overlay overlay -o "lowerdir=$lower,upperdir=$rw/upper,workdir=$rw/work" "$nr"
  cd "$nr"
  mkdir -p proc sys dev run tmp home .testbed/old .testbed/empty
  mount -t proc -o nosuid,nodev,noexec proc proc
  for p in proc/sys proc/sysrq-trigger; do
    [[ -e "$p" ]] || continue
    mount --bind "$p" "$p"
    mount -o remount,bind,ro "$p"
  done
  mount -t sysfs -o ro,nosuid,nodev,noexec sysfs sys
  mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 sys/fs/cgroup
  # /dev: a few host nodes, a private devpts, /dev/console is bound below.
  mount -t tmpfs -o mode=755,nosuid tmpfs dev
  for p in null zero full random urandom tty; do
    : >"dev/$p"
    mount --bind "/dev/$p" "dev/$p"
  done
  mkdir -p dev/pts dev/shm dev/mqueue
  mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts dev/pts
  ln -s pts/ptmx dev/ptmx
  mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs dev/shm
  mount -t mqueue mqueue dev/mqueue 2>/dev/null || true
  ln -s /proc/self/fd dev/fd
  ln -s /proc/self/fd/0 dev/stdin
  ln -s /proc/self/fd/1 dev/stdout
  ln -s /proc/self/fd/2 dev/stderr
  : >dev/console
  mount -t tmpfs -o mode=755,nosuid,nodev tmpfs run
  mkdir -p run/user run/sshd run/.testbed run/lock
  mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs tmp
  mount -t tmpfs -o mode=755,nosuid,nodev tmpfs home

  # The world's configuration, prepared by the runner in $STATE/.world.
  rm -rf etc/systemd/system
  world_etc_systemd etc/systemd "${W_LOGIND_CONF[@]}"
  cp -r "$STATE/.world/units" .testbed/units
  cp "$STATE/.world/machine-id" etc/machine-id
  world_users etc home
  rm -rf "$STATE/pam.d"
  cp -a etc/pam.d "$STATE/pam.d"

  # Host paths at their own paths (state dir last: it may sit below the repository).
  for p in "${binds[@]}"; do
    [[ -n "$p" ]] || continue
    [[ -e "$p" ]] || continue
    if [[ -d "$p" ]]; then mkdir -p ".$p"; else mkdir -p ".$(dirname "$p")"; : >".$p"; fi
    mount --bind "$p" ".$p"
  done
  mount --bind "$STATE/pam.d" etc/pam.d

  pivot_root . .testbed/old
  cd /
  umount -l /.testbed/old

  # The console (a pty whose output goes to console.log) and the /dev/log listener.
  "$SYSLOGD" console /run/.testbed/console-tty "$STATE/console.log" </dev/null >/dev/null 2>>"$STATE/console.err" &
  "$SYSLOGD" listen /dev/log "$STATE/syslog.log" </dev/null >/dev/null 2>>"$STATE/syslogd.err" &
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -s /run/.testbed/console-tty && -S /dev/log ]] && break
    sleep 0.05
  done
  [[ -s /run/.testbed/console-tty ]] || { echo "no console pty" >&2; exit 1; }
  mount --bind "$(cat /run/.testbed/console-tty)" /dev/console
  exec </dev/console >/dev/console 2>&1
  exec setpriv --bounding-set "$WORLD_DROP_CAPS" -- env -i \
    container="testbed-$world" TERM=linux PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    SYSTEMD_UNIT_PATH=/.testbed/units \
    SYSTEMD_GENERATOR_PATH=/.testbed/empty SYSTEMD_ENVIRONMENT_GENERATOR_PATH=/.testbed/empty \
    "${TESTBED_SYSTEMD:-/usr/lib/systemd/systemd}" --unit=testbed.target
}

# ---------------------------------------------------------------------------
# Runner side (host).
# ---------------------------------------------------------------------------
W_P1=""           # host pid of the world's PID 1
W_UNSHARE=""      # host pid of unshare
W_CG=""           # the world's cgroup (host path)
W_GUARD=""        # guardian pid

# world_in CMD...: run CMD inside the world (all its namespaces), in the exec cgroup; bounded
# (10 s, then SIGKILL): a PID 1 that stopped answering must not hang the runner.
world_in() {
  world_p1_alive || return 1
  (
    echo "$BASHPID" >"$W_CG/testbed-exec/cgroup.procs"
    exec timeout -k 1 "$WORLD_IN_LIMIT" nsenter -t "$W_P1" -a -- "$@"
  )
}

# Process identity: pid + start time (field 22 of /proc/PID/stat). pid_max can be small
# (32768 here): a pid bash has already reaped may belong to another process, e.g. the PID 1
# of a parallel world, so nothing is signalled or entered by pid alone.
# Without forking (a failed fork under load must not look like a dead process): REPLY = start time
# of PID, or "" when it is gone. The fields after the ")" closing the command name: start time is
# the 20th of them (field 22 of the whole line). A read can be cut short by a signal (SIGCHLD of
# any child): it is retried, and only a missing /proc/PID counts as gone.
stat_start() {
  local line rest f i
  REPLY=""
  for ((i = 0; i < 20; i++)); do
    [[ -e "/proc/$1" ]] || return 0
    line=""
    read -r line 2>/dev/null <"/proc/$1/stat" || true
    rest="${line##*) }"
    f=()
    read -r -a f <<<"$rest" || true
    if ((${#f[@]} >= 20)); then
      REPLY="${f[19]}"
      return 0
    fi
  done
}
pid_is() { stat_start "$1"; [[ -n "$2" && "$REPLY" == "$2" ]]; } # pid_is PID START
# unshare_exited: the world's unshare (our child) is gone or a zombie, polled for up to 3 s.
unshare_exited() {
  local i line
  for ((i = 0; i < 30; i++)); do
    [[ -e "/proc/$W_UNSHARE" ]] || return 0
    line=""
    read -r line 2>/dev/null <"/proc/$W_UNSHARE/stat" || true
    [[ "${line##*) }" == Z* ]] && return 0
    sleep 0.1
  done
  return 1
}
W_UNSHARE_START=""
W_P1_START=""
world_alive() {
  [[ -n "$W_UNSHARE" ]] && pid_is "$W_UNSHARE" "$W_UNSHARE_START"
}
world_p1_alive() {
  [[ -n "$W_P1" ]] && pid_is "$W_P1" "$W_P1_START"
}

# world_remove_cgroup DIR: kill whatever is left, then remove the subtree bottom-up (bounded).
world_remove_cgroup() {
  local dir="$1" i
  [[ -d "$dir" ]] || return 0
  for ((i = 0; i < 50; i++)); do
    [[ -e "$dir/cgroup.kill" ]] && echo 1 >"$dir/cgroup.kill" 2>/dev/null
    find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null
    [[ -d "$dir" ]] || return 0
    sleep 0.1
  done
  printf 'testbed: warning: could not remove cgroup %s\n' "$dir" >&2
  return 1
}

# Called after CMD (or on failure): flush logs, exit the world, remove its cgroup.
world_teardown() {
  local i
  if world_alive && world_p1_alive; then
    world_in "$SYSLOGD" sync /dev/log >/dev/null 2>&1 || true
    world_in journalctl --no-pager -o short-precise -b >"$STATE/journal.log" 2>&1 || true
    world_in journalctl --no-pager -o short-precise -b -u systemd-logind.service >"$STATE/logind.log" 2>&1 || true
    world_in systemctl --no-block exit >/dev/null 2>&1 || true
    for ((i = 0; i < WORLD_WAIT_EXIT; i++)); do
      world_alive || break
      sleep 0.1
    done
    world_alive && printf 'the world did not exit within %s s of systemctl exit; killed it\n' $((WORLD_WAIT_EXIT / 10)) >>"$STATE/boot.log"
  fi
  [[ -n "$W_CG" ]] && world_remove_cgroup "$W_CG"
  if world_alive; then
    kill -KILL "$W_UNSHARE" 2>/dev/null || true
  fi
  if [[ -n "$W_UNSHARE" ]]; then wait "$W_UNSHARE" 2>/dev/null || true; fi
  W_UNSHARE=""
}

world_fail() { # world_fail MESSAGE: one line, tear down, exit 125
  WORLD_DONE=1
  WORLD_IN_LIMIT=3
  set +e
  log "$*"
  world_teardown
  world_end_guard
  ((WORLD_KEEP_STATE)) || rm -rf --one-file-system "$STATE"
  exit "$SETUP_FAILED"
}

world_end_guard() {
  if [[ -n "$W_GUARD" ]]; then
    kill -USR1 "$W_GUARD" 2>/dev/null || true
    wait "$W_GUARD" 2>/dev/null || true
    W_GUARD=""
  fi
}

# The guardian: in its own session (a kill of the runner's process group does not reach it),
# it waits for the runner to end; if the runner died without cleaning up (SIGKILL), it kills
# the world through cgroup.kill, removes the cgroup subtree and the temporary state dir.
cmd_guard() {
  local runner="$1" start="$2" cg="$3" state="$4" keep="$5"
  trap 'exit 0' USR1
  trap '' TERM INT HUP
  local misses=0
  # The runner is gone only when 3 checks in a row (0.2 s apart) say so: acting on a false
  # "gone" would kill a live world.
  while ((misses < 3)); do
    if pid_is "$runner" "$start"; then misses=0; else misses=$((misses + 1)); fi
    sleep 0.2 &
    wait $! || true
  done
  if [[ -n "$cg" ]]; then
    world_remove_cgroup "$cg" || true
  else
    # The runner's own modes: the inner script (pid namespace) dies with unshare through
    # PR_SET_PDEATHSIG; then its name=elogind cgroup may be removed.
    sleep 1
    remove_cgroups "$state"
  fi
  ((keep)) || rm -rf --one-file-system "$state"
}

world_start_guard() { # world_start_guard CG KEEP
  local start
  stat_start "$$"
  start="$REPLY"
  setsid "$SELF" __guard "$$" "$start" "$1" "$STATE" "$2" </dev/null >/dev/null 2>&1 &
  W_GUARD=$!
}

WORLD_KEEP_STATE=0
WORLD_DONE=0
WORLD_CMD_PID=""
WORLD_CMD_START=""

world_on_exit() { # world_on_exit STATUS LAST_COMMAND: the EXIT trap of cmd_world
  ((WORLD_DONE)) && return 0
  world_fail "internal error: '$2' failed (status $1)"
}

world_on_signal() {
  WORLD_DONE=1
  log "signal received, stopping the world"
  if [[ -n "$WORLD_CMD_PID" ]] && pid_is "$WORLD_CMD_PID" "$WORLD_CMD_START"; then
    kill -TERM "$WORLD_CMD_PID" 2>/dev/null || true
  fi
  world_teardown
  world_end_guard
  ((WORLD_KEEP_STATE)) || rm -rf --one-file-system "$STATE"
  exit 143
}

# cmd_world WORLD SEATS KEEP_STATE -- CMD...  (state dir in $STATE; options in W_* arrays)
cmd_world() {
  local world="$1" seats="$2"
  WORLD_KEEP_STATE="$3"
  shift 4
  local cg2 own lower t0
  t0=$(date +%s%N)
  trap world_on_signal TERM INT HUP
  # An unexpected exit of the runner itself (set -e) is a testbed failure: one line, cleanup, 125.
  trap 'world_on_exit $? "$BASH_COMMAND"' EXIT

  cg2="$(world_cgroup2_root)" || world_fail "no cgroup2 hierarchy (looked at ${TESTBED_CGROUP2:-/sys/fs/cgroup/unified /sys/fs/cgroup}); --logind systemd needs one"
  own="$(sed -n 's/^0:://p' /proc/self/cgroup)"
  own="${own%/}"
  W_CG="$cg2$own/$(cgroup_name "$STATE")"
  # A stale subtree from a killed run with the same state dir.
  world_remove_cgroup "$W_CG" || world_fail "cannot remove the stale cgroup $W_CG"
  mkdir "$W_CG" || world_fail "cannot create the cgroup $W_CG"
  printf '%s\n' "$W_CG" >"$STATE/testbed.cgroup"
  world_start_guard "$W_CG" "$WORLD_KEEP_STATE"

  STATE_TMP_ERR="$STATE/build-root.err"
  lower="$(world_lower "$world" 2>&1)" || world_fail "$lower"
  [[ -x "$lower/usr/lib/systemd/systemd" ]] || world_fail "no systemd in the $world world ($lower/usr/lib/systemd/systemd)"
  if [[ "$world" != debian12 && ! -e "$lower/usr/lib/x86_64-linux-gnu/security/pam_systemd.so" ]]; then
    world_fail "$lower has no pam_systemd.so (rebuild it: testbed/build-root $world)"
  fi

  rm -rf "$STATE/.world"
  local f
  for f in console.log syslog.log journal.log logind.log boot.log console.err syslogd.err; do : >"$STATE/$f"; done
  mkdir -p "$STATE/.world/root" "$STATE/.world/rw"
  world_units "$lower" "$STATE/.world/units" "${W_UNIT_DROPINS[@]}"
  od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$STATE/.world/machine-id"
  echo >>"$STATE/.world/machine-id"
  : >"$STATE/.world/users.env"

  # Host paths visible at their own paths in the world. Never system directories: a host
  # /lib/.../security bound over the world's would replace the world's own PAM modules.
  local binds=() m d
  for m in "$REPO_ROOT" "$CACHE" "$(dirname "$(readlink -f "$(module_rs)")")" "${W_BINDS[@]}"; do
    d="$(readlink -f "$m" 2>/dev/null || true)"
    [[ -n "$d" && -e "$d" ]] || continue
    case "$d/" in
      /|/usr/*|/lib/*|/lib64/*|/lib32/*|/bin/*|/sbin/*|/etc/*|/var/lib/*|/proc/*|/sys/*|/dev/*|/run/*|/boot/*)
        log "not binding $d into the world (a system directory)" ;;
      *) binds+=("$d") ;;
    esac
  done
  binds+=("$STATE")

  local export_conf
  export_conf="$(declare -p W_LOGIND_CONF W_UNIT_DROPINS)"
  # One retry when PID 1 dies by a signal before it became systemd (seen rarely on the shared
  # 2-core machine, cause unknown; the first attempt's log is kept in boot.log.1).
  local attempt i kids state_now="" t_boot seen_systemd st
  for attempt in 1 2; do
  W_P1=""
  W_P1_START=""
  seen_systemd=0
  # shellcheck disable=SC2034
  TESTBED_W_CG="$W_CG" TESTBED_W_LOWER="$lower" TESTBED_W_WORLD="$world" TESTBED_W_STATE="$STATE" \
  TESTBED_W_CONF="$export_conf" TESTBED_W_BINDS_STR="$(printf '%s\n' "${binds[@]}")" \
    setpriv --pdeathsig KILL -- unshare --pid --fork --kill-child=SIGKILL --mount --uts --ipc --net \
      --propagation private "$SELF" __world_boot </dev/null >"$STATE/boot.log" 2>&1 &
  W_UNSHARE=$!
  stat_start "$W_UNSHARE"
  W_UNSHARE_START="$REPLY"

  t_boot=$(date +%s%N)
  for ((i = 0; i < WORLD_WAIT_BOOT; i++)); do
    kids="$(cat "/proc/$W_UNSHARE/task/$W_UNSHARE/children" 2>/dev/null || true)"
    if [[ -n "$kids" ]]; then
      W_P1="${kids%% *}"
      stat_start "$W_P1"
      W_P1_START="$REPLY"
      break
    fi
    world_alive || break
    sleep 0.02
  done
  [[ -n "$W_P1" ]] || world_fail "the world's PID 1 did not start: $(tail -n 1 "$STATE/boot.log" 2>/dev/null)"
  mkdir -p "$W_CG/testbed-exec"
  for ((i = 0; i < WORLD_WAIT_BOOT * 5; i++)); do
    # unshare's first child may not be the one that stays PID 1 (seen once: the child read first
    # was gone and systemd ran under another pid): while unshare lives, follow its child.
    if world_alive && ! world_p1_alive; then
      kids="$(cat "/proc/$W_UNSHARE/task/$W_UNSHARE/children" 2>/dev/null || true)"
      if [[ -n "$kids" && "${kids%% *}" != "$W_P1" ]]; then
        W_P1="${kids%% *}"
        stat_start "$W_P1"
        W_P1_START="$REPLY"
        printf 'PID 1 is host pid %s\n' "$W_P1" >>"$STATE/boot.log"
      fi
    fi
    if { ! world_alive || ! world_p1_alive; } && { sleep 0.05; ! world_alive || ! world_p1_alive; }; then
      # Only `wait` for unshare once it has really exited (gone or a zombie, 3 s at most): a
      # misread liveness check must never leave the runner waiting on a live world.
      if ! unshare_exited; then
        printf 'liveness check misread at %d ms; still waiting for the boot\n' \
          $((($(date +%s%N) - t_boot) / 1000000)) >>"$STATE/boot.log"
        sleep 0.02
        (( $(date +%s%N) - t_boot < WORLD_WAIT_BOOT * 100000000 )) || { i=-1; break; }
        continue
      fi
      st=0
      wait "$W_UNSHARE" 2>/dev/null || st=$?
      W_UNSHARE=""
      if ((attempt == 1 && !seen_systemd && st >= 128)); then
        mv "$STATE/boot.log" "$STATE/boot.log.1"
        printf 'boot attempt 1: PID 1 died (status %s) before systemd started; retrying\n' "$st" >>"$STATE/boot.retries"
        world_remove_cgroup "$W_CG" || world_fail "cannot remove the cgroup $W_CG for a second boot"
        mkdir "$W_CG"
        : >"$STATE/.world/users.env"
        continue 2
      fi
      world_fail "PID 1 of the $world world exited during boot (status $st): $(cat "$STATE/boot.log" "$STATE/console.log" 2>/dev/null | grep -v -e '^\s*$' -e 'dmesg(1)' | tail -n 1)"
    fi
    # Only once PID 1 is systemd (before, nsenter would enter a half-built world) and logind
    # has written its first seat (looked at from the host through /proc/PID/root: no process
    # spawned per poll); then ask systemd and the bus.
    if world_p1_alive && [[ "$(cat "/proc/$W_P1/comm" 2>/dev/null)" == systemd ]]; then seen_systemd=1; fi
    if ((seen_systemd)) &&
       [[ -e "/proc/$W_P1/root/run/systemd/seats/seat0" || $((i % 10)) == 9 ]]; then
      state_now="$(world_in systemctl is-system-running 2>/dev/null || true)"
      if [[ "$state_now" == running || "$state_now" == degraded ]] &&
         world_in busctl --system status org.freedesktop.login1 >/dev/null 2>&1; then
        break
      fi
    fi
    sleep 0.02
    (( $(date +%s%N) - t_boot < WORLD_WAIT_BOOT * 100000000 )) || { i=-1; break; }
  done
  break
  done
  if ((i < 0)) || [[ "$state_now" != running && "$state_now" != degraded ]]; then
    {
      echo "boot timed out; PID 1 comm: $(cat "/proc/$W_P1/comm" 2>&1)"
      world_in systemctl is-system-running 2>&1 || true
      world_in systemctl list-jobs --no-pager 2>&1 || true
      local pid
      for pid in $(find "$W_CG" -name cgroup.procs -exec cat {} + 2>/dev/null); do
        printf '%s %s %s\n' "$pid" "$(cat "/proc/$pid/cgroup" 2>/dev/null | sed -n 's/^0:://p')" \
          "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
      done
    } >>"$STATE/boot.log" 2>&1
    world_fail "PID 1 of the $world world was not up within $((WORLD_WAIT_BOOT / 10)) s (state: ${state_now:-unknown}; see $STATE/console.log)"
  fi
  printf 'world %s up in %d ms (boot %d ms)\n' "$world" $((($(date +%s%N) - t0) / 1000000)) \
    $((($(date +%s%N) - t_boot) / 1000000)) >>"$STATE/boot.log"
  if ((!seats)); then
    world_in rm -rf /run/systemd/seats
  fi

  local module_c=/usr/lib/x86_64-linux-gnu/security/pam_systemd.so
  [[ "$world" == debian12 ]] && module_c=/lib/x86_64-linux-gnu/security/pam_systemd.so
  local users
  mapfile -t users <"$STATE/.world/users.env"
  local rc=0
  (
    echo "$BASHPID" >"$W_CG/testbed-exec/cgroup.procs"
    unset NOTIFY_SOCKET INVOCATION_ID JOURNAL_STREAM LISTEN_FDS LISTEN_PID LISTEN_FDNAMES XDG_RUNTIME_DIR \
      XDG_SESSION_ID DBUS_SESSION_BUS_ADDRESS DBUS_SYSTEM_BUS_ADDRESS MANAGERPID SYSTEMD_EXEC_PID
    export "${users[@]}"
    export TESTBED_STATE="$STATE" TESTBED_ROOT="$REPO_ROOT" TESTBED_LOGIND=systemd TESTBED_WORLD="$world"
    export TESTBED_MODULE_C="$module_c" TESTBED_MODULE_RS
    TESTBED_MODULE_RS="$(module_rs)"
    export TESTBED_ELOGIND_ROOT="$CACHE/root" TESTBED_PAMD=/etc/pam.d TESTBED_SYSLOG="$STATE/syslog.log"
    export TESTBED_JOURNAL="$STATE/journal.log" TESTBED_CONSOLE="$STATE/console.log"
    export TESTBED_CGROUP="/testbed-exec"
    local wd="$PWD"
    exec nsenter -t "$W_P1" -a -- /bin/bash -c 'cd "$0" 2>/dev/null || cd /; exec "$@"' "$wd" "$@"
  ) 0<&0 &
  WORLD_CMD_PID=$!
  stat_start "$WORLD_CMD_PID"
  WORLD_CMD_START="$REPLY"
  while :; do
    rc=0
    wait "$WORLD_CMD_PID" || rc=$?
    pid_is "$WORLD_CMD_PID" "$WORLD_CMD_START" || break
  done
  WORLD_CMD_PID=""
  WORLD_DONE=1
  world_teardown
  world_end_guard
  if ((rc != 0)); then
    log "command exited with status $rc"
    local f
    for f in logind.log console.log syslog.log; do
      printf '\n===== testbed: last 40 lines of %s/%s =====\n' "$STATE" "$f" >&2
      if [[ -f "$STATE/$f" ]]; then tail -n 40 "$STATE/$f" >&2; else echo "(missing)" >&2; fi
    done
  fi
  ((WORLD_KEEP_STATE)) || rm -rf --one-file-system "$STATE"
  return "$rc"
}
