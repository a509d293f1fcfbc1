//! Differential cases against Debian 12's real systemd-logind 252 (`testbed/testbed run --logind
//! systemd`: `/lib/systemd/systemd-logind` on the testbed's private bus, with
//! `testbed/pid1-standin` answering for PID 1's `org.freedesktop.systemd1`).
//!
//! Each case runs Debian's C module and ours, each in a FRESH testbed (the two concurrently),
//! and compares: return codes, the PAM environment, the login1 calls seen on the bus
//! (`busctl --system monitor --json=short`: CreateSession / ReleaseSession bodies and logind's
//! answers; our CreateSessionWithPIDFD attempt must be answered UnknownMethod by logind 252 and be
//! followed by a CreateSession identical to C's), and what logind lists while the session is open
//! and after the client has exited.
//!
//! `KEEP_CASE_STATE=1` keeps the testbeds' state dirs (`/tmp/pamsd-case-*`, logind.log has
//! logind's debug log and the stand-in's lines).

mod common;

use common::*;
use std::collections::BTreeMap;

/// Shell eval'ed inside the testbed before the client, after the shared bus monitor
/// (`busmon::SETUP`): at the script's exit, a bounded wait until logind lists no session any
/// more, then the monitor's output. Both are appended to client.out as `sessions_after=` /
/// `busmon=` lines (the state dir is removed after the run).
const SETUP: &str = r#"
sd_end() {
  local i out
  for i in $(seq 100); do
    out=$(busctl --system --json=short call org.freedesktop.login1 /org/freedesktop/login1 org.freedesktop.login1.Manager ListSessions 2>&1)
    case "$out" in *'"data":[[]]'*) break ;; esac
    sleep 0.05
  done
  echo "sessions_after=$out" >>"$S/client.out"
  busmon_finish
}
trap sd_end EXIT
"#;

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

/// The session calls on the bus (from the shared monitor): (member, signature, data, reply),
/// an error reply given by its name alone.
fn login1_calls(o: &Outcome) -> Result<Vec<(String, String, Json, String)>, String> {
    Ok(busmon::calls(o)?
        .into_iter()
        .filter(|c| {
            matches!(
                c.member.as_str(),
                "CreateSession" | "CreateSessionWithPIDFD" | "ReleaseSession"
            )
        })
        .map(|c| {
            let reply = c.error.map_or(c.reply, |n| format!("error {n}"));
            (c.member, c.signature, Json::Array(c.data), reply)
        })
        .collect())
}

/// Our calls with each CreateSessionWithPIDFD checked (UnknownMethod, then a CreateSession with
/// the same arguments — but the class, where our attempt carried a 257-only class; nothing for
/// the `systemd-user` stack, which 252 does not register) and removed; the C module must never
/// send it.
fn comparable_calls(o: &Outcome, ours: bool) -> Result<Vec<String>, String> {
    let calls = login1_calls(o)?;
    let mut out = Vec::new();
    let mut pidfd_seen = 0;
    for (i, (member, sig, data, reply)) in calls.iter().enumerate() {
        if member == "CreateSessionWithPIDFD" {
            if !ours {
                return Err("the C module sent CreateSessionWithPIDFD".into());
            }
            pidfd_seen += 1;
            if reply != "error org.freedesktop.DBus.Error.UnknownMethod" {
                return Err(format!("CreateSessionWithPIDFD answered {reply:?}, not UnknownMethod"));
            }
            let systemd_user = data.idx(2).and_then(Json::as_str) == Some("systemd-user");
            let next = calls.get(i + 1).filter(|(m, ..)| !systemd_user || m == "CreateSession");
            let Some((m2, _, d2, _)) = next else {
                if systemd_user {
                    continue;
                }
                return Err("CreateSessionWithPIDFD not followed by anything".into());
            };
            let class_257 = data.idx(4).and_then(Json::as_str).is_some_and(|c| {
                [
                    "user-early",
                    "user-incomplete",
                    "manager",
                    "manager-early",
                    "background-light",
                ]
                .contains(&c)
            });
            let (a_drop, b_drop): (&[usize], &[usize]) = if class_257 {
                (&[1, 4, 13], &[1, 4])
            } else {
                (&[1, 13], &[1])
            };
            let strip = |d: &Json, idx: &[usize]| -> Vec<Json> {
                d.as_array()
                    .unwrap_or(&[])
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| !idx.contains(k))
                    .map(|(_, x)| x.clone())
                    .collect()
            };
            if m2 != "CreateSession"
                || sig != "uhsssssussbssta(sv)"
                || strip(data, a_drop) != strip(d2, b_drop)
                || data.idx(13).and_then(Json::as_i128) != Some(0)
            {
                return Err(format!(
                    "CreateSessionWithPIDFD {sig} {data} not followed by the same CreateSession: {m2} {d2}"
                ));
            }
            continue;
        }
        out.push(format!("{member}({sig}) {data} -> {reply}"));
    }
    if ours && pidfd_seen == 0 && out.iter().any(|c| c.starts_with("CreateSession(")) {
        return Err("our module sent CreateSession without trying CreateSessionWithPIDFD first".into());
    }
    Ok(out)
}

fn env_map(v: &[(String, String)]) -> BTreeMap<String, String> {
    v.iter().cloned().collect()
}

fn summary(o: &Outcome) -> String {
    let mut s = format!(
        "runner_rc={} client_rc={:?} open={:?} open2={:?} close={:?} env={:?} elapsed={:?}\n",
        o.runner_rc, o.client_rc, o.open_rc, o.open2_rc, o.close_rc, o.env, o.elapsed
    );
    for l in o.stdout.lines().filter(|l| !l.starts_with("busmon=")) {
        s.push_str("  ");
        s.push_str(l);
        s.push('\n');
    }
    if let Ok(c) = login1_calls(o) {
        for (m, sig, d, r) in c {
            s.push_str(&format!("  call {m}({sig}) {d} -> {r}\n"));
        }
    }
    if o.runner_rc != 0 {
        s.push_str(&o.runner_log);
    }
    s
}

struct Pair {
    c: Outcome,
    rs: Outcome,
}

fn run_both(build: fn(Case) -> Case) -> Pair {
    let rs_mod = Module::rs();
    assert!(
        rs_mod.path.exists(),
        "our module {} missing (cargo build)",
        rs_mod.path.display()
    );
    let mk = |m: &Module| {
        let mut c = build(Case::new(m).logind(Logind::Systemd)).timeout(std::time::Duration::from_secs(60));
        c.setup.insert(0, format!("{}{SETUP}", busmon::SETUP));
        c
    };
    let (cc, rc) = (mk(&Module::c()), mk(&rs_mod));
    let _ = (testkit_dir(), pamclient(), testhelper());
    let (c, rs) = std::thread::scope(|s| {
        let h = s.spawn(|| cc.run());
        let r = rc.run();
        (h.join().expect("C run panicked"), r)
    });
    Pair { c, rs }
}

/// Common checks: both testbeds ran, same rcs, same env, same login1 calls (after the PIDFD
/// check), and logind has no session left after the client exited.
fn check_same(name: &str, p: &Pair) -> (Vec<String>, Vec<String>) {
    let mut problems = Vec::new();
    for (who, o) in [("C", &p.c), ("ours", &p.rs)] {
        if o.runner_rc != 0 || o.client_rc != Some(0) {
            problems.push(format!("{who}: testbed rc {} client rc {:?}", o.runner_rc, o.client_rc));
        }
        let after = one(o, "sessions_after=");
        if !after.contains(r#""data":[[]]"#) {
            problems.push(format!(
                "{who}: logind still lists sessions after the client exited: {after}"
            ));
        }
    }
    let cc = comparable_calls(&p.c, false).unwrap_or_else(|e| {
        problems.push(format!("C calls: {e}"));
        vec![]
    });
    let rc = comparable_calls(&p.rs, true).unwrap_or_else(|e| {
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
    if !problems.is_empty() {
        panic!(
            "\n=== {name} (systemd-logind 252) ===\n* {}\n--- C run ---\n{}--- our run ---\n{}",
            problems.join("\n* "),
            summary(&p.c),
            summary(&p.rs)
        );
    }
    eprintln!("[{name}] identical (C {:?}, ours {:?})", p.c.elapsed, p.rs.elapsed);
    (cc, rc)
}

fn fail(name: &str, p: &Pair, what: String) -> ! {
    panic!(
        "\n=== {name} (systemd-logind 252) ===\n* {what}\n--- C run ---\n{}--- our run ---\n{}",
        summary(&p.c),
        summary(&p.rs)
    );
}

#[test]
fn s01_open_close_pts_rhost() {
    let name = "s01_open_close_pts_rhost";
    let p = run_both(|c| c.item("tty", "pts/3").item("rhost", "10.1.2.3").after_open(AFTER_OPEN));
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
    let create: Vec<&String> = calls.iter().filter(|c| c.starts_with("CreateSession(")).collect();
    if create.len() != 1
        || !create[0].contains(r#","pamtest","tty","user","","",0,"pts/3","",true,"","10.1.2.3",[]]"#)
        || !create[0].contains("-> return soshusub")
    {
        fail(name, &p, format!("unexpected CreateSession: {create:?}"));
    }
}

#[test]
fn s02_session_busy_nested_open() {
    // A second client opened from inside the session (a child of the session leader, in the
    // session's scope): logind 252 answers SessionBusy; both modules return 0 and set nothing.
    let name = "s02_session_busy_nested_open";
    let p = run_both(|c| c.item("tty", "pts/3").after_open(&nested_client()));
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
        .filter(|c| c.starts_with("CreateSession(") && c.ends_with("-> error org.freedesktop.login1.SessionBusy"))
        .count();
    if busy != 1 {
        fail(name, &p, format!("expected one SessionBusy answer: {calls:#?}"));
    }
}

#[test]
fn s03_open_twice_same_handle_session_busy() {
    // A second pam_open_session on the same handle, same process.
    let name = "s03_open_twice_same_handle";
    let p = run_both(|c| c.item("tty", "pts/3").flag("--open-twice"));
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
    let creates: Vec<&String> = calls.iter().filter(|c| c.starts_with("CreateSession(")).collect();
    if creates.len() != 2 || !creates[1].ends_with("-> error org.freedesktop.login1.SessionBusy") {
        fail(
            name,
            &p,
            format!("expected a second CreateSession answered SessionBusy: {calls:#?}"),
        );
    }
}

#[test]
fn s04_invalid_class() {
    let name = "s04_invalid_class";
    let p = run_both(|c| c.args(&["debug", "class=bogus"]).item("tty", "pts/3"));
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
