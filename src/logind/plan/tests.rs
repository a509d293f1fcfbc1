//! The plan's decisions and the answers' vocabulary, as tables.

#![allow(clippy::type_complexity)]

use std::time::Duration;

use super::*;

const PIDFD257: Attempt = Attempt {
    via: Via::DbusPidfd,
    request: Generation::V257,
};
const CLASSIC252: Attempt = Attempt {
    via: Via::Dbus,
    request: Generation::V252,
};

fn a(via: Via, request: Generation) -> Attempt {
    Attempt { via, request }
}

fn failure(name: &str, message: &str) -> Failure {
    Failure::Call {
        name: Some(ErrorName::Dbus(name.into())),
        message: message.into(),
        detail: String::new(),
        elapsed: Duration::from_millis(3),
    }
}

fn unknown_method() -> Failure {
    failure(
        UNKNOWN_METHOD,
        "Unknown method CreateSessionWithPIDFD or interface org.freedesktop.login1.Manager.",
    )
}

fn request(class: &'static [u8]) -> Request<'static> {
    Request {
        uid: 0,
        service: b"login",
        session_type: b"tty",
        class,
        desktop: b"",
        seat: b"",
        vtnr: 0,
        tty: b"pts/0",
        display: b"",
        remote: false,
        remote_user: b"",
        remote_host: b"",
        area: None,
        extra_device_access: vec![],
    }
}

/// The plan's decisions, as a table: (pinned, 252 request exists, classes differ, attempt,
/// failure) → next.
#[test]
fn plan_table() {
    let req = |class: &'static [u8]| Request {
        uid: 0,
        service: b"login",
        session_type: b"tty",
        class,
        desktop: b"",
        seat: b"",
        vtnr: 0,
        tty: b"pts/0",
        display: b"",
        remote: false,
        remote_user: b"",
        remote_host: b"",
        area: None,
        extra_device_access: vec![],
    };
    let refused = |c: &str| failure(INVALID_ARGS, &format!("Invalid session class {c}"));
    let busy = failure(SESSION_BUSY, "busy");
    let pidfd252 = a(Via::DbusPidfd, Generation::V252);
    let classic257 = a(Via::Dbus, Generation::V257);
    let rows: Vec<(Option<Generation>, Option<&'static [u8]>, Attempt, Failure, Next)> = vec![
        (None, Some(b"user"), PIDFD257, unknown_method(), Next::Send(CLASSIC252)),
        (
            None,
            Some(b"user"),
            PIDFD257,
            refused("user-early"),
            Next::Send(pidfd252),
        ),
        (
            None,
            Some(b"user"),
            classic257,
            refused("user-early"),
            Next::Send(CLASSIC252),
        ),
        (None, Some(b"user"), PIDFD257, refused("user"), Next::Stop),
        (None, Some(b"user-early"), PIDFD257, refused("user-early"), Next::Stop),
        (None, Some(b"user"), PIDFD257, busy.clone(), Next::Stop),
        (None, Some(b"user"), CLASSIC252, refused("user"), Next::Stop),
        (None, Some(b"user"), classic257, unknown_method(), Next::Stop),
        (None, None, PIDFD257, unknown_method(), Next::NoSession),
        (None, None, PIDFD257, refused("user-early"), Next::NoSession),
        (
            Some(Generation::V257),
            Some(b"user"),
            PIDFD257,
            unknown_method(),
            Next::Send(classic257),
        ),
        (
            Some(Generation::V257),
            Some(b"user"),
            classic257,
            refused("user-early"),
            Next::Stop,
        ),
        (
            Some(Generation::V252),
            Some(b"user"),
            pidfd252,
            unknown_method(),
            Next::Send(CLASSIC252),
        ),
        (Some(Generation::V252), Some(b"user"), pidfd252, busy, Next::Stop),
    ];
    for (pinned, v252, done, f, want) in rows {
        let plan = Plan {
            pinned,
            v257: req(b"user-early"),
            v252: v252.map(req),
            v262: None,
        };
        assert_eq!(plan.next(done, &f), want, "{pinned:?} {v252:?} {done:?} {f:?}");
    }
}

/// "Already in a session" is an answer in both transports' words; nothing else is.
#[test]
fn already_in_session_settles() {
    let varlink = |name: &str| Failure::Call {
        name: Some(ErrorName::Varlink(name.into())),
        message: "member".into(),
        detail: String::new(),
        elapsed: Duration::ZERO,
    };
    for f in [failure(SESSION_BUSY, "member"), varlink(ALREADY_SESSION_MEMBER)] {
        assert!(
            matches!(settle(f.clone()), Ok(Answer::AlreadyInSession { ref message }) if message == "member"),
            "{f:?}"
        );
    }
    for f in [
        unknown_method(),
        failure(ALREADY_SESSION_MEMBER.replace("Member", "Mumble").as_str(), "x"),
        varlink("io.systemd.Login.NoSuchSeat"),
        Failure::Call {
            name: None,
            message: "Already running in a session".into(),
            detail: String::new(),
            elapsed: Duration::ZERO,
        },
        Failure::BuildMessage { errno: libc::EINVAL },
    ] {
        assert_eq!(settle(f.clone()).err(), Some(f));
    }
}

/// Which generation the answers tell: (pinned, 252 request exists, attempts made, result).
#[test]
fn answered_table() {
    let busy = || settle(failure(SESSION_BUSY, "busy"));
    let session = || {
        Ok(Answer::Session(Reply {
            id: "1".into(),
            object_path: String::new(),
            runtime_path: String::new(),
            fd: None,
            uid: 0,
            seat: String::new(),
            vtnr: 0,
            existing: false,
        }))
    };
    let bus = || Err(failure("org.freedesktop.DBus.Error.ServiceUnknown", "not activatable"));
    let refused = || Err(failure(INVALID_ARGS, "Invalid session class user"));
    let classic257 = a(Via::Dbus, Generation::V257);
    let rows: Vec<(
        Option<Generation>,
        bool,
        Vec<Attempt>,
        Result<Answer, Failure>,
        Option<Generation>,
    )> = vec![
        (Some(Generation::V252), true, vec![], bus(), Some(Generation::V252)),
        (
            Some(Generation::V257),
            true,
            vec![PIDFD257],
            bus(),
            Some(Generation::V257),
        ),
        (None, true, vec![PIDFD257], session(), Some(Generation::V257)),
        (None, true, vec![classic257], session(), Some(Generation::V257)),
        (
            None,
            true,
            vec![PIDFD257, CLASSIC252],
            session(),
            Some(Generation::V252),
        ),
        (
            None,
            false,
            vec![PIDFD257],
            Ok(Answer::NoSession),
            Some(Generation::V252),
        ),
        (None, true, vec![PIDFD257], busy(), Some(Generation::V257)),
        (None, true, vec![classic257], busy(), None),
        (None, true, vec![PIDFD257], refused(), Some(Generation::V257)),
        (None, true, vec![classic257], refused(), None),
        (None, true, vec![PIDFD257], bus(), None),
        (
            None,
            true,
            vec![],
            Err(Failure::BuildMessage { errno: libc::EINVAL }),
            None,
        ),
        (
            None,
            true,
            vec![a(Via::Varlink, Generation::V257)],
            Err(Failure::Call {
                name: Some(ErrorName::Varlink("io.systemd.Login.NoSuchSeat".into())),
                message: String::new(),
                detail: String::new(),
                elapsed: Duration::ZERO,
            }),
            None,
        ),
    ];
    for (pinned, v252, attempts, result, want) in rows {
        let plan = Plan {
            pinned,
            v257: request(b"user"),
            v252: v252.then(|| request(b"user")),
            v262: None,
        };
        assert_eq!(
            plan.answered(&attempts, &result),
            want,
            "{pinned:?} {attempts:?} {result:?}"
        );
    }
}
