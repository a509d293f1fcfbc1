//! What the doctor asks on the system bus (each call bounded by [`BUS_BOUND`]): who owns
//! logind's name, the user in logind, the user's units in PID 1, logind's Manager properties.

use std::path::Path;
use std::time::{Duration, Instant};

use pam_systemd_rs::dbus::wire::{Body, Call};
use pam_systemd_rs::dbus::{Connection, Error};
use pam_systemd_rs::diagnose::ask::{self as inquiry, NoFacts, Val};
use pam_systemd_rs::diagnose::{self, Trigger};
use pam_systemd_rs::doctor_api::{BusFailure, open_bus, strerror};

use super::Ctx;
use super::journal::start_limit_logged;
use super::logind_conf::conf_findings;
use super::procs::is_mount_point;
use crate::conf;
use crate::report::{Finding, Level};

/// How long the bus (and each call on it) may take to answer.
pub const BUS_BOUND: Duration = Duration::from_secs(3);

const LOGIND: &str = "org.freedesktop.login1";
const LOGIND_PATH: &str = "/org/freedesktop/login1";
const LOGIND_MANAGER: &str = "org.freedesktop.login1.Manager";
const USER_IFACE: &str = "org.freedesktop.login1.User";

/// "no answer within 3s".
fn no_answer() -> String {
    format!(
        "no answer within {}",
        diagnose::format_timespan(BUS_BOUND.as_micros() as u64)
    )
}

/// Gives the next call on `conn` [`BUS_BOUND`] to answer.
fn bound(conn: &mut Connection) {
    conn.set_deadline(Instant::now().checked_add(BUS_BOUND));
}

/// A failed call in words.
fn words(e: &Error) -> String {
    match e {
        Error::Timeout => no_answer(),
        other => other.to_string(),
    }
}

/// A failed connect (or handshake) in words.
fn connect_words(f: &BusFailure) -> String {
    match f {
        BusFailure::Connect { errno, detail, .. } if detail.is_empty() => strerror(*errno),
        BusFailure::Connect { errno, detail, .. } => format!("{}: {detail}", strerror(*errno)),
        f if f.is_dbus("org.freedesktop.DBus.Error.Timeout") => no_answer(),
        BusFailure::Call { message, detail, .. } if detail.is_empty() => message.clone(),
        BusFailure::Call { message, detail, .. } => format!("{message}: {detail}"),
        other => format!("{other:?}"),
    }
}

pub(super) fn bus_checks(ctx: &Ctx, conf: &conf::LogindConf) -> Vec<Finding> {
    let mut out = Vec::new();
    let socket = ctx
        .bus_address
        .strip_prefix("unix:path=")
        .map(|p| p.split(',').next().unwrap_or(p).to_owned());
    let mut conn = match open_bus(&ctx.bus_address, BUS_BOUND) {
        Ok(c) => c,
        Err(f) => {
            let e = connect_words(&f);
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
    bound(&mut conn);
    match inquiry::has_owner(&mut conn, LOGIND) {
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
            out.extend(units(ctx, &mut conn));
            out.extend(conf_findings(conf, None));
            return out;
        }
        Err(e) => {
            out.push(
                Finding::new(
                    "bus",
                    Level::Problem,
                    format!(
                        "the system bus at {} accepts connections but does not answer ({})",
                        ctx.bus_address,
                        words(&e)
                    ),
                )
                .fix("restart dbus (`systemctl restart dbus`); `journalctl -u dbus` says why it hangs"),
            );
            out.extend(conf_findings(conf, None));
            return out;
        }
    }
    out.extend(user_state(ctx, &mut conn));
    out.extend(units(ctx, &mut conn));
    let live = manager_props(&mut conn);
    out.extend(conf_findings(conf, live.as_ref()));
    out
}

fn get(conn: &mut Connection, path: &str, iface: &str, prop: &str) -> Result<Val, String> {
    bound(conn);
    inquiry::get(conn, LOGIND, path, iface, prop).map_err(|e| words(&e))
}

/// The ids of the User's `Sessions` property (`a(so)` in a `v`).
fn session_ids(conn: &mut Connection, path: &str) -> Result<Vec<String>, String> {
    bound(conn);
    let mut body = Body::new();
    body.str(USER_IFACE).str("Sessions");
    let reply = conn
        .call(
            &Call {
                destination: LOGIND,
                path,
                interface: "org.freedesktop.DBus.Properties",
                member: "Get",
            },
            &body,
            &[],
        )
        .map_err(|e| words(&e))?;
    if reply.signature != "v" {
        return Err(format!("reply of signature '{}'", reply.signature));
    }
    let mut c = reply.cursor();
    let mut read = || -> Result<Vec<String>, pam_systemd_rs::dbus::wire::WireError> {
        let mut ids = Vec::new();
        if c.signature()? != "a(so)" {
            return Ok(ids);
        }
        let end = c.array_start(8)?;
        while c.position() < end {
            c.align(8)?;
            ids.push(c.str()?.to_owned());
            c.path()?;
        }
        c.end()?;
        Ok(ids)
    };
    read().map_err(|e| e.0.to_owned())
}

/// The user in logind: sessions, State, Linger, RuntimePath present and mounted.
fn user_state(ctx: &Ctx, conn: &mut Connection) -> Vec<Finding> {
    let linger_file = ctx.path("/var/lib/systemd/linger").join(&ctx.user);
    bound(conn);
    let path = match inquiry::logind_user(conn, ctx.uid).map_err(nofacts) {
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
    let state = get(conn, &path, USER_IFACE, "State").map(Val::str);
    let linger = get(conn, &path, USER_IFACE, "Linger").ok().and_then(|v| v.bool());
    let runtime = get(conn, &path, USER_IFACE, "RuntimePath").map(Val::str);
    let sessions = session_ids(conn, &path);
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
        NoFacts::Timeout => no_answer(),
        NoFacts::Call(s) => s,
    }
}

/// user-runtime-dir@UID and user@UID in PID 1, through the rule the module uses.
fn units(ctx: &Ctx, conn: &mut Connection) -> Vec<Finding> {
    bound(conn);
    let facts = inquiry::gather(conn, &ctx.user, ctx.uid, Trigger::Doctor).map_err(nofacts);
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

/// What logind runs with now (Manager properties), when it answers.
pub struct Live {
    pub stop_delay_usec: Option<u64>,
    pub kill_user_processes: Option<bool>,
    pub sessions_max: Option<u64>,
    pub sessions: Option<u64>,
}

fn manager_props(conn: &mut Connection) -> Option<Live> {
    let mut g = |p: &'static str| get(conn, LOGIND_PATH, LOGIND_MANAGER, p).ok();
    Some(Live {
        stop_delay_usec: g("UserStopDelayUSec").and_then(|v| v.u64()),
        kill_user_processes: g("KillUserProcesses").and_then(|v| v.bool()),
        sessions_max: g("SessionsMax").and_then(|v| v.u64()),
        sessions: g("NCurrentSessions").and_then(|v| v.u64()),
    })
}
