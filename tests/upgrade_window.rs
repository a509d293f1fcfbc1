//! The Debian 12 → 13 upgrade window: Debian 13's pam_systemd (257) is installed, but logind 252
//! still runs until the reboot. Inputs that 257's rules turn into classes logind 252 does not
//! know (`user-early`, `manager`, `manager-early`, `user-incomplete`) make Debian 13's C module
//! fail the login (PAM_SESSION_ERR, 14: "Invalid session class …"); ours, deciding the
//! generation on the wire, must register every one of them as 252 would (0).
//!
//! logind 252 is Debian 12's real systemd-logind (`--logind systemd`, with the PID 1 stand-in).
//! Debian 13's C module runs in the same testbed kind, loaded by Debian 13's own dynamic loader
//! and libraries (the cached `testbed/build-root debian13` root, `common::build_root`) around the
//! same PAM client.
//! Every case runs both modules, each in a fresh testbed, concurrently.
//!
//! The Debian 13 → 14 window (forky's module 262, logind 257 in the debian13 world; forky's
//! loader and libraries from `testbed/build-root debian14`): 262 finds no Varlink socket, falls
//! back to D-Bus and registers as 257 does — the same calls as ours.

mod common;

use common::*;

/// A Debian root's C module (`debian13`: 257, `debian14`: 262), and the loader words that run
/// the client with that root's libraries.
fn c_module_of(root: &str) -> (Module, Vec<String>) {
    let root = build_root(root);
    let lib = root.join("usr/lib/x86_64-linux-gnu");
    let module = Module {
        path: lib.join("security/pam_systemd.so"),
        kind: Impl::C,
    };
    assert!(module.path.exists(), "{} missing", module.path.display());
    let prefix = vec![
        root.join("usr/lib64/ld-linux-x86-64.so.2")
            .to_string_lossy()
            .into_owned(),
        "--library-path".into(),
        lib.to_string_lossy().into_owned(),
    ];
    (module, prefix)
}

struct Login {
    name: &'static str,
    build: fn(Case) -> Case,
    /// The class Debian 13's module sends (and logind 252 refuses).
    class_257: &'static str,
    /// What our module's login ends with: the class in the PAM env (None: no session, the 252
    /// outcome for user@.service's stack).
    class_ours: Option<&'static str>,
}

fn root(c: Case) -> Case {
    c.user(User::Name("root".into()))
}

const LOGINS: &[Login] = &[
    Login {
        name: "root on pts/0",
        build: |c| root(c).item("tty", "pts/0"),
        class_257: "user-early",
        class_ours: Some("user"),
    },
    Login {
        name: "root on /dev/pts/1 (login)",
        build: |c| root(c).service("login").item("tty", "/dev/pts/1"),
        class_257: "user-early",
        class_ours: Some("user"),
    },
    Login {
        name: "daemon (system user) on pts/1",
        build: |c| c.user(User::Name("daemon".into())).item("tty", "pts/1"),
        class_257: "user-early",
        class_ours: Some("user"),
    },
    Login {
        name: "nobody on pts/2",
        build: |c| c.user(User::Name("nobody".into())).item("tty", "pts/2"),
        class_257: "user-early",
        class_ours: Some("user"),
    },
    Login {
        name: "user@0.service (systemd-user, root)",
        build: |c| root(c).service("systemd-user"),
        class_257: "manager-early",
        class_ours: None,
    },
    Login {
        name: "user@UID.service (systemd-user, regular user)",
        build: |c| c.service("systemd-user"),
        class_257: "manager",
        class_ours: None,
    },
    Login {
        name: "regular user, XDG_SESSION_INCOMPLETE=1 (PAM env)",
        build: |c| c.item("tty", "pts/3").penv("XDG_SESSION_INCOMPLETE", "1"),
        class_257: "user-incomplete",
        class_ours: Some("user"),
    },
    Login {
        name: "regular user, XDG_SESSION_INCOMPLETE=yes (process env)",
        build: |c| c.item("tty", "pts/3").env("XDG_SESSION_INCOMPLETE", "yes"),
        class_257: "user-incomplete",
        class_ours: Some("user"),
    },
];

fn case(m: &Module, login: &Login) -> Case {
    (login.build)(Case::new(m).logind(Logind::Systemd)).timeout(std::time::Duration::from_secs(90))
}

/// Every login of the table: Debian 13's C module fails each with 14 and logind 252's refusal
/// of the 257 class; ours succeeds each, with the 252 request (and logs the generation).
#[test]
fn debian13_module_fails_ours_does_not() {
    let (c_mod, prefix) = c_module_of("debian13");
    let rs_mod = Module::rs_built();
    let _ = (testkit_dir(), pamclient(), testhelper());
    let mut problems = Vec::new();
    let (mut c_failed, mut rs_failed) = (0, 0);
    for login in LOGINS {
        let cc = case(&c_mod, login).client_prefix(&prefix.iter().map(String::as_str).collect::<Vec<_>>());
        let rc = case(&rs_mod, login);
        let (c, rs) = std::thread::scope(|s| {
            let h = s.spawn(|| cc.run());
            let r = rc.run();
            (h.join().expect("C run panicked"), r)
        });
        let name = login.name;
        if c.open_rc != Some(0) {
            c_failed += 1;
        }
        if rs.open_rc != Some(0) {
            rs_failed += 1;
        }
        let refused = format!("Failed to create session: Invalid session class {}", login.class_257);
        if c.open_rc != Some(14) || !c.logged(3, &refused) {
            problems.push(format!(
                "{name}: Debian 13's module: open {:?}, expected 14 with {refused:?}\n{}",
                c.open_rc,
                c.summary()
            ));
        }
        let class = rs.env_get("XDG_SESSION_CLASS");
        let why = if login.class_ours.is_some() {
            "CreateSessionWithPIDFD is unknown, sent the 252 request"
        } else {
            "it refused the systemd-user session; 252 registers none and sets the runtime directory only"
        };
        let generation = format!("logind generation 252 ({why}).");
        if rs.open_rc != Some(0)
            || class != login.class_ours
            || rs.env_get("XDG_SESSION_ID").is_some() != login.class_ours.is_some()
            || !rs.logged(7, &generation)
        {
            problems.push(format!(
                "{name}: ours: open {:?}, class {class:?} (want 0, {:?}, {generation:?})\n{}",
                rs.open_rc,
                login.class_ours,
                rs.summary()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(
        (c_failed, rs_failed),
        (LOGINS.len(), 0),
        "failed logins (Debian 13's C module, ours)"
    );
}

// ---------------------------------------------------------------------------------------------
// The Debian 13 → 14 upgrade window: forky's pam_systemd (262) installed, logind 257 still runs
// ---------------------------------------------------------------------------------------------

/// A login of the 13 -> 14 window: (name, case, the class both modules register).
type Window14Login = (&'static str, fn(Case) -> Case, &'static str);

/// Shell for the case's setup: the bus monitor, its output appended when the script ends.
fn monitored(c: Case) -> Case {
    c.setup(&format!("{}\ntrap busmon_finish EXIT\n", busmon::SETUP))
}

/// forky's C module 262 against the debian13 world's real logind 257, which has no Varlink
/// socket: it says so in a debug line at open and at close, falls back to D-Bus and registers
/// the session exactly as Debian 13's module and ours do (`CreateSessionWithPIDFD`, 257's
/// classes), so logins keep working in this window; recorded for a regular user and for root
/// on a terminal (`user-early`, which logind 257 knows).
#[test]
fn debian14_module_against_logind_257_falls_back_to_dbus() {
    let forky = build_root("debian14");
    let (c262, prefix) = c_module_of("debian14");
    let prefix: Vec<&str> = prefix.iter().map(String::as_str).collect();
    let rs_mod = Module::rs_built();
    let _ = (testkit_dir(), pamclient(), testhelper());
    let logins: [Window14Login; 2] = [
        (
            "regular user on pts/3",
            |c| c.item("tty", "pts/3").item("rhost", "10.1.2.3"),
            "user",
        ),
        ("root on pts/0", |c| root(c).item("tty", "pts/0"), "user-early"),
    ];
    let fallback = "Failed to connect to logind via Varlink, falling back to D-Bus: No such file or directory";
    let mut problems = Vec::new();
    for (name, build, class) in logins {
        let case = |m: &Module| {
            monitored(build(Case::new(m).world(World::Debian13)))
                .testbed_opts(&["--bind", forky.to_str().unwrap()])
                .timeout(std::time::Duration::from_secs(90))
        };
        let cc = case(&c262).client_prefix(&prefix);
        let rc = case(&rs_mod);
        let (c, rs) = std::thread::scope(|s| {
            let h = s.spawn(|| cc.run());
            let r = rc.run();
            (h.join().expect("C run panicked"), r)
        });
        // The client's login1 calls (not those of the world's user manager stack), comparable.
        let calls = |o: &Outcome| -> Vec<String> {
            busmon::calls(o)
                .unwrap_or_else(|e| {
                    vec![busmon::BusCall {
                        member: format!("(no record: {e})"),
                        signature: String::new(),
                        data: vec![],
                        error: None,
                        reply: String::new(),
                    }]
                })
                .into_iter()
                .filter(|k| k.data.get(2).and_then(Value::as_str) != Some("systemd-user"))
                .filter(|k| {
                    matches!(
                        k.member.as_str(),
                        "CreateSession" | "CreateSessionWithPIDFD" | "ReleaseSession"
                    ) || k.member.starts_with("(no record")
                })
                .map(|k| {
                    let mut d = k.data.clone();
                    if k.member == "CreateSessionWithPIDFD" && d.len() > 1 {
                        d[1] = Value::String("<pidfd>".into());
                    }
                    let reply = k.reply.split(' ').take(2).collect::<Vec<_>>().join(" ");
                    format!("{}({}) {} -> {reply}", k.member, k.signature, Value::Array(d))
                })
                .collect()
        };
        let (cc_calls, rc_calls) = (calls(&c), calls(&rs));
        let c_log_fallbacks = c
            .module_log()
            .iter()
            .filter(|(sev, t)| *sev == 7 && t == fallback)
            .count();
        if c.open_rc != Some(0)
            || c.close_rc != Some(0)
            || c.env_get("XDG_SESSION_CLASS") != Some(class)
            || c_log_fallbacks != 2
            || cc_calls.len() != 2
            || !cc_calls[0].starts_with("CreateSessionWithPIDFD(uhsssssussbssta(sv))")
            || !cc_calls[0].ends_with("-> return soshusub")
            || !cc_calls[1].starts_with("ReleaseSession(s)")
        {
            problems.push(format!(
                "{name}: forky's module against logind 257: open {:?} close {:?} class {:?} (want 0, 0, {class}), {c_log_fallbacks} fallback line(s) (want 2), calls {cc_calls:#?}\n{}",
                c.open_rc,
                c.close_rc,
                c.env_get("XDG_SESSION_CLASS"),
                c.summary()
            ));
        }
        if rs.open_rc != Some(0) || rs.env_get("XDG_SESSION_CLASS") != Some(class) || rc_calls != cc_calls {
            problems.push(format!(
                "{name}: ours: open {:?} class {:?}; calls (want C 262's) {rc_calls:#?}\n  C 262: {cc_calls:#?}\n{}",
                rs.open_rc,
                rs.env_get("XDG_SESSION_CLASS"),
                rs.summary()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// forky's C module 262 against logind 257 next to ours, where 262's rules choose a class logind
/// 257 does not know: a system user (`daemon`) on a terminal gets `user-light` from 262, which
/// logind 257 refuses ("Invalid session class user-light"), so forky's module fails the login
/// with PAM_SESSION_ERR (14). Ours finds no Varlink socket either, goes to D-Bus, and opens the
/// session with the class logind 257 knows (`user-early`, the 257 request: sent after logind's
/// refusal of the 262 one where our 262 rules choose `user-light`).
#[test]
fn debian14_module_fails_system_user_against_logind_257_ours_opens() {
    let forky = build_root("debian14");
    let (c262, prefix) = c_module_of("debian14");
    let prefix: Vec<&str> = prefix.iter().map(String::as_str).collect();
    let rs_mod = Module::rs_built();
    let _ = (testkit_dir(), pamclient(), testhelper());
    let case = |m: &Module| {
        monitored(
            Case::new(m)
                .world(World::Debian13)
                .user(User::Name("daemon".into()))
                .item("tty", "pts/1"),
        )
        .testbed_opts(&["--bind", forky.to_str().unwrap()])
        .timeout(std::time::Duration::from_secs(90))
    };
    let cc = case(&c262).client_prefix(&prefix);
    let rc = case(&rs_mod);
    let (c, rs) = std::thread::scope(|s| {
        let h = s.spawn(|| cc.run());
        let r = rc.run();
        (h.join().expect("C run panicked"), r)
    });
    let creates = |o: &Outcome| -> Vec<(String, String)> {
        busmon::calls(o)
            .unwrap_or_default()
            .into_iter()
            .filter(|k| k.member.starts_with("CreateSession"))
            .filter(|k| k.data.get(2).and_then(Value::as_str) != Some("systemd-user"))
            .map(|k| {
                let class = k.data.get(4).and_then(Value::as_str).unwrap_or_default().to_string();
                (class, k.error.clone().unwrap_or_default())
            })
            .collect()
    };
    let (c_creates, rs_creates) = (creates(&c), creates(&rs));
    eprintln!(
        "13 -> 14 window, daemon on pts/1: forky's C module open {:?} (creates {c_creates:?}); ours open {:?} class {:?} (creates {rs_creates:?})",
        c.open_rc,
        rs.open_rc,
        rs.env_get("XDG_SESSION_CLASS")
    );
    // forky's C module: user-light, refused by logind 257, the login fails (14).
    assert_eq!(c.open_rc, Some(14), "{}", c.summary());
    assert!(
        c.logged(3, "Failed to create session: Invalid session class user-light"),
        "{}",
        c.summary()
    );
    assert_eq!(
        c_creates,
        [(
            "user-light".to_string(),
            "org.freedesktop.DBus.Error.InvalidArgs".to_string()
        )],
        "{}",
        c.summary()
    );
    // Ours: the session is open, with the class logind 257 took.
    assert_eq!((rs.open_rc, rs.close_rc), (Some(0), Some(0)), "{}", rs.summary());
    assert_eq!(rs.env_get("XDG_SESSION_CLASS"), Some("user-early"), "{}", rs.summary());
    assert_eq!(
        rs_creates.last(),
        Some(&("user-early".to_string(), String::new())),
        "{}",
        rs.summary()
    );
    assert!(
        rs_creates[..rs_creates.len() - 1]
            .iter()
            .all(|(class, err)| class == "user-light" && err == "org.freedesktop.DBus.Error.InvalidArgs"),
        "{rs_creates:?}"
    );
}
