//! The seed's failure and its neighbours on REAL systemd as PID 1 (testbed worlds: Debian 12 =
//! systemd 252, Debian 13 = systemd 257, Debian 14 = systemd 262): each case seeds a fault, logs in as root through our
//! module (tests/c/pamclient, tty=ssh, like automation over ssh), and checks
//! * the failing login's one extra warning line naming the cause (src/diagnose/rule.rs via
//!   src/diagnose/ask.rs), and that healthy logins log nothing extra;
//! * `pam_systemd_rs doctor`: names the cause and exits 1 (0 when healthy);
//! * then applies the printed fix and shows the next login healthy.
//!
//! Each test boots one world (~10-15 s): `d12::*` Debian 12's, `d13::*` and `d13_*` Debian 13's,
//! `d14::*` and `d14_*` Debian 14's (filter by name to run one world: `cargo test --test
//! doctor_world d12`); `KEEP_CASE_STATE=1`
//! keeps each run's state dir (`/tmp/doctor-world-*`).

mod common;

use common::testbed::Testbed;
use common::{Logind, World, build_root, shell_quote};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// One login as seen by pamclient, plus the module's syslog lines for it.
#[derive(Debug, Default, Clone)]
struct Login {
    open_rc: Option<i32>,
    env: Vec<String>,
    log: Vec<String>,
}

impl Login {
    fn runtime_dir(&self) -> bool {
        self.env.iter().any(|e| e.starts_with("XDG_RUNTIME_DIR="))
    }
    fn naming_lines(&self) -> Vec<&String> {
        self.log.iter().filter(|l| is_naming_line(l)).collect()
    }
}

/// The module's extra line (severity 4 = LOG_WARNING), in any of its forms (src/diagnose/rule.rs).
fn is_naming_line(l: &str) -> bool {
    l.starts_with("<84>") && (l.contains("systemctl reset-failed") || l.contains("was being stopped (logind:"))
}

#[derive(Debug, Default)]
struct Run {
    world: &'static str,
    logins: Vec<Login>,
    /// (output, exit code) of each `doctor` step.
    doctors: Vec<(String, i32)>,
    /// Other output of the script (`== NAME` sections other than logins and doctors).
    other: String,
    rc: i32,
    stderr: String,
}

impl Run {
    fn summary(&self) -> String {
        let mut s = format!("world {} rc {}\n", self.world, self.rc);
        for (i, l) in self.logins.iter().enumerate() {
            s.push_str(&format!("login {}: rc {:?} env {:?}\n", i + 1, l.open_rc, l.env));
            for line in &l.log {
                s.push_str(&format!("    {line}\n"));
            }
        }
        for (i, (out, rc)) in self.doctors.iter().enumerate() {
            s.push_str(&format!("doctor {} (exit {rc}):\n{out}", i + 1));
        }
        s.push_str(&format!("other:\n{}\nstderr (tail):\n", self.other));
        let tail: Vec<&str> = self.stderr.lines().rev().take(40).collect();
        for l in tail.into_iter().rev() {
            s.push_str(l);
            s.push('\n');
        }
        s
    }
    fn doctor(&self, i: usize) -> (&str, i32) {
        let (o, rc) = self
            .doctors
            .get(i)
            .unwrap_or_else(|| panic!("no doctor run {i}\n{}", self.summary()));
        (o.as_str(), *rc)
    }
}

fn doctor_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_pam_systemd_rs"))
}

/// How long one world's script may run (boot, logins, doctor runs, holds).
const LIMIT: Duration = Duration::from_secs(300);

/// Boots `world` with `opts` (testbed options) and runs `body` (bash) inside, after a prelude
/// with `login N [pamclient args]`, `bg_login N [args]` (in the background, returning once the
/// session is open), `doctor [args]`, `section NAME` and `wait_for SECS CMD...` (polls CMD every
/// 0.1 s until it succeeds; ends the script with exit 1 after SECS).
fn run(world: World, opts: &[&str], body: &str) -> Run {
    let module = common::Module::rs_built().path;
    let client = common::pamclient();
    let script = format!(
        r#"set -u
P="$TESTBED_STATE/pamd"; mkdir -p "$P"
echo "session required {module}" > "$P/t"
login() {{
  local n="$1"; shift
  logger -t doctor-world "MARK login $n"
  echo "== login $n"
  {client} --confdir "$P" --service t --user root --item tty=ssh --item rhost=10.0.0.9 "$@"
  sleep 0.2
}}
doctor() {{
  echo "== doctor"
  {doctor} doctor "$@"
  echo "doctor_rc=$?"
}}
section() {{ echo "== $1"; }}
wait_for() {{
  local n=$(($1 * 10)); shift
  for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
  echo "wait_for: '$*' still false after $((n / 10)) s" >&2
  exit 1
}}
# `bg_login N [args]`: login N in the background (its output also in $TESTBED_STATE/login-N);
# returns once the session is open and the client has printed its state after open.
bg_login() {{
  local n="$1"; shift
  login "$n" "$@" | tee "$TESTBED_STATE/login-$n" &
  wait_for 10 grep -qs '^threads=' "$TESTBED_STATE/login-$n"
}}
# Conditions for wait_for: PID 1 has no job left (a settled system); root lingers.
no_jobs() {{ [ -z "$(systemctl list-jobs --no-legend 2>/dev/null)" ]; }}
lingers() {{ [ "$(loginctl show-user root -P Linger 2>/dev/null)" = yes ]; }}
{body}
logger -t doctor-world "MARK end"
{testbed} syslog-sync
"#,
        module = module.display(),
        client = client.display(),
        doctor = doctor_bin().display(),
        testbed = shell_quote(common::testbed_runner()),
    );
    let out = Testbed::new(&format!("doctor-world-{}", world.name()))
        .world(world)
        .opts(opts)
        .timeout(LIMIT)
        .run_script(&script);
    let mut r = parse(&out.stdout, &out.file("syslog.log"));
    r.world = world.name();
    r.rc = out.code();
    r.stderr = out.stderr.clone();
    if out.timed_out {
        r.stderr.push_str(&format!("\n(timed out after {LIMIT:?})"));
    }
    r
}

fn parse(stdout: &str, syslog: &str) -> Run {
    let mut r = Run::default();
    enum Sec {
        None,
        Login,
        Doctor(String),
        Other,
    }
    let mut sec = Sec::None;
    for line in stdout.lines() {
        if let Some(name) = line.strip_prefix("== ") {
            if let Sec::Doctor(o) = std::mem::replace(&mut sec, Sec::None) {
                r.doctors.push((o, -1));
            }
            if name.starts_with("login") {
                r.logins.push(Login::default());
                sec = Sec::Login;
            } else if name == "doctor" {
                sec = Sec::Doctor(String::new());
            } else {
                r.other.push_str(line);
                r.other.push('\n');
                sec = Sec::Other;
            }
            continue;
        }
        match &mut sec {
            Sec::Login => {
                let l = r.logins.last_mut().expect("login");
                if let Some(v) = line.strip_prefix("open_rc=") {
                    l.open_rc = v.trim().parse().ok();
                } else if let Some(v) = line.strip_prefix("env=") {
                    l.env.push(v.to_owned());
                }
            }
            Sec::Doctor(o) => {
                if let Some(v) = line.strip_prefix("doctor_rc=") {
                    let o = std::mem::take(o);
                    r.doctors.push((o, v.trim().parse().unwrap_or(-1)));
                    sec = Sec::None;
                } else {
                    o.push_str(line);
                    o.push('\n');
                }
            }
            Sec::Other | Sec::None => {
                r.other.push_str(line);
                r.other.push('\n');
            }
        }
    }
    // The module's syslog lines between "MARK login N" and the next mark belong to login N.
    let mut current: Option<usize> = None;
    for line in syslog.lines() {
        if let Some(i) = line.find("MARK ") {
            let what = &line[i + 5..];
            current = what
                .strip_prefix("login ")
                .and_then(|n| n.trim().parse::<usize>().ok())
                .map(|n| n - 1);
            continue;
        }
        if let (Some(i), Some(p)) = (current, line.find("pam_systemd_rs(")) {
            let sev = line.get(..4).unwrap_or("");
            if let Some(l) = r.logins.get_mut(i) {
                l.log.push(format!("{sev}{}", &line[p..]));
            }
        }
    }
    r
}

const DROPIN_USER0_FALSE: &str = "--unit-dropin=user@0.service:[Service]\\nExecStart=\\nExecStart=/bin/false";

/// `login 1..=n`, one a second.
fn logins(n: usize) -> String {
    (1..=n).map(|i| format!("login {i}; sleep 0.8\n")).collect()
}

/// The code a refused login returns in `world`: over Varlink (logind ≥ 258) C 262's
/// PAM_SERVICE_ERR (3), over D-Bus PAM_SESSION_ERR (14).
fn refused_rc(world: World) -> i32 {
    if world.logind_varlink() { 3 } else { 14 }
}

fn assert_doctor_problem(r: &Run, i: usize, needle: &str) {
    let (out, rc) = r.doctor(i);
    assert_eq!(rc, 1, "doctor {i} should exit 1\n{}", r.summary());
    assert!(
        out.lines().any(|l| l.starts_with("problem") && l.contains(needle)),
        "doctor {i}: no problem line containing {needle:?}\n{}",
        r.summary()
    );
}

fn assert_healthy_login(r: &Run, i: usize) {
    let l = r
        .logins
        .get(i)
        .unwrap_or_else(|| panic!("no login {i}\n{}", r.summary()));
    assert_eq!(l.open_rc, Some(0), "login {}\n{}", i + 1, r.summary());
    assert!(
        l.runtime_dir(),
        "login {} has no XDG_RUNTIME_DIR\n{}",
        i + 1,
        r.summary()
    );
    assert!(
        l.naming_lines().is_empty(),
        "login {} logged a naming line\n{}",
        i + 1,
        r.summary()
    );
}

// ---------------------------------------------------------------------------------------------
// The seed: user-runtime-dir@0 (252) / user@0 (257) start-limit-hit
// ---------------------------------------------------------------------------------------------

/// 252: a failing user@0 keeps user-runtime-dir@0 loaded, so its start counter survives; the 6th
/// login (one a second) trips its limit: the login succeeds without /run/user/0, the module
/// names the cause. 257 and 262: the same recipe trips user@0's own limit (logins keep
/// /run/user/0, so only the doctor sees it; 257 leaves user@0's Result at 'exit-code', 262 sets
/// 'start-limit-hit'). Then `systemctl reset-failed ...` (the printed fix): the next login
/// is healthy again.
fn seed_start_limit_hit_then_reset_failed(world: World) {
    let body = format!(
        "{}doctor\nsection fix\nsystemctl reset-failed user-runtime-dir@0.service user@0.service\nlogin 8\n",
        logins(7)
    );
    let r = run(world, &[DROPIN_USER0_FALSE], &body);
    assert_eq!(r.logins.len(), 8, "{}", r.summary());
    for l in &r.logins {
        assert_eq!(l.open_rc, Some(0), "{}", r.summary());
    }
    if world == World::Debian12 {
        // Logins 1-5 healthy (runtime dir present, no extra line).
        for i in 0..5 {
            assert_healthy_login(&r, i);
        }
        let sixth = &r.logins[5];
        assert!(!sixth.runtime_dir(), "{}", r.summary());
        let lines = sixth.naming_lines();
        assert_eq!(lines.len(), 1, "login 6: exactly one naming line\n{}", r.summary());
        assert_eq!(
            lines[0].as_str(),
            "<84>pam_systemd_rs(t:session): user-runtime-dir@0.service failed with 'start-limit-hit' \
             (more than 5 starts within 10s: logins of root came and went faster than that), so root \
             gets no /run/user/0 and no user manager; `systemctl reset-failed user-runtime-dir@0.service \
             user@0.service` clears it now; `loginctl enable-linger root` (or a longer UserStopDelaySec= \
             in logind.conf, or ssh connection sharing) prevents it",
            "{}",
            r.summary()
        );
        // The C module's own lines come first, unchanged.
        assert!(
            sixth
                .log
                .iter()
                .any(|l| l.contains("Failed to stat() runtime directory '/run/user/0'"))
        );
        assert_doctor_problem(&r, 0, "user-runtime-dir@0.service failed with 'start-limit-hit'");
    } else {
        for l in &r.logins[..7] {
            assert!(l.runtime_dir(), "{}", r.summary());
            assert!(l.naming_lines().is_empty(), "{}", r.summary());
        }
        // 257 keeps the failed unit's earlier Result (the doctor finds the limit in the
        // journal); 262 sets Result=start-limit-hit.
        let named = if world == World::Debian13 {
            "user@0.service failed with 'exit-code' and then hit its start limit"
        } else {
            "user@0.service failed with 'start-limit-hit' (more than 5 starts within 10s"
        };
        assert_doctor_problem(&r, 0, named);
    }
    let (out, _) = r.doctor(0);
    assert!(
        out.contains("systemctl reset-failed user-runtime-dir@0.service user@0.service"),
        "{out}"
    );
    // After the fix: healthy (the runtime dir is back, no line).
    assert_healthy_login(&r, 7);
}

/// 257 with UserStopDelaySec=0: logind starts user-runtime-dir@0 for every session and the
/// scope Requires= it, so a quick login FAILS (14) once the limit is hit (the 6th, when logins
/// come once a second) — with 'dependency' or, racing the stop, a destructive transaction;
/// either way the module names the cause, and so does the doctor. Then the fix (reset-failed +
/// enable-linger): the next logins work.
#[test]
fn d13_seed_zero_stop_delay_fails_the_login_and_names_it() {
    let body = "for i in $(seq 1 12); do login $i | tee \"$TESTBED_STATE/last\"; grep -q '^open_rc=14' \"$TESTBED_STATE/last\" && break; sleep 0.8; done\n\
                doctor\nsection fix\nsystemctl reset-failed user-runtime-dir@0.service user@0.service\n\
                loginctl enable-linger root\nsleep 1\nlogin 20\nlogin 21\n";
    let r = run(
        World::Debian13,
        &["--logind-conf=UserStopDelaySec=0", DROPIN_USER0_FALSE],
        body,
    );
    let n = r.logins.len();
    assert!(n >= 3, "{}", r.summary());
    let failed = &r.logins[n - 3];
    assert_eq!(failed.open_rc, Some(14), "a login must fail\n{}", r.summary());
    assert!(
        n - 2 >= 6,
        "the limit is 5 starts: the first failure is the 6th login or later\n{}",
        r.summary()
    );
    assert_eq!(
        failed.naming_lines().len(),
        1,
        "the failing login names its cause\n{}",
        r.summary()
    );
    assert!(
        failed.log.iter().any(|x| x.contains("Failed to create session:")),
        "{}",
        r.summary()
    );
    let (out, rc) = r.doctor(0);
    assert_eq!(rc, 1, "{}", r.summary());
    assert!(
        out.lines().any(|l| l.starts_with("problem")
            && (l.contains("user-runtime-dir@0.service failed with 'start-limit-hit'")
                || l.contains("logind could not start"))),
        "{}",
        r.summary()
    );
    for l in &r.logins[n - 2..] {
        assert_eq!(l.open_rc, Some(0), "{}", r.summary());
        assert!(l.runtime_dir() && l.naming_lines().is_empty(), "{}", r.summary());
    }
}

/// 262 with UserStopDelaySec=0 (docs/behaviour-262.md, "The seed on 262"): as on 257 the 6th
/// quick login FAILS once user-runtime-dir@0 hits its start limit. Forky's C module asks over
/// Varlink and logs only `Varlink call io.systemd.Login.CreateSession failed:
/// io.systemd.Login.UnitAllocationFailed` (PAM_SERVICE_ERR); ours logs the error of the
/// transport it used (D-Bus: `Failed to create session: Job N … 'dependency'`, 14; Varlink: C's
/// line, 3) and, before it, the one line naming user-runtime-dir@0's start limit and the fix.
/// The doctor names the unit, its result and the fix, and says logind answers on Varlink. Then
/// the fix (reset-failed + enable-linger): the next logins work.
#[test]
fn d14_seed_zero_stop_delay_fails_the_login_and_names_it() {
    let body = "for i in $(seq 1 12); do login $i | tee \"$TESTBED_STATE/last\"; grep -Eq '^open_rc=(3|14)$' \"$TESTBED_STATE/last\" && break; sleep 0.8; done\n\
                doctor\nsection fix\nsystemctl reset-failed user-runtime-dir@0.service user@0.service\n\
                loginctl enable-linger root\nwait_for 10 lingers\nlogin 20\nlogin 21\ndoctor\n";
    let r = run(
        World::Debian14,
        &["--logind-conf=UserStopDelaySec=0", DROPIN_USER0_FALSE],
        body,
    );
    let n = r.logins.len();
    assert!(n >= 3, "{}", r.summary());
    let failed = &r.logins[n - 3];
    assert!(
        n - 2 >= 6,
        "the limit is 5 starts: the first failure is the 6th login or later\n{}",
        r.summary()
    );
    for i in 0..n - 3 {
        assert_healthy_login(&r, i);
    }
    // Over Varlink the failed job (UnitAllocationFailed) or, racing the stop of the user's
    // slice, EDEADLK (io.systemd.System).
    let over_varlink = failed.log.iter().any(|x| {
        x.contains("Varlink call io.systemd.Login.CreateSession failed: io.systemd.Login.UnitAllocationFailed")
            || x.contains("Varlink call io.systemd.Login.CreateSession failed: io.systemd.System")
    });
    let over_dbus = failed.log.iter().any(|x| x.contains("Failed to create session:"));
    let want_rc = if over_varlink { 3 } else { 14 };
    assert!(over_varlink != over_dbus, "one transport's error line\n{}", r.summary());
    assert_eq!(failed.open_rc, Some(want_rc), "{}", r.summary());
    let lines = failed.naming_lines();
    assert_eq!(lines.len(), 1, "the failing login names its cause\n{}", r.summary());
    // The unit at fault and the fix; only a login racing the stop of the user's slice (logind's
    // destructive-transaction refusal) may name that instead.
    let limit = "user-runtime-dir@0.service failed with 'start-limit-hit' (more than 5 starts within 10s";
    let destructive = failed
        .log
        .iter()
        .any(|x| x.contains("is destructive") || x.contains("EDEADLK") || x.contains("Resource deadlock avoided"));
    assert!(
        lines[0].contains(limit)
            || (destructive && lines[0].contains("the login came while user root was being stopped")),
        "{}",
        r.summary()
    );
    if lines[0].contains(limit) {
        assert!(
            lines[0].contains("`systemctl reset-failed user-runtime-dir@0.service user@0.service` clears it now"),
            "{}",
            r.summary()
        );
    }
    // The doctor: the unit, its result, the fix; logind on Varlink.
    let (out, rc) = r.doctor(0);
    assert_eq!(rc, 1, "{}", r.summary());
    assert!(
        out.lines().any(|l| l.starts_with("problem units")
            && l.contains(limit)
            && l.contains("Fix: `systemctl reset-failed user-runtime-dir@0.service user@0.service` clears it now; `loginctl enable-linger root`")),
        "{}",
        r.summary()
    );
    assert!(
        out.lines().any(|l| l.starts_with("ok      varlink     logind answers on Varlink at /run/systemd/io.systemd.Login (systemd (systemd-logind) 262")),
        "{}",
        r.summary()
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("warn    logind.conf UserStopDelaySec=0")),
        "{}",
        r.summary()
    );
    for l in &r.logins[n - 2..] {
        assert_eq!(l.open_rc, Some(0), "{}", r.summary());
        assert!(l.runtime_dir() && l.naming_lines().is_empty(), "{}", r.summary());
    }
    // After the fix user-runtime-dir@0 is fine again (user@0's own /bin/false remains).
    let (out, _) = r.doctor(1);
    assert!(out.contains("Linger=yes"), "{out}");
    assert!(!out.contains("user-runtime-dir@0.service failed"), "{out}");
}

/// The user being stopped: with UserStopDelaySec=0 and a slow stop of user-runtime-dir@0, a
/// login while the stop runs fails (14 over D-Bus with "Transaction ... is destructive"; 3 over
/// Varlink with io.systemd.System, EDEADLK); the module says
/// logind was stopping the user. The doctor names the recent refusal and the zero stop delay.
fn login_while_the_user_is_stopped(world: World) {
    // Login 1 holds its session (user@0 up) while the slice's stop runs (3 s of ExecStop); once
    // login 1 is gone and PID 1 has no job left, the doctor and login 3 run.
    let body = "bg_login 1 --sleep-after-open 5\nwait_for 10 systemctl -q is-active user@0.service\n\
                section stop\nsystemctl stop --no-block user-0.slice\nsleep 0.3\nlogin 2\n\
                wait\nwait_for 20 no_jobs\ndoctor\nsection next\nlogin 3\n";
    let r = run(
        world,
        &["--unit-dropin=user-runtime-dir@0.service:[Service]\\nExecStop=/bin/sleep 3"],
        body,
    );
    assert_healthy_login(&r, 0);
    let second = &r.logins[1];
    assert_eq!(second.open_rc, Some(refused_rc(world)), "{}", r.summary());
    let lines = second.naming_lines();
    assert_eq!(lines.len(), 1, "{}", r.summary());
    assert!(
        lines[0].contains("the login came while user root was being stopped"),
        "{}",
        r.summary()
    );
    // logind's journal words it per version: 252/257 the destructive transaction, 262 the
    // scope's start refused with EDEADLK.
    let refusal = if world.logind_varlink() {
        "Resource deadlock avoided"
    } else {
        "is destructive"
    };
    assert_doctor_problem(&r, 0, refusal);
    assert_healthy_login(&r, 2);
}

// ---------------------------------------------------------------------------------------------
// Neighbours: other causes the doctor names
// ---------------------------------------------------------------------------------------------

fn user_manager_failing_for_another_reason(world: World) {
    let r = run(
        world,
        &[DROPIN_USER0_FALSE],
        "login 1\nwait_for 10 systemctl -q is-failed user@0.service\ndoctor\n",
    );
    assert_healthy_login(&r, 0);
    assert_doctor_problem(
        &r,
        0,
        "user@0.service failed with 'exit-code', so root gets no user manager",
    );
    let (out, _) = r.doctor(0);
    assert!(out.contains("journalctl -b -u user@0.service"), "{out}");
}

fn sessions_max_reached(world: World) {
    let body = "bg_login 1 --no-close --sleep-after-open 8\nlogin 2\ndoctor\n";
    let r = run(world, &["--logind-conf=SessionsMax=1"], body);
    let l = &r.logins[1];
    assert_eq!(l.open_rc, Some(refused_rc(world)), "{}", r.summary());
    // D-Bus carries logind's text; Varlink only the error's name.
    let refusal = if world.logind_varlink() {
        "failed: io.systemd.Login.TooManySessions"
    } else {
        "Maximum number of sessions (1) reached"
    };
    assert!(l.log.iter().any(|x| x.contains(refusal)), "{}", r.summary());
    assert!(l.naming_lines().is_empty(), "{}", r.summary());
    assert_doctor_problem(&r, 0, "SessionsMax=1 reached");
}

fn logind_not_running(world: World) {
    // Stopped, and kept from being started again by bus activation.
    let body = "d=$(dirname \"$(systemctl show -P FragmentPath systemd-logind.service)\")\n\
                mkdir -p \"$d/systemd-logind.service.d\"\n\
                printf '[Unit]\\nConditionPathExists=/nonexistent\\n' > \"$d/systemd-logind.service.d/zz-off.conf\"\n\
                systemctl daemon-reload\nsystemctl stop systemd-logind.service\nlogin 1\ndoctor\n";
    let r = run(world, &[], body);
    let l = &r.logins[0];
    assert_ne!(l.open_rc, Some(0), "{}", r.summary());
    assert!(l.naming_lines().is_empty(), "{}", r.summary());
    assert_doctor_problem(&r, 0, "logind");
    let (out, _) = r.doctor(0);
    assert!(out.contains("nobody owns org.freedesktop.login1"), "{out}");
    // 262: PID 1 still holds logind's Varlink socket; asking it could start logind again.
    if world.logind_varlink() {
        assert!(
            out.lines()
                .any(|l| l
                    .starts_with("info    varlink     /run/systemd/io.systemd.Login not asked: logind does not run")),
            "{out}"
        );
    }
}

fn bus_socket_missing(world: World) {
    let r = run(world, &[], "rm -f /run/dbus/system_bus_socket\nlogin 1\ndoctor\n");
    assert_eq!(r.logins[0].open_rc, Some(3), "{}", r.summary());
    assert!(r.logins[0].naming_lines().is_empty(), "{}", r.summary());
    assert_doctor_problem(
        &r,
        0,
        "the system bus socket /run/dbus/system_bus_socket does not exist",
    );
}

fn module_missing_from_the_stack(world: World) {
    let body = "sed -i '/pam_systemd/d' /etc/pam.d/common-session\ndoctor\n";
    let r = run(world, &[], body);
    assert_doctor_problem(
        &r,
        0,
        "sshd: neither pam_systemd.so nor pam_systemd_rs.so is in the session stack",
    );
    assert_doctor_problem(&r, 0, "login: neither pam_systemd.so nor pam_systemd_rs.so");
}

// ---------------------------------------------------------------------------------------------
// Healthy
// ---------------------------------------------------------------------------------------------

fn healthy_system_and_lingering_user(world: World) {
    let body = "login 1\nlogin 2\ndoctor\ndoctor --json\nsection linger\nloginctl enable-linger root\nwait_for 10 lingers\nlogin 3\nlogin 4\ndoctor\n";
    let r = run(world, &[], body);
    for i in 0..4 {
        assert_healthy_login(&r, i);
    }
    let (out, rc) = r.doctor(0);
    assert_eq!(rc, 0, "{}", r.summary());
    assert!(!out.lines().any(|l| l.starts_with("problem")), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("ok      units       user@0.service: active")),
        "{out}"
    );
    // logind's Varlink socket, which the 262 module registers through first.
    let varlink = if world.logind_varlink() {
        "ok      varlink     logind answers on Varlink at /run/systemd/io.systemd.Login (systemd (systemd-logind) "
    } else {
        "info    varlink     no Varlink socket /run/systemd/io.systemd.Login (logind before systemd 258"
    };
    assert!(out.lines().any(|l| l.starts_with(varlink)), "{out}");
    let (json, rc) = r.doctor(1);
    assert_eq!(rc, 0, "{}", r.summary());
    assert!(
        json.starts_with("{\"user\":\"root\",\"uid\":0,\"status\":\"healthy\",\"exit\":0,"),
        "{json}"
    );
    let (out, rc) = r.doctor(2);
    assert_eq!(rc, 0, "{}", r.summary());
    assert!(out.contains("Linger=yes"), "{out}");
}

// ---------------------------------------------------------------------------------------------
// elogind
// ---------------------------------------------------------------------------------------------

/// The doctor's `logind.conf` lines: (level, text).
fn conf_lines(out: &str) -> Vec<(&str, &str)> {
    out.lines()
        .filter_map(|l| l.split_once(" logind.conf "))
        .map(|(level, text)| (level.trim(), text.trim()))
        .collect()
}

#[test]
fn elogind_has_no_user_units_to_warn_about() {
    // A live elogind (the testbed's): the seed's start-limit chain does not exist there (no
    // user-runtime-dir@, no user@), so no warning about UserStopDelaySec, whatever logind says.
    let script = format!("{} doctor root; echo doctor_rc=$?", doctor_bin().display());
    let o = Testbed::new("doctor-elogind")
        .logind(Logind::Elogind)
        .timeout(Duration::from_secs(60))
        .run_script(&script);
    let summary = format!("stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("doctor_rc=0"), "{summary}");
    assert!(o.stdout.contains("ok      logind      elogind runs"), "{summary}");
    let conf = conf_lines(&o.stdout);
    assert!(
        conf.iter()
            .any(|(l, t)| *l == "info" && t.starts_with("UserStopDelaySec= not checked: elogind starts no user units")),
        "{summary}"
    );
    assert!(!conf.iter().any(|(l, _)| *l == "warn"), "{summary}");
}

#[test]
fn elogind_root_read_offline() {
    // `--root` on a Debian 13 root with elogind (and no systemd-logind): elogind's files, no
    // stop-delay warning.
    let root = build_root("debian13-elogind");
    let mut doctor = Command::new(doctor_bin());
    doctor.arg("doctor").arg("--root").arg(&root).arg("root");
    let out = common::runner::run(doctor, Duration::from_secs(60));
    assert!(
        !out.timed_out,
        "doctor --root did not finish within 60 s\n{}",
        out.stdout
    );
    let stdout = out.stdout;
    let conf = conf_lines(&stdout);
    assert!(
        conf.iter()
            .any(|(l, t)| *l == "info" && t.starts_with("UserStopDelaySec= not checked")),
        "{stdout}"
    );
    assert!(!conf.iter().any(|(l, _)| *l == "warn"), "{stdout}");
}

/// Each scenario above as one test per world: `d12::NAME` (systemd 252), `d13::NAME` (257),
/// `d14::NAME` (262).
macro_rules! in_each_world {
    ($($name:ident),* $(,)?) => {
        mod d12 {
            $(#[test] fn $name() { super::$name(super::World::Debian12); })*
        }
        mod d13 {
            $(#[test] fn $name() { super::$name(super::World::Debian13); })*
        }
        mod d14 {
            $(#[test] fn $name() { super::$name(super::World::Debian14); })*
        }
    };
}

in_each_world!(
    seed_start_limit_hit_then_reset_failed,
    login_while_the_user_is_stopped,
    user_manager_failing_for_another_reason,
    sessions_max_reached,
    logind_not_running,
    bus_socket_missing,
    module_missing_from_the_stack,
    healthy_system_and_lingering_user
);
