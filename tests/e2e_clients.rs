//! End-to-end tests: real PAM clients (pamtester, runuser, su, OpenSSH sshd) load the module
//! inside `testbed/testbed`, in three settings: elogind 246 on the host's files (`e_` tests),
//! and real systemd as PID 1 with its own logind: Debian 12's 252 (`d12_`) and Debian 13's 257
//! (`d13_`, the world's own clients: pamtester, util-linux 2.41, OpenSSH 10).
//!
//! The module under test is ours (`target/debug/libpam_systemd_rs.so`, or `$PAM_SYSTEMD_RS_SO`);
//! `PAM_SYSTEMD_RS_TEST_MODULE=c` runs the same tests against the setting's C pam_systemd.so.
//! Each test checks what logind recorded and what the client (the session's shell) saw, and that
//! the session is gone afterwards. Needs root and `testbed/setup-host.sh` (run once
//! automatically).
//!
//! Not on Debian 13: `pamtester` as root on a pts — 257 gives root on a terminal the class
//! `user-early` (and the C module then differs from a 252-faithful one); see the gen257 work.

mod common;

use common::World;
use common::testbed::{Run, Testbed};

/// Where a test runs: elogind on the host, or a world with real systemd.
#[derive(Clone, Copy)]
enum On {
    Elogind,
    World(World),
}

impl On {
    fn testbed(self, name: &str) -> Testbed {
        match self {
            On::Elogind => Testbed::new(&format!("e2e-{name}")),
            On::World(w) => Testbed::new(&format!("e2e-{name}-{}", w.name())).world(w),
        }
    }
}

/// Shell for the end of each script: GONE=yes once logind no longer lists the session whose
/// XDG_SESSION_ID= line is in the output so far ($OUT). Only that session: on Debian 13 the
/// user manager has a session of its own (class manager), which ends later.
const GONE: &str = r#"gone_id=$(sed -n 's/^XDG_SESSION_ID=//p' "$OUT" | head -n 1)
if [ -n "$gone_id" ] && "$Q" wait-gone "$gone_id" 10; then echo GONE=yes; else echo GONE=no; fi"#;

/// Shell lines, run inside the session, printing what the session sees and
/// what logind says about it (`PROP_<name>=` lines from logind-query).
/// `$Q` is expanded by the outer script, everything else by the session's shell.
const SESSION_PROBE: &str = r#"echo XDG_SESSION_ID=$XDG_SESSION_ID; echo XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR; echo SESSION_UID=$(id -u); stat -c "RUNTIME_STAT=%U %F" "$XDG_RUNTIME_DIR"; echo RUNTIME_FSTYPE=$(findmnt -n -o FSTYPE --target "$XDG_RUNTIME_DIR"); echo RUNTIME_MOUNT=$(findmnt -n -o TARGET --target "$XDG_RUNTIME_DIR"); QQQ props "$XDG_SESSION_ID" | sed "s/^/PROP_/""#;

fn probe() -> String {
    // Single-quoted for the outer bash; $Q is spliced in unquoted-safe.
    format!("'{}'", SESSION_PROBE.replace("QQQ", "'\"$Q\"'"))
}

/// Shell for the end of a "login shell for pamtest1" script: `CLIENT -l $TESTBED_USER1 -c PROBE`
/// into $OUT, its output and CLIENT_RC, then GONE.
fn login_shell(client: &str) -> String {
    format!(
        r#"rc=0
OUT="$TESTBED_STATE/client.out"
{client} -l "$TESTBED_USER1" -c {probe} >"$OUT" || rc=$?
cat "$OUT"
echo "CLIENT_RC=$rc"
{GONE}"#,
        probe = probe()
    )
}

/// Checks common to the "a login shell for pamtest1" tests.
fn check_user_session(r: &mut Run, service: &str) {
    r.expect_success();
    let uid = r.expect_kv_nonempty("UID1");
    let id = r.expect_kv_nonempty("XDG_SESSION_ID");
    r.expect_kv("XDG_RUNTIME_DIR", &format!("/run/user/{uid}"));
    r.expect_kv("SESSION_UID", &uid);
    r.expect_kv("RUNTIME_STAT", "pamtest1 directory");
    r.expect_kv("RUNTIME_FSTYPE", "tmpfs");
    r.expect_kv("RUNTIME_MOUNT", &format!("/run/user/{uid}"));
    r.expect_kv("PROP_Id", &id);
    r.expect_kv("PROP_Name", "pamtest1");
    r.expect_kv("PROP_User", &uid);
    r.expect_kv("PROP_Service", service);
    r.expect_kv("PROP_State", "active");
    r.expect_kv("CLIENT_RC", "0");
    r.expect_kv("GONE", "yes");
}

/// pamtester opens and closes a session; a later pam_exec line records, while
/// the session is open, the PAM env it got and logind's view of the session.
fn pamtester_case(on: On, name: &str, user: &str, tty: &str, rhost: &str) -> Run {
    let script = format!(
        r#"
user={user}
[ "$user" = USER1 ] && user="$TESTBED_USER1"
echo "UID1=$TESTBED_UID1"
rec="$TESTBED_STATE/record.sh"
# pam_exec gives the script only the PAM environment (XDG_* and PAM_TYPE),
# so the testbed paths are written into it here.
cat >"$rec" <<EOT
#!/bin/bash
[ "\$PAM_TYPE" = open_session ] || exit 0
{{
  echo "XDG_SESSION_ID=\$XDG_SESSION_ID"
  echo "XDG_RUNTIME_DIR=\$XDG_RUNTIME_DIR"
  echo "XDG_SESSION_TYPE=\$XDG_SESSION_TYPE"
  echo "XDG_SESSION_CLASS=\$XDG_SESSION_CLASS"
  "$Q" sessions | sed 's/^/LIST_/'
  "$Q" props "\$XDG_SESSION_ID" | sed 's/^/PROP_/'
}} >"$TESTBED_STATE/record.out" 2>&1
EOT
chmod 755 "$rec"
cat >/etc/pam.d/e2e-pamtester <<EOT
auth     required pam_permit.so
account  required pam_permit.so
session  required $M debug
session  optional pam_exec.so $rec
EOT
rc=0
pamtester -v -I tty={tty} -I rhost={rhost} e2e-pamtester "$user" open_session close_session || rc=$?
echo "CLIENT_RC=$rc"
echo "USER_UID=$(id -u "$user")"
cat "$TESTBED_STATE/record.out"
OUT="$TESTBED_STATE/record.out"
{GONE}
"#
    );
    on.testbed(name).run(&script)
}

fn check_pamtester(r: &mut Run, user: &str, tty: &str, rhost: &str) {
    r.expect_success();
    r.expect_kv("CLIENT_RC", "0");
    let uid = r.expect_kv_nonempty("USER_UID");
    let id = r.expect_kv_nonempty("XDG_SESSION_ID");
    r.expect_kv("XDG_RUNTIME_DIR", &format!("/run/user/{uid}"));
    r.expect_kv("XDG_SESSION_TYPE", "tty");
    r.expect_kv("XDG_SESSION_CLASS", "user");
    let listed = r
        .stdout
        .lines()
        .any(|l| l == format!("LIST_session {id} {uid} {user} -"));
    r.check(listed, &format!("ListSessions does not list session {id} of {user}"));
    r.expect_kv("PROP_Id", &id);
    r.expect_kv("PROP_Name", user);
    r.expect_kv("PROP_User", &uid);
    r.expect_kv("PROP_Service", "e2e-pamtester");
    r.expect_kv("PROP_Type", "tty");
    r.expect_kv("PROP_Class", "user");
    r.expect_kv("PROP_TTY", tty);
    r.expect_kv("PROP_Remote", "true");
    r.expect_kv("PROP_RemoteHost", rhost);
    r.expect_kv("PROP_State", "active");
    r.expect_kv("GONE", "yes");
}

fn pamtester_root(on: On) {
    let mut r = pamtester_case(on, "pamtester-root", "root", "pts/3", "10.1.2.3");
    check_pamtester(&mut r, "root", "pts/3", "10.1.2.3");
}

fn pamtester_user(on: On) {
    let mut r = pamtester_case(on, "pamtester-user", "USER1", "pts/7", "127.0.0.2");
    check_pamtester(&mut r, "pamtest1", "pts/7", "127.0.0.2");
}

fn runuser_login_shell(on: On) {
    // Modelled on Debian's /etc/pam.d/runuser-l (which includes runuser).
    let script = format!(
        r#"
echo "UID1=$TESTBED_UID1"
cat >/etc/pam.d/runuser-l <<EOT
auth     sufficient pam_rootok.so
session  optional   pam_keyinit.so force revoke
session  optional   $M debug
session  optional   pam_keyinit.so revoke
session  required   pam_limits.so
session  required   pam_unix.so
EOT
{run}
"#,
        run = login_shell("runuser")
    );
    let mut r = on.testbed("runuser-l").run(&script);
    check_user_session(&mut r, "runuser-l");
    // No tty, not remote: logind's defaults for such a session.
    r.expect_kv("PROP_Remote", "false");
    r.expect_kv("PROP_TTY", "");
}

fn su_login_shell(on: On) {
    // Modelled on Debian's /etc/pam.d/su (su -l uses the su-l service, which includes su).
    let script = format!(
        r#"
echo "UID1=$TESTBED_UID1"
for svc in su su-l; do
cat >/etc/pam.d/$svc <<EOT
auth     sufficient pam_rootok.so
auth     required   pam_deny.so
account  required   pam_unix.so
session  required   pam_env.so readenv=1
session  optional   pam_mail.so nopen
session  required   pam_limits.so
session  required   pam_unix.so
session  optional   $M debug
EOT
done
{run}
"#,
        run = login_shell("su")
    );
    let mut r = on.testbed("su-l").run(&script);
    check_user_session(&mut r, "su-l");
    r.expect_kv("PROP_Remote", "false");
    r.expect_kv("PROP_RemoteUser", "root");
}

/// The sshd port: free in any case, as sshd and ssh run in a network namespace of their own (a
/// world has one, loopback only; on elogind the script makes one), so no other test can take it.
const SSH_PORT: u16 = 2222;

fn sshd_login_with_pty(on: On) {
    let ssh = format!(
        r#"
S="$TESTBED_STATE/ssh"; mkdir -p "$S"; PORT={SSH_PORT}
# Debian's sshd stack as shipped, with pam_systemd.so in common-session
# replaced by the module under test.
grep -q 'pam_systemd\.so' /etc/pam.d/common-session || echo 'session optional pam_systemd.so' >>/etc/pam.d/common-session
sed -i "s#^\(-\?session.*\)pam_systemd\.so.*#\1$M debug#" /etc/pam.d/common-session
grep -q '^@include common-session' /etc/pam.d/sshd
ssh-keygen -q -t ed25519 -N '' -f "$S/hostkey"
ssh-keygen -q -t ed25519 -N '' -f "$S/userkey"
install -d -m 700 -o "$TESTBED_USER1" -g "$TESTBED_USER1" "/home/$TESTBED_USER1/.ssh"
install -m 600 -o "$TESTBED_USER1" -g "$TESTBED_USER1" "$S/userkey.pub" "/home/$TESTBED_USER1/.ssh/authorized_keys"
cat >"$S/sshd_config" <<EOT
ListenAddress 127.0.0.1
Port $PORT
HostKey $S/hostkey
PidFile $S/sshd.pid
UsePAM yes
AuthorizedKeysFile .ssh/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
PrintMotd no
PrintLastLog no
LogLevel VERBOSE
EOT
mkdir -p /run/sshd && chmod 755 /run/sshd
/usr/sbin/sshd -D -e -f "$S/sshd_config" 2>"$S/sshd.log" &
sshd_pid=$!
trap 'kill $sshd_pid 2>/dev/null || true' EXIT
for i in $(seq 100); do
  ss -ltnH "sport = :$PORT" | grep -q . && break
  kill -0 $sshd_pid 2>/dev/null || {{ echo "sshd died:"; cat "$S/sshd.log"; exit 1; }}
  sleep 0.1
done
rc=0
timeout 60 ssh -p "$PORT" -i "$S/userkey" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
  -o BatchMode=yes -o LogLevel=ERROR -tt "$TESTBED_USER1@127.0.0.1" {probe} </dev/null >"$S/client.out" || rc=$?
tr -d '\r' <"$S/client.out" >"$S/client.txt"
cat "$S/client.txt"
echo "CLIENT_RC=$rc"
OUT="$S/client.txt"
{GONE}
"#,
        probe = probe()
    );
    let script = match on {
        On::World(_) => format!("echo \"UID1=$TESTBED_UID1\"\n{ssh}"),
        // elogind runs on the host's network namespace: sshd and ssh get a new one (loopback
        // only), the rest of the testbed (bus, logind, syslog: unix sockets by path) is shared.
        On::Elogind => format!(
            r#"echo "UID1=$TESTBED_UID1"
cat >"$TESTBED_STATE/ssh-netns.sh" <<'SSH_NETNS_EOF'
set -euo pipefail
ip link set lo up
{ssh}
SSH_NETNS_EOF
export M Q
unshare --net bash "$TESTBED_STATE/ssh-netns.sh"
"#
        ),
    };
    let mut r = on.testbed("sshd").run(&script);
    check_user_session(&mut r, "sshd");
    r.expect_kv("PROP_Type", "tty");
    r.expect_kv("PROP_Class", "user");
    r.expect_kv("PROP_Remote", "true");
    r.expect_kv("PROP_RemoteHost", "127.0.0.1");
}

/// The stacks shipped in `pam.d-examples/` work as installed: copied over the world's own files
/// (the module name replaced by the path of the module under test, nothing else changed), a real
/// `su -l` or `runuser -l` gets a session through them.
fn shipped_example_stacks(on: On, client: &str) {
    let (files, service) = match client {
        "su" => ("su common-session", "su-l"),
        _ => ("runuser-l common-session", "runuser-l"),
    };
    let script = format!(
        r#"
echo "UID1=$TESTBED_UID1"
for f in {files}; do
  sed "s#pam_systemd_rs\.so#$M#" "$TESTBED_ROOT/pam.d-examples/$f" >/etc/pam.d/$f
done
# Only the shipped line loads a logind module (the world's runuser-l carries pam_systemd.so).
if cat /etc/pam.d/{service} /etc/pam.d/common-session | grep -v '^[[:space:]]*#' | grep -qE '[[:space:]]pam_systemd\.so'; then
  echo STRAY=yes
else
  echo STRAY=no
fi
{run}
"#,
        run = login_shell(client)
    );
    let mut r = on.testbed(&format!("examples-{client}")).run(&script);
    r.expect_kv("STRAY", "no");
    check_user_session(&mut r, service);
}

macro_rules! on_each {
    ($($name:ident => $f:ident($on:expr);)*) => {
        $(
            #[test]
            fn $name() {
                $f($on);
            }
        )*
    };
}

on_each! {
    e_pamtester_root => pamtester_root(On::Elogind);
    e_pamtester_user => pamtester_user(On::Elogind);
    e_runuser_login_shell => runuser_login_shell(On::Elogind);
    e_su_login_shell => su_login_shell(On::Elogind);
    e_sshd_login_with_pty => sshd_login_with_pty(On::Elogind);
    d12_pamtester_root => pamtester_root(On::World(World::Debian12));
    d12_pamtester_user => pamtester_user(On::World(World::Debian12));
    d12_runuser_login_shell => runuser_login_shell(On::World(World::Debian12));
    d12_su_login_shell => su_login_shell(On::World(World::Debian12));
    d12_sshd_login_with_pty => sshd_login_with_pty(On::World(World::Debian12));
    d13_pamtester_user => pamtester_user(On::World(World::Debian13));
    d13_runuser_login_shell => runuser_login_shell(On::World(World::Debian13));
    d13_su_login_shell => su_login_shell(On::World(World::Debian13));
    d13_sshd_login_with_pty => sshd_login_with_pty(On::World(World::Debian13));
}

#[test]
fn d12_shipped_su_stack() {
    shipped_example_stacks(On::World(World::Debian12), "su");
}

#[test]
fn d12_shipped_runuser_stack() {
    shipped_example_stacks(On::World(World::Debian12), "runuser");
}
