//! The D-Bus transport's question on a failing login, where it cannot be asked: no time left in
//! the login's deadline, or no bus to connect to. The question itself is never put then.

use std::cell::Cell;
use std::time::{Duration, Instant};

use super::*;

/// A question that counts how often it is put.
struct Counted<'a>(&'a Cell<u32>);

impl Question for Counted<'_> {
    fn ask(&self, _conn: &mut Connection, _uid: u32, _trigger: Trigger) -> Option<String> {
        self.0.set(self.0.get() + 1);
        Some("asked".into())
    }
}

fn why_logged(bus: &str, deadline: Option<Instant>) -> (Option<String>, Vec<String>, u32) {
    let asked = Cell::new(0);
    let mut dbus = Dbus::new(Counted(&asked));
    let ep = Endpoint::new(bus.into(), Some(Duration::from_secs(3)));
    let (line, log) = crate::logging::tests::captured(|| {
        crate::logging::with_scope(b"login", true, |_| dbus.why(&ep, 1000, Trigger::JobFailed, deadline))
    });
    (line, log, asked.get())
}

#[test]
fn no_time_left_asks_nothing() {
    let (line, log, asked) = why_logged(
        "unix:path=/nonexistent/bus",
        Some(Instant::now() + Duration::from_millis(50)),
    );
    assert_eq!((line, asked), (None, 0));
    assert_eq!(log, ["DEBUG No time left to ask systemd why."]);
}

#[test]
#[cfg_attr(miri, ignore)] // sockets: not available under miri
fn no_bus_asks_nothing() {
    let (line, log, asked) = why_logged("unix:path=/nonexistent/bus", None);
    assert_eq!((line, asked), (None, 0));
    assert_eq!(log, ["DEBUG Could not ask systemd why: No such file or directory"]);
}

/// Transports other than unix: and tcp: fail the connect, named in the failure's detail; a
/// later entry of the list is still tried.
#[test]
#[cfg_attr(miri, ignore)] // sockets: not available under miri
fn unsupported_transports_fail_the_connect_by_name() {
    let asked = Cell::new(0);
    let mut dbus = Dbus::new(Counted(&asked));
    let ep = Endpoint::new(
        "unixexec:path=/bin/true;nonce-tcp:host=h,port=1;unix:path=/nonexistent/bus".into(),
        Some(Duration::from_secs(3)),
    );
    match dbus.release(&ep, b"c1") {
        Err(Failure::Connect { errno, detail, .. }) => {
            assert_eq!(errno, libc::ENOENT);
            assert_eq!(detail, "transport not supported: unixexec, nonce-tcp");
        }
        other => panic!("{other:?}"),
    }
    let ep = Endpoint::new("unixexec:path=/bin/true".into(), None);
    match dbus.release(&ep, b"c1") {
        Err(Failure::Connect { errno, detail, .. }) => {
            assert_eq!(
                (errno, detail.as_str()),
                (libc::EPROTONOSUPPORT, "transport not supported: unixexec")
            );
        }
        other => panic!("{other:?}"),
    }
}
