//! Asking PID 1 and logind why a login went wrong (the bus half of the diagnosis).
//!
//! Used by the module only on a failing login (CreateSession succeeded but the runtime
//! directory is not in order, or CreateSession failed with a job or destructive-transaction
//! error: `rule::trigger`), on a connection the D-Bus transport opens for it inside the login's
//! deadline ([`Ask`], a `logind::question::Question`); and by the doctor.
//! Read-only calls: `NameHasOwner`, `GetUnit` (never `LoadUnit`), `Properties.Get`, `GetUser`.

use super::rule::{self, Cause, Facts, LogindUser, Trigger, Unit};
use crate::dbus::wire::{Body, Call, Cursor};
use crate::dbus::{Connection, Error, Reply};
use crate::logind::{dbus_error, question::Question};

pub use crate::dbus::wire::Val;

const SYSTEMD: &str = "org.freedesktop.systemd1";
const SYSTEMD_PATH: &str = "/org/freedesktop/systemd1";
const SYSTEMD_MANAGER: &str = "org.freedesktop.systemd1.Manager";
const UNIT_IFACE: &str = "org.freedesktop.systemd1.Unit";
const SERVICE_IFACE: &str = "org.freedesktop.systemd1.Service";
const LOGIND: &str = "org.freedesktop.login1";
const LOGIND_PATH: &str = "/org/freedesktop/login1";
const USER_IFACE: &str = "org.freedesktop.login1.User";
const PROPERTIES: &str = "org.freedesktop.DBus.Properties";

/// Why an inquiry gave no facts.
#[derive(Debug)]
pub enum NoFacts {
    /// Nobody owns `org.freedesktop.systemd1` (elogind, or no systemd): nothing to ask.
    NoSystemd,
    /// A call got no answer before the connection's deadline.
    Timeout,
    /// A call failed.
    Call(String),
}

fn err_text(e: &Error) -> String {
    match dbus_error::name_and_message(e) {
        (Some(n), m) => format!("{n}: {m}"),
        (None, m) => m,
    }
}

/// A failed call as [`NoFacts`]: a timeout as such, anything else in `words`.
fn no_facts(e: &Error, words: impl FnOnce(String) -> String) -> NoFacts {
    match e {
        Error::Timeout => NoFacts::Timeout,
        other => NoFacts::Call(words(err_text(other))),
    }
}

/// `Properties.Get(iface, prop)` on `dest` `path`: the value, when it is of a basic type.
pub fn get(conn: &mut Connection, dest: &str, path: &str, iface: &str, prop: &str) -> Result<Val, Error> {
    let mut body = Body::new();
    body.str(iface).str(prop);
    let reply = conn.call(
        &Call {
            destination: dest,
            path,
            interface: PROPERTIES,
            member: "Get",
        },
        &body,
        &[],
    )?;
    Ok(value_of(&reply))
}

/// A call with one string argument (the only other body shape used here).
fn call_str(
    conn: &mut Connection,
    dest: &str,
    path: &str,
    iface: &str,
    method: &str,
    arg: &str,
) -> Result<Reply, Error> {
    let mut body = Body::new();
    body.str(arg);
    conn.call(
        &Call {
            destination: dest,
            path,
            interface: iface,
            member: method,
        },
        &body,
        &[],
    )
}

/// A `Properties.Get` reply (`v`) holding a basic type (`u`, `t`, `b`, `s`, `o`); anything else
/// (or a reply that does not read) is [`Val::Other`].
pub fn value_of(reply: &Reply) -> Val {
    if reply.signature != "v" {
        return Val::Other;
    }
    read_variant(&reply.body, reply.big).unwrap_or(Val::Other)
}

/// A body's bytes read as one `v` of a basic type (for fuzzing the reader directly): `None`
/// when they do not read as one.
pub fn read_variant(bytes: &[u8], big: bool) -> Option<Val> {
    let mut c = Cursor::new(bytes, big);
    let v = c.variant().ok()?;
    if v != Val::Other {
        c.end().ok()?;
    }
    Some(v)
}

/// The argument of a reply whose body is one `b` (`NameHasOwner`).
pub fn bool_reply(reply: &Reply) -> Option<bool> {
    (reply.signature == "b").then_some(())?;
    let mut c = reply.cursor();
    let b = c.bool().ok()?;
    c.end().ok()?;
    Some(b)
}

/// The argument of a reply whose body is one `o` (`GetUnit`).
pub fn path_reply(reply: &Reply) -> Option<String> {
    (reply.signature == "o").then_some(())?;
    let mut c = reply.cursor();
    let p = c.path().ok()?;
    c.end().ok()?;
    Some(p.to_owned())
}

/// Whether anybody owns `name` on the bus (never starts a service).
pub fn has_owner(conn: &mut Connection, name: &str) -> Result<bool, Error> {
    let reply = call_str(
        conn,
        "org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus",
        "NameHasOwner",
        name,
    )?;
    bool_reply(&reply).ok_or(Error::Protocol("NameHasOwner: not a boolean"))
}

/// Reads `props` of `dest` `path` in order, one call each.
fn get_all(conn: &mut Connection, dest: &str, path: &str, props: &[(&str, &str)]) -> Result<Vec<Val>, Error> {
    let mut out = Vec::with_capacity(props.len());
    for (iface, prop) in props {
        out.push(get(conn, dest, path, iface, prop)?);
    }
    Ok(out)
}

const UNIT_PROPS: [(&str, &str); 5] = [
    (UNIT_IFACE, "ActiveState"),
    (UNIT_IFACE, "StartLimitBurst"),
    (UNIT_IFACE, "StartLimitIntervalUSec"),
    (SERVICE_IFACE, "Result"),
    (SERVICE_IFACE, "NRestarts"),
];

/// PID 1's view of one unit; a unit it has not loaded is `Unit::not_loaded`.
pub fn unit(conn: &mut Connection, name: &str) -> Result<Unit, NoFacts> {
    let path = match call_str(conn, SYSTEMD, SYSTEMD_PATH, SYSTEMD_MANAGER, "GetUnit", name) {
        Ok(m) => path_reply(&m).ok_or_else(|| NoFacts::Call(format!("GetUnit {name}: not an object path")))?,
        Err(Error::Reply { name: n, .. }) if n == "org.freedesktop.systemd1.NoSuchUnit" => {
            return Ok(Unit::not_loaded(name.to_owned()));
        }
        Err(e) => {
            return Err(no_facts(&e, |m| format!("GetUnit {name}: {m}")));
        }
    };
    let mut v = get_all(conn, SYSTEMD, &path, &UNIT_PROPS)
        .map_err(|e| no_facts(&e, |m| format!("{name}: {m}")))?
        .into_iter();
    let mut next = || v.next().unwrap_or(Val::Other);
    let active_state = next().str();
    let burst = next().u32().unwrap_or_default();
    let interval = next().u64().unwrap_or_default();
    let result = next().str();
    let n_restarts = next().u32();
    Ok(Unit {
        name: name.to_owned(),
        loaded: true,
        active_state,
        result,
        start_limit_burst: burst,
        start_limit_interval_usec: interval,
        n_restarts,
        start_limit_logged: false,
    })
}

/// logind's User object for `uid` (logind's own naming, as `GetUser` returns it).
pub fn user_path(uid: u32) -> String {
    format!("{LOGIND_PATH}/user/_{uid}")
}

/// logind's State and Linger of the user; `None` when logind does not know the user.
pub fn logind_user(conn: &mut Connection, uid: u32) -> Result<Option<LogindUser>, NoFacts> {
    let props = [(USER_IFACE, "State"), (USER_IFACE, "Linger")];
    match get_all(conn, LOGIND, &user_path(uid), &props) {
        Ok(v) => {
            let mut v = v.into_iter();
            let state = v.next().map(Val::str).unwrap_or_default();
            let linger = v.next().and_then(|x| x.bool()).unwrap_or_default();
            Ok(Some(LogindUser { state, linger }))
        }
        Err(Error::Reply { name, .. }) if name == "org.freedesktop.DBus.Error.UnknownObject" => Ok(None),
        Err(e) => Err(no_facts(&e, |m| format!("user {uid}: {m}"))),
    }
}

/// Everything `rule::explain` looks at.
pub fn gather(conn: &mut Connection, user: &str, uid: u32, trigger: Trigger) -> Result<Facts, NoFacts> {
    // Never activate a service by asking it (the doctor also runs where logind is gone).
    let mut owned = [false; 2];
    for (o, name) in owned.iter_mut().zip([SYSTEMD, LOGIND]) {
        *o = has_owner(conn, name).map_err(|e| no_facts(&e, |m| m))?;
    }
    if !owned[0] {
        return Err(NoFacts::NoSystemd);
    }
    let mut units = Vec::with_capacity(2);
    for name in [format!("user-runtime-dir@{uid}.service"), format!("user@{uid}.service")] {
        units.push(unit(conn, &name)?);
    }
    let logind_user = if owned[1] { logind_user(conn, uid)? } else { None };
    let mut units = units.into_iter();
    Ok(Facts {
        user: user.to_owned(),
        uid,
        runtime_dir_unit: units.next().unwrap_or_default(),
        manager_unit: units.next().unwrap_or_default(),
        logind_user,
        trigger,
    })
}

/// The module's question on a failing login, as the D-Bus transport asks it on its own
/// connection (which bounds it in time): at most one line to log at LOG_WARNING. Notes about an
/// inquiry that could not be made go to LOG_DEBUG only; nothing here changes the login's outcome.
pub struct Ask;

impl Question for Ask {
    fn ask(&self, conn: &mut Connection, uid: u32, trigger: Trigger) -> Option<String> {
        let user = crate::user::nss::name_of_uid(uid).unwrap_or_else(|| uid.to_string());
        match gather(conn, &user, uid, trigger) {
            Ok(facts) => rule::explain(&facts).map(|c: Cause| c.line()),
            Err(NoFacts::NoSystemd) => None,
            Err(NoFacts::Timeout) => {
                log::debug!("{}", rule::not_asked(rule::NO_ANSWER_IN_TIME));
                None
            }
            Err(NoFacts::Call(e)) => {
                log::debug!("{}", rule::not_asked(&e));
                None
            }
        }
    }
}
