//! Differential tests: the same inputs go through Debian 12's C module
//! (`/lib/x86_64-linux-gnu/security/pam_systemd.so`, systemd 252) and through ours
//! (`target/debug/libpam_systemd_rs.so`, or `$PAM_SYSTEMD_RS_SO`), each in a FRESH testbed with
//! the same kind of logind, and the observable results must be identical:
//!
//! * PAM return codes (open, second open, close, pam_end) and the client's conversation messages;
//! * the PAM environment after open / second open / close (as sets);
//! * the logind calls: `CreateSession` and `ReleaseSession` bodies (and logind's answers) — from
//!   the fake's records (`fake-calls.jsonl`), or, against elogind 246, from a
//!   `busctl --system monitor --json=short` started in the testbed before the client;
//!   our module's `CreateSessionWithPIDFD` attempt must be answered `UnknownMethod` and be
//!   followed by a `CreateSession` with the same arguments (the C module never sends it),
//!   except where the attempt carried 257's request (README "Beyond upstream"): its class may
//!   be a 257-only one, and for the `systemd-user` stack no `CreateSession` follows (252
//!   registers none);
//! * the PAM data `systemd.session-fd` (set or not; if set, to the new FIFO fd with CLOEXEC),
//!   `systemd.existing` and the cached user record `systemd-user-record-<user>`;
//! * the module's syslog lines (severity + text after the `pam_systemd(svc:session): ` /
//!   `pam_systemd_rs(svc:session): ` prefix): equal, except that for
//!   `Failed to create session: ` and `Failed to connect to system bus: ` the C line must be a
//!   prefix of ours (ours appends details); the client PID and the reply's raw fd number
//!   (`session_fd=N` in the debug "Reply from logind" line) are normalised; our debug line
//!   `logind generation N (…)`, which says how the generation was decided, is not compared;
//! * the fds left open (new since the client started): count, type and CLOEXEC flag, not numbers;
//! * the thread count of the client after open / close / end.
//!
//! One `#[test]` per case; each runs the two testbeds concurrently. Cases use elogind (the real
//! thing) where it can produce the situation, the recording fake otherwise (`f_` prefix), and
//! `--logind none` for cases that never reach logind (`n_` prefix). A row about one situation (a
//! fault, a refusal, a reply value) also names an expectation (`mod expect`): what v252 does
//! there, which both runs must meet. In every row, each line our module logs must carry our
//! prefix `pam_systemd_rs(<service>:session): `.
//!
//! Self-check of the harness: `PAM_SYSTEMD_RS_SO=/lib/x86_64-linux-gnu/security/pam_systemd.so
//! cargo test --test differential` compares the C module with itself; every case must pass.
//! `KEEP_CASE_STATE=1` keeps the testbeds' state dirs (`/tmp/pamsd-case-*`) for inspection.

#![allow(non_snake_case)]
mod common;

use common::*;
use std::collections::BTreeMap;
use std::fmt::Write as _;

// ---------------------------------------------------------------------------------------------
// Bus monitor for elogind runs
// ---------------------------------------------------------------------------------------------

/// The case's setup: the shared bus monitor, finished when the case script exits.
fn monitor_setup() -> String {
    format!("{}\ntrap busmon_finish EXIT\n", busmon::SETUP)
}

// ---------------------------------------------------------------------------------------------
// The comparable view of one run
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Default)]
struct View {
    setup_problems: Vec<String>,
    client_rc: Option<i32>,
    start_rc: Option<i32>,
    open_rc: Option<i32>,
    open2_rc: Option<i32>,
    close_rc: Option<i32>,
    end_rc: Option<i32>,
    conv: Vec<String>,
    env: BTreeMap<String, String>,
    env2: BTreeMap<String, String>,
    env_after_close: BTreeMap<String, String>,
    /// Sorted (type, cloexec) of the new fds at each stage.
    fds: Vec<(String, bool)>,
    fds2: Vec<(String, bool)>,
    fds_after_close: Vec<(String, bool)>,
    fds_after_end: Vec<(String, bool)>,
    threads: (Option<u32>, Option<u32>, Option<u32>, Option<u32>),
    /// The process's umask, nice level and limits after open, second open and close (a user
    /// record's umask, niceLevel and resourceLimits).
    process: (ProcessState, ProcessState, ProcessState),
    /// The logind calls that both implementations make (CreateSession, ReleaseSession, fake
    /// events), one normalised string each.
    calls: Vec<String>,
    /// Problems with our CreateSessionWithPIDFD attempts (must be empty).
    pidfd_problems: Vec<String>,
    /// Per helper dump: (session-fd description, existing, user record).
    data: Vec<(String, String, String)>,
    log: Vec<(u32, String)>,
}

fn fd_kinds(v: &[FdInfo]) -> Vec<(String, bool)> {
    let mut k: Vec<(String, bool)> = v.iter().map(|f| (f.kind.clone(), f.cloexec)).collect();
    k.sort();
    k
}

/// Replaces the number after `session_fd=` (the reply's raw fd, which legitimately differs).
fn normalise_session_fd(t: &str) -> String {
    let Some(i) = t.find("session_fd=") else {
        return t.to_string();
    };
    let start = i + "session_fd=".len();
    let rest = &t[start..];
    let n = rest.bytes().take_while(|b| b.is_ascii_digit() || *b == b'-').count();
    if n == 0 {
        return t.to_string();
    }
    format!("{}<fd>{}", &t[..start], &rest[n..])
}

fn view(o: &Outcome, logind: Logind, ours: bool) -> View {
    let c = o.comparable();
    let mut v = View {
        client_rc: o.client_rc,
        start_rc: o.start_rc,
        open_rc: o.open_rc,
        open2_rc: o.open2_rc,
        close_rc: o.close_rc,
        end_rc: o.end_rc,
        conv: o.conv_messages.clone(),
        env: c.env.clone(),
        env2: c.env2.clone(),
        env_after_close: c.env_after_close.clone(),
        fds: fd_kinds(&o.fds),
        fds2: fd_kinds(&o.fds2),
        fds_after_close: fd_kinds(&o.fds_after_close),
        fds_after_end: fd_kinds(&o.fds_after_end),
        threads: (o.threads, o.threads2, o.threads_after_close, o.threads_after_end),
        process: c.process.clone(),
        log: c
            .log
            .iter()
            .filter(|(s, t)| !(*s == 7 && t.starts_with("logind generation ")))
            .map(|(s, t)| (*s, normalise_session_fd(t)))
            .collect(),
        ..Default::default()
    };
    if o.runner_rc != 0 {
        v.setup_problems.push(format!("testbed runner exited {}", o.runner_rc));
    }
    // The process comparison means something only if the client reported the state.
    if o.open_rc.is_some() && (o.process.umask.is_none() || o.process.nice.is_none() || o.process.rlimits.len() != 16) {
        v.setup_problems
            .push("the client reported no process state (umask, nice, 16 rlimits) after open".into());
    }
    if o.client_rc != Some(0) {
        v.setup_problems.push(format!("client exited {:?}", o.client_rc));
    }

    // PAM data: the session fd must be one of the new fds; describe it by type/flag.
    let all_fds: Vec<&FdInfo> = o
        .fds
        .iter()
        .chain(&o.fds2)
        .chain(&o.fds_after_close)
        .chain(&o.fds_after_end)
        .collect();
    for d in &o.dumps {
        let sfd = match d.get("session_fd").map(String::as_str) {
            None => "missing".to_string(),
            Some("unset") => "unset".to_string(),
            Some(n) => match n.parse::<i32>().ok().and_then(|n| all_fds.iter().find(|f| f.fd == n)) {
                Some(f) => format!("set: new fd, type={} cloexec={}", f.kind, f.cloexec),
                None => format!("set: fd {n}, not a new fd of the client"),
            },
        };
        let get = |k: &str| d.get(k).cloned().unwrap_or_else(|| "missing".into());
        v.data.push((sfd, get("existing"), get("user_record")));
    }

    match logind {
        Logind::Elogind => match busmon::calls(o) {
            Err(e) => v.setup_problems.push(e),
            Ok(calls) => {
                let checked = pair::check_pidfd(&calls, ours, false);
                v.calls = checked.comparable;
                v.pidfd_problems = checked.problems;
            }
        },
        _ if logind == Logind::None => {
            if !c.records.is_empty() {
                v.setup_problems
                    .push(format!("records without a fake logind?! {:?}", c.records));
            }
        }
        _ => {
            let recs = &c.records;
            for (i, r) in recs.iter().enumerate() {
                let method = r.get("method").and_then(Value::as_str);
                let unknown = r.get("unknown").and_then(Value::as_bool) == Some(true);
                if method == Some("CreateSessionWithPIDFD") {
                    if !unknown {
                        v.pidfd_problems
                            .push(format!("CreateSessionWithPIDFD served by the fake: {r}"));
                    } else {
                        let next = recs.get(i + 1);
                        let systemd_user =
                            r.get("args").and_then(|a| a.get(2)).and_then(Value::as_str) == Some("systemd-user");
                        let followed = next.and_then(|n| n.get("method")).and_then(Value::as_str)
                            == Some("CreateSession")
                            && next.and_then(|n| n.get("sender_pid")) == r.get("sender_pid");
                        let ok = followed || systemd_user;
                        if !ok {
                            v.pidfd_problems.push(format!(
                                "UnknownMethod CreateSessionWithPIDFD not followed by a CreateSession from the \
                                 same sender: next record {:?}",
                                next.map(|n| n.to_string())
                            ));
                        }
                    }
                    continue;
                }
                v.calls.push(r.to_string());
            }
        }
    }
    // Sanity of the recording itself: a create that the module saw answered must be recorded.
    let answered = v.log.iter().any(|(_, t)| {
        t.starts_with("Reply from logind:")
            || t.starts_with("Not creating session:")
            || t.starts_with("Failed to create session:")
    });
    if answered && logind != Logind::None && !v.calls.iter().any(|k| k.contains("CreateSession")) {
        v.setup_problems
            .push("the module got an answer to CreateSession, but no CreateSession was recorded".into());
    }
    v
}

// ---------------------------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------------------------

/// Lines where ours may append details after the C text.
/// Error lines where ours adds details after the C module's text: ` (what, where, how long)`.
const PREFIX_LINES: &[&str] = &[
    "Failed to create session: ",
    "Failed to connect to system bus: ",
    "Failed to release session: ",
    "Failed to parse bus message: ",
];

fn log_line_matches(c: &(u32, String), r: &(u32, String)) -> bool {
    if c.0 != r.0 {
        return false;
    }
    if PREFIX_LINES.iter().any(|p| c.1.starts_with(p)) {
        is_text_with_details(&c.1, &r.1)
    } else {
        c.1 == r.1
    }
}

fn fmt_map(m: &BTreeMap<String, String>) -> String {
    let mut s = String::new();
    for (k, v) in m {
        writeln!(s, "      {k}={v}").unwrap();
    }
    s
}

fn diff_maps(name: &str, c: &BTreeMap<String, String>, r: &BTreeMap<String, String>, out: &mut Vec<String>) {
    if c == r {
        return;
    }
    let mut s = format!("{name} differs:\n");
    for k in c.keys().chain(r.keys().filter(|k| !c.contains_key(*k))) {
        let (a, b) = (c.get(k), r.get(k));
        if a != b {
            writeln!(s, "    {k}: C={a:?} ours={b:?}").unwrap();
        }
    }
    write!(s, "   C:\n{}   ours:\n{}", fmt_map(c), fmt_map(r)).unwrap();
    out.push(s);
}

fn diff_lists<T: std::fmt::Debug>(name: &str, c: &[T], r: &[T], eq: impl Fn(&T, &T) -> bool, out: &mut Vec<String>) {
    if c.len() == r.len() && c.iter().zip(r).all(|(a, b)| eq(a, b)) {
        return;
    }
    let mut s = format!("{name} differ:\n");
    let n = c.len().max(r.len());
    for i in 0..n {
        let (a, b) = (c.get(i), r.get(i));
        let same = matches!((a, b), (Some(a), Some(b)) if eq(a, b));
        let mark = if same { "  " } else { "!!" };
        writeln!(
            s,
            "  {mark} [{i}] C:    {}",
            a.map(|x| format!("{x:?}")).unwrap_or("-".into())
        )
        .unwrap();
        writeln!(
            s,
            "  {mark} [{i}] ours: {}",
            b.map(|x| format!("{x:?}")).unwrap_or("-".into())
        )
        .unwrap();
    }
    out.push(s);
}

fn compare(c: &View, r: &View) -> Vec<String> {
    let mut d = Vec::new();
    macro_rules! eq_field {
        ($f:ident) => {
            if c.$f != r.$f {
                d.push(format!("{}: C={:?} ours={:?}", stringify!($f), c.$f, r.$f));
            }
        };
    }
    eq_field!(client_rc);
    eq_field!(start_rc);
    eq_field!(open_rc);
    eq_field!(open2_rc);
    eq_field!(close_rc);
    eq_field!(end_rc);
    eq_field!(conv);
    diff_maps("PAM env after open", &c.env, &r.env, &mut d);
    diff_maps("PAM env after second open", &c.env2, &r.env2, &mut d);
    diff_maps("PAM env after close", &c.env_after_close, &r.env_after_close, &mut d);
    eq_field!(fds);
    eq_field!(fds2);
    eq_field!(fds_after_close);
    eq_field!(fds_after_end);
    eq_field!(threads);
    eq_field!(process);
    diff_lists("logind calls", &c.calls, &r.calls, |a, b| a == b, &mut d);
    diff_lists(
        "PAM data dumps (session-fd, existing, user record)",
        &c.data,
        &r.data,
        |a, b| a == b,
        &mut d,
    );
    diff_lists("module log lines", &c.log, &r.log, log_line_matches, &mut d);
    for p in &c.pidfd_problems {
        d.push(format!("C: {p}"));
    }
    for p in &r.pidfd_problems {
        d.push(format!("ours: {p}"));
    }
    d
}

fn prepare(m: &Module, logind: Logind, build: fn(Case) -> Case) -> Case {
    let mut case = build(Case::new(m).logind(logind));
    if logind == Logind::Elogind {
        case.setup.insert(0, monitor_setup());
    }
    case
}

/// Runs one row: the same case through the C module and ours, compared; then the row's own
/// expectation (what v252 does there, stated outright) must hold for both runs, and each of our
/// module's lines must carry our prefix.
fn run_case(name: &str, logind: Logind, build: fn(Case) -> Case, expect: Option<fn(&Outcome)>) {
    let (oc, or) = pair::run(|m| prepare(m, logind, build));
    let vc = view(&oc, logind, false);
    let vr = view(&or, logind, true);
    let mut problems = Vec::new();
    for p in &vc.setup_problems {
        problems.push(format!("C run broken: {p}"));
    }
    for p in &vr.setup_problems {
        problems.push(format!("our run broken: {p}"));
    }
    let diffs = compare(&vc, &vr);
    let service = prepare(&Module::rs(), logind, build).service;
    problems.extend(expectations(&oc, &or, &service, expect));
    if problems.is_empty() && diffs.is_empty() {
        eprintln!("[{name}] identical (C {:?}, ours {:?})", oc.elapsed, or.elapsed);
        return;
    }
    let mut msg = format!("\n=== differential case `{name}` (logind: {logind:?}) ===\n");
    for p in problems.iter().chain(&diffs) {
        writeln!(msg, "* {p}").unwrap();
    }
    writeln!(msg, "--- C run ---\n{}", oc.summary()).unwrap();
    writeln!(msg, "--- our run ---\n{}", or.summary()).unwrap();
    panic!("{msg}");
}

/// The failed absolute checks of a row: its expectation on each run, our prefix on our lines.
fn expectations(oc: &Outcome, or: &Outcome, service: &str, expect: Option<fn(&Outcome)>) -> Vec<String> {
    let mut failed = Vec::new();
    let mut check = |who: &str, f: &dyn Fn()| {
        if let Err(e) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            // The assertion's first and last lines (an `assert_eq!` puts left and right after
            // the message); the runs' summaries follow below anyway.
            let lines: Vec<&str> = msg.lines().collect();
            let kept: Vec<&str> = if lines.len() > 4 {
                lines[..2].iter().chain(&lines[lines.len() - 2..]).copied().collect()
            } else {
                lines
            };
            failed.push(format!("{who}: {}", kept.join(" | ")));
        }
    };
    if let Some(f) = expect {
        check("C run fails the row's expectation", &|| f(oc));
        check("our run fails the row's expectation", &|| f(or));
    }
    // Not in the harness's self-check, where "ours" is the C module too.
    let ours_is_c = Module::rs().path.canonicalize().ok() == Module::c().path.canonicalize().ok();
    if !ours_is_c {
        check("our run", &|| checks::our_prefix_on_every_line(or, service));
    }
    failed
}

// ---------------------------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------------------------

/// `name: Logind => build;` or, with an expectation that both runs must meet,
/// `name: Logind => build, expect::fn_name;`
macro_rules! cases {
    ($($name:ident : $logind:ident => $build:expr $(, $expect:expr)?;)*) => {
        $(
            #[test]
            fn $name() {
                #[allow(unused_mut, unused_assignments)]
                let mut expect: Option<fn(&Outcome)> = None;
                $(expect = Some($expect);)?
                run_case(stringify!($name), Logind::$logind, $build, expect);
            }
        )*
        /// Every case, for listing.
        #[allow(dead_code)]
        const ALL_CASES: &[(&str, Logind)] = &[$((stringify!($name), Logind::$logind)),*];
    };
}

const LIMITS: [&str; 5] = [
    "systemd.memory_max",
    "systemd.tasks_max",
    "systemd.cpu_weight",
    "systemd.io_weight",
    "systemd.runtime_max_sec",
];

fn limits(c: Case, vals: [&str; 5]) -> Case {
    LIMITS.iter().zip(vals).fold(c, |c, (k, v)| c.pam_data(k, v))
}

cases! {
    // --- behaviour.md cases 1, 2: the plain remote pts session, open + close ---------------------
    e01_pts_remote: Elogind => |c| c.item("tty", "/dev/pts/3").item("rhost", "192.168.1.5").item("ruser", "bob");
    f01_pts_remote_bus_file: Fake => |c| c.item("tty", "/dev/pts/3").item("rhost", "192.168.1.5").item("ruser", "bob")
        .fake_conf("runtime_bus", "1"), expect::open_and_close;
    e02_no_items_no_debug: Elogind => |c| c.args(&[]);
    e03_pts0_short: Elogind => |c| c.item("tty", "pts/0");

    // --- behaviour.md case 30: tty forms ---------------------------------------------------------
    e10_tty_colon0: Elogind => |c| c.item("tty", ":0");
    e11_tty_a_colon_b: Elogind => |c| c.item("tty", "a:b");
    e12_tty_colon_with_xdisplay: Elogind => |c| c.item("tty", ":5").item("xdisplay", ":7");
    e13_tty_cron_overrides_env: Elogind => |c| c.item("tty", "cron")
        .penv("XDG_SESSION_CLASS", "user").penv("XDG_SESSION_TYPE", "x11");
    e14_tty_ssh_overrides_env: Elogind => |c| c.item("tty", "ssh").penv("XDG_SESSION_CLASS", "greeter");
    e15_tty_upper_ssh: Elogind => |c| c.item("tty", "SSH");
    e16_tty_dev_cron: Elogind => |c| c.item("tty", "/dev/cron").args(&["debug", "class=background"]);
    e17_tty_double_slashes: Elogind => |c| c.item("tty", "//dev//pts/1");
    e18_tty_dev_only: Elogind => |c| c.item("tty", "/dev/");
    e19_tty_dev_no_slash: Elogind => |c| c.item("tty", "/dev");
    e20_tty_relative_dev: Elogind => |c| c.item("tty", "dev/pts/1");
    e21_tty_console: Elogind => |c| c.item("tty", "console");
    e22_tty7_with_xdisplay: Elogind => |c| c.item("tty", "tty7").item("xdisplay", ":1");
    f22_tty7_with_xdisplay: Fake => |c| c.item("tty", "tty7").item("xdisplay", ":1");
    f23_tty_dot_component: Fake => |c| c.item("tty", "/dev/./tty3");
    f24_tty_cron_with_args: Fake => |c| c.item("tty", "cron").args(&["debug", "class=greeter", "type=wayland", "desktop=X"]);
    f25_tty_empty_string: Fake => |c| c.item("tty", "");
    f26_xdisplay_only: Fake => |c| c.item("xdisplay", ":3").penv("XDG_SEAT", "seat0");

    // --- behaviour.md cases 10, 11: arguments vs PAM env vs process env --------------------------
    e30_args_class_type_desktop: Elogind => |c| c.args(&["debug", "class=greeter", "type=wayland", "desktop=KDE"])
        .item("tty", "pts/0");
    e31_penv_env_args_precedence: Elogind => |c| c.args(&["debug", "class=greeter", "type=wayland", "desktop=KDE"])
        .item("tty", "pts/0")
        .penv("XDG_SESSION_TYPE", "x11").penv("XDG_SESSION_DESKTOP", "")
        .env("XDG_SESSION_DESKTOP", "GNOME").env("XDG_SESSION_CLASS", "lock-screen");
    f32_process_env_seat_vtnr: Fake => |c| c.item("tty", "pts/4").env("XDG_SEAT", "seat0").env("XDG_VTNR", "5")
        .penv("XDG_SEAT", "");
    f33_args_last_wins_and_empty: Fake => |c| c.args(&["class=user", "debug", "class=", "type=mir", "type=web", "desktop="])
        .item("tty", "pts/9");

    // --- behaviour.md cases 7 and 8: seats and VT numbers ----------------------------------------
    f40_non_seat0_vtnr_reset: Fake => |c| c.item("tty", "/dev/tty1").env("XDG_SEAT", "seat1").env("XDG_VTNR", "3");
    e40_non_seat0_vtnr_reset: Elogind => |c| c.item("tty", "/dev/tty1").env("XDG_SEAT", "seat1").env("XDG_VTNR", "3");
    f41_vtnr_hex: Fake => |c| c.penv("XDG_SEAT", "seat0").penv("XDG_VTNR", "0x10");
    f42_vtnr_octal: Fake => |c| c.penv("XDG_SEAT", "seat0").penv("XDG_VTNR", "010");
    f43_vtnr_leading_space: Fake => |c| c.penv("XDG_SEAT", "seat0").penv("XDG_VTNR", " 7");
    f44_vtnr_plus: Fake => |c| c.penv("XDG_SEAT", "seat0").penv("XDG_VTNR", "+5");
    f45_vtnr_garbage: Fake => |c| c.penv("XDG_SEAT", "seat0").penv("XDG_VTNR", "abc");
    f46_vtnr_negative: Fake => |c| c.penv("XDG_SEAT", "seat0").penv("XDG_VTNR", "-1");
    f47_vtnr_too_big: Fake => |c| c.penv("XDG_SEAT", "seat0").penv("XDG_VTNR", "4294967296");
    f48_vtnr_minus_zero_and_junk: Fake => |c| c.penv("XDG_SEAT", "seat0").penv("XDG_VTNR", "-0").env("XDG_VTNR", "9x");
    e49_vtnr_with_vt_tty: Elogind => |c| c.item("tty", "tty2").penv("XDG_VTNR", "0x3");
    e49b_vtnr_seat0_no_tty: Elogind => |c| c.penv("XDG_SEAT", "seat0").penv("XDG_VTNR", "010");

    // --- behaviour.md case 9: rhost forms --------------------------------------------------------
    e50_rhost_localhost: Elogind => |c| c.item("tty", "pts/1").item("rhost", "localhost");
    e51_rhost_upper_localhost_dot: Elogind => |c| c.item("tty", "pts/1").item("rhost", "LOCALHOST.");
    e52_rhost_sub_localhost: Elogind => |c| c.item("tty", "pts/1").item("rhost", "foo.localhost");
    e53_rhost_localdomain: Elogind => |c| c.item("tty", "pts/1").item("rhost", "localhost.localdomain");
    e54_rhost_ipv4_loopback: Elogind => |c| c.item("tty", "pts/1").item("rhost", "127.0.0.1");
    e55_rhost_ipv6_loopback: Elogind => |c| c.item("tty", "pts/1").item("rhost", "::1").item("ruser", "root");
    e56_rhost_empty: Elogind => |c| c.item("tty", "pts/1").item("rhost", "").item("ruser", "alice");
    f57_rhost_variants_fake: Fake => |c| c.item("rhost", "x.Localhost.LocalDomain.");
    f58_rhost_localhostx: Fake => |c| c.item("rhost", "localhostx").item("ruser", "");

    // --- logind refusals (real elogind) -------------------------------------------------------
    e60_invalid_class: Elogind => |c| c.args(&["debug", "class=bogus"]).item("tty", "pts/1");
    e61_invalid_type: Elogind => |c| c.penv("XDG_SESSION_TYPE", "teletype").item("tty", "pts/1");
    e62_unknown_seat: Elogind => |c| c.penv("XDG_SEAT", "seat9").item("tty", "pts/1");
    e63_desktop_with_quote: Elogind => |c| c.penv("XDG_SESSION_DESKTOP", "KDE\"x").item("tty", "pts/1");
    f64_invalid_args_error: Fake => |c| c.item("tty", "pts/1")
        .fake_conf("create_error", "org.freedesktop.DBus.Error.InvalidArgs")
        .fake_conf("create_error_msg", "Invalid session class bogus"), expect::invalid_args_error;

    // --- behaviour.md case 25: non-UTF-8 ---------------------------------------------------------
    e70_non_utf8_rhost: Elogind => |c| c.item("tty", "pts/1").item("rhost", "h\\xff");
    e71_non_utf8_desktop: Elogind => |c| c.item("tty", "pts/1").penv("XDG_SESSION_DESKTOP", "\\xc3\\x28");
    f72_non_utf8_ruser_via_env_type: Fake => |c| c.item("ruser", "b\\xe9b").item("tty", "pts/1");

    // --- behaviour.md cases 20, 10: user problems ------------------------------------------------
    e75_unknown_user: Elogind => |c| c.user(User::Name("nosuchuser".into())).item("tty", "pts/1"), expect::unknown_user;
    n76_unset_user_conv_fails: None => |c| c.user(User::Unset).flag("--conv-fail"), expect::conv_fails;
    e77_unset_user_conv_answers: Elogind => |c| c.user(User::Unset).item("tty", "pts/2");
    e78_second_user: Elogind => |c| c.user(User::User2).item("tty", "pts/6").item("rhost", "example.org");

    // --- behaviour.md cases 12–15: session limits from an earlier module -------------------------
    f80_limits_case12: Fake => |c| limits(c, ["50%", "77", "idle", "20000", "1h30min"]), expect::limits_case12;
    f81_limits_case13: Fake => |c| limits(c, ["1G", "infinity", "100", "abc", "infinity"]), expect::limits_case13;
    f82_limits_case14: Fake => |c| limits(c, ["infinity", "0x10", "0", "1", "5"]), expect::limits_case14;
    f83_limits_case15: Fake => |c| limits(c, ["12.34%", "-1", "10000", "", "bogus"]), expect::limits_case15;
    f84_limits_more_forms: Fake => |c| limits(c, ["1.5K", "18446744073709551615", "10001", "10000", "1d 2h"]);
    f85_limits_permille: Fake => |c| limits(c, ["5‰", " 12", "00100", "+7", "500ms"]);
    f86_limits_single: Fake => |c| c.pam_data("systemd.memory_max", "101%").pam_data("systemd.io_weight", "idle");
    e87_limits_elogind: Elogind => |c| limits(c, ["1G", "77", "100", "200", "1h"]).item("tty", "pts/1");

    // --- behaviour.md case 24: systemd-user ------------------------------------------------------
    e90_systemd_user_no_runtime_dir: Elogind => |c| c.service("systemd-user");
    f91_systemd_user_runtime_dir_with_bus: Fake => |c| c.service("systemd-user")
        .setup("mkdir -p /run/user/{UID1} && chown {UID1} /run/user/{UID1} && touch /run/user/{UID1}/bus");
    f92_systemd_user_runtime_dir_wrong_owner: Fake => |c| c.service("systemd-user")
        .setup("mkdir -p /run/user/{UID1}");

    // --- SessionBusy (behaviour.md cases 16, 17), second open ------------------------------------
    f100_open_twice_session_busy: Fake => |c| c.item("tty", "pts/2").flag("--open-twice")
        .fake_conf("session_busy_on_second", "1"), expect::one_session_for_two_opens;
    f101_session_busy: Fake => |c| c.item("tty", "pts/2")
        .fake_conf("create_error", "org.freedesktop.login1.SessionBusy")
        .fake_conf("create_error_msg", "Already running in a session or user slice"), expect::session_busy;
    f102_session_busy_preset_id_released: Fake => |c| c.item("tty", "pts/2").penv("XDG_SESSION_ID", "77")
        .fake_conf("create_error", "org.freedesktop.login1.SessionBusy")
        .fake_conf("create_error_msg", "busy"), expect::busy_releases_preset_id;
    e103_close_only_unknown_id: Elogind => |c| c.penv("XDG_SESSION_ID", "c99").flag("--close-only");
    f104_close_only_releases_preset_id: Fake => |c| c.penv("XDG_SESSION_ID", "c9").flag("--close-only"),
        expect::close_only_releases_preset_id;

    // --- behaviour.md case 29: argument parsing --------------------------------------------------
    e110_debug_maybe_bogus_class_empty: Elogind => |c| c.args(&["debug=maybe", "bogus", "class="]).item("tty", "pts/1");
    f111_debug_bool_forms: Fake => |c| c.args(&["debug=YES", "debug=off", "type=", "desktop=a b", "debug=T"]);
    f112_debug_off_errors_still_logged: Fake => |c| c.args(&["debug=0", "debugx", "Class=user"])
        .fake_conf("create_error", "org.freedesktop.login1.NoSuchSeat")
        .fake_conf("create_error_msg", "No seat 'x' known"), expect::no_such_seat_error;

    // --- behaviour.md cases 28, 19: gate and bus -------------------------------------------------
    e120_no_seats: Elogind => |c| c.no_seats().item("tty", "pts/1"), expect::no_seats;
    n121_no_seats_unknown_user: None => |c| c.no_seats().user(User::Name("nosuchuser".into()));
    n122_missing_bus_socket: None => |c| c.bus(Bus::Address("unix:path=/run/nonexistent/bus".into())).item("tty", "pts/1"),
        expect::missing_bus_socket;
    n123_half_bus: None => |c| c.bus(Bus::HalfBus).item("tty", "pts/1");
    n124_no_logind_on_bus: None => |c| c.item("tty", "pts/1"), expect::no_logind_on_bus;
    n125_no_bus_socket_at_default_path: None => |c| c.setup("rm -f /run/dbus/system_bus_socket").item("tty", "pts/1"),
        expect::no_socket_at_default_path;
    n126_bus_socket_refusing: None => |c| c
        .setup("python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' {STATE}/dead.sock")
        .bus(Bus::Address("unix:path={STATE}/dead.sock".into())).item("tty", "pts/1"),
        expect::bus_refusing;

    // --- behaviour.md cases 21, 22, 23, 26, 27: reply handling (fake) ----------------------------
    f130_existing_true_then_close: Fake => |c| c.item("tty", "pts/1").fake_conf("reply_existing", "1"),
        expect::existing_not_released;
    f131_release_error: Fake => |c| c.item("tty", "pts/1")
        .fake_conf("release_error", "org.freedesktop.login1.NoSuchSession")
        .fake_conf("release_error_msg", "No session 'c1' known"), expect::release_error;
    f132_reply_uid_mismatch: Fake => |c| c.item("tty", "pts/1").fake_conf("reply_uid", "0").fake_conf("runtime_bus", "1"),
        expect::uid_mismatch;
    f133_runtime_dir_root_owned: Fake => |c| c.item("tty", "pts/1")
        .setup("mkdir -p /run/rootdir")
        .fake_conf("reply_runtime_path", "/run/rootdir"), expect::runtime_dir_not_owned;
    f134_runtime_dir_symlink: Fake => |c| c.item("tty", "pts/1")
        .setup("mkdir -p /run/user/{UID1} && chown {UID1} /run/user/{UID1} && ln -s /run/user/{UID1} /run/link")
        .fake_conf("reply_runtime_path", "/run/link"), expect::runtime_dir_not_a_dir;
    f135_runtime_dir_relative: Fake => |c| c.item("tty", "pts/1").fake_conf("reply_runtime_path", "relative/dir"),
        expect::runtime_dir_relative;
    f136_runtime_dir_missing: Fake => |c| c.item("tty", "pts/1")
        .fake_conf("reply_runtime_path", "/run/user/nonexistent").fake_conf("create_runtime_dir", "0"),
        expect::runtime_dir_missing;
    f137_runtime_dir_is_file: Fake => |c| c.item("tty", "pts/1")
        .setup("touch /run/afile && chown {UID1} /run/afile")
        .fake_conf("reply_runtime_path", "/run/afile"), expect::runtime_dir_not_a_dir;
    f138_reply_42_seat0_vtnr2: Fake => |c| c.item("tty", "tty2")
        .fake_conf("reply_id", "42").fake_conf("reply_seat", "seat0").fake_conf("reply_vtnr", "2"), expect::reply_values;
    f139_reply_empty_seat_keeps_env: Fake => |c| c.item("tty", "pts/1").penv("XDG_SEAT", "seat0").penv("XDG_VTNR", "4")
        .fake_conf("reply_seat", "").fake_conf("reply_vtnr", "0");
    f140_logind_exits_without_reply: Fake => |c| c.item("tty", "pts/1").fake_conf("create_mode", "exit"),
        expect::logind_exits;
    f141_wrong_reply_signature: Fake => |c| c.item("tty", "pts/1").fake_conf("create_mode", "wrong-signature"),
        expect::wrong_signature;
    f143_reply_fd_not_a_fifo: Fake => |c| c.item("tty", "pts/1").fake_conf("create_mode", "bad-fd"),
        expect::fd_not_a_fifo;
    f144_bus_gone_before_close: Fake => |c| c.item("tty", "pts/1").after_open("rm -f /run/dbus/system_bus_socket"),
        expect::bus_gone_before_close;
    f142_access_denied: Fake => |c| c.item("tty", "pts/1")
        .fake_conf("create_error", "org.freedesktop.DBus.Error.AccessDenied")
        .fake_conf("create_error_msg", "Permission denied");

    // --- more tty / VT forms against the real logind ------------------------------------------
    e150_tty0: Elogind => |c| c.item("tty", "/dev/tty0");
    e151_tty64: Elogind => |c| c.item("tty", "tty64");
    e152_ttyS0: Elogind => |c| c.item("tty", "ttyS0");
    e153_tty3_seat0_vtnr_mismatch: Elogind => |c| c.item("tty", "tty3").penv("XDG_SEAT", "seat0").penv("XDG_VTNR", "4");
    e154_console_with_vtnr: Elogind => |c| c.item("tty", "/dev/console").env("XDG_VTNR", "1");
    e155_xdisplay_only: Elogind => |c| c.item("xdisplay", ":9");
    e156_tty_control_char: Elogind => |c| c.item("tty", "pts/1\x01");
    e157_desktop_with_space: Elogind => |c| c.penv("XDG_SESSION_DESKTOP", "a b").item("tty", "pts/1");
    e158_ruser_only: Elogind => |c| c.item("ruser", "carol").item("tty", "pts/8");
    e159_root_user: Elogind => |c| c.user(User::Name("root".into())).item("tty", "pts/3").item("rhost", "LocalHost.LocalDomain");

    // --- env precedence, more -----------------------------------------------------------------
    e160_type_from_process_env_only: Elogind => |c| c.env("XDG_SESSION_TYPE", "wayland").penv("XDG_SESSION_TYPE", "")
        .env("XDG_SESSION_CLASS", "").args(&["debug", "class=lock-screen"]).item("tty", "pts/1");
    e161_preset_session_id_overwritten: Elogind => |c| c.penv("XDG_SESSION_ID", "zz").penv("XDG_RUNTIME_DIR", "/tmp")
        .item("tty", "pts/1");
    e162_bus_address_in_pam_env_ignored: Elogind => |c| c.penv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent")
        .item("tty", "pts/1");
    e163_bus_address_alternatives: Elogind => |c| c.bus(Bus::Address(
        "unix:path=/run/nonexistent.sock;unix:path=/run/dbus/system_bus_socket".into())).item("tty", "pts/1");
    e164_open_twice_elogind: Elogind => |c| c.item("tty", "pts/2").flag("--open-twice");
    e165_close_only_no_id: Elogind => |c| c.flag("--close-only");
    e166_no_close: Elogind => |c| c.item("tty", "pts/2").flag("--no-close");

    // --- bus addresses that fail ---------------------------------------------------------------
    n170_bus_address_garbage: None => |c| c.bus(Bus::Address("garbage".into())).item("tty", "pts/1");
    n171_bus_abstract_refused: None => |c| c.bus(Bus::Address("unix:abstract=/nonexistent/pamsd".into()));
    n172_bus_socket_is_file: None => |c| c.bus(Bus::Address("unix:path={STATE}/fake.conf".into()));

    // --- user name edge cases -----------------------------------------------------------------
    n175_empty_user_name: None => |c| c.user(User::Name("".into()));
    n176_no_seats_systemd_user: None => |c| c.no_seats().service("systemd-user");
    // A user record cached by an earlier module that cannot be used: the parse and load
    // failures have their own lines and errnos (`Failed to parse JSON user record: %m` /
    // `Failed to load user record: %m`), a foreign record its own line; all PAM_SERVICE_ERR.
    n180_cached_record_not_json: None => |c| c.pam_data("systemd-user-record-{USER1}", "{").item("tty", "pts/1");
    n181_cached_record_not_object: None => |c| c.pam_data("systemd-user-record-{USER1}", "[1]").item("tty", "pts/1");
    n182_cached_record_secret: None => |c| c.pam_data("systemd-user-record-{USER1}", r#"{"userName":"{USER1}","uid":{UID1},"secret":{}}"#).item("tty", "pts/1");
    n183_cached_record_no_name: None => |c| c.pam_data("systemd-user-record-{USER1}", r#"{"uid":{UID1}}"#).item("tty", "pts/1");
    n184_cached_record_other_user: None => |c| c.pam_data("systemd-user-record-{USER1}", r#"{"userName":"root","uid":0}"#).item("tty", "pts/1");
    // The record's environment settings (as pam_systemd_home caches them), applied at "success":
    // only names not set yet (FOO stays), EMAIL, TZ when the zone file exists, LANG when the
    // locale is installed; on every success path (no logind; a session on elogind).
    n185_cached_record_settings: None => |c| c.pam_data("systemd-user-record-{USER1}", r#"{"userName":"{USER1}","uid":{UID1},"environment":["FOO=bar","EDITOR=vi","FOO=baz"],"emailAddress":"u@example.org","timeZone":"Europe/Berlin","preferredLanguage":"C.UTF-8"}"#).penv("FOO", "preset").args(&["debug"]).no_seats().item("tty", "pts/1");
    n186_cached_record_settings_refused: None => |c| c.pam_data("systemd-user-record-{USER1}", r#"{"userName":"{USER1}","uid":{UID1},"environment":["OK=1","1BAD=2"],"emailAddress":"a\\b","timeZone":"Mars/Base","preferredLanguage":"de_DE.UTF-8"}"#).args(&["debug"]).no_seats().item("tty", "pts/1");
    n187_cached_record_settings_per_machine: None => |c| c.pam_data("systemd-user-record-{USER1}", r#"{"userName":"{USER1}","uid":{UID1},"timeZone":"UTC","perMachine":[{"matchHostname":"no-such-host","timeZone":"Asia/Tokyo","environment":["X=1"]}]}"#).args(&["debug"]).no_seats().item("tty", "pts/1");
    // The record's process settings (umask, niceLevel, resourceLimits), applied to the client
    // process: umask first, nice() and setrlimit_closest() after the languages; failures are
    // logged and ignored. NOFILE above fs.nr_open is EPERM even for root: setrlimit_closest
    // falls back to the hard limit.
    n188_cached_record_process: None => |c| c.pam_data("systemd-user-record-{USER1}", r#"{"userName":"{USER1}","uid":{UID1},"umask":63,"niceLevel":3,"resourceLimits":{"RLIMIT_CORE":{"cur":0,"max":0},"RLIMIT_NOFILE":{"cur":512,"max":1024},"RLIMIT_MSGQUEUE":{"cur":4096,"max":null}}}"#).args(&["debug"]).no_seats().item("tty", "pts/1"), expect::process_applied;
    n189_cached_record_process_closest: None => |c| c.pam_data("systemd-user-record-{USER1}", r#"{"userName":"{USER1}","uid":{UID1},"resourceLimits":{"RLIMIT_CPU":{"cur":5,"max":2},"RLIMIT_NOFILE":{"cur":99999999,"max":99999999}},"perMachine":[{"matchHostname":"no-such-host","umask":0}]}"#).args(&["debug"]).no_seats().item("tty", "pts/1"), expect::process_closest;
    e188_cached_record_process_session: Elogind => |c| c.pam_data("systemd-user-record-{USER1}", r#"{"userName":"{USER1}","uid":{UID1},"umask":18,"niceLevel":1,"resourceLimits":{"RLIMIT_CORE":{"cur":0,"max":0}}}"#).item("tty", "pts/1");
    e185_cached_record_settings_session: Elogind => |c| c.pam_data("systemd-user-record-{USER1}", r#"{"userName":"{USER1}","uid":{UID1},"environment":["FOO=bar","XDG_SESSION_TYPE=wayland"],"emailAddress":"u@example.org","timeZone":"UTC","preferredLanguage":"POSIX"}"#).args(&["debug"]).item("tty", "pts/1");

    // --- limits, more forms ---------------------------------------------------------------------
    f180_limits_zeros: Fake => |c| limits(c, ["0%", "0", "1", "10000", "0"]);
    f181_limits_whitespace: Fake => |c| limits(c, [" 1G", "12 ", "  100", "1e3", "1 h"]);
    f182_limits_hundred_percent: Fake => |c| limits(c, ["100%", "1000000", "IDLE", "0x10", "2 weeks"]);
    f183_limits_sizes: Fake => |c| limits(c, ["1T 512M", "010", "050", "  7", "1y"]);
    f184_limits_with_session_busy: Fake => |c| limits(c, ["2M", "5", "5", "5", "5min"])
        .fake_conf("create_error", "org.freedesktop.login1.SessionBusy").fake_conf("create_error_msg", "x");

    // --- items and replies, more edges ----------------------------------------------------------
    f192_runtime_bus_dangling_symlink: Fake => |c| c.item("tty", "pts/1")
        .setup("mkdir -p /run/user/{UID1} && chown {UID1} /run/user/{UID1} && ln -s /nonexistent /run/user/{UID1}/bus");
    f193_runtime_path_trailing_slash: Fake => |c| c.item("tty", "pts/1").fake_conf("runtime_bus", "1")
        .setup("mkdir -p /run/user/{UID1} && chown {UID1} /run/user/{UID1} && touch /run/user/{UID1}/bus")
        .fake_conf("reply_runtime_path", "/run/user/{UID1}/");
    f194_reply_empty_id: Fake => |c| c.item("tty", "pts/1").fake_conf("reply_id", "");
    f195_reply_other_seat_big_vtnr: Fake => |c| c.item("tty", "pts/1")
        .fake_conf("reply_seat", "seat1").fake_conf("reply_vtnr", "4294967295");
    f196_rhost_leading_space: Fake => |c| c.item("rhost", " localhost").item("tty", "ssh").args(&["debug", "type=x11"]);
    f197_non_utf8_tty: Fake => |c| c.item("tty", "pts/\\xff");
    f198_non_utf8_seat_env: Fake => |c| c.env("XDG_SEAT", "s\\xfe");
    f199_close_only_non_utf8_id: Fake => |c| c.penv("XDG_SESSION_ID", "\\xff").flag("--close-only");
    f200_close_only_empty_id: Fake => |c| c.penv("XDG_SESSION_ID", "").flag("--close-only");
    f201_close_only_release_access_denied: Fake => |c| c.penv("XDG_SESSION_ID", "c5").flag("--close-only")
        .fake_conf("release_error", "org.freedesktop.DBus.Error.AccessDenied").fake_conf("release_error_msg", "nope");
}

/// The rows' expectations: what v252 does in that case, stated outright, so that a row cannot
/// pass because both runs missed the situation it is about. Each must hold for the C run and ours.
mod expect {
    use super::checks::{no_session_env, session_vars, survived};
    use super::*;

    fn has_env(o: &Outcome, k: &str) -> bool {
        o.env.iter().any(|(n, _)| n == k)
    }

    fn dump<'a>(o: &'a Outcome, k: &str) -> Option<&'a str> {
        o.dumps.first().and_then(|d| d.get(k)).map(String::as_str)
    }

    /// The one create call logind served (an `UnknownMethod` PIDFD attempt is not served).
    fn create(o: &Outcome) -> &Value {
        let c = o.creates();
        assert_eq!(c.len(), 1, "expected one create call\n{}", o.summary());
        c[0]
    }

    fn props(o: &Outcome) -> Vec<Value> {
        create(o)
            .get("props")
            .and_then(Value::as_array)
            .expect("props")
            .to_vec()
    }

    fn prop(name: &str, sig: &str, v: u64) -> Value {
        Value::Array(vec![name.into(), sig.into(), v.into()])
    }

    /// The ids of the ReleaseSession calls.
    fn released(o: &Outcome) -> Vec<&str> {
        o.calls("ReleaseSession")
            .iter()
            .map(|r| r.get("id").and_then(Value::as_str).unwrap_or("<none>"))
            .collect()
    }

    /// The login1 Manager calls the bus monitor saw (elogind rows).
    fn bus_calls(o: &Outcome) -> Vec<String> {
        match busmon::calls(o) {
            Ok(c) => c.into_iter().map(|c| c.member).collect(),
            Err(e) => panic!("{e}\n{}", o.summary()),
        }
    }

    /// A plain remote login with a bus file: the request, the env, the session fd kept as PAM
    /// data until the process exits, the user record cached, one thread; close releases the
    /// session from the client process and keeps the env.
    /// n188: umask 077, nice raised by 3, CORE 0:0, NOFILE 512:1024, MSGQUEUE 4096 under the
    /// hard limit it had, one debug line each, in C's order.
    pub fn process_applied(o: &Outcome) {
        let s = o.summary();
        assert_eq!(o.open_rc, Some(0), "{s}");
        let p = &o.process;
        assert_eq!(p.umask.as_deref(), Some("0077"), "{s}");
        let before: i32 = o.process_before.nice.as_deref().unwrap().parse().unwrap();
        assert_eq!(
            p.nice.as_deref(),
            Some((before + 3).min(19).to_string().as_str()),
            "{s}"
        );
        assert_eq!(p.rlimit("CORE"), Some("0:0"), "{s}");
        assert_eq!(p.rlimit("NOFILE"), Some("512:1024"), "{s}");
        // Raising a hard limit needs CAP_SYS_RESOURCE, which the testbed's root lacks: EPERM,
        // and setrlimit_closest settles for the hard limit.
        let hard = o
            .process_before
            .rlimit("MSGQUEUE")
            .unwrap()
            .split(':')
            .nth(1)
            .unwrap()
            .to_string();
        assert_eq!(p.rlimit("MSGQUEUE"), Some(format!("4096:{hard}").as_str()), "{s}");
        let lines: Vec<String> = o
            .module_log()
            .into_iter()
            .filter(|(sev, t)| *sev == 7 && (t.contains("umask") || t.contains("Nice") || t.contains("Resource limit")))
            .map(|(_, t)| t)
            .collect();
        assert_eq!(
            lines,
            [
                "Set user umask to 0077 based on user record.",
                "Nice level set to 3, based on user record.",
                "Resource limit CORE set, based on user record.",
                "Resource limit NOFILE set, based on user record.",
                "Resource limit MSGQUEUE set, based on user record.",
            ],
            "{s}"
        );
    }

    /// n189: CPU cur > max is EINVAL (ERR, ignored); NOFILE above fs.nr_open ends at the hard
    /// limit; the umask of a perMachine entry for another host is not applied.
    pub fn process_closest(o: &Outcome) {
        let s = o.summary();
        assert_eq!(o.open_rc, Some(0), "{s}");
        assert_eq!(o.process.umask, o.process_before.umask, "{s}");
        assert_eq!(o.process.rlimit("CPU"), o.process_before.rlimit("CPU"), "{s}");
        let hard = o
            .process_before
            .rlimit("NOFILE")
            .unwrap()
            .split(':')
            .nth(1)
            .unwrap()
            .to_string();
        assert_eq!(
            o.process.rlimit("NOFILE"),
            Some(format!("{hard}:{hard}").as_str()),
            "{s}"
        );
        assert!(
            o.logged(3, "Failed to set resource limit CPU, ignoring: Invalid argument"),
            "{s}"
        );
        assert!(o.logged(7, "Resource limit NOFILE set, based on user record."), "{s}");
    }

    pub fn open_and_close(o: &Outcome) {
        survived(o);
        let s = o.summary();
        assert_eq!(o.open_rc, Some(PAM_SUCCESS), "{s}");
        let c = create(o);
        assert_eq!(c.get("method").and_then(Value::as_str), Some("CreateSession"), "{s}");
        let args = c.get("args").and_then(Value::as_array).expect("args").to_vec();
        let uid = args.first().and_then(Value::as_u64).expect("uid");
        let expected: Vec<Value> = vec![
            uid.into(),
            0u32.into(),
            "pamtest".into(),
            "tty".into(),
            "user".into(),
            "".into(),
            "".into(),
            0u32.into(),
            "pts/3".into(),
            "".into(),
            true.into(),
            "bob".into(),
            "192.168.1.5".into(),
        ];
        assert_eq!(args, expected, "{s}");
        assert_eq!(props(o), Vec::<Value>::new(), "{s}");
        // The call comes from the client process itself (the comparison sees it as `<pid>`).
        assert_eq!(c.get("sender_pid").and_then(Value::as_i64), o.pid, "{s}");
        assert!(
            o.comparable()
                .records
                .iter()
                .any(|r| r.get("sender_pid").and_then(Value::as_str) == Some("<pid>")),
            "{s}"
        );

        let rt = format!("/run/user/{uid}");
        assert_eq!(o.env_get("XDG_SESSION_ID"), Some("c1"), "{s}");
        assert_eq!(o.env_get("XDG_RUNTIME_DIR"), Some(rt.as_str()), "{s}");
        let bus = format!("unix:path={rt}/bus");
        assert_eq!(o.env_get("DBUS_SESSION_BUS_ADDRESS"), Some(bus.as_str()), "{s}");
        assert_eq!(o.env_get("XDG_SESSION_TYPE"), Some("tty"), "{s}");
        assert_eq!(o.env_get("XDG_SESSION_CLASS"), Some("user"), "{s}");
        for k in ["XDG_SEAT", "XDG_VTNR", "XDG_SESSION_DESKTOP"] {
            assert!(!has_env(o, k), "{k}\n{s}");
        }

        // Exactly one new FIFO fd, >= 3, CLOEXEC; it is the one stored as PAM data.
        let fifos = o.new_fifos();
        assert_eq!(fifos.len(), 1, "{s}");
        assert!(fifos[0].fd >= 3 && fifos[0].cloexec, "{s}");
        assert_eq!(dump(o, "session_fd"), Some(fifos[0].fd.to_string().as_str()), "{s}");
        assert_eq!(dump(o, "existing"), Some("0"), "{s}");
        // The user record was cached as PAM data (JSON with the user's name).
        let rec = dump(o, "user_record").unwrap_or_default();
        assert!(rec.starts_with('{') && rec.contains("\"userName\":\"pamtest1\""), "{s}");

        // Close releases the session, from the client process, and keeps the env.
        assert_eq!(o.close_rc, Some(PAM_SUCCESS), "{s}");
        assert_eq!(o.end_rc, Some(PAM_SUCCESS), "{s}");
        let rel = o.calls("ReleaseSession");
        assert_eq!(rel.len(), 1, "{s}");
        assert_eq!(rel[0].get("id").and_then(Value::as_str), Some("c1"), "{s}");
        assert_eq!(rel[0].get("sender_pid").and_then(Value::as_i64), o.pid, "{s}");
        assert_eq!(o.env_after_close, o.env, "{s}");
        // The session fd stays open after close and after pam_end ...
        let fifo = fifos[0].fd;
        assert!(
            o.fds_after_close.iter().any(|f| f.fd == fifo && f.kind == "fifo"),
            "{s}"
        );
        assert!(o.fds_after_end.iter().any(|f| f.fd == fifo && f.kind == "fifo"), "{s}");
        // ... and the fake agrees: asked just before the client exits (the probe polls the
        // FIFO's read end then and there, and records any EOF it finds before its answer), the
        // session still has a writer and no EOF has been recorded ...
        let id = c.get("reply").and_then(|r| r.get("id")).and_then(Value::as_str);
        assert_eq!(id, Some("c1"), "{s}");
        let event = |r: &Value| r.get("event").and_then(Value::as_str).map(str::to_string);
        let ids = |r: &Value, k: &str| -> Option<Vec<String>> {
            r.get(k)?
                .as_array()?
                .iter()
                .map(|x| x.as_str().map(str::to_string))
                .collect()
        };
        let probes: Vec<&Value> = o
            .records_before_exit
            .iter()
            .filter(|r| event(r).as_deref() == Some("probe"))
            .collect();
        assert_eq!(probes.len(), 1, "one probe record before exit expected\n{s}");
        assert_eq!(ids(probes[0], "open"), Some(vec!["c1".to_string()]), "{s}");
        assert_eq!(ids(probes[0], "hung_up"), Some(vec![]), "{s}");
        assert!(
            !o.records_before_exit
                .iter()
                .any(|r| event(r).as_deref() == Some("fifo-eof")),
            "fifo-eof before the client exited\n{s}"
        );
        // ... only once the process is gone (not even a child shell holds it) comes the EOF,
        // once (the probe, recorded before the snapshot, saw the FIFO still held).
        assert_eq!(o.fifo_eofs().len(), 1, "{s}");
        assert_eq!(o.fifo_eofs()[0].get("id").and_then(Value::as_str), Some("c1"), "{s}");
        assert_eq!(
            (o.threads, o.threads_after_close, o.threads_after_end),
            (Some(1), Some(1), Some(1)),
            "{s}"
        );
    }

    /// A create refused by logind: PAM_SESSION_ERR, the error's text logged, no session.
    fn create_refused(o: &Outcome, msg: &str) {
        survived(o);
        let s = o.summary();
        assert_eq!(o.open_rc, Some(PAM_SESSION_ERR), "{s}");
        assert!(
            o.logged_detailed(LOG_ERR, &format!("Failed to create session: {msg}")),
            "{s}"
        );
        no_session_env(o);
    }

    pub fn invalid_args_error(o: &Outcome) {
        create_refused(o, "Invalid session class bogus");
    }

    pub fn no_such_seat_error(o: &Outcome) {
        create_refused(o, "No seat 'x' known");
    }

    /// logind leaves the bus without answering.
    pub fn logind_exits(o: &Outcome) {
        create_refused(o, "Message recipient disconnected from message bus without replying");
    }

    /// The bus answers for the absent logind (ServiceUnknown).
    pub fn no_logind_on_bus(o: &Outcome) {
        survived(o);
        assert_eq!(o.open_rc, Some(PAM_SESSION_ERR), "{}", o.summary());
        assert!(
            o.logged_containing(LOG_ERR, "Failed to create session: "),
            "{}",
            o.summary()
        );
        no_session_env(o);
    }

    pub fn wrong_signature(o: &Outcome) {
        survived(o);
        let s = o.summary();
        assert_eq!(o.open_rc, Some(PAM_SERVICE_ERR), "{s}");
        assert!(o.logged_containing(LOG_ERR, "Failed to parse bus message: "), "{s}");
        no_session_env(o);
    }

    /// A socket file nobody listens on: ECONNREFUSED at connect, PAM_SERVICE_ERR.
    pub fn bus_refusing(o: &Outcome) {
        survived(o);
        let s = o.summary();
        assert_eq!(o.open_rc, Some(PAM_SERVICE_ERR), "{s}");
        assert!(
            o.logged_detailed(LOG_ERR, "Failed to connect to system bus: Connection refused"),
            "{s}"
        );
        no_session_env(o);
    }

    /// The reply carries /dev/null instead of a FIFO: v252 does not check the fd's type, it dups
    /// it (CLOEXEC, >= 3) and succeeds (SECURITY.md).
    pub fn fd_not_a_fifo(o: &Outcome) {
        survived(o);
        let s = o.summary();
        assert_eq!(o.open_rc, Some(PAM_SUCCESS), "{s}");
        assert_eq!(o.env_get("XDG_SESSION_ID"), Some("c1"), "{s}");
        assert!(!o.fds.is_empty(), "no session fd kept\n{s}");
        assert!(o.fds.iter().all(|f| f.fd >= 3 && f.cloexec), "{s}");
    }

    /// The bus socket disappears between open and close: close cannot connect, PAM_SERVICE_ERR.
    pub fn bus_gone_before_close(o: &Outcome) {
        survived(o);
        let s = o.summary();
        assert_eq!(o.open_rc, Some(PAM_SUCCESS), "{s}");
        assert_eq!(o.close_rc, Some(PAM_SERVICE_ERR), "{s}");
        assert!(
            o.logged_detailed(LOG_ERR, "Failed to connect to system bus: No such file or directory"),
            "{s}"
        );
    }

    pub fn unknown_user(o: &Outcome) {
        survived(o);
        let s = o.summary();
        assert_eq!(o.open_rc, Some(PAM_USER_UNKNOWN), "{s}");
        assert!(o.logged_containing(LOG_ERR, "Failed to get user record: "), "{s}");
        assert_eq!(bus_calls(o), Vec::<String>::new(), "{s}");
        no_session_env(o);
    }

    pub fn conv_fails(o: &Outcome) {
        assert_eq!(o.open_rc, Some(PAM_CONV_ERR), "{}", o.summary());
    }

    /// No `/run/systemd/seats`: not a systemd system, nothing happens, no call.
    pub fn no_seats(o: &Outcome) {
        survived(o);
        let s = o.summary();
        assert_eq!(o.open_rc, Some(PAM_SUCCESS), "{s}");
        assert_eq!(o.close_rc, Some(PAM_SUCCESS), "{s}");
        assert_eq!(bus_calls(o), Vec::<String>::new(), "{s}");
        no_session_env(o);
    }

    fn no_bus_socket(o: &Outcome) {
        survived(o);
        let s = o.summary();
        assert_eq!(o.open_rc, Some(PAM_SERVICE_ERR), "{s}");
        assert!(
            o.logged_detailed(LOG_ERR, "Failed to connect to system bus: No such file or directory"),
            "{s}"
        );
        assert!(o.all_creates().is_empty(), "{s}");
        no_session_env(o);
    }

    pub fn missing_bus_socket(o: &Outcome) {
        no_bus_socket(o);
    }

    /// The bus at the default path is gone. Close then has no session id and makes no call;
    /// libpam reports 6 (PAM_PERM_DENIED) for that close after a failed open of a `required`
    /// module.
    pub fn no_socket_at_default_path(o: &Outcome) {
        no_bus_socket(o);
        assert_eq!(o.close_rc, Some(6), "{}", o.summary());
    }

    /// SessionBusy (already in a session): success without env, fd or PAM data, and close
    /// releases nothing.
    pub fn session_busy(o: &Outcome) {
        survived(o);
        let s = o.summary();
        assert_eq!(o.open_rc, Some(PAM_SUCCESS), "{s}");
        assert_eq!(session_vars(o), Vec::<&str>::new(), "{s}");
        assert!(o.new_fifos().is_empty(), "{s}");
        assert_eq!(dump(o, "session_fd"), Some("unset"), "{s}");
        assert_eq!(dump(o, "existing"), Some("unset"), "{s}");
        assert!(
            o.logged(
                LOG_DEBUG,
                "Not creating session: Already running in a session or user slice"
            ),
            "{s}"
        );
        assert_eq!(o.close_rc, Some(PAM_SUCCESS), "{s}");
        assert_eq!(released(o), Vec::<&str>::new(), "{s}");
    }

    /// A second open from the same process registers no second session.
    pub fn one_session_for_two_opens(o: &Outcome) {
        let s = o.summary();
        assert_eq!(o.open_rc, Some(PAM_SUCCESS), "{s}");
        let answered = o
            .creates()
            .iter()
            .filter(|r| r.get("reply").and_then(|r| r.get("id")).is_some())
            .count();
        assert_eq!(answered, 1, "{s}");
    }

    /// SessionBusy with `XDG_SESSION_ID` already in the PAM env: close releases that id.
    pub fn busy_releases_preset_id(o: &Outcome) {
        let s = o.summary();
        assert_eq!(o.open_rc, Some(PAM_SUCCESS), "{s}");
        assert_eq!(o.close_rc, Some(PAM_SUCCESS), "{s}");
        assert_eq!(released(o), ["77"], "{s}");
    }

    pub fn close_only_releases_preset_id(o: &Outcome) {
        let s = o.summary();
        assert_eq!(o.close_rc, Some(PAM_SUCCESS), "{s}");
        assert!(o.creates().is_empty(), "{s}");
        assert_eq!(released(o), ["c9"], "{s}");
    }

    /// logind says the session already existed: close does not release it. (No bus file in
    /// the runtime dir: no DBUS_SESSION_BUS_ADDRESS.)
    pub fn existing_not_released(o: &Outcome) {
        let s = o.summary();
        assert_eq!(o.open_rc, Some(PAM_SUCCESS), "{s}");
        assert_eq!(dump(o, "existing"), Some("1"), "{s}");
        assert_eq!(o.env_get("XDG_SESSION_ID"), Some("c1"), "{s}");
        assert!(has_env(o, "XDG_RUNTIME_DIR"), "{s}");
        assert!(!has_env(o, "DBUS_SESSION_BUS_ADDRESS"), "{s}");
        assert_eq!(o.close_rc, Some(PAM_SUCCESS), "{s}");
        assert_eq!(released(o), Vec::<&str>::new(), "{s}");
    }

    pub fn release_error(o: &Outcome) {
        survived(o);
        let s = o.summary();
        assert_eq!(o.open_rc, Some(PAM_SUCCESS), "{s}");
        assert_eq!(o.close_rc, Some(PAM_SESSION_ERR), "{s}");
        assert!(
            o.logged_detailed(LOG_ERR, "Failed to release session: No session 'c1' known"),
            "{s}"
        );
        assert_eq!(o.threads_after_close, Some(1), "{s}");
    }

    /// The reply's uid is not the user's: the session is used, its runtime dir is not.
    pub fn uid_mismatch(o: &Outcome) {
        let s = o.summary();
        assert_eq!(o.open_rc, Some(PAM_SUCCESS), "{s}");
        assert_eq!(o.env_get("XDG_SESSION_ID"), Some("c1"), "{s}");
        assert_eq!(o.env_get("XDG_SESSION_TYPE"), Some("tty"), "{s}");
        assert_eq!(o.env_get("XDG_SESSION_CLASS"), Some("user"), "{s}");
        assert!(
            !has_env(o, "XDG_RUNTIME_DIR") && !has_env(o, "DBUS_SESSION_BUS_ADDRESS"),
            "{s}"
        );
    }

    /// A runtime dir from the reply that is not in order: the session is used, the dir is not;
    /// an error line names the problem (`err`), a warning says the variable is not set.
    fn runtime_dir_refused(o: &Outcome, err: &str) {
        let s = o.summary();
        assert_eq!(o.open_rc, Some(PAM_SUCCESS), "{s}");
        assert!(
            !has_env(o, "XDG_RUNTIME_DIR") && !has_env(o, "DBUS_SESSION_BUS_ADDRESS"),
            "{s}"
        );
        assert_eq!(o.env_get("XDG_SESSION_ID"), Some("c1"), "{s}");
        assert!(
            o.logged_containing(LOG_ERR, err),
            "expected ERR containing {err:?}\n{s}"
        );
        assert!(
            o.logged(
                LOG_WARNING,
                "Not setting $XDG_RUNTIME_DIR, as the directory is not in order."
            ),
            "{s}"
        );
    }

    pub fn runtime_dir_not_owned(o: &Outcome) {
        runtime_dir_refused(o, "is not owned by UID");
    }

    pub fn runtime_dir_not_a_dir(o: &Outcome) {
        runtime_dir_refused(o, "is not actually a directory");
    }

    pub fn runtime_dir_relative(o: &Outcome) {
        runtime_dir_refused(o, "is not absolute");
    }

    pub fn runtime_dir_missing(o: &Outcome) {
        runtime_dir_refused(o, "Failed to stat() runtime directory");
    }

    /// The reply's id, seat and VT go to the env; close releases that id.
    pub fn reply_values(o: &Outcome) {
        let s = o.summary();
        assert_eq!(o.open_rc, Some(PAM_SUCCESS), "{s}");
        assert_eq!(o.env_get("XDG_SESSION_ID"), Some("42"), "{s}");
        assert_eq!(o.env_get("XDG_SEAT"), Some("seat0"), "{s}");
        assert_eq!(o.env_get("XDG_VTNR"), Some("2"), "{s}");
        assert_eq!(released(o), ["42"], "{s}");
    }

    // behaviour.md cases 12-15: the properties sent, and a warning for each value not parsed.

    fn limits_sent(o: &Outcome, props_expected: Vec<Value>, warnings: &[&str]) {
        let s = o.summary();
        assert_eq!(o.open_rc, Some(PAM_SUCCESS), "{s}");
        assert_eq!(props(o), props_expected, "{s}");
        for w in warnings {
            assert!(o.logged(LOG_WARNING, w), "{w:?}\n{s}");
        }
    }

    pub fn limits_case12(o: &Outcome) {
        let p = vec![
            prop("MemoryMaxScale", "u", 2147483648),
            prop("RuntimeMaxUSec", "t", 5400000000),
            prop("TasksMax", "t", 77),
            prop("CPUWeight", "t", 0),
        ];
        limits_sent(o, p, &["Failed to parse systemd.io_weight, ignoring: 20000"]);
    }

    pub fn limits_case13(o: &Outcome) {
        let p = vec![prop("MemoryMax", "t", 1073741824), prop("CPUWeight", "t", 100)];
        limits_sent(o, p, &["Failed to parse systemd.io_weight, ignoring: abc"]);
    }

    pub fn limits_case14(o: &Outcome) {
        let p = vec![
            prop("MemoryMax", "t", u64::MAX),
            prop("RuntimeMaxUSec", "t", 5000000),
            prop("TasksMax", "t", 16),
            prop("IOWeight", "t", 1),
        ];
        limits_sent(o, p, &["Failed to parse systemd.cpu_weight, ignoring: 0"]);
    }

    pub fn limits_case15(o: &Outcome) {
        let p = vec![prop("MemoryMaxScale", "u", 529998964), prop("CPUWeight", "t", 10000)];
        let w = [
            "Failed to parse systemd.runtime_max_sec: bogus, ignoring.",
            "Failed to parse systemd.tasks_max, ignoring: -1",
        ];
        limits_sent(o, p, &w);
    }
}

/// Sanity: the table is large enough and names are unique.
#[test]
fn case_table_is_sane() {
    assert!(ALL_CASES.len() >= 30, "only {} cases", ALL_CASES.len());
    let mut names: Vec<&str> = ALL_CASES.iter().map(|c| c.0).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), ALL_CASES.len());
}
