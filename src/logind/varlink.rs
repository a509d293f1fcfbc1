//! The Varlink transport: logind's `io.systemd.Login` (logind ≥ 258), as pam_systemd 262's
//! `register_session()` and `pam_sm_close_session()` use it (docs/behaviour-262.md sections 6.2 and 13),
//! over the blocking client in `crate::varlink`.
//!
//! * Connect to [`Endpoint::varlink`]; a connect failure is the only one after which the
//!   caller goes on with D-Bus ([`Failure::falls_back`]).
//! * After connecting, our own process as a pidref (C acquires it after the connect too), then
//!   `CreateSession` with C's parameters (`varlink::login::create_session_parameters`).
//! * `io.systemd.Login.AlreadySessionMember` is [`Answer::AlreadyInSession`]; any other error
//!   reply, a lost or mute connection, a reply that is not what the method returns: the login's
//!   failure (`logind::failure` gives C's line and code: SERVICE_ERR, BUF_ERR for ENOMEM).
//! * The reply has no session fd, no object path, no "existing" flag.
//!
//! One deadline, `timeout=`, bounds connect, send and reply together (our robustness rule; C
//! sets 120 s on the create call and leaves sd-varlink's 45 s on the release call). No thread;
//! each connection is closed before returning. A class refusal the plan answers with an older
//! request is sent on a fresh connection (the client's connection is good for one call).

use std::time::Instant;

use super::plan::{self, Answer, Attempt, Failure, INVALID_PARAMETER, Next, Plan, Reply, Via};
use super::{Endpoint, Transport};
use crate::json::Value;
use crate::limits::PropValue;
use crate::varlink::login::{
    self, CREATE_SESSION, CreateSession, PidrefError, RELEASE_SESSION, create_session_parameters, own_pidref,
    read_created, release_session_parameters,
};
use crate::varlink::{self as vl, Connection, error_to_errno};

/// logind over Varlink: a fresh connection per call, closed before returning; except that the
/// connection [`Transport::reachable`] made is kept for the hook's `CreateSession` (C connects
/// once and calls), and closed when the transport is dropped at the end of the hook.
#[derive(Debug, Default)]
pub struct Varlink {
    probed: Option<Connection>,
}

impl Transport for Varlink {
    fn create(
        &mut self,
        ep: &Endpoint,
        plan: &Plan<'_>,
        first: Attempt,
        _props: &[(&'static str, PropValue)],
        attempts: &mut Vec<Attempt>,
    ) -> Result<Answer, Failure> {
        let deadline = ep.deadline(Instant::now());
        let mut attempt = first;
        loop {
            let failure = match create_once(ep, deadline, self.probed.take(), plan, attempt, attempts) {
                Ok(answer) => return Ok(answer),
                Err(f) => f,
            };
            match plan.next(attempt, &failure) {
                Next::Send(a) if a.via == Via::Varlink && !failure.falls_back() => attempt = a,
                Next::NoSession if !failure.falls_back() => return Ok(Answer::NoSession),
                _ => return plan::settle(failure),
            }
        }
    }

    fn reachable(&mut self, ep: &Endpoint) -> Result<(), Failure> {
        let deadline = ep.deadline(Instant::now());
        let conn = Connection::connect(ep.varlink.as_bytes(), deadline, CREATE_SESSION).map_err(failed)?;
        self.probed = Some(conn);
        Ok(())
    }

    fn release(&mut self, ep: &Endpoint, id: &[u8]) -> Result<(), Failure> {
        let deadline = ep.deadline(Instant::now());
        let mut conn = Connection::connect(ep.varlink.as_bytes(), deadline, RELEASE_SESSION).map_err(failed)?;
        let params =
            release_session_parameters(id).map_err(|e| failed(conn.error(RELEASE_SESSION, vl::Failure::Encode(e))))?;
        let reply = conn.call(RELEASE_SESSION, &params, &[]).map_err(failed)?;
        match reply.error {
            None => Ok(()),
            // C passes no reply to sd_varlink_error_to_errno() here: the name alone.
            Some(name) => {
                let errno = error_to_errno(&name, None);
                Err(failed(conn.error(RELEASE_SESSION, vl::Failure::Reply { name, errno })))
            }
        }
    }
}

/// One `CreateSession` call of `attempt`'s request on a connection of its own: `probed` if the
/// hook has one open already, else a fresh one.
fn create_once(
    ep: &Endpoint,
    deadline: Option<Instant>,
    probed: Option<Connection>,
    plan: &Plan<'_>,
    attempt: Attempt,
    attempts: &mut Vec<Attempt>,
) -> Result<Answer, Failure> {
    let mut conn = match probed {
        Some(conn) => conn.rebound(deadline),
        None => Connection::connect(ep.varlink.as_bytes(), deadline, CREATE_SESSION).map_err(failed)?,
    };
    attempts.push(attempt);
    let fail = |conn: &Connection, f: vl::Failure| failed(conn.error(CREATE_SESSION, f));
    let pid = own_pidref().map_err(|e| match e {
        PidrefError::Acquire(errno) => fail(&conn, vl::Failure::Pidref(errno)),
        PidrefError::Build(errno) => fail(&conn, vl::Failure::Encode(errno)),
    })?;
    let req = plan
        .request(attempt.request)
        .ok_or_else(|| fail(&conn, vl::Failure::Encode(libc::EINVAL)))?;
    let call = CreateSession {
        uid: req.uid,
        pid: Some(pid),
        service: req.service,
        session_type: req.session_type,
        class: req.class,
        desktop: req.desktop,
        seat: req.seat,
        vtnr: req.vtnr,
        tty: req.tty,
        display: req.display,
        remote: req.remote,
        remote_user: req.remote_user,
        remote_host: req.remote_host,
        extra_device_access: &req.extra_device_access,
    };
    let params = create_session_parameters(&call).map_err(|e| fail(&conn, vl::Failure::Encode(e)))?;
    let reply = conn.call(CREATE_SESSION, &params, &[]).map_err(failed)?;
    match reply.error {
        // C: "Not creating session: %s" with the error's name.
        Some(name) if name == login::ALREADY_SESSION_MEMBER => Ok(Answer::AlreadyInSession { message: name }),
        Some(name) => {
            let errno = error_to_errno(&name, reply.parameters.as_ref());
            let parameter = (name == INVALID_PARAMETER)
                .then(|| invalid_parameter(reply.parameters.as_ref()))
                .flatten();
            Err(Failure::Varlink {
                error: conn.error(CREATE_SESSION, vl::Failure::Reply { name, errno }),
                parameter,
            })
        }
        None => {
            let c = read_created(reply.parameters.as_ref()).map_err(|e| fail(&conn, vl::Failure::BadParameters(e)))?;
            let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            Ok(Answer::Session(Reply {
                id: text(&c.id),
                object_path: String::new(),
                runtime_path: text(&c.runtime_path),
                fd: None,
                uid: c.uid.unwrap_or(u32::MAX),
                seat: c.seat.as_deref().map(text).unwrap_or_default(),
                vtnr: c.vtnr,
                existing: false,
            }))
        }
    }
}

/// A failure of the Varlink client, as the neutral vocabulary carries it.
fn failed(error: vl::Error) -> Failure {
    Failure::Varlink { error, parameter: None }
}

/// The `parameter` an `org.varlink.service.InvalidParameter` reply names.
fn invalid_parameter(parameters: Option<&Value>) -> Option<String> {
    let Some(Value::Object(members)) = parameters else {
        return None;
    };
    members.iter().find_map(|(k, v)| match (k.as_slice(), v) {
        (b"parameter", Value::Str(s)) => Some(String::from_utf8_lossy(s).into_owned()),
        _ => None,
    })
}

#[cfg(test)]
mod tests;
