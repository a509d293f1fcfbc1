//! The one table from a failed operation with logind to its PAM code and LOG_ERR line (the C
//! module's `pam_acquire_bus_connection`, `pam_bus_log_create_error`, `pam_bus_log_parse_error`,
//! and the `Failed to create/release session: %s` lines), with our details in parentheses; and
//! for the Varlink transport pam_systemd 262's lines and codes (`register_session()`,
//! `pam_sm_close_session()`: SERVICE_ERR, BUF_ERR for ENOMEM, where D-Bus refusals are
//! SESSION_ERR), with the socket, what failed and the time taken.

use super::Endpoint;
use super::plan::{ACCESS_DENIED, Failure};
use crate::error::Error;
use crate::ffi::{PAM_BUF_ERR, PAM_SERVICE_ERR, PAM_SESSION_ERR};
use crate::sys::strerror;

/// Which bus operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Create,
    Release,
}

/// The one table from a failed bus operation to its PAM code and LOG_ERR line (the C module's
/// `pam_acquire_bus_connection`, `pam_bus_log_create_error`, `pam_bus_log_parse_error`, and the
/// `Failed to create/release session: %s` lines), with our details in parentheses.
pub fn bus_error(op: Op, f: &Failure, ep: &Endpoint, euid: u32) -> Error {
    match (op, f) {
        (_, Failure::Varlink { error, .. }) => Error::new(error.pam_code(), error.to_string()),
        (_, Failure::Connect { errno, detail, elapsed }) => {
            let code = if *errno == libc::ENOMEM {
                PAM_BUF_ERR
            } else {
                PAM_SERVICE_ERR
            };
            let extra = if detail.is_empty() {
                String::new()
            } else {
                format!("{detail}, ")
            };
            Error::new(
                code,
                format!(
                    "Failed to connect to system bus: {} ({extra}{} after {} ms)",
                    strerror(*errno),
                    ep.bus,
                    elapsed.as_millis()
                ),
            )
        }
        (Op::Create, Failure::BuildMessage { errno }) => Error::new(
            PAM_SERVICE_ERR,
            format!("Failed to create bus message: {}", strerror(*errno)),
        ),
        (Op::Create, Failure::Call { .. }) => Error::new(
            PAM_SESSION_ERR,
            format!("Failed to create session: {}", describe_call(ep, f, euid)),
        ),
        (Op::Create, Failure::BadReply { detail }) => Error::new(
            PAM_SERVICE_ERR,
            format!("Failed to parse bus message: {} ({detail})", strerror(libc::ENXIO)),
        ),
        (Op::Create, Failure::DupFd { errno }) => Error::new(
            PAM_SERVICE_ERR,
            format!("Failed to dup session fd: {}", strerror(*errno)),
        ),
        (Op::Release, _) => Error::new(
            PAM_SESSION_ERR,
            format!("Failed to release session: {}", describe_call(ep, f, euid)),
        ),
    }
}

/// `<message> (<error name> after N ms, org.freedesktop.login1 at <address>)`.
fn describe_call(ep: &Endpoint, f: &Failure, euid: u32) -> String {
    match f {
        Failure::Call {
            name,
            message,
            detail,
            elapsed,
        } => {
            let mut why = String::new();
            if let Some(n) = name {
                why.push_str(n.as_str());
                why.push(' ');
            }
            if !detail.is_empty() {
                why.push_str(detail);
                why.push_str(", ");
            }
            let mut s = format!(
                "{message} ({why}after {} ms, org.freedesktop.login1 at {}",
                elapsed.as_millis(),
                ep.bus
            );
            if f.is_dbus(ACCESS_DENIED) && euid != 0 {
                s.push_str(&format!(
                    "; logind takes this call from root only, and this process runs as uid {euid}"
                ));
            }
            s.push(')');
            s
        }
        Failure::BadReply { detail } => detail.clone(),
        Failure::Varlink { error, .. } => error.to_string(),
        Failure::DupFd { errno } | Failure::Connect { errno, .. } | Failure::BuildMessage { errno } => strerror(*errno),
    }
}

#[cfg(test)]
mod tests;
