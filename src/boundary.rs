//! The one guard both exported hooks go through: NULL and argv checks, the logging scope, the
//! panic boundary, and the mapping of every outcome to one PAM code.
//!
//! A panic is a bug in this module; it is caught here and reported as `PAM_SESSION_ERR`, not
//! `PAM_ABORT`: the stack's control flags (`optional`, `required`) then decide what a failed
//! session module means, exactly as for any other session error, instead of aborting the whole
//! stack of sshd or login.

use std::cell::Cell;
use std::ffi::{CStr, c_char, c_int};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;

use crate::error::Error;
use crate::ffi::{self, PamHandle};
use crate::logging::{self, Scope};
use crate::pam::{Pam, PamOps, StringItem};

/// What a hook does, given the handle, its arguments and the logging scope.
pub type Hook = fn(&mut Pam, &[&[u8]], &Scope) -> Result<(), Error>;

/// Runs `hook` for libpam: never unwinds, always returns a PAM code.
///
/// # Safety
/// `pamh`, `argc` and `argv` must be what libpam passed to `pam_sm_*_session`: a handle valid
/// for the duration of the call (or NULL), and `argc` NUL-terminated strings (or NULLs).
pub unsafe fn guard(pamh: *mut PamHandle, argc: c_int, argv: *const *const c_char, hook: Hook) -> c_int {
    let run = || {
        let Some(h) = NonNull::new(pamh) else {
            return ffi::PAM_SYSTEM_ERR;
        };
        // SAFETY: libpam's handle for the running hook (contract of `guard`).
        let mut pam = unsafe { Pam::new(h) };
        // SAFETY: argv/argc come from libpam (contract of `guard`); checked for NULL inside.
        let Some(args) = (unsafe { collect_args(argc, argv) }) else {
            return ffi::PAM_SYSTEM_ERR;
        };
        // The service name for the log prefix; if even that fails, the prefix just has none.
        let service = pam.item(StringItem::Service).ok().flatten().unwrap_or_default();
        // The hook's own panics are caught inside the logging scope, so that the guard's line
        // carries the service like every other line of the hook.
        logging::with_scope(&service, false, |scope| {
            contain(|| {
                #[cfg(feature = "panic-probe")]
                probe(&args);
                match hook(&mut pam, &args, scope) {
                    Ok(()) => ffi::PAM_SUCCESS,
                    Err(e) => {
                        if e.is_warning() {
                            log::warn!("{}", e.message());
                        } else {
                            log::error!("{}", e.message());
                        }
                        e.code()
                    }
                }
            })
        })
    };
    contain(run)
}

/// Test builds only (`--features panic-probe`, tests/panic_guard.rs): the argument
/// `panic-probe` panics here, inside the guard, so that a test can watch a real panic unwind
/// through the built .so (its unwinder, its tables) into [`contain`]. Never in a shipped build.
#[cfg(feature = "panic-probe")]
#[allow(clippy::panic)]
fn probe(args: &[&[u8]]) {
    if args.contains(&b"panic-probe".as_slice()) {
        panic!("panic probe");
    }
}

thread_local! {
    /// How many [`contain`] calls are running on this thread. `Copy` data in a `const`
    /// initializer: no TLS destructor is registered in the host.
    static GUARD_DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Marks the current thread as inside [`contain`] until dropped (also when `f` unwinds).
struct InGuard;

impl InGuard {
    fn enter() -> InGuard {
        GUARD_DEPTH.with(|d| d.set(d.get().saturating_add(1)));
        InGuard
    }
}

impl Drop for InGuard {
    fn drop(&mut self) {
        GUARD_DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

fn in_guard() -> bool {
    GUARD_DEPTH.with(|d| d.get() > 0)
}

/// Puts a hook on top of the current panic hook: a panic inside [`contain`] goes to syslog
/// (the default hook would print to stderr, which belongs to the host), every other panic goes
/// to the hook that was there before. In the cdylib, which links its own copy of std, the
/// previous hook only ever sees this module's panics outside a hook call (there are none); in
/// the rlib under `cargo test` it is libtest's, so a failing test still prints its message.
fn chain_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if in_guard() {
            log::error!("Internal error: {info}");
        } else {
            previous(info);
        }
    }));
}

/// Whether [`chain_panic_hook`] has run (once per load of the module).
static QUIET_PANICS: std::sync::Once = std::sync::Once::new();

/// Drops the hook [`chain_panic_hook`] put up, when the module is unloaded (libpam's
/// `pam_end()` closes it with `dlclose()`) or the process exits. The hook is a heap object held
/// by this module's own copy of std, whose statics go away with the module: without this, every
/// load of the module would lose it. Never during a panic of this thread (`take_hook` would
/// refuse); then it is simply kept.
extern "C" fn drop_panic_hook() {
    if QUIET_PANICS.is_completed() && !std::thread::panicking() {
        drop(std::panic::take_hook());
    }
}

// SAFETY: an entry of the ELF `.fini_array`, which the dynamic loader calls without arguments
// when it unloads the object (or at exit): a pointer to an `extern "C" fn()` that returns
// normally (`take_hook` does not panic outside a panic, checked above).
#[unsafe(link_section = ".fini_array")]
#[used]
static DROP_PANIC_HOOK: extern "C" fn() = drop_panic_hook;

/// The panic boundary: `f`'s code, or PAM_SESSION_ERR (logged) if it panics.
fn contain(f: impl FnOnce() -> c_int) -> c_int {
    QUIET_PANICS.call_once(chain_panic_hook);
    // Held to the end: a panic while dropping the payload is still this module's.
    let _scope = InGuard::enter();
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(code) => code,
        Err(payload) => {
            // Dropping a panic payload can itself panic; never let that escape either.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            let _ = catch_unwind(|| log::error!("Internal error (panic) in pam_systemd_rs, failing the session."));
            ffi::PAM_SESSION_ERR
        }
    }
}

/// argv as byte slices; `None` for a negative argc, a NULL argv with argc > 0, or a NULL entry.
///
/// # Safety
/// When `argc > 0` and `argv` is non-NULL, it must point to `argc` pointers, each NULL or a
/// NUL-terminated string that outlives the hook call.
unsafe fn collect_args<'a>(argc: c_int, argv: *const *const c_char) -> Option<Vec<&'a [u8]>> {
    let n = usize::try_from(argc).ok()?;
    if n == 0 {
        return Some(Vec::new());
    }
    if argv.is_null() {
        return None;
    }
    // SAFETY: argv points to argc entries (contract above).
    let ptrs = unsafe { std::slice::from_raw_parts(argv, n) };
    ptrs.iter()
        .map(|&p| {
            if p.is_null() {
                None
            } else {
                // SAFETY: non-NULL entries are NUL-terminated strings alive for the call.
                Some(unsafe { CStr::from_ptr(p) }.to_bytes())
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
