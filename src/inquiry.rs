//! Asking PID 1 and logind why a login went wrong (the bus half of `diagnose`).
//!
//! Used by the module only on a failing login (CreateSession succeeded but the runtime
//! directory is not in order, or CreateSession failed with a job or destructive-transaction
//! error), over the connection of that CreateSession and inside its deadline; and by the doctor.
//! Read-only calls: `NameHasOwner`, `GetUnit` (never `LoadUnit`), `Properties.Get`, `GetUser`.

use std::ffi::CString;
use std::time::{Duration, Instant};

use zbus::{Connection, Message};

use crate::diagnose::{self, Cause, Facts, LogindUser, Trigger, Unit};
use crate::logind::{Failure, Reply};

const SYSTEMD: &str = "org.freedesktop.systemd1";
const SYSTEMD_PATH: &str = "/org/freedesktop/systemd1";
const SYSTEMD_MANAGER: &str = "org.freedesktop.systemd1.Manager";
const UNIT_IFACE: &str = "org.freedesktop.systemd1.Unit";
const SERVICE_IFACE: &str = "org.freedesktop.systemd1.Service";
const LOGIND: &str = "org.freedesktop.login1";
const LOGIND_PATH: &str = "/org/freedesktop/login1";
const LOGIND_MANAGER: &str = "org.freedesktop.login1.Manager";
const USER_IFACE: &str = "org.freedesktop.login1.User";
const PROPERTIES: &str = "org.freedesktop.DBus.Properties";

/// The most the module's inquiry may take, and how much of the login's deadline it leaves.
const LIMIT: Duration = Duration::from_millis(1500);
const MARGIN: Duration = Duration::from_millis(100);

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

/// The D-Bus error name and text of a failed call (the module's own error mapping).
fn error_of(e: zbus::Error) -> (Option<String>, String) {
    match crate::logind::call_failure(e, Instant::now()) {
        Failure::Call { name, message, .. } => (name, message),
        _ => (None, String::new()),
    }
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

/// A `v` holding a basic type, read as the (signature, value) pair it is on the wire: typed
/// reads instead of zbus's generic variant decoder, which would double what this file adds to
/// the module.
fn value_of(msg: &Message) -> Val {
    let body = msg.body();
    let data = body.data();
    let Ok((sig, _)) = data.deserialize_for_signature::<_, &str>("g") else {
        return Val::Other;
    };
    let v = match sig {
        "u" => data
            .deserialize_for_signature::<_, (&str, u32)>("gu")
            .map(|((_, n), _)| Val::U32(n)),
        "t" => data
            .deserialize_for_signature::<_, (&str, u64)>("gt")
            .map(|((_, n), _)| Val::U64(n)),
        "b" => data
            .deserialize_for_signature::<_, (&str, bool)>("gb")
            .map(|((_, b), _)| Val::Bool(b)),
        "s" | "o" => data
            .deserialize_for_signature::<_, (&str, &str)>(if sig == "s" { "gs" } else { "go" })
            .map(|((_, s), _)| Val::Str(s.to_owned())),
        _ => return Val::Other,
    };
    v.unwrap_or(Val::Other)
}

/// Whether anybody owns `name` on the bus (never starts a service).
pub async fn has_owner(conn: &Connection, name: &str) -> Result<bool, zbus::Error> {
    let msg = conn
        .call_method(
            Some("org.freedesktop.DBus"),
            "/org/freedesktop/DBus",
            Some("org.freedesktop.DBus"),
            "NameHasOwner",
            &(name,),
        )
        .await?;
    msg.body().deserialize::<bool>()
}

/// PID 1's view of one unit; a unit it has not loaded is `Unit::not_loaded`.
pub async fn unit(conn: &Connection, name: &str) -> Result<Unit, NoFacts> {
    let reply = conn
        .call_method(Some(SYSTEMD), SYSTEMD_PATH, Some(SYSTEMD_MANAGER), "GetUnit", &(name,))
        .await;
    let path = match reply {
        Ok(m) => m
            .body()
            .deserialize::<zbus::ObjectPath<'_>>()
            .map(|p| p.as_str().to_owned())
            .map_err(|e| NoFacts::Call(e.to_string()))?,
        Err(e) => match error_of(e) {
            (Some(n), _) if n == "org.freedesktop.systemd1.NoSuchUnit" => {
                return Ok(Unit::not_loaded(name.to_owned()));
            }
            (n, m) => return Err(NoFacts::Call(format!("GetUnit {name}: {}: {m}", n.unwrap_or_default()))),
        },
    };
    let call = |e: zbus::Error| NoFacts::Call(format!("{name}: {}", err_text(e)));
    let active_state = get(conn, SYSTEMD, &path, UNIT_IFACE, "ActiveState")
        .await
        .map_err(call)?
        .str();
    let burst = get(conn, SYSTEMD, &path, UNIT_IFACE, "StartLimitBurst")
        .await
        .map_err(call)?;
    let interval = get(conn, SYSTEMD, &path, UNIT_IFACE, "StartLimitIntervalUSec")
        .await
        .map_err(call)?;
    let result = get(conn, SYSTEMD, &path, SERVICE_IFACE, "Result")
        .await
        .map_err(call)?
        .str();
    let n_restarts = get(conn, SYSTEMD, &path, SERVICE_IFACE, "NRestarts")
        .await
        .ok()
        .and_then(|v| v.u32());
    Ok(Unit {
        name: name.to_owned(),
        loaded: true,
        active_state,
        result,
        start_limit_burst: burst.u32().unwrap_or_default(),
        start_limit_interval_usec: interval.u64().unwrap_or_default(),
        n_restarts,
        start_limit_logged: false,
    })
}

/// logind's User object path for `uid`, `None` when logind does not know the user.
pub async fn user_path(conn: &Connection, uid: u32) -> Result<Option<String>, NoFacts> {
    match conn
        .call_method(Some(LOGIND), LOGIND_PATH, Some(LOGIND_MANAGER), "GetUser", &(uid,))
        .await
    {
        Ok(m) => m
            .body()
            .deserialize::<zbus::ObjectPath<'_>>()
            .map(|p| Some(p.as_str().to_owned()))
            .map_err(|e| NoFacts::Call(e.to_string())),
        Err(e) => match error_of(e) {
            (Some(n), _) if n == "org.freedesktop.login1.NoSuchUser" => Ok(None),
            (n, m) => Err(NoFacts::Call(format!("GetUser {uid}: {}: {m}", n.unwrap_or_default()))),
        },
    }
}

/// logind's State and Linger of the user.
pub async fn logind_user(conn: &Connection, uid: u32) -> Result<Option<LogindUser>, NoFacts> {
    let Some(path) = user_path(conn, uid).await? else {
        return Ok(None);
    };
    let call = |e: zbus::Error| NoFacts::Call(format!("user {uid}: {}", err_text(e)));
    let state = get(conn, LOGIND, &path, USER_IFACE, "State").await.map_err(call)?.str();
    let linger = get(conn, LOGIND, &path, USER_IFACE, "Linger")
        .await
        .map_err(call)?
        .bool()
        .unwrap_or_default();
    Ok(Some(LogindUser { state, linger }))
}

/// Everything `diagnose::explain` looks at.
pub async fn gather(conn: &Connection, user: &str, uid: u32, trigger: Trigger) -> Result<Facts, NoFacts> {
    if !has_owner(conn, SYSTEMD).await.map_err(|e| NoFacts::Call(err_text(e)))? {
        return Err(NoFacts::NoSystemd);
    }
    let runtime_dir_unit = unit(conn, &format!("user-runtime-dir@{uid}.service")).await?;
    let manager_unit = unit(conn, &format!("user@{uid}.service")).await?;
    // Never activate logind by asking it (the doctor also runs where it is gone).
    let logind_user = if has_owner(conn, LOGIND).await.map_err(|e| NoFacts::Call(err_text(e)))? {
        logind_user(conn, uid).await?
    } else {
        None
    };
    Ok(Facts {
        user: user.to_owned(),
        uid,
        runtime_dir_unit,
        manager_unit,
        logind_user,
        trigger,
    })
}

/// The module's question after CreateSession, on its connection: `None` for a healthy login
/// (no call made), else at most one line to log at LOG_WARNING. Notes about an inquiry that
/// could not be made go to LOG_DEBUG only; nothing here changes the login's outcome.
pub(crate) async fn after_create(
    conn: &Connection,
    user: &[u8],
    uid: u32,
    created: &Result<Reply, Failure>,
    deadline: Option<Instant>,
) -> Option<String> {
    let trigger = match created {
        // Another user's session (su, sudo): its runtime directory is not checked.
        Ok(r) if r.uid == uid && !runtime_dir_in_order(&r.runtime_path, uid) => Trigger::RuntimeDir,
        Ok(_) => return None,
        Err(Failure::Call { name, message, .. }) => diagnose::trigger_of_error(name.as_deref(), message)?,
        Err(_) => return None,
    };
    let now = Instant::now();
    let mut bound = now.checked_add(LIMIT)?;
    if let Some(d) = deadline.and_then(|d| d.checked_sub(MARGIN)) {
        bound = bound.min(d);
    }
    if bound <= now {
        log::debug!("No time left to ask systemd why.");
        return None;
    }
    let user = if user.is_empty() {
        uid.to_string()
    } else {
        String::from_utf8_lossy(user).into_owned()
    };
    let rt = zruntime::SharedRuntime::current().ok()?;
    match rt.timeout_at(bound, gather(conn, &user, uid, trigger)).await {
        Ok(Ok(facts)) => diagnose::explain(&facts).map(|c: Cause| c.line()),
        Ok(Err(NoFacts::NoSystemd)) => None,
        Ok(Err(NoFacts::Call(e))) => {
            log::debug!("Could not ask systemd why: {e}");
            None
        }
        Err(_) => {
            log::debug!("Could not ask systemd why: no answer in time");
            None
        }
    }
}

/// The module's runtime directory check, as a yes/no: absolute, a real directory, owned by uid.
pub fn runtime_dir_in_order(path: &str, uid: u32) -> bool {
    if !path.starts_with('/') {
        return false;
    }
    let Ok(c) = CString::new(path) else {
        return false;
    };
    // SAFETY: an all-zero stat is a valid out-parameter.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: NUL-terminated path and a valid out-pointer.
    if unsafe { libc::lstat(c.as_ptr(), &mut st) } < 0 {
        return false;
    }
    st.st_mode & libc::S_IFMT == libc::S_IFDIR && st.st_uid == uid
}
