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

/// A plan of the three generations' classes (`None`: that generation registers no session).
fn plan3(pinned: Option<Generation>, classes: [Option<&'static [u8]>; 3], varlink: bool) -> Plan<'static> {
    Plan {
        pinned,
        requests: Generation::ALL
            .into_iter()
            .zip(classes)
            .map(|(g, c)| (g, c.map(request)))
            .collect(),
        varlink,
    }
}

fn varlink_failure(failure: crate::varlink::Failure, parameter: Option<&str>) -> Failure {
    Failure::Varlink {
        error: crate::varlink::Error {
            method: "io.systemd.Login.CreateSession".into(),
            socket: "/run/systemd/io.systemd.Login".into(),
            elapsed: Duration::from_millis(2),
            failure,
        },
        parameter: parameter.map(str::to_owned),
    }
}

fn varlink_absent() -> Failure {
    varlink_failure(crate::varlink::Failure::Connect(libc::ENOENT), None)
}

fn varlink_refused(parameter: &str) -> Failure {
    varlink_failure(
        crate::varlink::Failure::Reply {
            name: INVALID_PARAMETER.into(),
            errno: libc::EINVAL,
        },
        Some(parameter),
    )
}

const V262: Generation = Generation::V262;
const V257: Generation = Generation::V257;
const V252: Generation = Generation::V252;

/// The first call: (pinned, Varlink allowed) → attempt. Varlink only where the generation goes
/// there first and no limit is set.
#[test]
fn first_table() {
    let rows = [
        (None, true, a(Via::Varlink, V262)),
        (None, false, a(Via::DbusPidfd, V262)),
        (Some(V262), true, a(Via::Varlink, V262)),
        (Some(V262), false, a(Via::DbusPidfd, V262)),
        (Some(V257), true, PIDFD257),
        (Some(V257), false, PIDFD257),
        (Some(V252), true, a(Via::DbusPidfd, V252)),
        (Some(V252), false, a(Via::DbusPidfd, V252)),
    ];
    for (pinned, varlink, want) in rows {
        let plan = plan3(pinned, [Some(b"user"), Some(b"user"), Some(b"user")], varlink);
        assert_eq!(plan.first(), want, "{pinned:?} {varlink}");
    }
}

/// The plan's decisions, as a table: (pinned, the classes of 262, 257, 252, attempt, failure)
/// → next; every generation's attempt against every kind of answer.
#[test]
fn plan_table() {
    let refused = |c: &str| failure(INVALID_ARGS, &format!("Invalid session class {c}"));
    let busy = failure(SESSION_BUSY, "busy");
    let mute = varlink_failure(crate::varlink::Failure::Timeout(crate::varlink::Step::Receive), None);
    let bus = failure("org.freedesktop.DBus.Error.ServiceUnknown", "not activatable");
    let pidfd252 = a(Via::DbusPidfd, V252);
    let classic257 = a(Via::Dbus, V257);
    let vl262 = a(Via::Varlink, V262);
    let vl257 = a(Via::Varlink, V257);
    let pidfd262 = a(Via::DbusPidfd, V262);
    let classic262 = a(Via::Dbus, V262);
    // 262 chose user-light, 257 user-early, 252 user (a system user on a tty).
    const LIGHT: [Option<&[u8]>; 3] = [Some(b"user-light"), Some(b"user-early"), Some(b"user")];
    // All ask for the same class (the admin's).
    const SAME: [Option<&[u8]>; 3] = [Some(b"user"), Some(b"user"), Some(b"user")];
    // The systemd-user stack: no 252 session.
    const MGR: [Option<&[u8]>; 3] = [Some(b"manager"), Some(b"manager"), None];
    type Row = (Option<Generation>, [Option<&'static [u8]>; 3], Attempt, Failure, Next);
    let rows: Vec<Row> = vec![
        // Decided, Varlink first.
        (None, LIGHT, vl262, varlink_absent(), Next::Send(PIDFD257)),
        (None, MGR, vl262, varlink_absent(), Next::Send(PIDFD257)),
        (None, LIGHT, vl262, varlink_refused("Class"), Next::Send(vl257)),
        (None, SAME, vl262, varlink_refused("Class"), Next::Stop),
        (None, LIGHT, vl262, varlink_refused("ExtraDeviceAccess"), Next::Stop),
        (None, LIGHT, vl262, mute.clone(), Next::Stop),
        (
            None,
            LIGHT,
            vl257,
            varlink_refused("Class"),
            Next::Send(a(Via::Varlink, V252)),
        ),
        (None, MGR, vl257, varlink_refused("Class"), Next::NoSession),
        // Decided, on D-Bus after Varlink's absence (or limits set: the 262 request there).
        (None, LIGHT, PIDFD257, unknown_method(), Next::Send(CLASSIC252)),
        (None, LIGHT, PIDFD257, refused("user-early"), Next::Send(pidfd252)),
        (None, LIGHT, classic257, refused("user-early"), Next::Send(CLASSIC252)),
        (None, LIGHT, PIDFD257, refused("user"), Next::Stop),
        (None, SAME, PIDFD257, refused("user"), Next::Stop),
        (None, LIGHT, PIDFD257, busy.clone(), Next::Stop),
        (None, LIGHT, PIDFD257, bus.clone(), Next::Stop),
        (None, LIGHT, CLASSIC252, refused("user"), Next::Stop),
        (None, LIGHT, classic257, unknown_method(), Next::Stop),
        (None, MGR, PIDFD257, unknown_method(), Next::NoSession),
        (None, MGR, PIDFD257, refused("manager"), Next::NoSession),
        (None, LIGHT, pidfd262, refused("user-light"), Next::Send(PIDFD257)),
        (None, LIGHT, classic262, refused("user-light"), Next::Send(classic257)),
        (None, LIGHT, pidfd262, unknown_method(), Next::Send(CLASSIC252)),
        (None, MGR, pidfd262, unknown_method(), Next::NoSession),
        (None, SAME, pidfd262, refused("user"), Next::Stop),
        (None, LIGHT, pidfd262, busy.clone(), Next::Stop),
        // Pinned: exactly that C module's fallbacks.
        (Some(V262), LIGHT, vl262, varlink_absent(), Next::Send(pidfd262)),
        (Some(V262), LIGHT, vl262, varlink_refused("Class"), Next::Stop),
        (Some(V262), LIGHT, vl262, mute.clone(), Next::Stop),
        (Some(V262), LIGHT, pidfd262, unknown_method(), Next::Send(classic262)),
        (Some(V262), LIGHT, pidfd262, refused("user-light"), Next::Stop),
        (Some(V262), LIGHT, classic262, refused("user-light"), Next::Stop),
        (Some(V257), LIGHT, PIDFD257, unknown_method(), Next::Send(classic257)),
        (Some(V257), LIGHT, classic257, refused("user-early"), Next::Stop),
        (Some(V257), LIGHT, PIDFD257, busy.clone(), Next::Stop),
        (Some(V252), LIGHT, pidfd252, unknown_method(), Next::Send(CLASSIC252)),
        (Some(V252), LIGHT, pidfd252, busy, Next::Stop),
        (Some(V252), LIGHT, CLASSIC252, bus, Next::Stop),
    ];
    for (pinned, classes, done, f, want) in rows {
        let plan = plan3(pinned, classes, true);
        assert_eq!(plan.next(done, &f), want, "{pinned:?} {classes:?} {done:?} {f:?}");
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
    let member = || {
        Ok(Answer::AlreadyInSession {
            message: ALREADY_SESSION_MEMBER.into(),
        })
    };
    let classic257 = a(Via::Dbus, V257);
    let vl262 = a(Via::Varlink, V262);
    let pidfd262 = a(Via::DbusPidfd, V262);
    let rows: Vec<(
        Option<Generation>,
        bool,
        Vec<Attempt>,
        Result<Answer, Failure>,
        Option<Generation>,
    )> = vec![
        (Some(V252), true, vec![], bus(), Some(V252)),
        (Some(V257), true, vec![PIDFD257], bus(), Some(V257)),
        (Some(V262), true, vec![vl262], Err(varlink_refused("Class")), Some(V262)),
        // Varlink answered: only logind ≥ 258 has io.systemd.Login.
        (None, true, vec![vl262], session(), Some(V262)),
        (None, true, vec![vl262], member(), Some(V262)),
        (None, true, vec![vl262], Err(varlink_refused("Seat")), Some(V262)),
        (
            None,
            true,
            vec![vl262],
            Err(varlink_failure(
                crate::varlink::Failure::Timeout(crate::varlink::Step::Receive),
                None,
            )),
            Some(V262),
        ),
        (None, true, vec![vl262, a(Via::Varlink, V257)], session(), Some(V262)),
        // Varlink absent (no attempt recorded for the failed connect): D-Bus tells.
        (None, true, vec![PIDFD257], session(), Some(V257)),
        (None, true, vec![classic257], session(), Some(V257)),
        (None, true, vec![PIDFD257, CLASSIC252], session(), Some(V252)),
        (None, false, vec![PIDFD257], Ok(Answer::NoSession), Some(V252)),
        (None, true, vec![PIDFD257], busy(), Some(V257)),
        (None, true, vec![classic257], busy(), None),
        (None, true, vec![PIDFD257], refused(), Some(V257)),
        (None, true, vec![classic257], refused(), None),
        (None, true, vec![PIDFD257], bus(), None),
        // Limits set: the 262 request over D-Bus.
        (None, true, vec![pidfd262], session(), Some(V262)),
        (None, true, vec![pidfd262, PIDFD257], session(), Some(V257)),
        (
            None,
            true,
            vec![pidfd262, PIDFD257, a(Via::DbusPidfd, V252)],
            refused(),
            Some(V252),
        ),
        (None, true, vec![pidfd262], bus(), None),
        (
            None,
            true,
            vec![],
            Err(Failure::BuildMessage { errno: libc::EINVAL }),
            None,
        ),
    ];
    for (pinned, v252, attempts, result, want) in rows {
        let plan = Plan {
            pinned,
            requests: vec![
                (V262, Some(request(b"user"))),
                (V257, Some(request(b"user"))),
                (V252, v252.then(|| request(b"user"))),
            ],
            varlink: true,
        };
        assert_eq!(
            plan.answered(&attempts, &result),
            want,
            "{pinned:?} {attempts:?} {result:?}"
        );
    }
}

/// Only a Varlink connect failure sends the conversation to D-Bus.
#[test]
fn falls_back_only_on_connect() {
    use crate::varlink::{Failure as V, Step};
    assert!(varlink_absent().falls_back());
    assert!(varlink_failure(V::Connect(libc::ECONNREFUSED), None).falls_back());
    for f in [
        V::Timeout(Step::Connect),
        V::Timeout(Step::Receive),
        V::Disconnected(Step::Connect),
        V::TooLarge,
        V::Protocol("x"),
        V::BadParameters(libc::ENXIO),
        V::Reply {
            name: "io.systemd.Login.NoSuchSeat".into(),
            errno: libc::ENXIO,
        },
    ] {
        assert!(!varlink_failure(f.clone(), None).falls_back(), "{f:?}");
    }
    assert!(!unknown_method().falls_back());
}

/// The socket check: only a decided login whose limits keep the create call off Varlink.
#[test]
fn probes_varlink_only_when_limits_keep_it_off() {
    let classes = [Some(&b"user"[..]), Some(&b"user"[..]), Some(&b"user"[..])];
    assert!(plan3(None, classes, false).probes_varlink());
    assert!(!plan3(None, classes, true).probes_varlink());
    for g in Generation::ALL {
        assert!(!plan3(Some(g), classes, false).probes_varlink(), "{g:?}");
    }
    // No socket: the login starts as after a Varlink connect failure, with the 257 request.
    let p = plan3(None, classes, false);
    assert_eq!(p.first(), a(Via::DbusPidfd, V262));
    assert_eq!(p.next(a(Via::Varlink, V262), &varlink_absent()), Next::Send(PIDFD257));
}
