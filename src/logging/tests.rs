//! The syslog line's shape, the scope's debug switch, and the capture the story tests read their log lines from.

use super::*;
use std::cell::RefCell;

thread_local! {
    /// Whether this test thread collects its log lines (and sends none to syslog).
    pub(crate) static CAPTURING: Cell<bool> = const { Cell::new(false) };
    static LINES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

pub(crate) fn capture(level: log::Level, line: &[u8]) {
    if CAPTURING.with(Cell::get) {
        let text = String::from_utf8_lossy(line.strip_suffix(b"\0").unwrap_or(line));
        let text = text.split_once("): ").map_or(&*text, |(_, t)| t).to_owned();
        LINES.with(|l| l.borrow_mut().push(format!("{level} {text}")));
    }
}

/// Runs `f` with this thread's log lines collected as `"LEVEL text"` (no prefix), and
/// returns them.
pub(crate) fn captured<R>(f: impl FnOnce() -> R) -> (R, Vec<String>) {
    CAPTURING.with(|c| c.set(true));
    LINES.with(|l| l.borrow_mut().clear());
    let r = f();
    CAPTURING.with(|c| c.set(false));
    (r, LINES.with(|l| std::mem::take(&mut *l.borrow_mut())))
}

#[test]
fn line_has_pam_syslog_prefix_and_no_interior_nul() {
    let l = with_scope(b"sshd", false, |_| line(&format_args!("Failed to x: {}", "a\0b%n")));
    assert_eq!(l, b"pam_systemd_rs(sshd:session): Failed to x: ab%n\0");
}

#[test]
fn debug_follows_scope() {
    with_scope(b"login", false, |s| {
        assert!(!debug_enabled());
        s.set_debug(true);
        assert!(debug_enabled());
    });
    assert!(!debug_enabled());
}

/// The context is cleared when the closure unwinds, so no dangling service pointer stays.
#[test]
fn context_cleared_on_unwind() {
    let service = b"sshd".to_vec();
    let r = std::panic::catch_unwind(|| with_scope(&service, true, |_| panic!("boom")));
    assert!(r.is_err());
    assert!(CONTEXT.with(|c| c.get().is_none()));
    assert_eq!(line(&format_args!("x")), b"pam_systemd_rs(:session): x\0");
}
