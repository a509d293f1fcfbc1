//! Talking to logind: what the session story asks ([`Logind`]), and below it the transports
//! that carry it ([`Transport`]).
//!
//! * `plan`: the neutral vocabulary (attempt = transport + the generation whose rules built the
//!   request; answers; failures with their transport's error name) and the pure decisions: the
//!   next attempt, and which generation logind's answers put in force.
//! * `dbus`: the D-Bus transport (`CreateSessionWithPIDFD`/`CreateSession`, `ReleaseSession`)
//!   and the connection the diagnosis asks on; `dbus_error`: sd-bus's reading of error replies;
//!   `question`: what the diagnosis asks there (implemented by `diagnose::ask`); `address`: the
//!   bus address list and the socket connect.
//! * `failure`: the one table from a failure to its PAM code and log line.
//!
//! A Varlink transport (`io.systemd.Login`, tried first as pam_systemd 258+ does, D-Bus on a
//! connect failure) goes beside `dbus` behind [`Transport`]; [`Endpoint`] already names its
//! socket and [`Via::Varlink`] its attempts. The D-Bus-only client plans none yet.

use std::time::{Duration, Instant};

pub mod address;
mod dbus;
pub mod dbus_error;
mod failure;
pub mod plan;
pub mod question;

pub use crate::sys::strerror;
pub use dbus::{Dbus, decode_reply, inhibit};
pub use failure::{Op, bus_error};
pub use plan::{Answer, Attempt, Created, Failure, Plan, Via};

use crate::diagnose::rule::Trigger;
use crate::limits::PropValue;

/// sd-bus's default when `$DBUS_SYSTEM_BUS_ADDRESS` is unset (or ignored).
pub const DEFAULT_SYSTEM_BUS_ADDRESS: &str = "unix:path=/run/dbus/system_bus_socket";

/// logind's Varlink socket (`io.systemd.Login`), where pam_systemd 258+ connects first.
pub const DEFAULT_VARLINK_ADDRESS: &str = "/run/systemd/io.systemd.Login";

/// Where and how long: what every operation needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The D-Bus address (possibly several, `;`-separated, tried in order like sd-bus).
    pub bus: String,
    /// logind's Varlink socket (not used by the D-Bus-only client yet).
    pub varlink: String,
    /// One deadline over connect and call; `None`: wait for ever.
    pub timeout: Option<Duration>,
}

impl Endpoint {
    /// logind at the system bus `bus` and its default Varlink socket.
    pub fn new(bus: String, timeout: Option<Duration>) -> Self {
        Endpoint {
            bus,
            varlink: DEFAULT_VARLINK_ADDRESS.to_owned(),
            timeout,
        }
    }

    /// The deadline of an operation that started at `started`.
    pub fn deadline(&self, started: Instant) -> Option<Instant> {
        self.timeout.and_then(|t| started.checked_add(t))
    }
}

/// What the session story asks of logind.
pub trait Logind {
    /// Connects, then follows `plan` (one call per attempt, all on one connection), and closes
    /// the connection before returning. `props` are the session limits every attempt carries.
    fn create_session(&mut self, ep: &Endpoint, plan: &Plan<'_>, props: &[(&'static str, PropValue)]) -> Created;
    /// ReleaseSession(id).
    fn release_session(&mut self, ep: &Endpoint, id: &[u8]) -> Result<(), Failure>;
    /// On a failing login only: the line naming why (PID 1 and logind asked on a connection of
    /// its own, inside `deadline`, the login's), or `None`.
    fn why(&mut self, ep: &Endpoint, uid: u32, trigger: Trigger, deadline: Option<Instant>) -> Option<String>;
}

/// One way of carrying the conversation to logind.
pub trait Transport {
    /// Connects, follows `plan`, recording each attempt made in `attempts`, and closes the
    /// connection before returning.
    fn create(
        &mut self,
        ep: &Endpoint,
        plan: &Plan<'_>,
        props: &[(&'static str, PropValue)],
        attempts: &mut Vec<Attempt>,
    ) -> Result<Answer, Failure>;
    /// Releases the session `id`.
    fn release(&mut self, ep: &Endpoint, id: &[u8]) -> Result<(), Failure>;
}

/// A transport that can also ask why a login failed (D-Bus: PID 1 is asked there).
pub trait Explain {
    /// See [`Logind::why`].
    fn why(&mut self, ep: &Endpoint, uid: u32, trigger: Trigger, deadline: Option<Instant>) -> Option<String>;
}

/// The real [`Logind`]: today D-Bus only.
pub struct LogindClient<D> {
    dbus: D,
}

impl<D: Transport + Explain> LogindClient<D> {
    pub fn new(dbus: D) -> Self {
        LogindClient { dbus }
    }
}

impl<D: Transport + Explain> Logind for LogindClient<D> {
    fn create_session(&mut self, ep: &Endpoint, plan: &Plan<'_>, props: &[(&'static str, PropValue)]) -> Created {
        let mut attempts = Vec::new();
        let result = self.dbus.create(ep, plan, props, &mut attempts);
        Created { attempts, result }
    }

    fn release_session(&mut self, ep: &Endpoint, id: &[u8]) -> Result<(), Failure> {
        self.dbus.release(ep, id)
    }

    fn why(&mut self, ep: &Endpoint, uid: u32, trigger: Trigger, deadline: Option<Instant>) -> Option<String> {
        self.dbus.why(ep, uid, trigger, deadline)
    }
}
