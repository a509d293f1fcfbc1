//! Asking PID 1 and logind why a login went wrong (the bus half of the diagnosis).
//!
//! Used by the module only on a failing login (CreateSession succeeded but the runtime
//! directory is not in order, or CreateSession failed with a job or destructive-transaction
//! error: `rule::trigger`), on a connection the D-Bus transport opens for it inside the login's
//! deadline ([`Ask`], a `logind::question::Question`); and by the doctor.
//! Read-only calls: `NameHasOwner`, `GetUnit` (never `LoadUnit`), `Properties.Get`, `GetUser`.

use zbus::{Connection, Message};

use super::rule::{self, Cause, Facts, LogindUser, Trigger, Unit};
use crate::logind::{dbus_error, question::Question};

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
    /// A call failed.
    Call(String),
}

/// A property value of the kinds the inquiry reads.
#[derive(Debug)]
pub enum Val {
    U32(u32),
    U64(u64),
    Bool(bool),
    Str(String),
    Other,
}

impl Val {
    pub fn str(self) -> String {
        match self {
            Val::Str(s) => s,
            _ => String::new(),
        }
    }
    pub fn u32(&self) -> Option<u32> {
        match *self {
            Val::U32(n) => Some(n),
            _ => None,
        }
    }
    pub fn u64(&self) -> Option<u64> {
        match *self {
            Val::U64(n) => Some(n),
            _ => None,
        }
    }
    pub fn bool(&self) -> Option<bool> {
        match *self {
            Val::Bool(b) => Some(b),
            _ => None,
        }
    }
}

/// The D-Bus error name and text of a failed call (the module's own error reading).
fn error_of(e: zbus::Error) -> (Option<String>, String) {
    dbus_error::name_and_message(e)
}

fn err_text(e: zbus::Error) -> String {
    match error_of(e) {
        (Some(n), m) => format!("{n}: {m}"),
        (None, m) => m,
    }
}

/// `Properties.Get(iface, prop)` on `dest` `path`.
pub async fn get(conn: &Connection, dest: &str, path: &str, iface: &str, prop: &str) -> Result<Val, zbus::Error> {
    let msg = conn
        .call_method(Some(dest), path, Some(PROPERTIES), "Get", &(iface, prop))
        .await?;
    Ok(value_of(&msg))
}

/// A call with one string argument (the only other body shape used here).
async fn call_str(
    conn: &Connection,
    dest: &str,
    path: &str,
    iface: &str,
    method: &str,
    arg: &str,
) -> zbus::Result<Message> {
    conn.call_method(Some(dest), path, Some(iface), method, &(arg,)).await
}

/// A `v` holding a basic type (`u`, `t`, `b`, `s`, `o`), read straight from the body's bytes:
/// zbus's generic decoders would add more to the module than the rest of this file.
pub fn value_of(msg: &Message) -> Val {
    let body = msg.body();
    let data = body.data();
    let w = Wire::new(data.bytes(), data.context());
    w.variant().unwrap_or(Val::Other)
}

/// A body's bytes read as one `v` of a basic type, given the body's byte order and position in
/// its message (for fuzzing the reader directly).
pub fn read_variant(bytes: &[u8], ctxt: zbus::wire::serialized::Context) -> Option<Val> {
    Wire::new(bytes, ctxt).variant()
}

/// A body's bytes with their byte order and position in the message (alignment is relative to
/// the message's start).
struct Wire<'a> {
    bytes: &'a [u8],
    big: bool,
    position: usize,
}

impl<'a> Wire<'a> {
    fn new(bytes: &'a [u8], ctxt: zbus::wire::serialized::Context) -> Self {
        Wire {
            bytes,
            big: ctxt.endian() == zbus::wire::Endian::Big,
            position: ctxt.position(),
        }
    }

    fn align(&self, off: usize, to: usize) -> usize {
        let abs = self.position.wrapping_add(off);
        off.wrapping_add((to - abs % to) % to)
    }

    /// The `N` bytes at `off`, if the message has them.
    fn bytes_at<const N: usize>(&self, off: usize) -> Option<[u8; N]> {
        self.bytes.get(off..off.checked_add(N)?)?.try_into().ok()
    }

    fn u32_at(&self, off: usize) -> Option<u32> {
        let b = self.bytes_at(off)?;
        Some(if self.big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    fn u64_at(&self, off: usize) -> Option<u64> {
        let b = self.bytes_at(off)?;
        Some(if self.big {
            u64::from_be_bytes(b)
        } else {
            u64::from_le_bytes(b)
        })
    }

    /// A `s` or `o` at `off` (aligned here): its text.
    fn str_at(&self, off: usize) -> Option<&'a str> {
        let off = self.align(off, 4);
        let len = usize::try_from(self.u32_at(off)?).ok()?;
        let start = off.checked_add(4)?;
        let end = start.checked_add(len)?;
        if self.bytes.get(end) != Some(&0) {
            return None;
        }
        std::str::from_utf8(self.bytes.get(start..end)?).ok()
    }

    /// The body as one `v` of a basic type.
    fn variant(&self) -> Option<Val> {
        let len = usize::from(*self.bytes.first()?);
        let sig = self.bytes.get(1..len.checked_add(1)?)?;
        let off = len.checked_add(2)?;
        Some(match sig {
            b"u" => Val::U32(self.u32_at(self.align(off, 4))?),
            b"b" => Val::Bool(self.u32_at(self.align(off, 4))? != 0),
            b"t" => Val::U64(self.u64_at(self.align(off, 8))?),
            b"s" | b"o" => Val::Str(self.str_at(off)?.to_owned()),
            _ => Val::Other,
        })
    }
}

/// The first argument of a reply whose body starts with `b` (`NameHasOwner`).
pub fn bool_reply(msg: &Message) -> Option<bool> {
    let body = msg.body();
    (body.signature().to_string() == "b").then_some(())?;
    let data = body.data();
    Wire::new(data.bytes(), data.context()).u32_at(0).map(|v| v != 0)
}

/// The first argument of a reply whose body is `o` (`GetUnit`).
pub fn path_reply(msg: &Message) -> Option<String> {
    let body = msg.body();
    (body.signature().to_string() == "o").then_some(())?;
    let data = body.data();
    Wire::new(data.bytes(), data.context()).str_at(0).map(str::to_owned)
}

/// Whether anybody owns `name` on the bus (never starts a service).
pub async fn has_owner(conn: &Connection, name: &str) -> Result<bool, zbus::Error> {
    let msg = call_str(
        conn,
        "org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus",
        "NameHasOwner",
        name,
    )
    .await?;
    bool_reply(&msg).ok_or_else(|| zbus::Error::Failure("NameHasOwner: not a boolean".into()))
}

/// Reads `props` of `dest` `path` in order, one call each (one await point: small code).
async fn get_all(conn: &Connection, dest: &str, path: &str, props: &[(&str, &str)]) -> Result<Vec<Val>, zbus::Error> {
    let mut out = Vec::with_capacity(props.len());
    for (iface, prop) in props {
        out.push(get(conn, dest, path, iface, prop).await?);
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
pub async fn unit(conn: &Connection, name: &str) -> Result<Unit, NoFacts> {
    let path = match call_str(conn, SYSTEMD, SYSTEMD_PATH, SYSTEMD_MANAGER, "GetUnit", name).await {
        Ok(m) => path_reply(&m).ok_or_else(|| NoFacts::Call(format!("GetUnit {name}: not an object path")))?,
        Err(e) => match error_of(e) {
            (Some(n), _) if n == "org.freedesktop.systemd1.NoSuchUnit" => {
                return Ok(Unit::not_loaded(name.to_owned()));
            }
            (n, m) => return Err(NoFacts::Call(format!("GetUnit {name}: {}: {m}", n.unwrap_or_default()))),
        },
    };
    let mut v = get_all(conn, SYSTEMD, &path, &UNIT_PROPS)
        .await
        .map_err(|e| NoFacts::Call(format!("{name}: {}", err_text(e))))?
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
pub async fn logind_user(conn: &Connection, uid: u32) -> Result<Option<LogindUser>, NoFacts> {
    let props = [(USER_IFACE, "State"), (USER_IFACE, "Linger")];
    match get_all(conn, LOGIND, &user_path(uid), &props).await {
        Ok(v) => {
            let mut v = v.into_iter();
            let state = v.next().map(Val::str).unwrap_or_default();
            let linger = v.next().and_then(|x| x.bool()).unwrap_or_default();
            Ok(Some(LogindUser { state, linger }))
        }
        Err(e) => match error_of(e) {
            (Some(n), _) if n == "org.freedesktop.DBus.Error.UnknownObject" => Ok(None),
            (n, m) => Err(NoFacts::Call(format!("user {uid}: {}: {m}", n.unwrap_or_default()))),
        },
    }
}

/// Everything `rule::explain` looks at.
pub async fn gather(conn: &Connection, user: &str, uid: u32, trigger: Trigger) -> Result<Facts, NoFacts> {
    // Never activate a service by asking it (the doctor also runs where logind is gone).
    let mut owned = [false; 2];
    for (o, name) in owned.iter_mut().zip([SYSTEMD, LOGIND]) {
        *o = has_owner(conn, name).await.map_err(|e| NoFacts::Call(err_text(e)))?;
    }
    if !owned[0] {
        return Err(NoFacts::NoSystemd);
    }
    let mut units = Vec::with_capacity(2);
    for name in [format!("user-runtime-dir@{uid}.service"), format!("user@{uid}.service")] {
        units.push(unit(conn, &name).await?);
    }
    let logind_user = if owned[1] { logind_user(conn, uid).await? } else { None };
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
    async fn ask(&self, conn: &Connection, uid: u32, trigger: Trigger) -> Option<String> {
        let user = crate::user::nss::name_of_uid(uid).unwrap_or_else(|| uid.to_string());
        match gather(conn, &user, uid, trigger).await {
            Ok(facts) => rule::explain(&facts).map(|c: Cause| c.line()),
            Err(NoFacts::NoSystemd) => None,
            Err(NoFacts::Call(e)) => {
                log::debug!("{}", rule::not_asked(&e));
                None
            }
        }
    }
}
