//! 262's inhibitor lock (docs/behaviour-262.md, "Inhibitor locks"; C: `acquire_inhibit_lock()` in
//! `src/login/pam_systemd.c`, and the `pam_set_data(…, NULL, NULL)` in `pam_sm_close_session()`).
//!
//! When `XDG_SESSION_INHIBIT` (PAM env, else `secure_getenv`, non-empty) or `inhibit=` is set
//! (even empty), open asks logind over D-Bus for a `block` lock of those types and keeps the fd
//! as PAM data `systemd.inhibit-fd` (closed by libpam's cleanup); close clears that key, which
//! closes the fd. Never fatal. Pure: [`inputs`], [`request`]; the call behind [`InhibitCall`]
//! ([`DbusInhibit`] is the real one); libpam behind [`PamOps`] + [`PamData`].

use std::ffi::CStr;
use std::os::fd::OwnedFd;

use log::{debug, error, warn};

use crate::logind::{self, Endpoint, Failure, Op, bus_error};
use crate::pam::{PamData, PamOps, StringItem};
use crate::sys::strerror;

/// PAM data: the lock's fd (fd + 1), closed by libpam's cleanup.
pub const FD_KEY: &CStr = c"systemd.inhibit-fd";

/// `why` when neither `XDG_SESSION_INHIBIT_WHY` nor `inhibit-why=` is set.
pub const DEFAULT_WHY: &[u8] = b"Active PAM session";

/// `who` when `PAM_SERVICE` is unset.
pub const DEFAULT_WHO: &[u8] = b"pam_systemd";

/// The only mode C asks for.
pub const MODE: &str = "block";

/// C's `getenv_harder()`: the PAM environment if non-empty, else `secure_getenv` if non-empty,
/// else the module argument (which may be empty).
fn getenv_harder(
    pam: &impl PamOps,
    secure_getenv: &impl Fn(&CStr) -> Option<Vec<u8>>,
    name: &CStr,
    arg: Option<&[u8]>,
) -> Option<Vec<u8>> {
    pam.getenv(name)
        .filter(|v| !v.is_empty())
        .or_else(|| secure_getenv(name).filter(|v| !v.is_empty()))
        .or_else(|| arg.map(<[u8]>::to_vec))
}

/// What to lock and why, as open step 5 reads them (`XDG_SESSION_INHIBIT` then
/// `XDG_SESSION_INHIBIT_WHY`), from the `inhibit=` and `inhibit-why=` arguments (last one wins,
/// verbatim). No lock is taken when the first is `None`. `secure_getenv` is the host's
/// (`|n| host.secure_getenv(n)`).
pub fn inputs(
    pam: &impl PamOps,
    secure_getenv: impl Fn(&CStr) -> Option<Vec<u8>>,
    arg_what: Option<&[u8]>,
    arg_why: Option<&[u8]>,
) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let what = getenv_harder(pam, &secure_getenv, c"XDG_SESSION_INHIBIT", arg_what);
    let why = getenv_harder(pam, &secure_getenv, c"XDG_SESSION_INHIBIT_WHY", arg_why);
    (what, why)
}

/// The `Inhibit` call's arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    /// Colon-separated lock types, verbatim (logind validates them).
    pub what: &'a [u8],
    /// `PAM_SERVICE`, else `pam_systemd`.
    pub who: &'a [u8],
    /// The reason, else `Active PAM session` (an empty one is sent empty).
    pub why: &'a [u8],
    /// Always `block`.
    pub mode: &'static str,
}

/// The request C sends: `Inhibit(what, service ?: "pam_systemd", why ?: "Active PAM session",
/// "block")`.
pub fn request<'a>(what: &'a [u8], why: Option<&'a [u8]>, service: Option<&'a [u8]>) -> Request<'a> {
    Request {
        what,
        who: service.unwrap_or(DEFAULT_WHO),
        why: why.unwrap_or(DEFAULT_WHY),
        mode: MODE,
    }
}

/// The one call to logind.
pub trait InhibitCall {
    /// Connects (its own connection), calls `Inhibit`, returns the lock's fd already duplicated
    /// `F_DUPFD_CLOEXEC` ≥ 3, and closes the connection before returning.
    fn inhibit(&mut self, ep: &Endpoint, req: &Request<'_>) -> Result<OwnedFd, Failure>;
}

/// The real call: D-Bus, through the transport in `logind`.
pub struct DbusInhibit;

impl InhibitCall for DbusInhibit {
    fn inhibit(&mut self, ep: &Endpoint, req: &Request<'_>) -> Result<OwnedFd, Failure> {
        logind::inhibit(ep, req.what, req.who, req.why, req.mode)
    }
}

/// `acquire_inhibit_lock()`: open step 10 of 262, after registration returned SUCCESS, only when
/// [`inputs`] gave a `what`. Never fails the open: every problem is logged here, as C logs it,
/// and the lock is simply not taken. `pid` names the bus connection in the debug line (sd-bus's
/// `system-bus-pam-systemd-<pid>`), `euid` feeds the shared connect-failure line.
pub fn acquire_inhibit_lock(
    pam: &mut (impl PamOps + PamData),
    call: &mut impl InhibitCall,
    ep: &Endpoint,
    what: &[u8],
    why: Option<&[u8]>,
    pid: u32,
    euid: u32,
) {
    // C ignores pam_get_item's answer here: an unreadable service is no service.
    let service = pam.item(StringItem::Service).ok().flatten();
    let req = request(what, why, service.as_deref());
    let r = call.inhibit(ep, &req);
    if !matches!(r, Err(Failure::Connect { .. })) {
        debug!("New sd-bus connection (system-bus-pam-systemd-{pid}) opened.");
    }
    let fd = match r {
        Ok(fd) => fd,
        Err(f @ Failure::Connect { .. }) => {
            error!("{}", bus_error(Op::Create, &f, ep, euid).message());
            return;
        }
        Err(Failure::Call { message, .. }) => {
            warn!("Failed to acquire inhibit lock: {message}");
            return;
        }
        Err(Failure::BuildMessage { errno }) => {
            warn!("Failed to acquire inhibit lock: {}", strerror(errno));
            return;
        }
        Err(Failure::BadReply { detail }) => {
            error!("Failed to parse bus message: {} ({detail})", strerror(libc::ENXIO));
            return;
        }
        // The inhibit call goes over D-Bus only.
        Err(Failure::Varlink { error, .. }) => {
            warn!("Failed to acquire inhibit lock: {error}");
            return;
        }
        Err(Failure::DupFd { errno }) => {
            error!("Failed to dup inhibit lock fd: {}", strerror(errno));
            return;
        }
    };
    if let Err(r) = pam.set_data_fd(FD_KEY, fd) {
        error!("Failed to store inhibit lock fd: {}", pam.strerror(r));
        return;
    }
    debug!("Acquired inhibit lock for '{}'.", String::from_utf8_lossy(what));
}

/// Close step 3 of 262 (right after the OSC end, before ReleaseSession):
/// `pam_set_data("systemd.inhibit-fd", NULL, NULL)`, so that libpam's cleanup closes a lock fd
/// stored at open. Its answer is ignored, as in C.
pub fn release_inhibit_lock(pam: &mut impl PamData) {
    let _ = pam.clear_data(FD_KEY);
}

#[cfg(test)]
mod tests;
