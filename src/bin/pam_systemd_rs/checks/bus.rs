//! What the doctor asks on the system bus (each call bounded by [`BUS_BOUND`]): who owns
//! logind's name, the user in logind, the user's units in PID 1, logind's Manager properties.

use std::path::Path;
use std::time::Duration;

use pam_systemd_rs::diagnose::ask::{self as inquiry, NoFacts, Val};
use pam_systemd_rs::diagnose::{self, Trigger};
use zbus::Connection;

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

pub(super) async fn bus_checks(ctx: &Ctx, conf: &conf::LogindConf) -> Vec<Finding> {
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
