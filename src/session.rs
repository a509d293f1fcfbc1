//! `pam_sm_open_session` and `pam_sm_close_session`, step by step as in pam_systemd v252
//! (spec §3A and §4). The decisions live in `args`, `context` and `parse`; this file does the
//! I/O in the spec's order and says what happened.

use std::borrow::Cow;
use std::ffi::{CStr, CString, c_int};
use std::os::fd::IntoRawFd;
use std::time::Duration;

use log::{debug, warn};

use crate::args::{self, Args};
use crate::context::{self, Inputs};
use crate::error::Error;
use crate::ffi::{
    PAM_BUF_ERR, PAM_RHOST, PAM_RUSER, PAM_SERVICE, PAM_SERVICE_ERR, PAM_SESSION_ERR, PAM_TTY, PAM_USER_UNKNOWN,
    PAM_XDISPLAY,
};
use crate::limits;
use crate::logging::Scope;
use crate::logind::{self, Bus, Failure, SystemBus};
use crate::pam::Pam;
use crate::parse;
use crate::user;
use crate::user as user_record;
use crate::x11;

/// The file whose existence says logind runs (`logind_running()`; not `sd_booted()`).
const LOGIND_GATE: &CStr = c"/run/systemd/seats/";

/// ReleaseSession's timeout when no `timeout=` is given: sd-bus's default method timeout.
const DEFAULT_RELEASE_TIMEOUT: Duration = Duration::from_secs(25);

fn show(b: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(b)
}

/// `strna()`: an unset value prints as `n/a`.
fn na(v: Option<&[u8]>) -> Cow<'_, str> {
    v.map_or(Cow::Borrowed("n/a"), show)
}

fn parse_args<'a>(argv: &[&'a [u8]], scope: &Scope<'_>) -> Args<'a> {
    let args = args::parse(argv, |w| warn!("{w}"));
    scope.set_debug(args.debug);
    args
}

/// `pam_sm_open_session`.
pub fn open(pam: &Pam, argv: &[&[u8]], scope: &Scope<'_>) -> Result<(), Error> {
    let args = parse_args(argv, scope);
    debug!("pam-systemd initializing");

    let uid = acquire_user(pam)?;
    if !logind_running() {
        return Ok(());
    }

    let service = item(pam, PAM_SERVICE, "service")?;
    if service == b"systemd-user" {
        // The PAM stack of user@.service: no session of its own, only the runtime directory.
        let rt = format!("/run/user/{}", uid);
        return configure_runtime_directory(pam, uid, rt.as_bytes());
    }

    let display = item(pam, PAM_XDISPLAY, "XDISPLAY")?;
    let tty = item(pam, PAM_TTY, "TTY")?;
    let remote_user = item(pam, PAM_RUSER, "RUSER")?;
    let remote_host = item(pam, PAM_RHOST, "RHOST")?;

    let seat = getenv_harder(pam, c"XDG_SEAT", None);
    let vtnr = getenv_harder(pam, c"XDG_VTNR", None);
    let session_type = getenv_harder(pam, c"XDG_SESSION_TYPE", args.session_type);
    let class = getenv_harder(pam, c"XDG_SESSION_CLASS", args.class);
    let desktop = getenv_harder(pam, c"XDG_SESSION_DESKTOP", args.desktop);

    let inputs = Inputs {
        uid,
        service,
        display,
        tty,
        remote_user,
        remote_host,
        seat: seat.as_deref().unwrap_or_default(),
        vtnr: vtnr.as_deref().unwrap_or_default(),
        session_type: session_type.as_deref().unwrap_or_default(),
        class: class.as_deref().unwrap_or_default(),
        desktop: desktop.as_deref().unwrap_or_default(),
    };
    let derived = context::derive(&inputs, x11::vt_of_display);
    let req = &derived.request;
    if let Some(v) = derived.ignored_vtnr {
        debug!("Ignoring vtnr {v} for {} which is not seat0", show(req.seat));
    }

    let limits = limits::Limits {
        memory_max: limit(pam, c"systemd.memory_max")?,
        tasks_max: limit(pam, c"systemd.tasks_max")?,
        cpu_weight: limit(pam, c"systemd.cpu_weight")?,
        io_weight: limit(pam, c"systemd.io_weight")?,
        runtime_max_sec: limit(pam, c"systemd.runtime_max_sec")?,
    };

    let logind = SystemBus {
        bus: Bus {
            address: system_bus_address(),
            timeout: args.timeout.unwrap_or(Some(args::DEFAULT_OPEN_TIMEOUT)),
        },
        try_pidfd: true,
    };
    let user_name = pam.user().unwrap_or_default();
    let (reply, why) = logind.create_session(req, user_name, || {
        // Logged once connected, where the C module logs them.
        debug!(
            "Asking logind to create session: uid={} pid={} service={} type={} class={} desktop={} seat={} vtnr={} tty={} display={} remote={} remote_user={} remote_host={}",
            req.uid,
            std::process::id(),
            show(req.service),
            show(req.session_type),
            show(req.class),
            show(req.desktop),
            show(req.seat),
            req.vtnr,
            show(req.tty),
            show(req.display),
            if req.remote { "yes" } else { "no" },
            show(req.remote_user),
            show(req.remote_host),
        );
        debug!(
            "Session limits: memory_max={} tasks_max={} cpu_weight={} io_weight={} runtime_max_sec={}",
            na(limits.memory_max),
            na(limits.tasks_max),
            na(limits.cpu_weight),
            na(limits.io_weight),
            na(limits.runtime_max_sec),
        );
        let (props, warnings) = limits::session_properties(&limits);
        for w in warnings {
            warn!("{w}");
        }
        props
    });
    let reply = match reply {
        Ok(r) => r,
        Err(Failure::Call {
            name: Some(name),
            message,
            ..
        }) if name == "org.freedesktop.login1.SessionBusy" => {
            debug!("Not creating session: {message}");
            return Ok(());
        }
        Err(f) => {
            // The line naming the cause (see `inquiry`), before the error line.
            why.iter().for_each(|w| warn!("{w}"));
            return Err(open_failure(&logind.bus, f));
        }
    };

    debug!(
        "Reply from logind: id={} object_path={} runtime_path={} session_fd={} seat={} vtnr={} original_uid={}",
        reply.id,
        reply.object_path,
        reply.runtime_path,
        reply.fd.as_ref().map_or(-1, std::os::fd::AsRawFd::as_raw_fd),
        reply.seat,
        reply.vtnr,
        reply.uid,
    );

    update_environment(pam, "XDG_SESSION_ID", reply.id.as_bytes())?;
    if reply.uid == uid {
        // Not for another user's session (su, sudo): their runtime dir is not ours to announce.
        configure_runtime_directory(pam, uid, reply.runtime_path.as_bytes())?;
    }
    why.iter().for_each(|w| warn!("{w}"));
    update_environment(pam, "XDG_SESSION_TYPE", req.session_type)?;
    update_environment(pam, "XDG_SESSION_CLASS", req.class)?;
    update_environment(pam, "XDG_SESSION_DESKTOP", req.desktop)?;
    update_environment(pam, "XDG_SEAT", reply.seat.as_bytes())?;
    if reply.vtnr > 0 {
        update_environment(pam, "XDG_VTNR", reply.vtnr.to_string().as_bytes())?;
    }

    pam.set_data_value(c"systemd.existing", usize::from(reply.existing))
        .map_err(|r| Error::new(r, format!("Failed to install existing flag: {}", pam.strerror(r))))?;

    if let Some(fd) = reply.fd {
        // Stored as fd+1 with no cleanup: deliberately never closed, so that logind sees the
        // session end when this process exits (the C module does the same).
        let raw = fd.into_raw_fd();
        let value = usize::try_from(raw).unwrap_or_default().saturating_add(1);
        pam.set_data_value(c"systemd.session-fd", value).map_err(|r| {
            // SAFETY: libpam did not take the fd; we still own it and close it once.
            drop(unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(raw) });
            Error::new(r, format!("Failed to install session fd: {}", pam.strerror(r)))
        })?;
    }
    Ok(())
}

/// `pam_sm_close_session`.
pub fn close(pam: &Pam, argv: &[&[u8]], scope: &Scope<'_>) -> Result<(), Error> {
    let args = parse_args(argv, scope);
    debug!("pam-systemd shutting down");

    // Only release a session that was not pre-existing when we asked for it.
    let existing = pam
        .data_ptr(c"systemd.existing")
        .map_err(|r| {
            Error::new(
                r,
                format!("Failed to get PAM systemd.existing data: {}", pam.strerror(r)),
            )
        })?
        .is_some_and(|p| !p.is_null());
    let Some(id) = pam.getenv(c"XDG_SESSION_ID") else {
        return Ok(());
    };
    if existing {
        return Ok(());
    }
    let timeout = args.timeout.unwrap_or_else(|| Some(release_timeout_default()));
    let logind = SystemBus {
        bus: Bus {
            address: system_bus_address(),
            timeout,
        },
        try_pidfd: false,
    };
    // The session fd stays open on purpose (see `open`).
    logind.release_session(&id).map_err(|f| match f {
        Failure::Connect { .. } => connect_error(&logind.bus, &f),
        Failure::BuildMessage => Error::new(PAM_SESSION_ERR, "Failed to release session: Invalid argument"),
        other => Error::new(
            PAM_SESSION_ERR,
            format!("Failed to release session: {}", describe_call(&logind.bus, &other)),
        ),
    })
}

/// Step 2: `pam_get_user`, then the user record: the one cached in PAM data by an earlier
/// module or open (`systemd-user-record-<name>`), else NSS — cached there in turn, as JSON
/// byte-for-byte as systemd formats it. Returns the uid.
fn acquire_user(pam: &Pam) -> Result<u32, Error> {
    let name = pam
        .user()
        .map_err(|r| Error::new(r, format!("Failed to get user name: {}", pam.strerror(r))))?;
    if name.is_empty() {
        return Err(Error::new(PAM_SERVICE_ERR, "User name not valid."));
    }
    let mut key = user_record::DATA_KEY_PREFIX.as_bytes().to_vec();
    key.extend_from_slice(name);
    // pam_get_user never returns a name with a NUL in it.
    let key = CString::new(key).map_err(|_| Error::new(PAM_SERVICE_ERR, "User name not valid."))?;

    let cached = pam
        .data_str(&key)
        .map_err(|r| Error::new(r, format!("Failed to get PAM user record data: {}", pam.strerror(r))))?;
    let uid = if let Some(json) = cached {
        let (record_name, uid) = user_record::cached_identity(json).map_err(|()| {
            Error::new(
                PAM_SERVICE_ERR,
                format!("Failed to parse JSON user record: {}", logind::strerror(libc::EINVAL)),
            )
        })?;
        if record_name.as_bytes() != name {
            return Err(Error::new(
                PAM_SERVICE_ERR,
                "Acquired user record does not match user name.",
            ));
        }
        uid
    } else {
        let unknown = |errno| {
            Error::new(
                PAM_USER_UNKNOWN,
                format!("Failed to get user record: {}", logind::strerror(errno)),
            )
        };
        let user = user::lookup(name).map_err(|e| unknown(e.errno()))?;
        let shadow =
            user_record::shadow_by_name(&CString::new(user.name.as_slice()).map_err(|_| unknown(libc::EINVAL))?);
        let json = user_record::record_json(&user.as_passwd(), shadow.as_ref().map(|s| s.as_shadow()).as_ref())
            .ok_or_else(|| unknown(libc::EINVAL))?;
        pam.set_data_string(&key, &json)
            .map_err(|r| Error::new(r, format!("Failed to set PAM user record data: {}", pam.strerror(r))))?;
        Some(user.uid)
    };
    match uid {
        Some(uid) if user_record::uid_is_valid(uid) => Ok(uid),
        _ => Err(Error::new(PAM_SERVICE_ERR, "Acquired user record does not have a UID.")),
    }
}

/// `logind_running()`: `access("/run/systemd/seats/", F_OK) >= 0`.
fn logind_running() -> bool {
    // SAFETY: NUL-terminated path; access only reads it.
    unsafe { libc::access(LOGIND_GATE.as_ptr(), libc::F_OK) >= 0 }
}

/// A string item; absent and `PAM_BAD_ITEM` read as empty.
fn item<'p>(pam: &'p Pam, which: c_int, name: &str) -> Result<&'p [u8], Error> {
    pam.item(which)
        .map(Option::unwrap_or_default)
        .map_err(|r| Error::new(r, format!("Failed to get PAM {name}: {}", pam.strerror(r))))
}

/// A session limit string set by an earlier module.
fn limit<'p>(pam: &'p Pam, key: &CStr) -> Result<Option<&'p [u8]>, Error> {
    pam.data_str(key).map_err(|r| {
        Error::new(
            r,
            format!("Failed to get PAM {} data: {}", key.to_string_lossy(), pam.strerror(r)),
        )
    })
}

/// `secure_getenv()`: the process environment, except in AT_SECURE (setuid/setcap) processes.
fn secure_getenv(name: &CStr) -> Option<Vec<u8>> {
    // SAFETY: NUL-terminated name; the result points into the environment and is copied at once.
    let p = unsafe { crate::ffi::secure_getenv(name.as_ptr()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: non-NULL result of secure_getenv is a NUL-terminated string.
    Some(unsafe { CStr::from_ptr(p) }.to_bytes().to_vec())
}

/// `getenv_harder()`: PAM env, then the process env (secure_getenv), then the argument.
fn getenv_harder(pam: &Pam, name: &CStr, fallback: Option<&[u8]>) -> Option<Vec<u8>> {
    let from_pam = pam.getenv(name);
    let from_process = if from_pam.as_deref().is_some_and(|v| !v.is_empty()) {
        None
    } else {
        secure_getenv(name)
    };
    context::getenv_harder(from_pam.as_deref(), from_process.as_deref(), fallback).map(<[u8]>::to_vec)
}

/// The system bus address: `$DBUS_SYSTEM_BUS_ADDRESS` (secure_getenv, as sd-bus), else the default.
fn system_bus_address() -> String {
    secure_getenv(c"DBUS_SYSTEM_BUS_ADDRESS")
        .and_then(|v| String::from_utf8(v).ok())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| logind::DEFAULT_SYSTEM_BUS_ADDRESS.to_owned())
}

/// `$SYSTEMD_BUS_TIMEOUT` (secure_getenv, a time span), else sd-bus's 25 s.
fn release_timeout_default() -> Duration {
    secure_getenv(c"SYSTEMD_BUS_TIMEOUT")
        .and_then(|v| parse::parse_sec(&v))
        .filter(|&usec| usec > 0 && usec != u64::MAX)
        .map_or(DEFAULT_RELEASE_TIMEOUT, Duration::from_micros)
}

/// `update_environment()`: `NAME=VALUE` into the PAM env, only for a non-empty value.
fn update_environment(pam: &Pam, name: &str, value: &[u8]) -> Result<(), Error> {
    if value.is_empty() {
        return Ok(());
    }
    pam.putenv(name, value).map_err(|r| {
        Error::new(
            r,
            format!("Failed to set environment variable {name}: {}", pam.strerror(r)),
        )
    })
}

/// `configure_runtime_directory()`: XDG_RUNTIME_DIR (and the legacy bus address) only for a
/// directory that is really the user's; otherwise say why and carry on.
fn configure_runtime_directory(pam: &Pam, uid: u32, path: &[u8]) -> Result<(), Error> {
    if let Err(problem) = validate_runtime_directory(path, uid) {
        log::error!("{problem}");
        warn!("Not setting $XDG_RUNTIME_DIR, as the directory is not in order.");
        return Ok(());
    }
    update_environment(pam, "XDG_RUNTIME_DIR", path)?;

    // Many programs still need $DBUS_SESSION_BUS_ADDRESS to find the user bus.
    let mut bus = path.to_vec();
    bus.extend_from_slice(b"/bus");
    let Ok(bus) = CString::new(bus) else {
        return Ok(());
    };
    // SAFETY: NUL-terminated path; access only reads it.
    if unsafe { libc::access(bus.as_ptr(), libc::F_OK) } < 0 {
        return Ok(());
    }
    let mut value = b"unix:path=".to_vec();
    value.extend_from_slice(bus.as_bytes());
    pam.putenv("DBUS_SESSION_BUS_ADDRESS", &value)
        .map_err(|r| Error::new(r, format!("Failed to set bus variable: {}", pam.strerror(r))))
}

/// `validate_runtime_directory()`: absolute, `lstat` succeeds (no symlinks), a directory,
/// owned by `uid`. The error is the LOG_ERR line.
fn validate_runtime_directory(path: &[u8], uid: u32) -> Result<(), String> {
    let shown = show(path);
    if !path.starts_with(b"/") {
        return Err(format!("Provided runtime directory '{shown}' is not absolute."));
    }
    let c = CString::new(path).map_err(|_| format!("Provided runtime directory '{shown}' is not absolute."))?;
    // SAFETY: an all-zero stat is a valid out-parameter.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: NUL-terminated path and a valid out-pointer.
    if unsafe { libc::lstat(c.as_ptr(), &mut st) } < 0 {
        let e = logind::strerror(logind::errno());
        return Err(format!("Failed to stat() runtime directory '{shown}': {e}"));
    }
    if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
        return Err(format!("Runtime directory '{shown}' is not actually a directory."));
    }
    if st.st_uid != uid {
        return Err(format!(
            "Runtime directory '{shown}' is not owned by UID {uid}, as it should."
        ));
    }
    Ok(())
}

fn connect_error(bus: &Bus, f: &Failure) -> Error {
    let Failure::Connect { errno, detail, elapsed } = f else {
        return Error::new(PAM_SERVICE_ERR, "Failed to connect to system bus");
    };
    let code = if *errno == libc::ENOMEM {
        PAM_BUF_ERR
    } else {
        PAM_SERVICE_ERR
    };
    let extra = if detail.is_empty() {
        String::new()
    } else {
        format!("{detail}, ")
    };
    Error::new(
        code,
        format!(
            "Failed to connect to system bus: {} ({extra}{} after {} ms)",
            logind::strerror(*errno),
            bus.address,
            elapsed.as_millis()
        ),
    )
}

/// `<message> (<error name> after N ms, org.freedesktop.login1 at <address>)`.
fn describe_call(bus: &Bus, f: &Failure) -> String {
    match f {
        Failure::Call {
            name,
            message,
            detail,
            elapsed,
        } => {
            let mut why = String::new();
            if let Some(n) = name {
                why.push_str(n);
                why.push(' ');
            }
            if !detail.is_empty() {
                why.push_str(detail);
                why.push_str(", ");
            }
            let mut s = format!(
                "{message} ({why}after {} ms, org.freedesktop.login1 at {}",
                elapsed.as_millis(),
                bus.address
            );
            if name.as_deref() == Some("org.freedesktop.DBus.Error.AccessDenied") {
                // SAFETY: geteuid cannot fail.
                let euid = unsafe { libc::geteuid() };
                if euid != 0 {
                    s.push_str(&format!(
                        "; logind takes this call from root only, and this process runs as uid {euid}"
                    ));
                }
            }
            s.push(')');
            s
        }
        Failure::BadReply { detail } => detail.clone(),
        Failure::DupFd { errno } => logind::strerror(*errno),
        Failure::Connect { errno, .. } => logind::strerror(*errno),
        Failure::BuildMessage => logind::strerror(libc::EINVAL),
    }
}

/// The PAM code and line for a failed CreateSession (other than SessionBusy).
fn open_failure(bus: &Bus, f: Failure) -> Error {
    match f {
        Failure::Connect { .. } => connect_error(bus, &f),
        Failure::BuildMessage => Error::new(PAM_SERVICE_ERR, "Failed to create bus message: Invalid argument"),
        Failure::Call { .. } => Error::new(
            PAM_SESSION_ERR,
            format!("Failed to create session: {}", describe_call(bus, &f)),
        ),
        Failure::BadReply { ref detail } => Error::new(
            PAM_SERVICE_ERR,
            format!(
                "Failed to parse bus message: {} ({detail})",
                logind::strerror(libc::ENXIO)
            ),
        ),
        Failure::DupFd { errno } => Error::new(
            PAM_SERVICE_ERR,
            format!("Failed to dup session fd: {}", logind::strerror(errno)),
        ),
    }
}
