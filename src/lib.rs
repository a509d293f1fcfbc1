//! # pam_systemd_rs
//!
//! A memory-safe replacement for systemd's PAM session module `pam_systemd.so`, behaving as the
//! C module of whichever logind answers: Debian 12's (systemd 252, and elogind) or Debian 13's
//! (systemd 257), decided on the wire. On `pam_open_session` it registers the login with logind
//! (`org.freedesktop.login1.Manager.CreateSession[WithPIDFD]` on the system bus) and exports
//! `XDG_SESSION_ID`, `XDG_RUNTIME_DIR` and friends into the PAM environment; on
//! `pam_close_session` it calls `ReleaseSession`.
//!
//! ## Contract (what other modules and the application see)
//! Behaviour in detail, with the C function each part mirrors: `docs/behaviour.md`.
//!
//! * **Items read**: `PAM_USER` (through `pam_get_user`, which may ask the conversation),
//!   `PAM_SERVICE`, `PAM_TTY`, `PAM_XDISPLAY`, `PAM_RUSER`, `PAM_RHOST`. No item is ever set.
//! * **Environment read**: the PAM environment first, then the process environment through
//!   `secure_getenv` (nothing in setuid/setcap callers): `XDG_SEAT`, `XDG_VTNR`,
//!   `XDG_SESSION_TYPE`, `XDG_SESSION_CLASS`, `XDG_SESSION_DESKTOP`, (257) `XDG_SESSION_INCOMPLETE`,
//!   and (262) `XDG_AREA`, `XDG_SESSION_INHIBIT`, `XDG_SESSION_INHIBIT_WHY`,
//!   `XDG_SESSION_EXTRA_DEVICE_ACCESS`. From the process environment only (`secure_getenv`):
//!   `DBUS_SYSTEM_BUS_ADDRESS`, `SYSTEMD_BUS_TIMEOUT`, and (257) `CREDENTIALS_DIRECTORY`, whose
//!   files `shell.prompt.prefix`, `shell.prompt.suffix` and `shell.welcome` are read, and (262)
//!   `SYSTEMD_HOME_ROOT` (a regular user's default home is `$SYSTEMD_HOME_ROOT/NAME`, else
//!   `/home/NAME`, when the record names none). At close:
//!   `XDG_SESSION_ID` from the PAM environment.
//! * **Environment set** on success, only non-empty values, in this order: `XDG_SESSION_ID`;
//!   `XDG_RUNTIME_DIR` and `DBUS_SESSION_BUS_ADDRESS` (only for a runtime directory that is an
//!   absolute, real directory owned by the user the reply names, and the bus address only if its
//!   `bus` socket exists); `XDG_SESSION_TYPE`, `XDG_SESSION_CLASS`, `XDG_SESSION_DESKTOP`,
//!   `XDG_SEAT`, then (257, after a created session only) `SHELL_PROMPT_PREFIX`,
//!   `SHELL_PROMPT_SUFFIX`, `SHELL_WELCOME`, then `XDG_VTNR`. Then, on every success path
//!   (also SessionBusy and no logind), a cached user record's `environment` entries, `EMAIL`,
//!   `TZ`, `LANG` and (257) `LANGUAGE`: 252 only for names not set yet, 257 overwriting. Nothing
//!   is unset before 262. 262 (`compat=262`): `XDG_SESSION_ID`, `XDG_SESSION_TYPE`,
//!   `XDG_SESSION_CLASS`, `XDG_SESSION_DESKTOP`, `XDG_SESSION_EXTRA_DEVICE_ACCESS`, `XDG_SEAT`,
//!   `XDG_VTNR` after a created session, an empty value unsetting a variable that is set; then on
//!   every success path the credentials, `XDG_AREA` (unset without an area), `HOME` (the
//!   record's home, or `~/Areas/<area>`), `XDG_RUNTIME_DIR` (`<rt>/Areas/<area>` with an area)
//!   and `DBUS_SESSION_BUS_ADDRESS`, then the record's settings. The
//!   `systemd-user` service registers a `manager`/`manager-early` session with a 257 logind;
//!   with a 252 logind it gets only the runtime directory variables, as Debian 12's module.
//! * **Process state** (257 only, as its C module): the ambient and inheritable capabilities
//!   and the bounding set for what the session execs (a cached record's `capabilityAmbientSet`
//!   and `capabilityBoundingSet`, else `default-capability-ambient-set=`,
//!   `default-capability-bounding-set=`, else `CAP_WAKE_ALARM` for regular users on a seat).
//! * **PAM data read**: `systemd.memory_max`, `systemd.tasks_max`, `systemd.cpu_weight`,
//!   `systemd.io_weight`, `systemd.runtime_max_sec` (strings from earlier modules, see
//!   [`fuzz_api::session_properties`]); `systemd-user-record-<name>` (a JSON user record an
//!   earlier module such as pam_systemd_home cached; read as systemd reads it, and its `userName`
//!   must be the PAM user); at close `systemd.existing` (not in 262).
//! * **PAM data written**: `systemd-user-record-<name>` (when nothing was cached: the NSS record
//!   as systemd's JSON, a `malloc`'d C string with a `free()` cleanup); `systemd.existing` (an
//!   int, no cleanup; not in 262); `systemd.session-fd` (fd + 1, no cleanup: the fd is deliberately kept open
//!   until the process exits, so that logind sees the session leader go); ours:
//!   `pam_systemd_rs.generation` (252 or 257, no cleanup: the generation logind's answers told
//!   at open, read at close for its log lines; not written under `compat=`).
//! * **262** (`inhibit`, `osc`; open after registration and last, close first): reads
//!   `XDG_SESSION_INHIBIT` and `XDG_SESSION_INHIBIT_WHY` (PAM env, then `secure_getenv`), `TERM`
//!   (PAM env, then `getenv`), `USER` and `SYSTEMD_DEFAULT_HOSTNAME` (`secure_getenv`); writes
//!   the PAM data `systemd.inhibit-fd` (the inhibitor lock's fd + 1, closed by its cleanup),
//!   `systemd.osc-context-id` (16 bytes, freed) and `systemd.osc-context-fd` (an `O_PATH` pin
//!   of the tty, fd + 1, closed by its cleanup); clears `systemd.inhibit-fd` at close; writes the
//!   OSC 3008 sequences to the terminal.
//! * **Module arguments**: `class=`, `type=`, `desktop=` (fallbacks for the `XDG_SESSION_*`
//!   variables), `debug`, `debug=` (a boolean), `default-capability-bounding-set=` and
//!   `default-capability-ambient-set=` (257), `area=`, `inhibit=`, `inhibit-why=` (262; unknown
//!   parameters before), and ours: `timeout=` (one deadline over connect, authentication and the
//!   call) and `compat=` (252, 257 or 262: pin the generation instead of deciding it on the
//!   wire). Anything else is a warning, never an error.
//! * **Calls**: `org.freedesktop.login1.Manager.CreateSessionWithPIDFD` with the 257 request,
//!   then `CreateSession` (leader 0) with the 252 request when logind answers `UnknownMethod`,
//!   and once more with the 252 class when logind refuses a class only a 257 rule chose; `ReleaseSession` at close unless the session
//!   was pre-existing. The bus connection lives only inside the hook call.
//! * **Return codes** (the same table as the README's, kept in sync by `tests/docs_sync.rs`):
//!
//! | situation | open returns | close returns |
//! | --- | --- | --- |
//! | session created (or logind says the caller is already in a session) | `PAM_SUCCESS` (0) | 0 |
//! | logind not running (`/run/systemd/seats/` missing) | 0, nothing set (262: `HOME`, the credentials and the record's settings still set) | — |
//! | user unknown to NSS | `PAM_USER_UNKNOWN` (10) | — |
//! | 262: a looked-up user record without a uid (`User record of user '%s' has no UID, refusing.`) | 10 | — |
//! | 262: the area's runtime directory `<rt>/Areas/<area>` cannot be made | 3 (5 out of memory) | — |
//! | no user name and the conversation fails | the conversation's code (e.g. 19) | — |
//! | a user record cached by an earlier module (`systemd-user-record-<name>`) that does not read, names another user or has no uid | `PAM_SERVICE_ERR` (3) | — |
//! | system bus socket unreachable (missing, refused, bad address) | 3 | 3 |
//! | a string that is not UTF-8 (e.g. `PAM_RHOST`) | 3 | — |
//! | logind's reply malformed | 3 | — |
//! | logind refuses (invalid class, unknown seat, access denied, …), or the bus or logind does not answer (authentication, `Hello` or the call) within `timeout=`, or hangs up | `PAM_SESSION_ERR` (14) | 14 |
//! | the runtime directory is not in order, or belongs to another user | 0, `XDG_RUNTIME_DIR` not set | — |
//! | a bug in this module (a caught panic) | 14 | 14 |
//! | libpam passes a NULL handle or a broken argv | `PAM_SYSTEM_ERR` (4) | 4 |
//! | out of memory (copying PAM data, connecting to the bus), or a value with a NUL byte for the PAM environment | `PAM_BUF_ERR` (5) | 5 |
//! | a libpam call fails (`pam_get_item`, `pam_get_data`, `pam_putenv`, `pam_set_data`) | that call's code | that call's code |
//!
//! ## Layout
//! * **FFI edge**: this file (the two exported hooks), `boundary` (NULL and argv checks, the
//!   panic guard, one PAM code per outcome), `logging` (syslog lines in pam_syslog's shape),
//!   `error` (the hook's error: a PAM code and a line), `sys` (errno, `%m`, getsockopt).
//! * **libpam**: `pam` (the safe wrapper) over `ffi` (the raw declarations).
//! * **Pure rules**, table-tested without root: [`rules`] (each generation's rules, one table
//!   entry per generation: what its C module does differently), [`args`] (module arguments),
//!   [`context`] (items, environment and arguments → the request), `limits` (the `systemd.*`
//!   limits → the a(sv)), [`parse`] (systemd's number, size, time and path parsers), `caps`
//!   (257's capability sets).
//! * **JSON**: `json` (systemd's JSON: sd-json's reader, strict and without deep recursion, and
//!   its writer), shared by the user records and Varlink.
//! * **User records**: `user` — `user::nss` (getpwnam_r, getspnam_r, getpwuid_r),
//!   `user::record_write` (systemd's JSON, byte for byte), `user::record_read` (a cached record),
//!   `user::settings` (what a record sets at "success": environment, `EMAIL`, `TZ`, languages,
//!   257's capability sets), `user::utf8` (systemd's UTF-8 and name rules).
//! * **logind**: `logind` — the story's `Logind` over a `Transport`: `logind::plan` (pure:
//!   attempts, answers, failures, and which generation logind's answers tell), `logind::dbus`
//!   (the D-Bus calls over `dbus`, one deadline, the reply), `logind::dbus_error` (sd-bus's
//!   error names), `logind::question` (the hook through which the D-Bus transport asks the diagnosis),
//!   `logind::failure` (failure → PAM code and line), `logind::address` (the bus address list
//!   and the socket connect), `logind::varlink` (the Varlink transport, tried first as 262
//!   does); `dbus` (a blocking D-Bus client: SASL EXTERNAL, `Hello`, method calls with fds by
//!   `SCM_RIGHTS`, one deadline) with `dbus::wire` (pure: the messages written and checked);
//!   `varlink` (a blocking Varlink client: one deadline, fds by `SCM_RIGHTS`,
//!   sd-varlink's reply checks) with `varlink::login` (262's io.systemd.Login
//!   `CreateSession`/`ReleaseSession` parameters and reply reading); `x11` (the display → VT
//!   probe).
//! * **The diagnosis** of a failing login: [`diagnose`] — `diagnose::rule` (pure: the trigger and
//!   the rule naming the cause), `diagnose::ask` (asks PID 1 and logind; shared with the doctor).
//! * **The host**: `host` (the gate, the process environment, files, capabilities).
//! * **The story**: `session` (open and close, step by step in the C module's order), generic
//!   over `pam::PamOps`, `logind::Logind` and `host::Host` so that every rule is unit-tested.
//!
//! Unit tests live next to each module in `src/<module>/tests.rs`; `tests/` holds the suites that need a testbed, the golden table and the
//! docs check (tests/README.md says which case goes where).

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::todo,
    clippy::unimplemented,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::undocumented_unsafe_blocks,
    unsafe_op_in_unsafe_fn
)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::undocumented_unsafe_blocks
    )
)]

use std::ffi::{c_char, c_int};

pub mod args;
mod boundary;
mod caps;
pub mod context;
// The D-Bus client; public (not a stable API) for the diagnosis' readers and the doctor.
#[doc(hidden)]
pub mod dbus;
#[doc(hidden)]
pub mod diagnose;
mod error;
mod ffi;
mod host;
mod inhibit;
mod json;
mod limits;
mod logging;
mod logind;
mod osc;
mod pam;
pub mod parse;
pub mod rules;
mod session;
mod sys;
mod user;
// The one-call forms `varlink::login::{create_session, release_session}` and a few readers serve
// the tests and the fuzz API only; the transport (`logind::varlink`) uses the parts.
#[allow(dead_code)]
mod varlink;
mod x11;

/// Entry points for fuzzing and benchmarks: the pure layers, reachable from outside the crate.
/// Not a stable API.
#[doc(hidden)]
pub mod fuzz_api {
    // The D-Bus reply readers (fuzz/fuzz_targets/reply.rs, ask_wire.rs): whole messages + fds.
    pub use crate::dbus::Reply as DbusReply;
    pub use crate::diagnose::ask::{Val, bool_reply, path_reply, read_variant, value_of};
    pub use crate::limits::{LimitOutcome, Limits, PropValue, session_properties};
    pub use crate::logind::decode_reply;
    pub use crate::user::settings::{RecordSettings, env_assignment_is_valid, string_is_safe};
    pub use crate::user::{
        Passwd, RecordError, Shadow, cached_identity, load_cached, record_json, uid_is_valid, valid_user_name_relaxed,
    };
    pub use crate::x11::{local_display_number, tty_nr_from_stat, vtnr_from_tty};
    // systemd's JSON and the Varlink reply reader (fuzz/fuzz_targets/varlink_reply.rs,
    // tests/systemd_corpus.rs).
    pub use crate::json::{
        Error as JsonError, Value as JsonValue, parse as json_parse, push_string as json_push_string,
    };
    pub use crate::varlink::login::{CreateSession, Created, Pidref, create_session_parameters, read_created};
    // userdb: a GetUserRecord reply → the record cached and applied (fuzz/fuzz_targets/userdb_reply.rs).
    pub use crate::json::{format as json_format, format_canonical as json_format_canonical};
    pub use crate::rules::ProcessRules;
    pub use crate::user::process::{Limit, ProcessOps, Resource, apply_nice_and_limits, apply_umask};
    pub use crate::user::userdb::{Flavour as UserdbFlavour, record_of_reply as userdb_record_of_reply};
    pub use crate::varlink::{
        Connection as VarlinkConnection, Failure as VarlinkFailure, MAX_MESSAGE as VARLINK_MAX_MESSAGE,
        Reply as VarlinkReply, error_to_errno as varlink_error_to_errno, read_reply as varlink_read_reply,
    };
}

/// What the doctor (`src/bin/`) shares with the module beyond the diagnosis. Not a stable API.
#[doc(hidden)]
pub mod doctor_api {
    /// The module's check of a runtime directory (absolute, a real directory, owned by `uid`),
    /// on this host.
    pub fn runtime_dir_in_order(path: &str, uid: u32) -> bool {
        crate::session::validate_runtime_directory(&crate::host::System, path.as_bytes(), uid).is_ok()
    }
    pub use crate::json::Value as JsonValue;
    pub use crate::json::push_string as push_json_string;
    /// The module's D-Bus client, connected (and authenticated) to the bus at `address` as the
    /// module connects, within `timeout`.
    pub use crate::logind::open_bus;
    pub use crate::logind::{Failure as BusFailure, strerror};
    pub use crate::user::nss::name_of_uid;
    /// The module's Varlink client: the doctor asks logind's socket what the 262 module talks to.
    pub use crate::varlink::{Connection as VarlinkConnection, Error as VarlinkError, Failure as VarlinkFailure};
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
    unsafe { boundary::guard(pamh, argc, argv, session::open_hook) }
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
    unsafe { boundary::guard(pamh, argc, argv, session::close_hook) }
}
