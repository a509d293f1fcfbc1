//! Differential cases against REAL systemd as PID 1 (`testbed/testbed run --world W --logind
//! systemd`): the world's own systemd-logind, user@.service, user-runtime-dir@.service and session
//! scopes, with the world's own C module as the reference:
//!   `d12_*`  Debian 12: systemd 252, `/lib/x86_64-linux-gnu/security/pam_systemd.so` 252
//!   `d13_*`  Debian 13: systemd 257, Debian 13's pam_systemd.so 257 — only the cases where the
//!            252 and 257 rules agree (regular user on a pts, the ssh tty kludge, cron, a
//!            display, SessionBusy inside a session, an unknown user, no seats, release); the
//!            cases the 257 rules change belong to the 257 work (see the list in the lead's notes).
//!   `d14_*`  Debian 14: systemd 262, forky's pam_systemd.so 262 (over Varlink; ours over D-Bus
//!            until its Varlink path lands): pair cases with the recorded 262 gaps, and the seed
//!            (`d14_seed_start_limit`) with each module's own checks.
//!
//! Each case runs the C module and ours, each in a FRESH world (the two concurrently), and
//! compares: return codes, the PAM environment, the login1 calls seen on the bus (`busctl
//! --system monitor --json=short`: CreateSession* / ReleaseSession bodies and logind's answers;
//! on 252 our CreateSessionWithPIDFD attempt must be answered UnknownMethod and be followed by a
//! CreateSession identical to C's; on 257 logind serves it and the C module sends it too), and
//! what logind lists while the session is open and after the client has exited.
//!
//! `KEEP_CASE_STATE=1` keeps the testbeds' state dirs (`/tmp/pamsd-case-*`: journal.log,
//! logind.log, console.log, syslog.log).

mod common;

use common::*;
use std::collections::BTreeMap;

/// Shell eval'ed inside the testbed before the client, after the shared bus monitor
/// (`busmon::SETUP`): at the script's exit, a bounded wait until logind lists no session any
/// more, then the monitor's output. Both are appended to client.out as `sessions_after=` /
/// `busmon=` lines (the state dir is removed after the run).
const SETUP: &str = r#"
sd_end() {
  local i out id
  id=$(sed -n 's/^env=XDG_SESSION_ID=//p' "$S/client.out" 2>/dev/null | head -n 1)
  for i in $(seq 100); do
    out=$(busctl --system --json=short call org.freedesktop.login1 /org/freedesktop/login1 org.freedesktop.login1.Manager ListSessions 2>&1)
    case "$out" in *"[\"$id\","*) ;; *) break ;; esac
    sleep 0.05
  done
  echo "sessions_after=$out" >>"$S/client.out"
  case "$out" in *"[\"$id\","*) echo "client_session_gone=no" ;; *) echo "client_session_gone=yes" ;; esac >>"$S/client.out"
  if type varlinkmon_finish >/dev/null 2>&1; then varlinkmon_finish; fi
  busmon_finish
}
trap sd_end EXIT
"#;

// (logind lists the session while the client runs; afterwards only sessions not opened by the
// client may remain: on Debian 13 the user manager's own session, class manager.)

/// Run by the client after open (system(): a child of the session leader, so inside the session's
/// scope): what logind lists, the runtime dir, and the cgroup logind sees.
const AFTER_OPEN: &str = r#"echo "uid1=$TESTBED_UID1"; echo "sessions_open=$(busctl --system --json=short call org.freedesktop.login1 /org/freedesktop/login1 org.freedesktop.login1.Manager ListSessions 2>&1)"; echo "rundir=$(findmnt -n -o FSTYPE /run/user/$TESTBED_UID1) $(stat -c %U /run/user/$TESTBED_UID1 2>&1)"; echo "cgroup=$(sed -n 's/^0:://p' /proc/self/cgroup)""#;

/// A second, nested client run from inside the open session (same scope): logind 252 must answer
/// its CreateSession with SessionBusy.
fn nested_client() -> String {
    format!(
        "{} --confdir \"$TESTBED_STATE/pam.conf.d\" --service pamtest --user \"$TESTBED_USER1\" --item tty=pts/4 --no-close | sed 's/^/nested_/'",
        pamclient().display()
    )
}

fn lines<'a>(o: &'a Outcome, prefix: &str) -> Vec<&'a str> {
    o.stdout.lines().filter_map(|l| l.strip_prefix(prefix)).collect()
}

fn one(o: &Outcome, prefix: &str) -> String {
    lines(o, prefix).first().map(|s| s.to_string()).unwrap_or_default()
}

/// The session calls on the bus (from the shared monitor), an error reply given by its name
/// alone. Calls for the PAM service `systemd-user` are left out: they come from the world's own
/// user@.service stack (Debian 13's C module registers the user manager as a session), not from
/// the module under test.
fn login1_calls(o: &Outcome) -> Result<Vec<busmon::BusCall>, String> {
    let all = busmon::calls(o)?;
    let service = |c: &busmon::BusCall| c.data.get(2).and_then(Value::as_str) == Some("systemd-user");
    let manager_ids: Vec<String> = all
        .iter()
        .filter(|c| c.member.starts_with("CreateSession") && service(c))
        .filter_map(|c| c.reply.split('"').nth(1).map(str::to_string))
        .collect();
    Ok(all
        .into_iter()
        .filter(|c| {
            let member_ok = matches!(
                c.member.as_str(),
                "CreateSession" | "CreateSessionWithPIDFD" | "ReleaseSession"
            );
            let from_user_manager = service(c)
                || (c.member == "ReleaseSession"
                    && c.data
                        .first()
                        .and_then(Value::as_str)
                        .is_some_and(|id| manager_ids.iter().any(|m| m == id)));
            member_ok && !from_user_manager
        })
        .map(|mut c| {
            if let Some(n) = &c.error {
                c.reply = format!("error {n}");
            }
            c
        })
        .collect())
}

/// The calls in comparable form, after the shared PIDFD check (`pair::check_pidfd`: logind 252
/// refuses the call, 257 serves it). On 257 the C module, and everywhere ours, must try
/// CreateSessionWithPIDFD before any CreateSession.
fn comparable_calls(o: &Outcome, ours: bool, world: World) -> Result<Vec<String>, String> {
    let checked = pair::check_pidfd(&login1_calls(o)?, ours, world.systemd_version() >= 257);
    if let Some(p) = checked.problems.first() {
        return Err(p.clone());
    }
    let creates = checked.comparable.iter().any(|c| c.starts_with("CreateSession("));
    if world != World::Debian12 && !ours && creates {
        return Err(format!(
            "the C module {} sent CreateSession (257 sends only CreateSessionWithPIDFD to logind 257, 262 uses Varlink)",
            world.systemd_version()
        ));
    }
    if ours && checked.pidfd_attempts == 0 && creates {
        return Err("our module sent CreateSession without trying CreateSessionWithPIDFD first".into());
    }
    Ok(checked.comparable)
}

fn env_map(v: &[(String, String)]) -> BTreeMap<String, String> {
    v.iter().cloned().collect()
}

struct Pair {
    world: World,
    c: Outcome,
    rs: Outcome,
}

fn run_both(world: World, build: impl Fn(Case) -> Case) -> Pair {
    let (c, rs) = pair::run(|m| {
        let mut c = build(Case::new(m).world(world)).timeout(std::time::Duration::from_secs(90));
        c.setup.insert(0, format!("{}{SETUP}", busmon::SETUP));
        c
    });
    Pair { world, c, rs }
}

/// Common checks: both testbeds ran, same rcs, same env, same login1 calls (after the PIDFD
/// check), and logind has no session left after the client exited.
fn check_same(name: &str, p: &Pair) -> (Vec<String>, Vec<String>) {
    let mut problems = Vec::new();
    for (who, o) in [("C", &p.c), ("ours", &p.rs)] {
        if o.runner_rc != 0 || o.client_rc != Some(0) {
            problems.push(format!("{who}: testbed rc {} client rc {:?}", o.runner_rc, o.client_rc));
        }
        if one(o, "client_session_gone=") != "yes" {
            problems.push(format!(
                "{who}: logind still lists the client's session after it exited: {}",
                one(o, "sessions_after=")
            ));
        }
    }
    let cc = comparable_calls(&p.c, false, p.world).unwrap_or_else(|e| {
        problems.push(format!("C calls: {e}"));
        vec![]
    });
    let rc = comparable_calls(&p.rs, true, p.world).unwrap_or_else(|e| {
        problems.push(format!("our calls: {e}"));
        vec![]
    });
    if cc != rc {
        problems.push(format!("login1 calls differ:\n  C:    {cc:#?}\n  ours: {rc:#?}"));
    }
    let pairs = [
        ("open_rc", p.c.open_rc, p.rs.open_rc),
        ("open2_rc", p.c.open2_rc, p.rs.open2_rc),
        ("close_rc", p.c.close_rc, p.rs.close_rc),
        ("end_rc", p.c.end_rc, p.rs.end_rc),
    ];
    for (k, a, b) in pairs {
        if a != b {
            problems.push(format!("{k}: C {a:?}, ours {b:?}"));
        }
    }
    if env_map(&p.c.env) != env_map(&p.rs.env) {
        problems.push(format!("env after open: C {:?}, ours {:?}", p.c.env, p.rs.env));
    }
    if env_map(&p.c.env2) != env_map(&p.rs.env2) {
        problems.push(format!("env after second open: C {:?}, ours {:?}", p.c.env2, p.rs.env2));
    }
    // A user record's umask, niceLevel and resourceLimits, as the client reports them.
    let (cp, rp) = (p.c.comparable().process, p.rs.comparable().process);
    if cp != rp {
        problems.push(format!(
            "process settings differ (after open, second open, close):\n  C:    {cp:?}\n  ours: {rp:?}"
        ));
    }
    for (who, o) in [("C", &p.c), ("ours", &p.rs)] {
        if o.open_rc.is_some()
            && (o.process.umask.is_none() || o.process.nice.is_none() || o.process.rlimits.len() != 16)
        {
            problems.push(format!("{who}: the client reported no process state after open"));
        }
    }
    if !problems.is_empty() {
        panic!(
            "\n=== {name} ({}, real systemd {}) ===\n* {}\n--- C run ---\n{}--- our run ---\n{}",
            p.world.name(),
            p.world.systemd_version(),
            problems.join("\n* "),
            p.c.summary(),
            p.rs.summary()
        );
    }
    eprintln!("[{name}] identical (C {:?}, ours {:?})", p.c.elapsed, p.rs.elapsed);
    (cc, rc)
}

fn fail(name: &str, p: &Pair, what: String) -> ! {
    panic!(
        "\n=== {name} ({}, real systemd {}) ===\n* {what}\n--- C run ---\n{}--- our run ---\n{}",
        p.world.name(),
        p.world.systemd_version(),
        p.c.summary(),
        p.rs.summary()
    );
}

fn open_close_pts_rhost(world: World) {
    let name = "open_close_pts_rhost";
    let p = run_both(world, |c| {
        c.item("tty", "pts/3").item("rhost", "10.1.2.3").after_open(AFTER_OPEN)
    });
    let (calls, _) = check_same(name, &p);
    for (who, o) in [("C", &p.c), ("ours", &p.rs)] {
        let uid = one(o, "uid1=");
        let env = env_map(&o.env);
        let want = |k: &str, v: &str| env.get(k).map(String::as_str) == Some(v);
        if o.open_rc != Some(0)
            || env.get("XDG_SESSION_ID").is_none_or(|v| v.is_empty())
            || !want("XDG_RUNTIME_DIR", &format!("/run/user/{uid}"))
            || !want("XDG_SESSION_TYPE", "tty")
            || !want("XDG_SESSION_CLASS", "user")
        {
            fail(
                name,
                &p,
                format!("{who}: open_rc {:?} env {env:?} (uid {uid})", o.open_rc),
            );
        }
        let id = &env["XDG_SESSION_ID"];
        let open = one(o, "sessions_open=");
        if !open.contains(&format!("[\"{id}\",{uid},")) {
            fail(
                name,
                &p,
                format!("{who}: logind does not list session {id} while open: {open}"),
            );
        }
        let rundir = one(o, "rundir=");
        if rundir != "tmpfs pamtest1" {
            fail(
                name,
                &p,
                format!("{who}: /run/user/{uid} is not the user's tmpfs: {rundir:?}"),
            );
        }
        let cg = one(o, "cgroup=");
        if !cg.ends_with(&format!("/user.slice/user-{uid}.slice/session-{id}.scope")) {
            fail(
                name,
                &p,
                format!("{who}: session leader's child not in the session scope: {cg:?}"),
            );
        }
    }
    // The CreateSession body: [uid, 0, "pamtest", "tty", "user", "", "", 0, "pts/3", "", true, "", "10.1.2.3", []]
    // (on 257 CreateSessionWithPIDFD: a pidfd instead of the leader 0, and flags 0 before the limits)
    let create: Vec<&String> = calls.iter().filter(|c| c.starts_with("CreateSession")).collect();
    let tail = match world {
        World::Debian12 => r#","pamtest","tty","user","","",0,"pts/3","",true,"","10.1.2.3",[]]"#,
        // (262: our D-Bus request; forky's C module asks over Varlink, see d14_open_close_pts_rhost)
        World::Debian13 | World::Debian14 => r#","pamtest","tty","user","","",0,"pts/3","",true,"","10.1.2.3",0,[]]"#,
    };
    if create.len() != 1 || !create[0].contains(tail) || !create[0].contains("-> return soshusub") {
        fail(name, &p, format!("unexpected CreateSession: {create:?}"));
    }
}

fn session_busy_nested_open(world: World) {
    // A second client opened from inside the session (a child of the session leader, in the
    // session's scope), as su/sudo inside a login: logind answers SessionBusy; both modules
    // return 0 and set nothing.
    let name = "session_busy_nested_open";
    let p = run_both(world, |c| c.item("tty", "pts/3").after_open(&nested_client()));
    let (calls, _) = check_same(name, &p);
    for (who, o) in [("C", &p.c), ("ours", &p.rs)] {
        let nested_env: Vec<&str> = lines(o, "nested_env=");
        if one(o, "nested_open_rc=") != "0" || nested_env.iter().any(|l| l.starts_with("XDG_")) {
            fail(
                name,
                &p,
                format!(
                    "{who}: nested open rc {:?} env {nested_env:?}",
                    one(o, "nested_open_rc=")
                ),
            );
        }
    }
    let busy = calls
        .iter()
        .filter(|c| c.starts_with("CreateSession") && c.ends_with("-> error org.freedesktop.login1.SessionBusy"))
        .count();
    if busy != 1 {
        fail(name, &p, format!("expected one SessionBusy answer: {calls:#?}"));
    }
}

fn open_twice_same_handle_session_busy(world: World) {
    // A second pam_open_session on the same handle, same process.
    let name = "open_twice_same_handle";
    let p = run_both(world, |c| c.item("tty", "pts/3").flag("--open-twice"));
    // logind 252 answers the second CreateSession with SessionBusy (the caller is in the
    // session's scope now): both modules return 0 and set nothing new.
    let (calls, _) = check_same(name, &p);
    for (who, o) in [("C", &p.c), ("ours", &p.rs)] {
        if o.open_rc != Some(0) || o.open2_rc != Some(0) || env_map(&o.env2) != env_map(&o.env) {
            fail(
                name,
                &p,
                format!(
                    "{who}: open {:?} open2 {:?} env {:?} env2 {:?}",
                    o.open_rc, o.open2_rc, o.env, o.env2
                ),
            );
        }
    }
    let creates: Vec<&String> = calls.iter().filter(|c| c.starts_with("CreateSession")).collect();
    if creates.len() != 2 || !creates[1].ends_with("-> error org.freedesktop.login1.SessionBusy") {
        fail(
            name,
            &p,
            format!("expected a second CreateSession answered SessionBusy: {calls:#?}"),
        );
    }
}

fn invalid_class(world: World) {
    let name = "invalid_class";
    let p = run_both(world, |c| c.args(&["debug", "class=bogus"]).item("tty", "pts/3"));
    // logind 252 rejects the class: InvalidArgs; both modules return PAM_SESSION_ERR (14).
    let (calls, _) = check_same(name, &p);
    if p.c.open_rc != Some(14) {
        fail(name, &p, format!("open rc {:?}, want 14", p.c.open_rc));
    }
    if calls.len() != 1
        || !calls[0].contains(r#","bogus","#)
        || !calls[0].ends_with("-> error org.freedesktop.DBus.Error.InvalidArgs")
    {
        fail(
            name,
            &p,
            format!("expected one CreateSession with class bogus answered InvalidArgs: {calls:#?}"),
        );
    }
}

/// A case where logind accepts the session: both open and close succeed, the PAM env matches,
/// and the one CreateSession* carries `class`/`type` and the tty as sent.
fn accepted(name: &str, world: World, build: fn(Case) -> Case, want: (&str, &str, &str)) {
    let p = run_both(world, build);
    let (calls, _) = check_same(name, &p);
    let (ty, class, tty) = want;
    for (who, o) in [("C", &p.c), ("ours", &p.rs)] {
        let env = env_map(&o.env);
        if o.open_rc != Some(0)
            || o.close_rc != Some(0)
            || env.get("XDG_SESSION_TYPE").map(String::as_str) != Some(ty)
            || env.get("XDG_SESSION_CLASS").map(String::as_str) != Some(class)
        {
            fail(
                name,
                &p,
                format!("{who}: open {:?} close {:?} env {env:?}", o.open_rc, o.close_rc),
            );
        }
    }
    let body = format!(r#""{ty}","{class}","#);
    let creates: Vec<&String> = calls.iter().filter(|c| c.starts_with("CreateSession")).collect();
    if creates.len() != 1
        || !creates[0].contains(&body)
        || !creates[0].contains(&format!(r#","{tty}","#))
        || !creates[0].contains("-> return soshusub")
        || !calls.iter().any(|c| c.starts_with("ReleaseSession("))
    {
        fail(name, &p, format!("unexpected calls: {calls:#?}"));
    }
}

fn ssh_tty_kludge(world: World) {
    // OpenSSH's PAM_TTY "ssh": type tty, class user, whatever the PAM env says.
    accepted(
        "ssh_tty_kludge",
        world,
        |c| {
            c.item("tty", "ssh")
                .item("rhost", "192.0.2.7")
                .penv("XDG_SESSION_CLASS", "greeter")
        },
        ("tty", "user", ""),
    );
}

fn cron_tty(world: World) {
    accepted(
        "cron_tty",
        world,
        |c| c.item("tty", "cron"),
        ("unspecified", "background", ""),
    );
}

fn display_tty(world: World) {
    // A tty item with a colon is an X display: type x11, no tty.
    accepted("display_tty", world, |c| c.item("tty", ":0"), ("x11", "user", ""));
}

// ---------------------------------------------------------------------------------------------
// The 257 rules, on Debian 13 only: our module against Debian 13's own C module, real logind 257
// ---------------------------------------------------------------------------------------------

/// Run by the client after open: the client's (the session leader's) capability sets.
const CAPS_AFTER_OPEN: &str = r#"sed -n 's/^\(CapInh\|CapAmb\|CapBnd\):\t/caps_\1=/p' /proc/$PPID/status"#;

/// The module's log lines from the client (not from the world's own user@.service stack),
/// comparable: the client PID and the session fd number normalised, our `logind generation …`
/// line (ours only, README) left out.
fn log_view(o: &Outcome) -> Vec<(u32, String)> {
    let pid = o.pid.map(|p| p.to_string()).unwrap_or_default();
    o.syslog
        .iter()
        .filter(|l| l.is_module() && l.ident.starts_with("pamclient"))
        .map(|l| (l.severity(), l.text.clone()))
        .filter(|(sev, t)| !(*sev == 7 && t.starts_with("logind generation ")))
        .map(|(sev, t)| {
            let mut t = t.replace(&format!("pid={pid} "), "pid=<pid> ");
            t = t.replace(
                &format!("system-bus-pam-systemd-{pid})"),
                "system-bus-pam-systemd-<pid>)",
            );
            if let Some(i) = t.find("session_fd=") {
                let end = t[i..].find(' ').map_or(t.len(), |e| i + e);
                t.replace_range(i..end, "session_fd=<fd>");
            }
            (sev, t)
        })
        .collect()
}

/// C's line, or ours with details appended (` (…)`) to the C text of an error line.
fn same_line(c: &(u32, String), r: &(u32, String)) -> bool {
    let detailed = [
        "Failed to create session: ",
        "Failed to release session: ",
        "Failed to connect to system bus: ",
        // Our Varlink lines: C 262's text, then socket, error and elapsed time.
        "Varlink call io.systemd.Login.",
        "Failed to issue io.systemd.Login.",
        "Failed to connect to logind via Varlink, falling back to D-Bus: ",
    ];
    c.0 == r.0
        && (c.1 == r.1
            || (detailed.iter().any(|d| c.1.starts_with(d))
                && r.1.starts_with(&c.1)
                && r.1[c.1.len()..].starts_with(" (")))
}

/// A 257 case: everything `check_same` compares, plus the module's log lines, the client's
/// capability sets after open and the PAM data the helper dumps (session fd set or not,
/// `systemd.existing`); then `want` on the C run (what Debian 13's module is known to do).
fn same_257(name: &str, build: fn(Case) -> Case, want: impl Fn(&Outcome) -> Result<(), String>) {
    let p = run_both(World::Debian13, build);
    check_same(name, &p);
    let mut problems = Vec::new();
    let (cl, rl) = (log_view(&p.c), log_view(&p.rs));
    if cl.len() != rl.len() || !cl.iter().zip(&rl).all(|(c, r)| same_line(c, r)) {
        problems.push(format!("log lines differ:\n  C:    {cl:#?}\n  ours: {rl:#?}"));
    }
    let (cc, rc) = (lines(&p.c, "caps_"), lines(&p.rs, "caps_"));
    if cc != rc || cc.len() != 3 {
        problems.push(format!("capabilities after open differ: C {cc:?}, ours {rc:?}"));
    }
    let data = |o: &Outcome| -> Vec<(Option<bool>, Option<String>)> {
        o.dumps
            .iter()
            .map(|d| (d.get("session_fd").map(|v| v != "unset"), d.get("existing").cloned()))
            .collect()
    };
    if data(&p.c) != data(&p.rs) {
        problems.push(format!("PAM data differ: C {:?}, ours {:?}", data(&p.c), data(&p.rs)));
    }
    if let Err(e) = want(&p.c) {
        problems.push(format!("Debian 13's module: {e}"));
    }
    if !problems.is_empty() {
        fail(name, &p, problems.join("\n* "));
    }
}

/// The class (and type) the login was registered with, from the PAM env.
fn class_is(class: &'static str) -> impl Fn(&Outcome) -> Result<(), String> {
    move |o: &Outcome| match (o.open_rc, o.env_get("XDG_SESSION_CLASS")) {
        (Some(0), Some(c)) if c == class => Ok(()),
        (rc, c) => Err(format!("open {rc:?}, class {c:?}, want 0 and {class}")),
    }
}

fn root257(c: Case) -> Case {
    c.user(User::Name("root".into())).after_open(CAPS_AFTER_OPEN)
}

fn user257(c: Case) -> Case {
    c.after_open(CAPS_AFTER_OPEN)
}

fn nothing_sent(name: &str, world: World, build: fn(Case) -> Case, want_rc: i32) {
    let p = run_both(world, build);
    let (calls, _) = check_same(name, &p);
    if p.c.open_rc != Some(want_rc) || !calls.is_empty() {
        fail(
            name,
            &p,
            format!("want open rc {want_rc} and no login1 call: {calls:#?}"),
        );
    }
}

fn unknown_user(world: World) {
    nothing_sent(
        "unknown_user",
        world,
        |c| c.user(User::Name("nosuchuser".into())).item("tty", "pts/1"),
        PAM_USER_UNKNOWN,
    );
}

fn no_seats(world: World) {
    // The gate: without /run/systemd/seats/ the modules do nothing, even with logind running.
    nothing_sent("no_seats", world, |c| c.no_seats().item("tty", "pts/1"), PAM_SUCCESS);
}

/// The field report's failure (seed), deterministic recipe: user@0 fails to start (ExecStart=
/// /bin/false), root logs in with tty=ssh once a second. On 252 the failed user@0 keeps
/// user-runtime-dir@0 loaded, its start counter survives, and the 6th login hits its start
/// limit: the session is created, but /run/user/0 does not exist, so neither module sets
/// XDG_RUNTIME_DIR. On 257 the same recipe trips user@0's own limit instead and /run/user/0
/// stays. Both modules must behave identically in both worlds.
fn seed_start_limit(world: World) {
    let name = "seed_start_limit";
    let p = run_both(world, |c| {
        c.user(User::Name("root".into()))
            .item("tty", "ssh")
            .testbed_opts(&[
                "--unit-dropin",
                "user@0.service:[Service]\\nExecStart=\\nExecStart=/bin/false",
            ])
            .setup(&format!(
                "for i in 1 2 3 4 5; do {} --confdir \"$S/pam.conf.d\" --service pamtest --user root --item tty=ssh >/dev/null 2>&1; sleep 1; done; sleep 1",
                pamclient().display()
            ))
            .after_open("echo \"limit=$(systemctl show -p Result --value user-runtime-dir@0.service)\"; echo \"rundir=$(test -d /run/user/0 && echo yes || echo no)\"")
    });
    check_same(name, &p);
    for (who, o) in [("C", &p.c), ("ours", &p.rs)] {
        let env = env_map(&o.env);
        let limit = one(o, "limit=");
        let rundir = one(o, "rundir=");
        let ok = match world {
            World::Debian12 => {
                o.open_rc == Some(0)
                    && env.contains_key("XDG_SESSION_ID")
                    && !env.contains_key("XDG_RUNTIME_DIR")
                    && limit == "start-limit-hit"
                    && rundir == "no"
            }
            World::Debian13 => {
                o.open_rc == Some(0) && env.get("XDG_RUNTIME_DIR").map(String::as_str) == Some("/run/user/0")
            }
            World::Debian14 => unreachable!(
                "the d14 seed case is d14_seed_start_limit (its own checks: C and ours use different transports on 262)"
            ),
        };
        if !ok {
            fail(
                name,
                &p,
                format!(
                    "{who}: open {:?} env {env:?} user-runtime-dir@0 result {limit:?} /run/user/0 {rundir}",
                    o.open_rc
                ),
            );
        }
    }
}

/// The seed on 262 (docs/behaviour-262.md, "The seed on 262"): the deterministic recipe plus
/// `UserStopDelaySec=0`, so that user-runtime-dir@0 restarts at every login; the 6th root login
/// (tty=ssh, one a second) FAILS, as on 257. Forky's C module registers over Varlink, gets
/// `io.systemd.Login.UnitAllocationFailed`, logs only that and returns PAM_SERVICE_ERR. Ours
/// logs its transport's error (D-Bus: `Failed to create session: …`, PAM_SESSION_ERR; Varlink:
/// C's line and code) and, as the one extra line, the unit at fault and the fix.
#[test]
fn d14_seed_start_limit() {
    let name = "d14_seed_start_limit";
    let p = run_both(World::Debian14, |c| {
        c.user(User::Name("root".into()))
            .item("tty", "ssh")
            .testbed_opts(&[
                "--logind-conf",
                "UserStopDelaySec=0",
                "--unit-dropin",
                "user@0.service:[Service]\\nExecStart=\\nExecStart=/bin/false",
            ])
            .setup(&format!(
                "for i in 1 2 3 4 5; do {} --confdir \"$S/pam.conf.d\" --service pamtest --user root --item tty=ssh >/dev/null 2>&1; sleep 1; done\n\
                 trap 'echo \"limit=$(systemctl show -p Result --value user-runtime-dir@0.service)\" >>\"$S/client.out\"; sd_end' EXIT",
                pamclient().display()
            ))
    });
    const C_LINE: &str = "Varlink call io.systemd.Login.CreateSession failed: io.systemd.Login.UnitAllocationFailed";
    // The race 257 has too: a login that meets the user's slice being stopped gets EDEADLK
    // (io.systemd.System) instead of the failed job.
    const C_LINE_STOPPING: &str = "Varlink call io.systemd.Login.CreateSession failed: io.systemd.System";
    // Lines of the tested login only (the setup's logins succeed; user@0's own PAM stack logs as
    // service systemd-user, never with these texts).
    let errors = |o: &Outcome| -> Vec<String> {
        o.module_log()
            .into_iter()
            .filter(|(sev, t)| *sev <= 4 && !t.contains("ReleaseSession"))
            .map(|(sev, t)| format!("<{sev}> {t}"))
            .collect()
    };
    let naming = "user-runtime-dir@0.service failed with 'start-limit-hit' (more than 5 starts within 10s: logins of root came and went faster than that), so root gets no /run/user/0 and no user manager; `systemctl reset-failed user-runtime-dir@0.service user@0.service` clears it now";
    for (who, o) in [("C", &p.c), ("ours", &p.rs)] {
        if one(o, "limit=") != "start-limit-hit" || o.env_get("XDG_SESSION_ID").is_some() {
            fail(
                name,
                &p,
                format!(
                    "{who}: user-runtime-dir@0 result {:?}, env {:?}",
                    one(o, "limit="),
                    o.env
                ),
            );
        }
    }
    // C: exactly its one Varlink line (the failed job, or the slice being stopped),
    // PAM_SERVICE_ERR.
    let c = errors(&p.c);
    if p.c.open_rc != Some(3) || (c != [format!("<3> {C_LINE}")] && c != [format!("<3> {C_LINE_STOPPING}")]) {
        fail(name, &p, format!("C 262: open {:?}, lines {c:#?}", p.c.open_rc));
    }
    // Ours: the line naming the cause, then the transport's error line.
    let ours = errors(&p.rs);
    let over_varlink = ours
        .iter()
        .any(|l| l.starts_with(&format!("<3> {C_LINE}")) || l.starts_with(&format!("<3> {C_LINE_STOPPING}")));
    let want_rc = if over_varlink { 3 } else { 14 };
    let error_ok = ours.iter().any(|l| {
        l.starts_with("<3> Failed to create session: Job ") && l.contains("failed with 'dependency'")
            || l.starts_with("<3> Failed to create session: Transaction for session-")
            || over_varlink
    });
    let named = ours.iter().filter(|l| l.starts_with("<4> ")).collect::<Vec<_>>();
    let destructive = ours
        .iter()
        .any(|l| l.contains("is destructive") || l.contains("io.systemd.System"));
    let named_ok = named.len() == 1
        && (named[0].contains(naming) || (destructive && named[0].contains("while user root was being stopped")));
    if p.rs.open_rc != Some(want_rc) || ours.len() != 2 || !error_ok || !named_ok {
        fail(name, &p, format!("ours: open {:?}, lines {ours:#?}", p.rs.open_rc));
    }
    eprintln!(
        "[{name}] C: {C_LINE} (3); ours: {} ({want_rc}) after the naming line",
        if over_varlink { "Varlink" } else { "D-Bus" }
    );
}

macro_rules! in_worlds {
    ($($name:ident => $f:ident($w:ident);)*) => {
        $(
            #[test]
            fn $name() {
                $f(World::$w);
            }
        )*
    };
}

in_worlds! {
    d12_open_close_pts_rhost => open_close_pts_rhost(Debian12);
    d12_session_busy_nested_open => session_busy_nested_open(Debian12);
    d12_open_twice_same_handle_session_busy => open_twice_same_handle_session_busy(Debian12);
    d12_invalid_class => invalid_class(Debian12);
    d12_ssh_tty_kludge => ssh_tty_kludge(Debian12);
    d12_cron_tty => cron_tty(Debian12);
    d12_display_tty => display_tty(Debian12);
    d12_unknown_user => unknown_user(Debian12);
    d12_no_seats => no_seats(Debian12);
    d12_seed_start_limit => seed_start_limit(Debian12);
    d13_open_close_pts_rhost => open_close_pts_rhost(Debian13);
    d13_session_busy_nested_open => session_busy_nested_open(Debian13);
    d13_open_twice_same_handle_session_busy => open_twice_same_handle_session_busy(Debian13);
    d13_invalid_class => invalid_class(Debian13);
    d13_ssh_tty_kludge => ssh_tty_kludge(Debian13);
    d13_cron_tty => cron_tty(Debian13);
    d13_display_tty => display_tty(Debian13);
    d13_unknown_user => unknown_user(Debian13);
    d13_no_seats => no_seats(Debian13);
    d13_seed_start_limit => seed_start_limit(Debian13);
}

/// The 257 cases: `name => build, want;` — each a [`same_257`] pair on Debian 13.
macro_rules! rules_257 {
    ($($name:ident => $build:expr, $want:expr;)*) => {
        $(
            #[test]
            fn $name() {
                same_257(stringify!($name), $build, $want);
            }
        )*
    };
}

rules_257! {
    d13_root_pts_is_user_early => |c| root257(c).item("tty", "pts/0"), class_is("user-early");
    d13_root_dev_pts_login => |c| root257(c).service("login").item("tty", "/dev/pts/2"), class_is("user-early");
    d13_system_user_pts => |c| user257(c).user(User::Name("daemon".into())).item("tty", "pts/1"), class_is("user-early");
    d13_nobody_pts => |c| user257(c).user(User::Name("nobody".into())).item("tty", "pts/1"), class_is("user-early");
    d13_root_ssh_is_user => |c| root257(c).item("tty", "ssh").item("rhost", "192.0.2.7"), class_is("user");
    d13_root_ssh_class_env_ignored => |c| root257(c).item("tty", "ssh").penv("XDG_SESSION_CLASS", "background-light"), class_is("user");
    d13_root_cron_is_background => |c| root257(c).item("tty", "cron"), class_is("background");
    d13_root_no_tty_is_background => root257, class_is("background");
    d13_systemd_user_root => |c| root257(c).service("systemd-user"), class_is("manager-early");
    d13_systemd_user_regular => |c| user257(c).service("systemd-user").item("tty", "tty3").penv("XDG_SESSION_CLASS", "user"), class_is("manager");
    d13_incomplete_pam_env => |c| user257(c).item("tty", "pts/1").penv("XDG_SESSION_INCOMPLETE", "1"), class_is("user-incomplete");
    d13_incomplete_process_env => |c| user257(c).item("tty", "pts/1").env("XDG_SESSION_INCOMPLETE", "yes"), class_is("user-incomplete");
    d13_incomplete_not_boolean => |c| user257(c).item("tty", "pts/1").penv("XDG_SESSION_INCOMPLETE", "maybe"), class_is("user");
    d13_incomplete_root_early => |c| root257(c).item("tty", "pts/1").penv("XDG_SESSION_INCOMPLETE", "1"), class_is("user-early");
    d13_class_env_background_light => |c| user257(c).item("tty", "pts/1").penv("XDG_SESSION_CLASS", "background-light"), class_is("background-light");
    d13_class_arg_user_early => |c| user257(c).item("tty", "pts/1").args(&["debug", "class=user-early"]), class_is("user-early");
    d13_credentials => |c| user257(c).item("tty", "pts/1")
        .setup("mkdir -p {STATE}/creds && printf '[dev] ' >{STATE}/creds/shell.prompt.prefix && printf ' $' >{STATE}/creds/shell.prompt.suffix && printf 'hello\\n' >{STATE}/creds/shell.welcome")
        .env("CREDENTIALS_DIRECTORY", "{STATE}/creds"), class_is("user");
    d13_capability_arguments => |c| root257(c).item("tty", "pts/1")
        .args(&["debug", "default-capability-ambient-set=cap_kill,cap_chown,cap_nope", "default-capability-bounding-set=~cap_sys_module,cap_sys_rawio"]), class_is("user-early");
    d13_regular_user_on_seat0 => |c| user257(c).item("tty", "tty4").penv("XDG_SEAT", "seat0").penv("XDG_VTNR", "4"), |_| Ok(());
    // The record's settings (a cached record, as pam_systemd_home leaves it): 257 overwrites
    // what is set and joins several languages into LANGUAGE; without logind too (the gate).
    d13_record_settings => |c| record_settings_257(c).item("tty", "pts/1"), env_has(&[("FOO", "bar"), ("EDITOR", "vi"), ("EMAIL", "u@example.org"), ("TZ", ":Europe/Berlin"), ("LANG", "C.UTF-8"), ("LANGUAGE", "C.UTF-8:POSIX")]);
    d13_unknown_argument_words => |c| user257(c).item("tty", "pts/1").args(&["bogus", "debug=maybe"]), class_is("user");
    d13_record_capability_sets => |c| root257(c).item("tty", "pts/1").pam_data("systemd-user-record-root", r#"{"userName":"root","uid":0,"capabilityAmbientSet":["cap_kill","cap_chown","cap_nope"],"capabilityBoundingSet":["cap_kill","cap_setpcap","21"]}"#), class_is("user-early");
    d13_record_settings_no_logind => |c| record_settings_257(c).no_seats().item("tty", "pts/1"), env_has(&[("FOO", "bar"), ("LANGUAGE", "C.UTF-8:POSIX")]);
    // The record's process settings: umask, nice, limits through setrlimit_closest (CPU cur > max:
    // EINVAL, logged and ignored).
    d13_record_process => |c| user257(c).item("tty", "pts/1").args(&["debug"]).pam_data("systemd-user-record-{USER1}", r#"{"userName":"{USER1}","uid":{UID1},"umask":63,"niceLevel":2,"resourceLimits":{"RLIMIT_CORE":{"cur":0,"max":0},"RLIMIT_CPU":{"cur":5,"max":2},"RLIMIT_NOFILE":{"cur":512,"max":1024}}}"#), process_is("0077", "CORE", "0:0");
    // C tests `nice(level) < 0`: a level that lands below 0 is set and still logged as a failure
    // (ERR, with whatever errno an earlier call left behind).
    d13_record_nice_negative => |c| user257(c).item("tty", "pts/1").args(&["debug"]).pam_data("systemd-user-record-{USER1}", r#"{"userName":"{USER1}","uid":{UID1},"niceLevel":-3}"#), nice_is_and_logged_failed("-3");
}

/// The nice level after open, and the nice failure line at ERR.
fn nice_is_and_logged_failed(level: &'static str) -> impl Fn(&Outcome) -> Result<(), String> {
    move |o: &Outcome| {
        let line = format!("Failed to set nice level to {level}, ignoring: ");
        if o.open_rc == Some(0) && o.process.nice.as_deref() == Some(level) && o.logged_containing(3, &line) {
            Ok(())
        } else {
            Err(format!(
                "open {:?}, nice {:?}, want 0, {level} and an ERR line {line:?}",
                o.open_rc, o.process.nice
            ))
        }
    }
}

/// The umask and one limit after open (and a successful open).
fn process_is(
    umask: &'static str,
    limit: &'static str,
    value: &'static str,
) -> impl Fn(&Outcome) -> Result<(), String> {
    move |o: &Outcome| {
        let got = (o.open_rc, o.process.umask.as_deref(), o.process.rlimit(limit));
        if got == (Some(0), Some(umask), Some(value)) {
            Ok(())
        } else {
            Err(format!("open, umask, {limit}: {got:?}, want 0, {umask}, {value}"))
        }
    }
}

fn record_settings_257(c: Case) -> Case {
    user257(c)
        .pam_data(
            "systemd-user-record-{USER1}",
            r#"{"userName":"{USER1}","uid":{UID1},"environment":["FOO=bar","EDITOR=vi"],"emailAddress":"u@example.org","timeZone":"Europe/Berlin","preferredLanguage":"C.UTF-8","additionalLanguages":["POSIX","C.UTF-8"]}"#,
        )
        .penv("FOO", "preset")
        .penv("LANG", "C")
        .args(&["debug"])
}

/// These PAM env values after open (and a successful open).
fn env_has(want: &'static [(&'static str, &'static str)]) -> impl Fn(&Outcome) -> Result<(), String> {
    move |o: &Outcome| {
        let got: Vec<(&str, Option<&str>)> = want.iter().map(|(k, _)| (*k, o.env_get(k))).collect();
        let expected: Vec<(&str, Option<&str>)> = want.iter().map(|(k, v)| (*k, Some(*v))).collect();
        if o.open_rc == Some(0) && got == expected {
            Ok(())
        } else {
            Err(format!("open {:?}, env {got:?}, want {expected:?}", o.open_rc))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Debian 14 (systemd 262): forky's C module registers over Varlink (io.systemd.Login)
// ---------------------------------------------------------------------------------------------

/// The Varlink requests logind got from the client (not from the world's user manager stack),
/// with logind's answers, comparable: the client's pid, the pidfd's inode and the boot id
/// normalised, connections numbered in order of appearance (`#1`). logind names a connection
/// after its fd (`varlink-16-16`) and reuses a closed one's number for the next, so a name seen
/// again after its call was answered is taken for a new connection (both modules make one call
/// per connection); otherwise whether the release's connection got the create's old fd depends
/// on whether logind had handled another fd's closing (the inhibitor's FIFO) first.
fn varlink_view(o: &Outcome) -> Result<Vec<String>, String> {
    let calls = varlinkmon::without_user_manager(varlinkmon::calls(o)?);
    // (logind's name, whether its last call was answered), one per connection, in order.
    let mut conns: Vec<(String, bool)> = Vec::new();
    Ok(calls
        .into_iter()
        .map(|c| {
            let open = conns
                .iter()
                .rposition(|(name, answered)| *name == c.connection && !answered);
            let i = open.unwrap_or_else(|| {
                conns.push((c.connection.clone(), false));
                conns.len() - 1
            });
            conns[i].1 = c.reply.is_some();
            let n = i + 1;
            let mut p = c.parameters.clone();
            if let Some(pid) = p.get_mut("PID").and_then(Value::as_object_mut) {
                if pid.get("pid").and_then(Value::as_i64) == o.pid {
                    pid.insert("pid".into(), "<pid>".into());
                }
                for (k, v) in [("pidfdId", "<pidfd-inode>"), ("bootId", "<boot-id>")] {
                    if pid.contains_key(k) {
                        pid.insert(k.into(), v.into());
                    }
                }
            }
            let reply = c.reply.map_or("(no reply)".to_string(), |r| r.to_string());
            format!("#{n} {} {p} -> {reply}", c.method)
        })
        .collect())
}

/// Every difference between the C run and ours of a `d14_` pair, one line each (empty: identical):
/// return codes, PAM env, the requests to logind on each transport, what logind listed while the
/// session was open, the module's log lines, the PAM data.
fn differences_262(p: &Pair) -> Vec<String> {
    let mut d = Vec::new();
    for (k, a, b) in [
        ("open_rc", p.c.open_rc, p.rs.open_rc),
        ("open2_rc", p.c.open2_rc, p.rs.open2_rc),
        ("close_rc", p.c.close_rc, p.rs.close_rc),
        ("end_rc", p.c.end_rc, p.rs.end_rc),
    ] {
        if a != b {
            d.push(format!("{k}: C {a:?}, ours {b:?}"));
        }
    }
    let (ce, re) = (env_map(&p.c.env), env_map(&p.rs.env));
    for k in ce.keys().chain(re.keys().filter(|k| !ce.contains_key(*k))) {
        if ce.get(k) != re.get(k) {
            d.push(format!("env {k}: C {:?}, ours {:?}", ce.get(k), re.get(k)));
        }
    }
    let transport = |o: &Outcome, ours: bool| -> (Vec<String>, Vec<String>) {
        let v = varlink_view(o).unwrap_or_else(|e| vec![format!("(no record: {e})")]);
        let b = comparable_calls(o, ours, p.world).unwrap_or_else(|e| vec![format!("(no record: {e})")]);
        let members = b
            .iter()
            .map(|c| c.split('(').next().unwrap_or_default().to_string())
            .collect();
        (
            v.iter()
                .map(|c| c.split(' ').take(2).collect::<Vec<_>>().join(" "))
                .collect(),
            members,
        )
    };
    let (c_t, r_t) = (transport(&p.c, false), transport(&p.rs, true));
    if c_t != r_t {
        d.push(format!(
            "requests to logind: C Varlink {:?} D-Bus {:?}; ours Varlink {:?} D-Bus {:?}",
            c_t.0, c_t.1, r_t.0, r_t.1
        ));
    }
    // logind's ListSessions while open, in a fixed order (logind lists in hash order).
    let listed = |o: &Outcome| -> Vec<String> {
        let v: Value = serde_json::from_str(&one(o, "sessions_open=")).unwrap_or(Value::Null);
        let mut l: Vec<String> = v
            .pointer("/data/0")
            .and_then(Value::as_array)
            .map_or(vec![], |a| a.iter().map(Value::to_string).collect());
        l.sort();
        l
    };
    if listed(&p.c) != listed(&p.rs) {
        d.push(format!(
            "sessions listed while open: C {:?}, ours {:?}",
            listed(&p.c),
            listed(&p.rs)
        ));
    }
    if inhibitors(&p.c) != inhibitors(&p.rs) {
        d.push(format!(
            "inhibitors listed while open: C {:?}, ours {:?}",
            inhibitors(&p.c),
            inhibitors(&p.rs)
        ));
    }
    if lines(&p.c, "caps_") != lines(&p.rs, "caps_") {
        d.push(format!(
            "capabilities after open: C {:?}, ours {:?}",
            lines(&p.c, "caps_"),
            lines(&p.rs, "caps_")
        ));
    }
    for k in ["rundir=", "cgroup="] {
        if one(&p.c, k) != one(&p.rs, k) {
            d.push(format!("{k} C {:?}, ours {:?}", one(&p.c, k), one(&p.rs, k)));
        }
    }
    // The module's log lines: C's in order, each either matched by ours (same_line) or missing.
    let (cl, rl) = (log_view(&p.c), log_view(&p.rs));
    let mut unmatched: Vec<&(u32, String)> = rl.iter().collect();
    for c in &cl {
        match unmatched.iter().position(|r| same_line(c, r)) {
            Some(i) => {
                unmatched.remove(i);
            }
            None => d.push(format!("log: C only <{}> {}", c.0, c.1)),
        }
    }
    for r in unmatched {
        d.push(format!("log: ours only <{}> {}", r.0, r.1));
    }
    let data = |o: &Outcome| -> Vec<(Option<bool>, Option<String>)> {
        o.dumps
            .iter()
            .map(|x| (x.get("session_fd").map(|v| v != "unset"), x.get("existing").cloned()))
            .collect()
    };
    if data(&p.c) != data(&p.rs) {
        d.push(format!("PAM data: C {:?}, ours {:?}", data(&p.c), data(&p.rs)));
    }
    d
}

/// What forky's C module 262 asks logind over Varlink for a regular user on a pts with a remote
/// host, and how logind answers (recorded from logind's debug log; nothing goes over D-Bus).
const C262_OPEN_CLOSE_PTS_RHOST: &[&str] = &[
    r#"#1 io.systemd.Login.CreateSession {"Class":"user","PID":{"bootId":"<boot-id>","pid":"<pid>","pidfdId":"<pidfd-inode>"},"Remote":true,"RemoteHost":"10.1.2.3","Service":"pamtest","TTY":"pts/3","Type":"tty","UID":{UID}} -> {"parameters":{"Class":"user","Id":"{ID}","RuntimePath":"/run/user/{UID}","Type":"tty","UID":{UID}}}"#,
    r#"#2 io.systemd.Login.ReleaseSession {"Id":"{ID}"} -> {}"#,
];

/// Where our module differs from forky's C module in a terminal login (`d14_open_close_pts_rhost`, `d14_root_pts_is_user_early`): the input for
/// the 262 rules. Each line is one difference as `differences_262` words it (`{HOME}` the login
/// user's home, `{CLASS}` the session class, `{UID}`, `{ID}`); when our module gains a rule, its
/// line disappears from the comparison and must be removed here (the test fails until then).
const GAPS_262_TTY_LOGIN: &[&str] = &[];

/// Run by the client after open, for any login user (`{USER}`): the user's uid and home, what logind
/// lists, the runtime dir, the cgroup logind sees, the session leader's capability sets.
const AFTER_OPEN_262: &str = r#"u=$(id -u {USER}); echo "login_uid=$u"; echo "login_home=$(getent passwd {USER} | cut -d: -f6)"; echo "sessions_open=$(busctl --system --json=short call org.freedesktop.login1 /org/freedesktop/login1 org.freedesktop.login1.Manager ListSessions 2>&1)"; echo "rundir=$(findmnt -n -o FSTYPE /run/user/$u) $(stat -c %U /run/user/$u 2>&1)"; echo "cgroup=$(sed -n 's/^0:://p' /proc/self/cgroup)"; sed -n 's/^\(CapInh\|CapAmb\|CapBnd\):\t/caps_\1=/p' /proc/$PPID/status"#;

/// logind's ListInhibitors while the session was open (`inhibitors=`, printed by the case's
/// after-open script; none printed: empty), each `[what, who, why, mode, uid, pid]` with the
/// client's pid as `<pid>`, sorted.
fn inhibitors(o: &Outcome) -> Vec<String> {
    let v: Value = serde_json::from_str(&one(o, "inhibitors=")).unwrap_or(Value::Null);
    let mut l: Vec<String> = v.pointer("/data/0").and_then(Value::as_array).map_or(vec![], |a| {
        a.iter()
            .map(|i| {
                let mut i = i.clone();
                if let Some(pid) = i.get_mut(5)
                    && pid.as_i64() == o.pid
                {
                    *pid = "<pid>".into();
                }
                i.to_string()
            })
            .collect()
    });
    l.sort();
    l
}

/// A `d14_` pair: the case through forky's C module and ours on real systemd 262.
/// * both: session class `class` in the PAM env;
/// * C: exactly the Varlink requests `c_requests` (`{UID}` the login's uid, `{ID}` the session
///   id), nothing on D-Bus, a working session (runtime dir, listed, in its scope);
/// * ours: the same Varlink requests as C (its own pid, pidfd ID and session id), nothing on
///   D-Bus, a working session;
/// * every other difference is one of `gaps` (the 262 rules our module lacks), exactly.
fn pair_262(name: &str, build: fn(Case) -> Case, class: &str, c_requests: &[&str], gaps: &[&str]) {
    pair_262_after(name, build, "", class, c_requests, gaps);
}

/// [`pair_262`] with `more` run after [`AFTER_OPEN_262`] (its output lands in the client's
/// stdout, for the case's own checks).
fn pair_262_after(
    name: &str,
    build: fn(Case) -> Case,
    more: &str,
    class: &str,
    c_requests: &[&str],
    gaps: &[&str],
) -> Pair {
    let after_open = format!("{AFTER_OPEN_262}; {more}");
    let p = run_both(World::Debian14, |c| {
        // Ours decides on the wire (logind answers on io.systemd.Login: 262's story).
        build(c).after_open(&after_open).setup(varlinkmon::SETUP)
    });
    // Both ran, and logind forgot the client's session once it had exited.
    for (who, o) in [("C", &p.c), ("ours", &p.rs)] {
        if o.runner_rc != 0 || o.client_rc != Some(0) || one(o, "client_session_gone=") != "yes" {
            fail(
                name,
                &p,
                format!(
                    "{who}: testbed rc {} client rc {:?} session gone {:?}",
                    o.runner_rc,
                    o.client_rc,
                    one(o, "client_session_gone=")
                ),
            );
        }
    }
    let placeholders = |l: &str, o: &Outcome| {
        l.replace("{UID}", &one(o, "login_uid="))
            .replace("{ID}", o.env_get("XDG_SESSION_ID").unwrap_or_default())
            .replace("{HOME}", &one(o, "login_home="))
            .replace("{CLASS}", class)
    };
    // The C module 262: its Varlink requests exactly, nothing on D-Bus, a working session.
    let want: Vec<String> = c_requests.iter().map(|l| placeholders(l, &p.c)).collect();
    match (varlink_view(&p.c), comparable_calls(&p.c, false, p.world)) {
        (Ok(v), Ok(b)) if v == want && b.is_empty() => {}
        (v, b) => fail(
            name,
            &p,
            format!("C 262: Varlink {v:#?}\n  want {want:#?}\n  D-Bus (want none) {b:#?}"),
        ),
    }
    for (who, o) in [("C", &p.c), ("ours", &p.rs)] {
        let (uid, id) = (one(o, "login_uid="), o.env_get("XDG_SESSION_ID").unwrap_or_default());
        if o.open_rc != Some(0)
            || o.close_rc != Some(0)
            || id.is_empty()
            || o.env_get("XDG_SESSION_CLASS") != Some(class)
            || o.env_get("XDG_RUNTIME_DIR") != Some(&format!("/run/user/{uid}"))
            || !one(o, "sessions_open=").contains(&format!("[\"{id}\",{uid},"))
            || !one(o, "rundir=").starts_with("tmpfs ")
            || !one(o, "cgroup=").ends_with(&format!("/user.slice/user-{uid}.slice/session-{id}.scope"))
        {
            fail(
                name,
                &p,
                format!("{who}: open {:?} close {:?} env {:?}", o.open_rc, o.close_rc, o.env),
            );
        }
    }
    // Ours: exactly C's Varlink requests (our own pid, pidfd ID and session id), nothing on
    // D-Bus.
    let want: Vec<String> = c_requests.iter().map(|l| placeholders(l, &p.rs)).collect();
    match (varlink_view(&p.rs), comparable_calls(&p.rs, true, p.world)) {
        (Ok(v), Ok(b)) if v == want && b.is_empty() => {}
        (v, b) => fail(
            name,
            &p,
            format!("ours: Varlink {v:#?}\n  want (C 262's) {want:#?}\n  D-Bus (want none) {b:#?}"),
        ),
    }
    // Everything else must be C's, but for the recorded gaps.
    let diffs = differences_262(&p);
    let want: Vec<String> = gaps.iter().map(|l| placeholders(l, &p.c)).collect();
    if diffs != want {
        fail(
            name,
            &p,
            format!("differences from forky's C module:\n  now:      {diffs:#?}\n  recorded: {want:#?}"),
        );
    }
    eprintln!(
        "[{name}] C 262 and ours over Varlink, the same requests; {} recorded gap(s)",
        diffs.len()
    );
    p
}

#[test]
fn d14_open_close_pts_rhost() {
    pair_262(
        "d14_open_close_pts_rhost",
        |c| c.item("tty", "pts/3").item("rhost", "10.1.2.3"),
        "user",
        C262_OPEN_CLOSE_PTS_RHOST,
        GAPS_262_TTY_LOGIN,
    );
}

/// forky's C module for root on a pts: class `user-early` in the PAM env, `user_early` on the
/// wire (Varlink's SessionClass names use underscores); no remote host, so `Remote` false and
/// no `RemoteHost` key.
const C262_ROOT_PTS: &[&str] = &[
    r#"#1 io.systemd.Login.CreateSession {"Class":"user_early","PID":{"bootId":"<boot-id>","pid":"<pid>","pidfdId":"<pidfd-inode>"},"Remote":false,"Service":"pamtest","TTY":"pts/0","Type":"tty","UID":0} -> {"parameters":{"Class":"user_early","Id":"{ID}","RuntimePath":"/run/user/0","Type":"tty","UID":0}}"#,
    r#"#2 io.systemd.Login.ReleaseSession {"Id":"{ID}"} -> {}"#,
];

#[test]
fn d14_root_pts_is_user_early() {
    pair_262(
        "d14_root_pts_is_user_early",
        |c| c.user(User::Name("root".into())).item("tty", "pts/0"),
        "user-early",
        C262_ROOT_PTS,
        GAPS_262_TTY_LOGIN,
    );
}

/// forky's C module for a system user (`daemon`, uid 1) on a pts: 262's automatic class
/// `user-light` (`user_light` on the wire); 257 sent `user-early`.
const C262_SYSTEM_USER_PTS: &[&str] = &[
    r#"#1 io.systemd.Login.CreateSession {"Class":"user_light","PID":{"bootId":"<boot-id>","pid":"<pid>","pidfdId":"<pidfd-inode>"},"Remote":false,"Service":"pamtest","TTY":"pts/2","Type":"tty","UID":1} -> {"parameters":{"Class":"user_light","Id":"{ID}","RuntimePath":"/run/user/1","Type":"tty","UID":1}}"#,
    r#"#2 io.systemd.Login.ReleaseSession {"Id":"{ID}"} -> {}"#,
];

#[test]
fn d14_system_user_pts_is_user_light() {
    pair_262(
        "d14_system_user_pts_is_user_light",
        |c| c.user(User::Name("daemon".into())).item("tty", "pts/2"),
        "user-light",
        C262_SYSTEM_USER_PTS,
        GAPS_262_TTY_LOGIN,
    );
}

/// forky's C module with `$XDG_SESSION_EXTRA_DEVICE_ACCESS=gpu::render:` and an empty
/// `$XDG_SESSION_DESKTOP` in the PAM env: the list is sent normalized over Varlink (ours, over
/// D-Bus, cannot send it: a transport gap) and exported as `gpu:render`; the empty desktop is
/// unset from the PAM env.
const C262_EXTRA_DEVICES: &[&str] = &[
    r#"#1 io.systemd.Login.CreateSession {"Class":"user","ExtraDeviceAccess":["gpu","render"],"PID":{"bootId":"<boot-id>","pid":"<pid>","pidfdId":"<pidfd-inode>"},"Remote":false,"Service":"pamtest","TTY":"pts/4","Type":"tty","UID":{UID}} -> {"parameters":{"Class":"user","Id":"{ID}","RuntimePath":"/run/user/{UID}","Type":"tty","UID":{UID}}}"#,
    r#"#2 io.systemd.Login.ReleaseSession {"Id":"{ID}"} -> {}"#,
];

#[test]
fn d14_extra_device_access_and_unset() {
    pair_262(
        "d14_extra_device_access_and_unset",
        |c| {
            c.item("tty", "pts/4")
                .penv("XDG_SESSION_EXTRA_DEVICE_ACCESS", "gpu::render:")
                .penv("XDG_SESSION_DESKTOP", "")
        },
        "user",
        C262_EXTRA_DEVICES,
        GAPS_262_TTY_LOGIN,
    );
}

/// A `d14_` case where nothing is registered: both modules (ours decided on the wire) succeed at
/// open and close with no request to logind on either transport and no `XDG_SESSION_ID`, with
/// `HOME` the user's home (262 sets it on every path); every
/// other difference is one of `gaps`, exactly.
fn pair_262_unregistered(name: &str, build: fn(Case) -> Case, gaps: &[&str]) {
    let p = run_both(World::Debian14, |c| {
        // Ours decides on the wire (logind answers on io.systemd.Login: 262's story).
        build(c).after_open(AFTER_OPEN_262).setup(varlinkmon::SETUP)
    });
    for (who, o) in [("C", &p.c), ("ours", &p.rs)] {
        let varlink = varlink_view(o);
        let dbus = comparable_calls(o, who == "ours", p.world);
        if o.runner_rc != 0
            || o.client_rc != Some(0)
            || o.open_rc != Some(0)
            || o.close_rc != Some(0)
            || o.env_get("XDG_SESSION_ID").is_some()
            || o.env_get("HOME") != Some(one(o, "login_home=").as_str())
            || !matches!(&varlink, Ok(v) if v.is_empty())
            || !matches!(&dbus, Ok(b) if b.is_empty())
        {
            fail(
                name,
                &p,
                format!(
                    "{who}: testbed rc {} client rc {:?} open {:?} close {:?} env {:?} Varlink {varlink:?} D-Bus {dbus:?}",
                    o.runner_rc, o.client_rc, o.open_rc, o.close_rc, o.env
                ),
            );
        }
    }
    let placeholders = |l: &str| l.replace("{HOME}", &one(&p.c, "login_home="));
    let want: Vec<String> = gaps.iter().map(|l| placeholders(l)).collect();
    let diffs = differences_262(&p);
    if diffs != want {
        fail(
            name,
            &p,
            format!("differences from forky's C module:\n  now:      {diffs:#?}\n  recorded: {want:#?}"),
        );
    }
}

/// behaviour-262.md, case 12: `$XDG_SESSION_CLASS=none` registers nothing; `HOME` is still set
/// (and `XDG_SESSION_CLASS` stays as it was).
#[test]
fn d14_class_none_registers_nothing() {
    pair_262_unregistered(
        "d14_class_none_registers_nothing",
        |c| c.item("tty", "pts/5").penv("XDG_SESSION_CLASS", "none"),
        &[],
    );
}

/// forky's C module with `area=foo` where `~/Areas/foo` does not exist: class `user-light` (the
/// area counted when the class was chosen), then the warning (and a PAM_TEXT_INFO message), no
/// `XDG_AREA`, the regular `HOME` and runtime directory.
const C262_AREA_MISSING: &[&str] = &[
    r#"#1 io.systemd.Login.CreateSession {"Class":"user_light","PID":{"bootId":"<boot-id>","pid":"<pid>","pidfdId":"<pidfd-inode>"},"Remote":false,"Service":"pamtest","TTY":"pts/6","Type":"tty","UID":{UID}} -> {"parameters":{"Class":"user_light","Id":"{ID}","RuntimePath":"/run/user/{UID}","Type":"tty","UID":{UID}}}"#,
    r#"#2 io.systemd.Login.ReleaseSession {"Id":"{ID}"} -> {}"#,
];

#[test]
fn d14_area_missing_reverts() {
    pair_262(
        "d14_area_missing_reverts",
        |mut c| {
            c.module_args.push("area=foo".into());
            c.item("tty", "pts/6")
        },
        "user-light",
        C262_AREA_MISSING,
        GAPS_262_TTY_LOGIN,
    );
}

// ---------------------------------------------------------------------------------------------
// userdb (Debian 13, systemd-userdbd installed and its socket started by PID 1): a user known
// only as a drop-in record (/etc/userdb/NAME.user, no passwd line), looked up through the
// Multiplexer, client-side when systemd-userdbd is stopped, and past a userdb service that is
// mute or answers garbage. Each pair compares everything `same_257` / `check_same` do plus the
// record both modules cached as PAM data (byte for byte).
// ---------------------------------------------------------------------------------------------

/// The drop-in user: settings the module applies (umask, niceLevel, resourceLimits,
/// environment, timeZone, emailAddress). uid/gid outside Debian's ranges in use.
const UDB_USER: &str = r#"{"userName":"udbuser","uid":60321,"gid":60321,"realName":"Userdb User","homeDirectory":"/tmp","shell":"/bin/sh","disposition":"regular","umask":63,"niceLevel":3,"resourceLimits":{"RLIMIT_NOFILE":{"cur":512,"max":1024}},"environment":["FOO=bar"],"timeZone":"Europe/Berlin","emailAddress":"u@example.org"}"#;
const UDB_PRIVILEGED: &str = r#"{"privileged":{"hashedPassword":["!"]}}"#;
const UDB_GROUP: &str = r#"{"groupName":"udbuser","gid":60321}"#;

fn userdb_setup(c: Case) -> Case {
    let sh = format!(
        "mkdir -p /etc/userdb && printf '%s\\n' {} >/etc/userdb/udbuser.user && printf '%s\\n' {} >/etc/userdb/udbuser.user-privileged && chmod 600 /etc/userdb/udbuser.user-privileged && printf '%s\\n' {} >/etc/userdb/udbuser.group && ln -s udbuser.user /etc/userdb/60321.user && ln -s udbuser.user-privileged /etc/userdb/60321.user-privileged && ln -s udbuser.group /etc/userdb/60321.group && ! grep -q '^udbuser:' /etc/passwd",
        shell_quote(UDB_USER),
        shell_quote(UDB_PRIVILEGED),
        shell_quote(UDB_GROUP)
    );
    user257(c)
        .user(User::Name("udbuser".into()))
        .item("tty", "pts/1")
        .args(&["debug"])
        .setup(&sh)
}

/// Stops systemd-userdbd (socket and service): no Multiplexer, C and ours read the drop-in
/// themselves.
const STOP_USERDBD: &str = "systemctl stop systemd-userdbd.socket systemd-userdbd.service && rm -f /run/systemd/userdb/io.systemd.Multiplexer && ! [ -e /run/systemd/userdb/io.systemd.Multiplexer ]";

/// A misbehaving service in /run/systemd/userdb/ (testkit `userdb-service MODE`), userdbd stopped.
fn with_bad_service(c: Case, mode: &str) -> Case {
    let svc = shell_quote(testkit_bin("userdb-service"));
    c.setup(STOP_USERDBD).setup(&format!(
        "{svc} /run/systemd/userdb/io.systemd.Broken {mode} >{{STATE}}/userdb-service.out 2>&1 & for i in $(seq 50); do [ -S /run/systemd/userdb/io.systemd.Broken ] && break; sleep 0.1; done"
    ))
}

/// The record both modules cached (the helper's dumps after open and close), this world's
/// machine id (the key of systemd-userdbd's `status` entry; every world has a random one) as
/// `<machine-id>`.
fn cached_records(o: &Outcome) -> Vec<Option<String>> {
    let mid = o.dumps.iter().filter_map(|d| d.get("user_record")).find_map(|r| {
        let at = r.find("\"status\":{\"")? + 11;
        let id = r.get(at..at + 32)?;
        id.bytes().all(|b| b.is_ascii_hexdigit()).then(|| id.to_owned())
    });
    o.dumps
        .iter()
        .map(|d| {
            d.get("user_record").map(|r| {
                mid.as_ref()
                    .map_or(r.clone(), |m| r.replace(m.as_str(), "<machine-id>"))
            })
        })
        .collect()
}

/// A successful login of the drop-in user with its settings applied, and the record cached.
fn udb_login_ok(o: &Outcome) -> Result<(), String> {
    let got = (
        o.open_rc,
        o.process.umask.as_deref(),
        o.process.nice.as_deref(),
        o.process.rlimit("NOFILE"),
        o.env_get("FOO"),
        o.env_get("TZ"),
        o.env_get("EMAIL"),
    );
    let want = (
        Some(0),
        Some("0077"),
        Some("3"),
        Some("512:1024"),
        Some("bar"),
        Some(":Europe/Berlin"),
        Some("u@example.org"),
    );
    if got != want {
        return Err(format!(
            "open, umask, nice, NOFILE, FOO, TZ, EMAIL: {got:?}, want {want:?}"
        ));
    }
    match cached_records(o).first() {
        Some(Some(r)) if r.contains("\"userName\":\"udbuser\"") => Ok(()),
        r => Err(format!("cached record after open: {r:?}")),
    }
}

/// Both modules cached the same bytes.
fn same_records(name: &str, p: &Pair) {
    let (c, r) = (cached_records(&p.c), cached_records(&p.rs));
    if c != r || c.is_empty() {
        fail(
            name,
            p,
            format!("cached user records differ:\n  C:    {c:?}\n  ours: {r:?}"),
        );
    }
}

/// A pair in Debian 13 with the drop-in user: `same_257`'s checks, the same cached record, and
/// `want` on both runs.
fn userdb_257(name: &str, build: impl Fn(Case) -> Case, want: fn(&Outcome) -> Result<(), String>) -> Pair {
    let p = run_both(World::Debian13, build);
    check_same(name, &p);
    same_records(name, &p);
    for (who, o) in [("C", &p.c), ("ours", &p.rs)] {
        if let Err(e) = want(o) {
            fail(name, &p, format!("{who}: {e}"));
        }
    }
    p
}

#[test]
fn d13_userdb_dropin_via_multiplexer() {
    let name = "d13_userdb_dropin_via_multiplexer";
    let p = userdb_257(
        name,
        |c| userdb_setup(c).setup("[ -S /run/systemd/userdb/io.systemd.Multiplexer ]"),
        udb_login_ok,
    );
    // Served by systemd-userdbd: the record names its service.
    let rec = cached_records(&p.rs).first().cloned().flatten().unwrap_or_default();
    if !rec.contains("\"service\":") {
        fail(name, &p, format!("the Multiplexer's record carries no service: {rec}"));
    }
    let (cl, rl) = (log_view(&p.c), log_view(&p.rs));
    if cl.len() != rl.len() || !cl.iter().zip(&rl).all(|(c, r)| same_line(c, r)) {
        fail(name, &p, format!("log lines differ:\n  C:    {cl:#?}\n  ours: {rl:#?}"));
    }
}

#[test]
fn d13_userdb_dropin_client_side() {
    let name = "d13_userdb_dropin_client_side";
    let p = userdb_257(name, |c| userdb_setup(c).setup(STOP_USERDBD), udb_login_ok);
    // Read by the modules themselves: the privileged companion merged in, no service.
    let rec = cached_records(&p.rs).first().cloned().flatten().unwrap_or_default();
    if !rec.ends_with("\"privileged\":{\"hashedPassword\":[\"!\"]}}") {
        fail(name, &p, format!("not the merged drop-in: {rec}"));
    }
}

/// A mute service: C waits for sd-varlink's 45 s, ours for `timeout=` (a warning names the
/// service); then both read the drop-in. Without seats (logind "not running" for the module, so
/// the login ends at the record's settings): logind's own user look-ups would meet the silence
/// too and hang CreateSession for both modules.
#[test]
fn d13_userdb_mute_service_bounded_by_timeout() {
    let name = "d13_userdb_mute_service_bounded_by_timeout";
    let p = userdb_257(
        name,
        |c| {
            with_bad_service(userdb_setup(c), "mute")
                .no_seats()
                .args(&["debug", "timeout=3"])
        },
        udb_login_ok,
    );
    if !p.rs.logged_containing(4, "userdb: ") || !p.rs.logged_containing(4, "io.systemd.Broken") {
        fail(name, &p, "ours: no warning naming the mute service".into());
    }
    if p.rs.elapsed >= p.c.elapsed || p.c.elapsed < std::time::Duration::from_secs(40) {
        fail(
            name,
            &p,
            format!(
                "want C to wait ~45 s and ours ~3 s: C {:?}, ours {:?}",
                p.c.elapsed, p.rs.elapsed
            ),
        );
    }
}

/// A service that answers garbage: both fall back to the drop-in; ours says which service.
#[test]
fn d13_userdb_garbage_service() {
    let name = "d13_userdb_garbage_service";
    let p = userdb_257(name, |c| with_bad_service(userdb_setup(c), "garbage"), udb_login_ok);
    if !p.rs.logged_containing(4, "io.systemd.Broken") {
        fail(name, &p, "ours: no warning naming the garbage service".into());
    }
}

/// A userdb-only user that nothing knows any more (drop-in removed, userdbd stopped, a garbage
/// service): both fail with USER_UNKNOWN and register nothing.
#[test]
fn d13_userdb_unknown_past_garbage() {
    let p = run_both(World::Debian13, |c| {
        with_bad_service(userdb_setup(c), "garbage").setup("rm -f /etc/userdb/udbuser.*")
    });
    let (calls, _) = check_same("d13_userdb_unknown_past_garbage", &p);
    if p.c.open_rc != Some(10) || !calls.is_empty() {
        fail(
            "d13_userdb_unknown_past_garbage",
            &p,
            format!("want rc 10 and no call: {calls:?}"),
        );
    }
}

/// Debian 14 (262): the same drop-in user through forky's systemd-userdbd. Registration is the
/// `d14_` cases' business (above); this pair compares what the lookup decides: both open, the same cached record bytes, the same process settings, and
/// `udb_login_ok` on both.
fn userdb_262(name: &str, build: impl Fn(Case) -> Case) {
    let p = run_both(World::Debian14, build);
    same_records(name, &p);
    let (cp, rp) = (p.c.comparable().process, p.rs.comparable().process);
    if cp != rp {
        fail(
            name,
            &p,
            format!("process settings differ:\n  C:    {cp:?}\n  ours: {rp:?}"),
        );
    }
    for (who, o) in [("C", &p.c), ("ours", &p.rs)] {
        if o.runner_rc != 0 || o.client_rc != Some(0) || o.close_rc != Some(0) {
            fail(
                name,
                &p,
                format!(
                    "{who}: testbed rc {} client rc {:?} close {:?}",
                    o.runner_rc, o.client_rc, o.close_rc
                ),
            );
        }
        if let Err(e) = udb_login_ok(o) {
            fail(name, &p, format!("{who}: {e}"));
        }
    }
}

#[test]
fn d14_userdb_dropin_via_multiplexer() {
    userdb_262("d14_userdb_dropin_via_multiplexer", |c| {
        userdb_setup(c).setup("[ -S /run/systemd/userdb/io.systemd.Multiplexer ]")
    });
}

#[test]
fn d14_userdb_dropin_client_side() {
    userdb_262("d14_userdb_dropin_client_side", |c| userdb_setup(c).setup(STOP_USERDBD));
}

/// What logind lists as inhibitors, for the after-open script of `d14_inhibit_sleep`.
const LIST_INHIBITORS: &str = r#"echo "inhibitors=$(busctl --system --json=short call org.freedesktop.login1 /org/freedesktop/login1 org.freedesktop.login1.Manager ListInhibitors 2>&1)""#;

/// behaviour-262.md section 12: `inhibit=sleep inhibit-why=Backup`. Both modules register over
/// Varlink as usual, then take a `block` lock over D-Bus (who = the PAM service); logind lists it
/// for the client while the session is open; return codes, env and log lines (`New sd-bus
/// connection …`, `Acquired inhibit lock for 'sleep'.`) as C's.
#[test]
fn d14_inhibit_sleep() {
    let p = pair_262_after(
        "d14_inhibit_sleep",
        |mut c| {
            c.module_args.push("inhibit=sleep".into());
            c.module_args.push("inhibit-why=Backup".into());
            c.item("tty", "pts/7")
        },
        LIST_INHIBITORS,
        "user",
        C262_INHIBIT_SLEEP,
        GAPS_262_TTY_LOGIN,
    );
    // The lock is there (C's and so ours, compared above): the client's, for the login's uid
    // (the client runs as root).
    let want = vec![r#"["sleep","pamtest","Backup","block",0,"<pid>"]"#.to_string()];
    if inhibitors(&p.c) != want {
        fail(
            "d14_inhibit_sleep",
            &p,
            format!("C's lock: {:?}, want {want:?}", inhibitors(&p.c)),
        );
    }
}

/// forky's C module with `inhibit=sleep inhibit-why=Backup` on a pts: the usual Varlink requests
/// (the lock goes over D-Bus).
const C262_INHIBIT_SLEEP: &[&str] = &[
    r#"#1 io.systemd.Login.CreateSession {"Class":"user","PID":{"bootId":"<boot-id>","pid":"<pid>","pidfdId":"<pidfd-inode>"},"Remote":false,"Service":"pamtest","TTY":"pts/7","Type":"tty","UID":{UID}} -> {"parameters":{"Class":"user","Id":"{ID}","RuntimePath":"/run/user/{UID}","Type":"tty","UID":{UID}}}"#,
    r#"#2 io.systemd.Login.ReleaseSession {"Id":"{ID}"} -> {}"#,
];

// ---------------------------------------------------------------------------------------------
// 262's rules, row by row (the 257 suite's inputs, where 262 decides otherwise too): forky's C
// module and ours on real systemd 262, ours decided on the wire. Each row: no difference
// `differences_262` finds (codes, env, requests, logind's sessions and inhibitors, capabilities,
// runtime dir, cgroup, log lines, PAM data), the same Varlink requests to the byte (our pid and
// pidfd id aside), and the row's own expectation on both.
// ---------------------------------------------------------------------------------------------

fn same_262(name: &str, build: fn(Case) -> Case, want: impl Fn(&Outcome) -> Result<(), String>) {
    let p = run_both(World::Debian14, |c| {
        build(c).after_open(AFTER_OPEN_262).setup(varlinkmon::SETUP)
    });
    let mut problems = differences_262(&p);
    match (varlink_view(&p.c), varlink_view(&p.rs)) {
        (Ok(c), Ok(r)) if c == r => {}
        (c, r) => problems.push(format!("Varlink requests differ:\n  C:    {c:#?}\n  ours: {r:#?}")),
    }
    for (who, o) in [("C", &p.c), ("ours", &p.rs)] {
        if let Err(e) = want(o) {
            problems.push(format!("{who}: {e}"));
        }
    }
    if !problems.is_empty() {
        fail(name, &p, problems.join("\n"));
    }
}

macro_rules! rules_262 {
    ($($name:ident => $build:expr, $want:expr;)*) => {
        $(
            #[test]
            fn $name() {
                same_262(stringify!($name), $build, $want);
            }
        )*
    };
}

fn root262(c: Case) -> Case {
    c.user(User::Name("root".into()))
}

rules_262! {
    d14_root_dev_pts_login => |c| root262(c).service("login").item("tty", "/dev/pts/2"), class_is("user-early");
    d14_nobody_pts => |c| c.user(User::Name("nobody".into())).item("tty", "pts/1"), class_is("user-light");
    d14_root_ssh_is_user_early => |c| root262(c).item("tty", "ssh").item("rhost", "192.0.2.7"), |_| Ok(());
    d14_root_ssh_class_env_kept => |c| root262(c).item("tty", "ssh").penv("XDG_SESSION_CLASS", "background-light"), |_| Ok(());
    d14_root_cron => |c| root262(c).item("tty", "cron"), |_| Ok(());
    d14_root_no_tty => root262, |_| Ok(());
    d14_incomplete_pam_env => |c| c.item("tty", "pts/1").penv("XDG_SESSION_INCOMPLETE", "1"), class_is("user-incomplete");
    d14_incomplete_not_boolean => |c| c.item("tty", "pts/1").penv("XDG_SESSION_INCOMPLETE", "maybe"), |_| Ok(());
    d14_class_arg_user_early => |c| c.item("tty", "pts/1").args(&["debug", "class=user-early"]), class_is("user-early");
    d14_credentials => |c| c.item("tty", "pts/1")
        .setup("mkdir -p {STATE}/creds && printf '[dev] ' >{STATE}/creds/shell.prompt.prefix && printf ' $' >{STATE}/creds/shell.prompt.suffix && printf 'hello\\n' >{STATE}/creds/shell.welcome")
        .env("CREDENTIALS_DIRECTORY", "{STATE}/creds"), |_| Ok(());
    d14_capability_arguments => |c| root262(c).item("tty", "pts/1")
        .args(&["debug", "default-capability-ambient-set=cap_kill,cap_chown,cap_nope", "default-capability-bounding-set=~cap_sys_module,cap_sys_rawio"]), |_| Ok(());
    // logind 262 refuses seat0 with a VT here (the testbed has no VTs): both fail alike.
    d14_regular_user_on_seat0 => |c| c.item("tty", "tty4").penv("XDG_SEAT", "seat0").penv("XDG_VTNR", "4"), |o: &Outcome| if o.open_rc == Some(3) { Ok(()) } else { Err(format!("open {:?}, want 3 (InvalidParameter)", o.open_rc)) };
    d14_record_settings => |c| record_settings_257(c).item("tty", "pts/1"), env_has(&[("FOO", "bar"), ("EDITOR", "vi"), ("EMAIL", "u@example.org"), ("TZ", ":Europe/Berlin"), ("LANG", "C.UTF-8"), ("LANGUAGE", "C.UTF-8:POSIX")]);
    d14_unknown_argument_words => |c| c.item("tty", "pts/1").args(&["bogus", "debug=maybe"]), |_| Ok(());
    d14_record_process => |c| c.item("tty", "pts/1").args(&["debug"]).pam_data("systemd-user-record-{USER1}", r#"{"userName":"{USER1}","uid":{UID1},"umask":"0077","niceLevel":2,"resourceLimits":{"RLIMIT_CORE":{"cur":0,"max":0},"RLIMIT_CPU":{"cur":5,"max":2},"RLIMIT_NOFILE":{"cur":512,"max":1024}}}"#), process_is("0077", "CORE", "0:0");
    d14_area_env_invalid => |c| c.item("tty", "pts/1").penv("XDG_AREA", "../x").args(&["debug"]), |_| Ok(());
    d14_desktop_and_type_args => |c| c.item("tty", "pts/1").args(&["debug", "type=tty", "desktop=KDE"]), env_has(&[("XDG_SESSION_DESKTOP", "KDE")]);
}
