//! The doctor's checks, in order: PAM stacks, logind, the system bus, the user in logind, the
//! user's units in PID 1, logind.conf, recent logins. Read-only: files, `/proc`, D-Bus property
//! reads and `journalctl`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use pam_systemd_rs::diagnose::ask::{self as inquiry, NoFacts, Val};
use pam_systemd_rs::diagnose::{self, Trigger};
use zbus::Connection;

use crate::conf;
use crate::pamd;
use crate::report::{Finding, Level};

/// How long the bus (and each call on it) may take to answer.
pub const BUS_BOUND: Duration = Duration::from_secs(3);

const LOGIND: &str = "org.freedesktop.login1";
const LOGIND_PATH: &str = "/org/freedesktop/login1";
const LOGIND_MANAGER: &str = "org.freedesktop.login1.Manager";
const USER_IFACE: &str = "org.freedesktop.login1.User";
/// `SD_MESSAGE_SESSION_START`: logind's "New session N of user U." (field USER_ID = the name).
const SESSION_START: &str = "8d45620c1a4348dbb17410da57c60c66";

pub struct Ctx {
    /// `/` on a live system; `--root DIR` for files only.
    pub root: PathBuf,
    pub user: String,
    pub uid: u32,
    pub bus_address: String,
    /// What PID 1 and logind said about the user's units (set by the units check).
    pub facts: std::cell::RefCell<Option<diagnose::Facts>>,
}

impl Ctx {
    fn path(&self, p: &str) -> PathBuf {
        self.root.join(p.trim_start_matches('/'))
    }
}

pub fn run(ctx: &Ctx) -> Vec<Finding> {
    let mut out = Vec::new();
    let pamd = ctx.path("/etc/pam.d");
    let moddir = pamd::module_dir(&ctx.root);
    for (service, wants) in pamd::SERVICES {
        let stack = pamd::read_stack(&pamd, &moddir, service);
        out.extend(pamd::findings(service, wants, &stack, &pamd));
    }
    let logind = find_process(&["systemd-logind", "elogind", "elogind-daemon"]);
    let elogind = is_elogind(ctx, logind.as_ref().map(|(_, name)| name.as_str()));
    out.push(logind_process(ctx, logind));
    let conf = conf::read(&ctx.root, elogind);
    let bus = zbus::block_on(bus_checks(ctx, &conf));
    out.extend(bus);
    out.push(recent_logins(ctx));
    out.extend(recent_refusals(ctx));
    out
}

/// Does logind run: the module's gate (`/run/systemd/seats/`) and a logind process.
/// `logind`: the first logind process found (pid, name).
fn logind_process(ctx: &Ctx, logind: Option<(u32, String)>) -> Finding {
    let gate = ctx.path("/run/systemd/seats");
    match (gate.is_dir(), logind) {
        (true, Some((pid, name))) => Finding::new(
            "logind",
            Level::Ok,
            format!("{name} runs (pid {pid}) and {} exists", gate.display()),
        ),
        (false, _) => Finding::new(
            "logind",
            Level::Problem,
            format!(
                "{} does not exist: logind is not running, and pam_systemd does nothing without it (logins succeed without a session, XDG_RUNTIME_DIR or user manager)",
                gate.display()
            ),
        )
        .fix("start logind: `systemctl start systemd-logind` (or elogind where there is no systemd)"),
        (true, None) => Finding::new(
            "logind",
            Level::Problem,
            format!(
                "no systemd-logind or elogind process, but {} exists (left from a logind that stopped): pam_systemd asks the bus for logind and fails the session unless the bus can start it",
                gate.display()
            ),
        )
        .fix("`systemctl start systemd-logind`; `systemctl status systemd-logind` and `journalctl -u systemd-logind` say why it stopped"),
    }
}

/// Whether logind here is elogind (its own logind.conf, no user units): on a live system the
/// logind process found (`running`) is elogind; under `--root` the elogind binary is there and
/// systemd-logind is not.
fn is_elogind(ctx: &Ctx, running: Option<&str>) -> bool {
    if ctx.root == Path::new("/") {
        return running.is_some_and(|name| name != "systemd-logind");
    }
    let has = |p: &&str| ctx.path(p).is_file();
    let elogind = ["usr/libexec/elogind", "lib/elogind/elogind", "usr/lib/elogind/elogind"];
    let logind = ["lib/systemd/systemd-logind", "usr/lib/systemd/systemd-logind"];
    elogind.iter().any(has) && !logind.iter().any(has)
}

/// The first process whose `comm` is one of `names`.
fn find_process(names: &[&str]) -> Option<(u32, String)> {
    let rd = std::fs::read_dir("/proc").ok()?;
    let mut pids: Vec<u32> = rd
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
        .collect();
    pids.sort_unstable();
    pids.into_iter().find_map(|pid| {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
        let comm = comm.trim();
        names.contains(&comm).then(|| (pid, comm.to_owned()))
    })
}

async fn bounded<T, E: std::fmt::Display>(fut: impl Future<Output = Result<T, E>>) -> Result<T, String> {
    let rt = zruntime::SharedRuntime::current().map_err(|e| e.to_string())?;
    match rt.timeout(BUS_BOUND, fut).await {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => Err(format!(
            "no answer within {}",
            diagnose::format_timespan(BUS_BOUND.as_micros() as u64)
        )),
    }
}

async fn bus_checks(ctx: &Ctx, conf: &conf::LogindConf) -> Vec<Finding> {
    let mut out = Vec::new();
    let socket = ctx
        .bus_address
        .strip_prefix("unix:path=")
        .map(|p| p.split(',').next().unwrap_or(p).to_owned());
    let conn = bounded(async {
        zbus::connection::Builder::address(ctx.bus_address.as_str())
            .build()
            .await
    })
    .await;
    let conn = match conn {
        Ok(c) => c,
        Err(e) => {
            let missing = socket.as_deref().is_some_and(|s| !Path::new(s).exists());
            let text = if missing {
                format!(
                    "the system bus socket {} does not exist: every login through pam_systemd fails with PAM_SERVICE_ERR (3), 'Failed to connect to system bus'",
                    socket.as_deref().unwrap_or_default()
                )
            } else {
                format!(
                    "the system bus at {} does not answer ({e}): logins through pam_systemd fail or wait for their timeout",
                    ctx.bus_address
                )
            };
            out.push(
                Finding::new("bus", Level::Problem, text)
                    .fix("start the bus: `systemctl start dbus.socket dbus.service` (`systemctl status dbus` says why it stopped)"),
            );
            out.push(Finding::new(
                "user",
                Level::Unknown,
                "not checked: no system bus".to_owned(),
            ));
            out.extend(conf_findings(conf, None));
            return out;
        }
    };
    let t0 = std::time::Instant::now();
    match bounded(inquiry::has_owner(&conn, LOGIND)).await {
        Ok(true) => {
            out.push(Finding::new(
                "bus",
                Level::Ok,
                format!(
                    "the system bus at {} answers ({} ms) and logind owns {LOGIND}",
                    ctx.bus_address,
                    t0.elapsed().as_millis()
                ),
            ));
        }
        Ok(false) => {
            out.push(
                Finding::new(
                    "logind",
                    Level::Problem,
                    format!("nobody owns {LOGIND} on the system bus: logind is not running (or not reachable), so every login through pam_systemd fails with PAM_SESSION_ERR (14) or waits for its timeout"),
                )
                .fix("`systemctl start systemd-logind` (`journalctl -u systemd-logind` says why it stopped)"),
            );
            out.extend(units(ctx, &conn).await);
            out.extend(conf_findings(conf, None));
            close(conn).await;
            return out;
        }
        Err(e) => {
            out.push(
                Finding::new(
                    "bus",
                    Level::Problem,
                    format!(
                        "the system bus at {} accepts connections but does not answer ({e})",
                        ctx.bus_address
                    ),
                )
                .fix("restart dbus (`systemctl restart dbus`); `journalctl -u dbus` says why it hangs"),
            );
            close(conn).await;
            out.extend(conf_findings(conf, None));
            return out;
        }
    }
    out.extend(user_state(ctx, &conn).await);
    out.extend(units(ctx, &conn).await);
    let live = manager_props(&conn).await;
    out.extend(conf_findings(conf, live.as_ref()));
    close(conn).await;
    out
}

async fn close(conn: Connection) {
    let _ = bounded(conn.close()).await;
}

async fn get(conn: &Connection, path: &str, iface: &str, prop: &str) -> Result<Val, String> {
    bounded(inquiry::get(conn, LOGIND, path, iface, prop)).await
}

/// The user in logind: sessions, State, Linger, RuntimePath present and mounted.
async fn user_state(ctx: &Ctx, conn: &Connection) -> Vec<Finding> {
    let linger_file = ctx.path("/var/lib/systemd/linger").join(&ctx.user);
    let path = match bounded(async { inquiry::logind_user(conn, ctx.uid).await.map_err(nofacts) }).await {
        Ok(Some(_)) => inquiry::user_path(ctx.uid),
        Ok(None) => {
            let mut text = format!("logind does not know {}: no session now and no lingering", ctx.user);
            if linger_file.exists() {
                text.push_str(&format!(
                    " (though {} exists: logind reads it at start)",
                    linger_file.display()
                ));
            }
            return vec![Finding::new("user", Level::Info, text)];
        }
        Err(e) => {
            return vec![Finding::new(
                "user",
                Level::Unknown,
                format!("logind's user {}: {e}", ctx.uid),
            )];
        }
    };
    let state = get(conn, &path, USER_IFACE, "State").await.map(Val::str);
    let linger = get(conn, &path, USER_IFACE, "Linger").await.ok().and_then(|v| v.bool());
    let runtime = get(conn, &path, USER_IFACE, "RuntimePath").await.map(Val::str);
    let sessions = bounded(async {
        let m = conn
            .call_method(
                Some(LOGIND),
                path.as_str(),
                Some("org.freedesktop.DBus.Properties"),
                "Get",
                &(USER_IFACE, "Sessions"),
            )
            .await?;
        let body = m.body();
        let v: zbus::Variant<'_> = body.deserialize()?;
        let v = match v {
            zbus::Variant::Variant(inner) => *inner,
            other => other,
        };
        let mut ids = Vec::new();
        if let zbus::Variant::Array(a) = &v {
            for e in a.inner() {
                if let zbus::Variant::Structure(st) = e
                    && let Some(zbus::Variant::Str(id)) = st.fields().first()
                {
                    ids.push(id.as_str().to_owned());
                }
            }
        }
        Ok::<_, zbus::Error>(ids)
    })
    .await;
    let (Ok(state), Ok(runtime)) = (state, runtime) else {
        return vec![Finding::new(
            "user",
            Level::Unknown,
            format!("could not read logind's User {path}"),
        )];
    };
    let sessions = match sessions {
        Ok(s) if s.is_empty() => "no sessions".to_owned(),
        Ok(s) => format!("{} session(s) ({})", s.len(), s.join(", ")),
        Err(e) => format!("sessions unknown ({e})"),
    };
    let linger_word = match linger {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    };
    let head = format!("{}: State={state}, {sessions}, Linger={linger_word}", ctx.user);
    let rt = ctx.path(&runtime);
    let present = pam_systemd_rs::doctor_api::runtime_dir_in_order(&rt.display().to_string(), ctx.uid);
    let mounted = is_mount_point(&runtime);
    let active = matches!(state.as_str(), "active" | "online" | "lingering");
    if !present && active {
        return vec![
            Finding::new(
                "user",
                Level::Problem,
                format!(
                    "{head}, RuntimePath {runtime} is advertised but {}: logins get no XDG_RUNTIME_DIR ('Failed to stat() runtime directory') and no user manager",
                    if rt.exists() { "not a directory owned by the user" } else { "absent" }
                ),
            )
            .fix(format!(
                "see the units finding for user-runtime-dir@{}.service, which creates it",
                ctx.uid
            )),
        ];
    }
    let rt_word = if !present {
        format!("RuntimePath {runtime} absent (normal while {state})")
    } else if mounted {
        format!("RuntimePath {runtime} present and mounted")
    } else {
        format!("RuntimePath {runtime} present (not a mount point)")
    };
    vec![Finding::new("user", Level::Ok, format!("{head}, {rt_word}"))]
}

fn nofacts(e: NoFacts) -> String {
    match e {
        NoFacts::NoSystemd => "no systemd on the bus".to_owned(),
        NoFacts::Call(s) => s,
    }
}

/// Whether `path` is a mount point (listed in /proc/self/mountinfo).
fn is_mount_point(path: &str) -> bool {
    let Ok(text) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    text.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .any(|m| m.replace("\\040", " ") == path)
}

/// user-runtime-dir@UID and user@UID in PID 1, through the rule the module uses.
async fn units(ctx: &Ctx, conn: &Connection) -> Vec<Finding> {
    let facts = bounded(async {
        inquiry::gather(conn, &ctx.user, ctx.uid, Trigger::Doctor)
            .await
            .map_err(nofacts)
    })
    .await;
    let mut facts = match facts {
        Ok(f) => f,
        Err(e) if e == "no systemd on the bus" => {
            return vec![Finding::new(
                "units",
                Level::Info,
                "no systemd (PID 1) on the system bus (elogind, or a container without systemd): no user units to check",
            )];
        }
        Err(e) => {
            return vec![Finding::new(
                "units",
                Level::Unknown,
                format!("could not ask PID 1: {e}"),
            )];
        }
    };
    for u in [&mut facts.runtime_dir_unit, &mut facts.manager_unit] {
        if u.loaded && u.active_state == "failed" {
            u.start_limit_logged = start_limit_logged(&u.name);
        }
    }
    *ctx.facts.borrow_mut() = Some(facts.clone());
    if let Some(cause) = diagnose::explain(&facts) {
        return vec![Finding::new("units", Level::Problem, cause.what).fix(cause.fix)];
    }
    [&facts.runtime_dir_unit, &facts.manager_unit]
        .into_iter()
        .map(|u| {
            let text = if u.loaded {
                let mut t = format!(
                    "{}: {} (result {}), start limit {} starts within {}",
                    u.name,
                    u.active_state,
                    u.result,
                    u.start_limit_burst,
                    diagnose::format_timespan(u.start_limit_interval_usec)
                );
                if let Some(n) = u.n_restarts {
                    t.push_str(&format!(", NRestarts={n}"));
                }
                t
            } else {
                format!("{}: not loaded (not running, no failure remembered)", u.name)
            };
            Finding::new("units", Level::Ok, text)
        })
        .collect()
}

/// Whether the journal's latest word on `unit`'s starts is PID 1's "Start request repeated too
/// quickly." (later than its last start attempt).
fn start_limit_logged(unit: &str) -> bool {
    let Ok(out) = std::process::Command::new("journalctl")
        .args(["--no-pager", "-q", "-o", "cat", "-b", "-n", "50", "-u", unit])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
    else {
        return false;
    };
    last_start_was_refused(&String::from_utf8_lossy(&out.stdout))
}

/// In PID 1's messages about one unit (oldest first): was the latest start refused by the limit?
pub fn last_start_was_refused(log: &str) -> bool {
    let lines: Vec<&str> = log.lines().collect();
    let refused = lines
        .iter()
        .rposition(|l| l.contains("Start request repeated too quickly"));
    let started = lines
        .iter()
        .rposition(|l| l.starts_with("Starting ") || l.starts_with("Started ") || l.contains("Main process exited"));
    match (refused, started) {
        (Some(r), Some(s)) => r > s,
        (Some(_), None) => true,
        _ => false,
    }
}

/// What logind runs with now (Manager properties), when it answers.
pub struct Live {
    pub stop_delay_usec: Option<u64>,
    pub kill_user_processes: Option<bool>,
    pub sessions_max: Option<u64>,
    pub sessions: Option<u64>,
}

async fn manager_props(conn: &Connection) -> Option<Live> {
    let g = |p: &'static str| get(conn, LOGIND_PATH, LOGIND_MANAGER, p);
    Some(Live {
        stop_delay_usec: g("UserStopDelayUSec").await.ok().and_then(|v| v.u64()),
        kill_user_processes: g("KillUserProcesses").await.ok().and_then(|v| v.bool()),
        sessions_max: g("SessionsMax").await.ok().and_then(|v| v.u64()),
        sessions: g("NCurrentSessions").await.ok().and_then(|v| v.u64()),
    })
}

/// Where a setting comes from: its file and line, or logind's default.
fn source_of(conf: &conf::LogindConf, key: &str) -> String {
    conf.get(key).map_or_else(
        || "default".to_owned(),
        |s| format!("{}={} in {}", key, s.value, s.source),
    )
}

/// UserStopDelaySec: below the default 10 s, the seed's start-limit failure is near.
fn stop_delay(conf: &conf::LogindConf, live: Option<&Live>) -> Finding {
    if conf.elogind {
        return Finding::new(
            "logind.conf",
            Level::Info,
            "UserStopDelaySec= not checked: elogind starts no user units (no user-runtime-dir@ or user@), so frequent logins cannot hit their start limit".to_owned(),
        );
    }
    let delay = live
        .and_then(|l| l.stop_delay_usec)
        .or_else(|| conf.get("UserStopDelaySec").and_then(|s| conf::span_usec(&s.value)))
        .unwrap_or(10_000_000);
    let shown = diagnose::format_timespan(delay);
    let src = source_of(conf, "UserStopDelaySec");
    if delay < 10_000_000 {
        Finding::new(
            "logind.conf",
            Level::Warn,
            format!(
                "UserStopDelaySec={shown} ({src}): below the default 10s, a user's units stop as soon as the last session ends, so frequent logins restart user-runtime-dir@ and user@ and can hit their start limit"
            ),
        )
        .fix("raise UserStopDelaySec= (e.g. 5min) in /etc/systemd/logind.conf.d/, or `loginctl enable-linger USER` for users that log in often")
    } else {
        Finding::new("logind.conf", Level::Ok, format!("UserStopDelaySec={shown} ({src})"))
    }
}

/// UserStopDelaySec, KillUserProcesses, SessionsMax (against the current count).
pub fn conf_findings(conf: &conf::LogindConf, live: Option<&Live>) -> Vec<Finding> {
    let mut out = vec![stop_delay(conf, live)];
    let src = |k: &str| source_of(conf, k);
    // KillUserProcesses
    let kill = live.and_then(|l| l.kill_user_processes).or_else(|| {
        conf.get("KillUserProcesses")
            .map(|s| matches!(s.value.as_str(), "yes" | "true" | "1" | "on"))
    });
    if let Some(kill) = kill {
        out.push(Finding::new(
            "logind.conf",
            if kill { Level::Info } else { Level::Ok },
            format!(
                "KillUserProcesses={} ({}){}",
                if kill { "yes" } else { "no" },
                src("KillUserProcesses"),
                if kill {
                    ": processes left at logout are killed (tmux, nohup) unless the user lingers"
                } else {
                    ""
                }
            ),
        ));
    }
    // SessionsMax
    let max = live
        .and_then(|l| l.sessions_max)
        .or_else(|| conf.get("SessionsMax").and_then(|s| conf::sessions_max(&s.value)))
        .unwrap_or(8192);
    let now = live.and_then(|l| l.sessions);
    let max_shown = if max == u64::MAX {
        "infinity".to_owned()
    } else {
        max.to_string()
    };
    match now {
        Some(n) if n >= max => out.push(
            Finding::new(
                "logind.conf",
                Level::Problem,
                format!(
                    "SessionsMax={max_shown} reached: {n} sessions now ({}), so logind refuses new logins ('Maximum number of sessions ({max_shown}) reached, refusing further sessions.', PAM_SESSION_ERR)",
                    src("SessionsMax")
                ),
            )
            .fix("end stale sessions (`loginctl list-sessions`, `loginctl terminate-session ID`) or raise SessionsMax= in /etc/systemd/logind.conf.d/"),
        ),
        Some(n) if max != u64::MAX && n.saturating_mul(10) >= max.saturating_mul(9) => out.push(
            Finding::new(
                "logind.conf",
                Level::Warn,
                format!("{n} sessions now, close to SessionsMax={max_shown} ({})", src("SessionsMax")),
            )
            .fix("look for leaked sessions (`loginctl list-sessions`) or raise SessionsMax="),
        ),
        Some(n) => out.push(Finding::new(
            "logind.conf",
            Level::Ok,
            format!("{n} sessions now, SessionsMax={max_shown} ({})", src("SessionsMax")),
        )),
        None => out.push(Finding::new(
            "logind.conf",
            Level::Info,
            format!("SessionsMax={max_shown} ({}); current count unknown (logind not asked)", src("SessionsMax")),
        )),
    }
    out
}

/// Sessions logind could not start lately (its own log lines, last 10 minutes): a login that
/// failed and is over, which the state checks above can no longer see.
fn recent_refusals(ctx: &Ctx) -> Option<Finding> {
    let out = std::process::Command::new("journalctl")
        .args([
            "--no-pager",
            "-q",
            "-o",
            "cat",
            "--since=-10min",
            "-u",
            "systemd-logind.service",
        ])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let refusals = refusal_lines(&text);
    let latest = refusals.last()?;
    let reason = latest.split_once(": ").map_or(*latest, |(_, r)| r);
    let mut f = Finding::new(
        "logins",
        Level::Problem,
        format!(
            "logind could not start {} session(s) in the last 10 minutes; the latest: '{latest}'",
            refusals.len()
        ),
    );
    let cause = diagnose::trigger_of_error(None, reason).and_then(|trigger| {
        let facts = ctx.facts.borrow().clone()?;
        diagnose::explain(&diagnose::Facts { trigger, ..facts })
    });
    f = match cause {
        Some(c) => Finding {
            text: format!("{}: {}", f.text, c.what),
            ..f
        }
        .fix(c.fix),
        None => f.fix("`journalctl -u systemd-logind` and the unit findings above say more"),
    };
    Some(f)
}

/// logind's lines about a session it could not start.
pub fn refusal_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.starts_with("Failed to start session scope") || l.starts_with("Failed to start user service"))
        .collect()
}

/// How many sessions of the user logind started lately, from the journal.
fn recent_logins(ctx: &Ctx) -> Finding {
    // journalctl prints nothing and succeeds when there is no journal at all.
    let has_files = ["/run/log/journal", "/var/log/journal"].iter().any(|d| {
        std::fs::read_dir(d).is_ok_and(|rd| {
            rd.filter_map(Result::ok)
                .any(|m| std::fs::read_dir(m.path()).is_ok_and(|mut f| f.next().is_some()))
        })
    });
    if !has_files {
        return Finding::new(
            "logins",
            Level::Info,
            "recent logins not counted: no journal here (no files in /run/log/journal or /var/log/journal)",
        );
    }
    let count = |since: &str| -> Result<usize, String> {
        let out = std::process::Command::new("journalctl")
            .args(["--no-pager", "-q", "-o", "cat"])
            .arg(format!("--since={since}"))
            .arg(format!("MESSAGE_ID={SESSION_START}"))
            .arg(format!("USER_ID={}", ctx.user))
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .output()
            .map_err(|e| format!("journalctl: {e}"))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr).trim().to_owned();
            return Err(format!("journalctl failed: {err}"));
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .count())
    };
    match (count("-1min"), count("-10min")) {
        (Ok(one), Ok(ten)) => {
            let text = format!(
                "{one} session(s) of {} started in the last minute, {ten} in the last 10 minutes (journal)",
                ctx.user
            );
            if one >= 5 {
                Finding::new(
                    "logins",
                    Level::Warn,
                    format!("{text}: at that rate a user whose units stop between logins hits PID 1's start limit (5 starts within 10s)"),
                )
                .fix(format!(
                    "`loginctl enable-linger {}` keeps the user's units running; ssh connection sharing (ControlMaster/ControlPersist) makes fewer logins",
                    ctx.user
                ))
            } else {
                Finding::new("logins", Level::Ok, text)
            }
        }
        (Err(e), _) | (_, Err(e)) => Finding::new(
            "logins",
            Level::Info,
            format!("recent logins not counted: the journal is not available ({e})"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(max: u64, now: u64, delay: u64) -> Live {
        Live {
            stop_delay_usec: Some(delay),
            kill_user_processes: Some(false),
            sessions_max: Some(max),
            sessions: Some(now),
        }
    }

    #[test]
    fn refused_start_in_the_journal() {
        let log = "Starting user@0.service - User Manager for UID 0...\n\
                   user@0.service: Main process exited, code=exited, status=1/FAILURE\n\
                   user@0.service: Failed with result 'exit-code'.\n\
                   user@0.service: Start request repeated too quickly.\n\
                   user@0.service: Failed with result 'exit-code'.\n";
        assert!(last_start_was_refused(log));
        let later = format!("{log}Starting user@0.service - User Manager for UID 0...\n");
        assert!(!last_start_was_refused(&later));
        assert!(!last_start_was_refused(""));
    }

    #[test]
    fn logind_refusals() {
        let log = "New session c1 of user root.\n\
                   Failed to start session scope session-c2.scope: Transaction for session-c2.scope/start is destructive (user-0.slice has 'stop' job queued, but 'start' is included in transaction).\n\
                   Removed session c1.\n";
        let r = refusal_lines(log);
        assert_eq!(r.len(), 1);
        let reason = r[0].split_once(": ").unwrap().1;
        assert_eq!(diagnose::trigger_of_error(None, reason), Some(Trigger::Destructive));
        assert!(refusal_lines("New session c1 of user root.\n").is_empty());
    }

    #[test]
    fn sessions_max_reached_is_a_problem() {
        let c = conf::LogindConf::default();
        let f = conf_findings(&c, Some(&live(2, 2, 10_000_000)));
        let p: Vec<_> = f.iter().filter(|x| x.level == Level::Problem).collect();
        assert_eq!(p.len(), 1, "{f:?}");
        assert!(p[0].text.starts_with("SessionsMax=2 reached: 2 sessions now"), "{f:?}");
        let f = conf_findings(&c, Some(&live(10, 9, 10_000_000)));
        assert!(
            f.iter()
                .any(|x| x.level == Level::Warn && x.text.contains("close to SessionsMax=10"))
        );
        let f = conf_findings(&c, Some(&live(8192, 3, 10_000_000)));
        assert!(f.iter().all(|x| x.level == Level::Ok), "{f:?}");
    }

    #[test]
    fn zero_stop_delay_from_a_dropin_is_named_with_its_file() {
        let mut c = conf::LogindConf::default();
        conf::parse_into(
            &mut c,
            "[Login]\nUserStopDelaySec=0\n",
            "/etc/systemd/logind.conf.d/x.conf",
        );
        let f = conf_findings(&c, None);
        assert_eq!(f[0].level, Level::Warn);
        assert!(
            f[0].text
                .starts_with("UserStopDelaySec=0 (UserStopDelaySec=0 in /etc/systemd/logind.conf.d/x.conf:2)"),
            "{f:?}"
        );
        // logind's live value wins over the files.
        let f = conf_findings(&c, Some(&live(8192, 1, 300_000_000)));
        assert_eq!(f[0].level, Level::Ok);
        assert!(f[0].text.starts_with("UserStopDelaySec=5min"), "{f:?}");
    }

    #[test]
    fn elogind_has_no_stop_delay_warning() {
        let mut c = conf::LogindConf {
            elogind: true,
            ..conf::LogindConf::default()
        };
        conf::parse_into(&mut c, "[Login]\nUserStopDelaySec=0\n", "/etc/elogind/logind.conf");
        for live in [None, Some(live(8192, 1, 0))] {
            let f = conf_findings(&c, live.as_ref());
            assert_eq!(f[0].level, Level::Info, "{f:?}");
            assert!(f[0].text.starts_with("UserStopDelaySec= not checked: elogind"), "{f:?}");
            assert!(f.iter().all(|x| x.level != Level::Warn), "{f:?}");
        }
    }
}
