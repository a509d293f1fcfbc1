//! The failure table: every failure → its PAM code and line.

use std::time::Duration;

use super::*;
use crate::logind::plan::ErrorName;

fn failure(name: &str, message: &str) -> Failure {
    Failure::Call {
        name: Some(ErrorName::Dbus(name.into())),
        message: message.into(),
        detail: String::new(),
        elapsed: Duration::from_millis(3),
    }
}

/// Every bus failure → PAM code and line, for open and close (the C texts are prefixes).
#[test]
fn bus_error_table() {
    let ep = Endpoint::new("unix:path=/x".into(), None);
    let connect = |errno| Failure::Connect {
        errno,
        detail: String::new(),
        elapsed: Duration::from_millis(1),
    };
    let rows: Vec<(Op, Failure, std::ffi::c_int, &str)> = vec![
        (
            Op::Create,
            connect(libc::ENOENT),
            3,
            "Failed to connect to system bus: No such file or directory (unix:path=/x after 1 ms)",
        ),
        (
            Op::Create,
            connect(libc::ENOMEM),
            5,
            "Failed to connect to system bus: Cannot allocate memory (",
        ),
        (
            Op::Release,
            connect(libc::ECONNREFUSED),
            3,
            "Failed to connect to system bus: Connection refused (",
        ),
        (
            Op::Create,
            Failure::BuildMessage { errno: libc::EINVAL },
            3,
            "Failed to create bus message: Invalid argument",
        ),
        (
            Op::Create,
            Failure::BuildMessage { errno: libc::EMFILE },
            3,
            "Failed to create bus message: Too many open files",
        ),
        (
            Op::Release,
            Failure::BuildMessage { errno: libc::EINVAL },
            14,
            "Failed to release session: Invalid argument",
        ),
        (
            Op::Create,
            failure(
                "org.freedesktop.DBus.Error.InvalidArgs",
                "Invalid session class user-early",
            ),
            14,
            "Failed to create session: Invalid session class user-early (org.freedesktop.DBus.Error.InvalidArgs after 3 ms, org.freedesktop.login1 at unix:path=/x)",
        ),
        (
            Op::Release,
            failure("org.freedesktop.login1.NoSuchSession", "No session 'c9' known"),
            14,
            "Failed to release session: No session 'c9' known (",
        ),
        (
            Op::Create,
            Failure::BadReply {
                detail: "signature 's'".into(),
            },
            3,
            "Failed to parse bus message: No such device or address (signature 's')",
        ),
        (
            Op::Create,
            Failure::DupFd { errno: libc::EMFILE },
            3,
            "Failed to dup session fd: Too many open files",
        ),
    ];
    for (op, f, code, text) in rows {
        let e = bus_error(op, &f, &ep, 0);
        assert_eq!(e.code(), code, "{f:?}");
        assert!(e.message().starts_with(text), "{:?}: {}", f, e.message());
    }
    let denied = failure("org.freedesktop.DBus.Error.AccessDenied", "Access denied");
    assert!(
        bus_error(Op::Create, &denied, &ep, 1000)
            .message()
            .ends_with("runs as uid 1000)")
    );
    assert!(
        bus_error(Op::Create, &denied, &ep, 0)
            .message()
            .ends_with("at unix:path=/x)")
    );
}
