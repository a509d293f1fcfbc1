//! logind's Varlink socket (`/run/systemd/io.systemd.Login`, systemd 258 and later): pam_systemd
//! 262 registers sessions there first and goes to D-Bus only when the connect itself fails, so a
//! socket that accepts but does not answer fails every login. Asked with
//! `org.varlink.service.GetInfo` (read-only) through the module's own Varlink client, within
//! [`super::bus::BUS_BOUND`]; never when logind does not run (the socket may be PID 1's, and a
//! call would start logind).

use std::path::Path;
use std::time::Instant;

use pam_systemd_rs::doctor_api::{JsonValue, VarlinkConnection, VarlinkFailure};

use super::bus::BUS_BOUND;
use crate::report::{Finding, Level};

/// Where logind 258+ listens for `io.systemd.Login`.
pub const LOGIN_SOCKET: &str = "/run/systemd/io.systemd.Login";
const GET_INFO: &str = "org.varlink.service.GetInfo";
const LOGIN_INTERFACE: &str = "io.systemd.Login";

/// What asking the socket gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asked {
    /// No socket at the path.
    NoSocket,
    /// logind does not run: not asked (a call could start it).
    LogindDown,
    /// GetInfo answered: product, version, interfaces; how long it took.
    Info {
        product: String,
        version: String,
        interfaces: Vec<String>,
        millis: u128,
    },
    /// The connect failed (the module then falls back to D-Bus): the error text.
    ConnectFailed(String),
    /// Connected, but no usable answer (the module does not fall back): the error text.
    Failed(String),
}

/// Asks the socket at `socket` (`logind_runs`: a logind process was found).
pub(super) fn ask(socket: &str, logind_runs: bool) -> Asked {
    if !Path::new(socket).exists() {
        return Asked::NoSocket;
    }
    if !logind_runs {
        return Asked::LogindDown;
    }
    let start = Instant::now();
    let deadline = start.checked_add(BUS_BOUND);
    let reply = VarlinkConnection::connect(socket.as_bytes(), deadline, GET_INFO)
        .and_then(|mut c| c.call(GET_INFO, b"{}", &[]));
    let reply = match reply {
        Ok(r) => r,
        Err(e) if matches!(e.failure, VarlinkFailure::Connect(_)) => return Asked::ConnectFailed(e.to_string()),
        Err(e) => return Asked::Failed(e.to_string()),
    };
    if let Some(name) = reply.error {
        return Asked::Failed(format!("{GET_INFO} failed: {name}"));
    }
    let p = reply.parameters.unwrap_or(JsonValue::Null);
    let text = |k: &str| {
        p.by_key(k)
            .and_then(JsonValue::as_str)
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .unwrap_or_default()
    };
    let interfaces = match p.by_key("interfaces") {
        Some(JsonValue::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(|s| String::from_utf8_lossy(s).into_owned()))
            .collect(),
        _ => Vec::new(),
    };
    Asked::Info {
        product: text("product"),
        version: text("version"),
        interfaces,
        millis: start.elapsed().as_millis(),
    }
}

/// The finding for what asking `socket` gave (pure).
pub fn finding(socket: &str, asked: Asked) -> Finding {
    match asked {
        Asked::NoSocket => Finding::new(
            "varlink",
            Level::Info,
            format!(
                "no Varlink socket {socket} (logind before systemd 258, or elogind): pam_systemd registers sessions over D-Bus only"
            ),
        ),
        Asked::LogindDown => Finding::new(
            "varlink",
            Level::Info,
            format!("{socket} not asked: logind does not run (a call could start it)"),
        ),
        Asked::Info {
            product,
            version,
            interfaces,
            millis,
        } => {
            let who = format!("{product} {version}").trim().to_owned();
            if interfaces.iter().any(|i| i == LOGIN_INTERFACE) {
                Finding::new(
                    "varlink",
                    Level::Ok,
                    format!(
                        "logind answers on Varlink at {socket} ({who}, {millis} ms, {LOGIN_INTERFACE}): pam_systemd 258 and later registers sessions there first, D-Bus only if the connect fails"
                    ),
                )
            } else {
                Finding::new(
                    "varlink",
                    Level::Problem,
                    format!(
                        "{socket} answers ({who}) but does not offer {LOGIN_INTERFACE} (only {}): pam_systemd 258 and later does not fall back to D-Bus then, its logins fail with PAM_SERVICE_ERR (3)",
                        interfaces.join(", ")
                    ),
                )
                .fix(format!("see which service owns {socket}: `systemctl status systemd-logind-varlink.socket systemd-logind`"))
            }
        }
        Asked::ConnectFailed(e) => Finding::new(
            "varlink",
            Level::Warn,
            format!(
                "{socket} exists but the connect fails ({e}): pam_systemd 258 and later falls back to D-Bus, so logins still work, one failed connect later"
            ),
        )
        .fix("`systemctl restart systemd-logind-varlink.socket systemd-logind` (`journalctl -u systemd-logind` says why it is down)"),
        Asked::Failed(e) => Finding::new(
            "varlink",
            Level::Problem,
            format!(
                "logind's Varlink socket {socket} accepts the connect but gives no usable answer ({e}): pam_systemd 258 and later does not fall back to D-Bus then, so its logins fail with PAM_SERVICE_ERR (3) or wait for their timeout"
            ),
        )
        .fix("`systemctl restart systemd-logind` (`journalctl -u systemd-logind` says why it hangs)"),
    }
}
