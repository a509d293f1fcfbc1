//! Log lines in pam_syslog's shape: `pam_systemd_rs(<service>:session): <message>`, facility
//! authpriv, through glibc's `syslog(3)` exactly as `pam_syslog` does it (same ident, same framing
//! as the C module's lines), with the message passed as an argument to a `"%s"` format, never as
//! the format itself.
//!
//! The module logs through the `log` facade. The logger is private to this cdylib (each cdylib
//! links its own copy of `log`), is installed once, and reads the per-call context (service name
//! and the `debug` switch) from a thread-local that [`Scope`] sets for the duration of one hook.
//! The thread-local holds only `Copy` data, so it registers no TLS destructor in the host.

use std::cell::Cell;
use std::ffi::c_int;
use std::fmt::Write as _;

/// What the logger needs to know about the running hook.
#[derive(Clone, Copy)]
struct Context {
    /// Points at the service name bytes owned by the caller of [`Scope::enter`].
    service: *const u8,
    service_len: usize,
    debug: bool,
}

thread_local! {
    static CONTEXT: Cell<Option<Context>> = const { Cell::new(None) };
}

struct SyslogLogger;

static LOGGER: SyslogLogger = SyslogLogger;

/// Sets the context of one hook call; dropping it clears the context again.
pub struct Scope<'a> {
    previous: Option<Context>,
    _service: std::marker::PhantomData<&'a [u8]>,
}

impl<'a> Scope<'a> {
    /// Installs the logger (once) and makes `service` and `debug` the context of this thread
    /// until the returned scope is dropped.
    pub fn enter(service: &'a [u8], debug: bool) -> Self {
        // Only the first call in this copy of the library succeeds; later ones change nothing.
        let _ = log::set_logger(&LOGGER);
        log::set_max_level(log::LevelFilter::Debug);
        let ctx = Context {
            service: service.as_ptr(),
            service_len: service.len(),
            debug,
        };
        let previous = CONTEXT.with(|c| c.replace(Some(ctx)));
        Scope {
            previous,
            _service: std::marker::PhantomData,
        }
    }

    /// Switches debug output on or off for the rest of this scope.
    pub fn set_debug(&self, debug: bool) {
        CONTEXT.with(|c| {
            if let Some(mut ctx) = c.get() {
                ctx.debug = debug;
                c.set(Some(ctx));
            }
        });
    }
}

impl Drop for Scope<'_> {
    fn drop(&mut self) {
        CONTEXT.with(|c| c.set(self.previous));
    }
}

/// Whether debug lines are wanted in the current scope.
pub fn debug_enabled() -> bool {
    CONTEXT.with(|c| c.get().is_some_and(|ctx| ctx.debug))
}

fn priority(level: log::Level) -> c_int {
    match level {
        log::Level::Error => libc::LOG_ERR,
        log::Level::Warn => libc::LOG_WARNING,
        log::Level::Info => libc::LOG_INFO,
        log::Level::Debug | log::Level::Trace => libc::LOG_DEBUG,
    }
}

/// The full line for `message` in the current context, NUL-terminated and free of interior NULs.
fn line(message: &std::fmt::Arguments<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(b"pam_systemd_rs(");
    CONTEXT.with(|c| {
        if let Some(ctx) = c.get() {
            // SAFETY: `Scope::enter` stored a pointer/length pair of a slice that outlives the
            // scope, and the scope clears the context before that slice can go away.
            let service = unsafe { std::slice::from_raw_parts(ctx.service, ctx.service_len) };
            out.extend_from_slice(service);
        }
    });
    out.extend_from_slice(b":session): ");
    let mut text = String::new();
    let _ = text.write_fmt(*message);
    out.extend_from_slice(text.as_bytes());
    out.retain(|&b| b != 0);
    out.push(0);
    out
}

impl log::Log for SyslogLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Warn || debug_enabled()
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let msg = line(record.args());
        // SAFETY: both pointers are NUL-terminated strings that live across the call; the
        // message is an argument of the constant "%s" format, so it is never interpreted.
        unsafe {
            libc::syslog(
                libc::LOG_AUTHPRIV | priority(record.level()),
                c"%s".as_ptr(),
                msg.as_ptr().cast::<libc::c_char>(),
            );
        }
    }

    fn flush(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_has_pam_syslog_prefix_and_no_interior_nul() {
        let _scope = Scope::enter(b"sshd", false);
        let l = line(&format_args!("Failed to x: {}", "a\0b%n"));
        assert_eq!(l, b"pam_systemd_rs(sshd:session): Failed to x: ab%n\0");
    }

    #[test]
    fn debug_follows_scope() {
        {
            let s = Scope::enter(b"login", false);
            assert!(!debug_enabled());
            s.set_debug(true);
            assert!(debug_enabled());
        }
        assert!(!debug_enabled());
    }
}
