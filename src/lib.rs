//! # pam_systemd_rs
//!
//! A memory-safe replacement for systemd's PAM session module `pam_systemd.so`, reproducing
//! Debian 12's systemd 252 behaviour: on `pam_open_session` it registers the login with logind
//! (`org.freedesktop.login1.Manager.CreateSession` on the system bus) and exports
//! `XDG_SESSION_ID`, `XDG_RUNTIME_DIR` and friends into the PAM environment; on
//! `pam_close_session` it calls `ReleaseSession`.
//!
//! ## Contract (what other modules and the application see)
//! * Items read: `PAM_USER` (via `pam_get_user`), `PAM_SERVICE`, `PAM_TTY`, `PAM_XDISPLAY`,
//!   `PAM_RUSER`, `PAM_RHOST`. No item is ever set.
//! * Environment read: PAM env first, then the process env through `secure_getenv` (ignored in
//!   setuid/setcap callers): `XDG_SEAT`, `XDG_VTNR`, `XDG_SESSION_TYPE`, `XDG_SESSION_CLASS`,
//!   `XDG_SESSION_DESKTOP`; `DBUS_SYSTEM_BUS_ADDRESS` and `SYSTEMD_BUS_TIMEOUT` from the process
//!   env only.
//! * Environment set on success (only non-empty values): `XDG_SESSION_ID`, `XDG_RUNTIME_DIR` and
//!   `DBUS_SESSION_BUS_ADDRESS` (only for a valid runtime dir of the same user), `XDG_SESSION_TYPE`,
//!   `XDG_SESSION_CLASS`, `XDG_SESSION_DESKTOP`, `XDG_SEAT`, `XDG_VTNR`. Nothing is unset.
//! * PAM data read: `systemd.memory_max`, `systemd.tasks_max`, `systemd.cpu_weight`,
//!   `systemd.io_weight`, `systemd.runtime_max_sec` (strings from earlier modules),
//!   `systemd.existing`. Set: `systemd.existing` (an int, no cleanup) and `systemd.session-fd`
//!   (fd+1, no cleanup: the fd is deliberately kept open until the process exits, so that logind
//!   sees the session leader go).
//! * Return codes: see the README's table; the short form is SUCCESS (also when logind is not
//!   running or the caller is already in a session), USER_UNKNOWN, SERVICE_ERR (bus or message
//!   problems), SESSION_ERR (logind refused, timed out, or this module failed unexpectedly).
//!
//! ## Layout
//! `args` (module arguments), `context` (the pure request derivation), `parse` (systemd's
//! parsers), `user` (user record), `x11` (display probe), `logind` (the bus), `pam` + `ffi`
//! (libpam), `session` (the two hooks' steps), `boundary` (the panic guard), `logging` (syslog).

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::todo,
    clippy::unimplemented,
    clippy::print_stdout,
    clippy::print_stderr,
    unsafe_op_in_unsafe_fn
)]
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)
)]

use std::ffi::{c_char, c_int};

mod address;
pub mod args;
mod boundary;
pub mod context;
#[doc(hidden)]
pub mod diagnose;
mod error;
mod ffi;
#[doc(hidden)]
pub mod inquiry;
mod limits;
mod logging;
mod logind;
mod pam;
pub mod parse;
mod session;
mod sys;
mod user;
mod x11;

/// Entry points for fuzzing and benchmarks: the pure layers, reachable from outside the crate.
/// Not a stable API.
#[doc(hidden)]
pub mod fuzz_api {
    pub use crate::limits::{LimitOutcome, Limits, PropValue, session_properties};
    pub use crate::logind::decode_reply;
    pub use crate::user::{Passwd, Shadow, cached_identity, record_json, valid_user_name_relaxed};
    pub use crate::x11::{local_display_number, tty_nr_from_stat, vtnr_from_tty};
}

/// libpam's session-open hook.
///
/// # Safety
/// Called by libpam with its handle and the module arguments.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pam_sm_open_session(
    pamh: *mut ffi::PamHandle,
    _flags: c_int,
    argc: c_int,
    argv: *const *const c_char,
) -> c_int {
    // SAFETY: forwarded unchanged from libpam.
    unsafe { boundary::guard(pamh, argc, argv, session::open) }
}

/// libpam's session-close hook.
///
/// # Safety
/// Called by libpam with its handle and the module arguments.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn pam_sm_close_session(
    pamh: *mut ffi::PamHandle,
    _flags: c_int,
    argc: c_int,
    argv: *const *const c_char,
) -> c_int {
    // SAFETY: forwarded unchanged from libpam.
    unsafe { boundary::guard(pamh, argc, argv, session::close) }
}
