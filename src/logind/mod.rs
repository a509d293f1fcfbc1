//! Talking to logind: what the session story asks ([`Logind`]), and below it the transports
//! that carry it ([`Transport`]).
//!
//! * `plan`: the neutral vocabulary (attempt = transport + the generation whose rules built the
//!   request; answers; failures with their transport's error name) and the pure decisions: the
//!   next attempt, and which generation logind's answers put in force.
//! * `dbus`: the D-Bus transport (`CreateSessionWithPIDFD`/`CreateSession`, `ReleaseSession`,
//!   `Inhibit`) over the module's own client (`crate::dbus`), and the connection the diagnosis
//!   asks on; `dbus_error`: sd-bus's reading of error replies;
//!   `question`: what the diagnosis asks there (implemented by `diagnose::ask`); `address`: the
//!   bus address list and the socket connect.
//! * `failure`: the one table from a failure to its PAM code and log line.
//!
//! * `varlink`: the Varlink transport (`io.systemd.Login.CreateSession`/`ReleaseSession` over
//!   `crate::varlink`), tried first as pam_systemd 262 does; [`LogindClient`] goes to D-Bus on
//!   exactly a Varlink connect failure ([`Failure::falls_back`]), as C does.

use std::time::{Duration, Instant};

pub mod address;
mod dbus;
pub mod dbus_error;
mod failure;
pub mod plan;
pub mod question;
mod varlink;

pub use crate::sys::strerror;
pub use dbus::{Dbus, decode_reply, inhibit, open_bus};
pub use failure::{Op, bus_error};
pub use plan::{Answer, Attempt, Created, Failure, FallbackLine, Next, Plan, Via};
pub use varlink::Varlink;

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
    /// logind's Varlink socket.
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

    /// The same endpoint with what is left, at this moment, of the deadline of an operation that
    /// started at `started` (none left: a zero timeout, which ends the next step at once).
    pub fn remaining(&self, started: Instant) -> Endpoint {
        Endpoint {
            timeout: self
                .deadline(started)
                .map(|d| d.saturating_duration_since(Instant::now())),
            ..self.clone()
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
    /// ReleaseSession(id): over Varlink first when `varlink` (D-Bus on a Varlink connect
    /// failure), else over D-Bus. Says which transport released it.
    fn release_session(&mut self, ep: &Endpoint, id: &[u8], varlink: bool) -> Result<Via, Failure>;
    /// On a failing login only: the line naming why (PID 1 and logind asked on a connection of
    /// its own, inside `deadline`, the login's), or `None`.
    fn why(&mut self, ep: &Endpoint, uid: u32, trigger: Trigger, deadline: Option<Instant>) -> Option<String>;
    /// Whether logind's Varlink socket accepts a connection (closed at once, no call): logind
    /// ≥ 258, whose generation's story a login not pinned by `compat=` then follows. Without a
    /// Varlink transport: no.
    fn speaks_varlink(&mut self, _ep: &Endpoint) -> bool {
        false
    }
    /// 262's inhibitor lock: `Manager.Inhibit` over D-Bus (never Varlink) on a connection of its
    /// own, closed before returning; the lock's fd, duplicated `F_DUPFD_CLOEXEC` ≥ 3.
    fn inhibit(&mut self, ep: &Endpoint, req: &crate::inhibit::Request<'_>) -> Result<std::os::fd::OwnedFd, Failure>;
}

/// One way of carrying the conversation to logind.
pub trait Transport {
    /// Connects, follows `plan` from `first` as long as its attempts stay on this transport,
    /// recording each attempt sent in `attempts`, and closes the connection before returning.
    fn create(
        &mut self,
        ep: &Endpoint,
        plan: &Plan<'_>,
        first: Attempt,
        props: &[(&'static str, PropValue)],
        attempts: &mut Vec<Attempt>,
    ) -> Result<Answer, Failure>;
    /// Releases the session `id`.
    fn release(&mut self, ep: &Endpoint, id: &[u8]) -> Result<(), Failure>;
    /// Whether the service is there: a connect, closed at once, no call (see
    /// [`Plan::probes_varlink`]). Transports without a use for it answer yes.
    fn reachable(&mut self, _ep: &Endpoint) -> Result<(), Failure> {
        Ok(())
    }
}

/// A transport that can also ask why a login failed (D-Bus: PID 1 is asked there).
pub trait Explain {
    /// See [`Logind::why`].
    fn why(&mut self, ep: &Endpoint, uid: u32, trigger: Trigger, deadline: Option<Instant>) -> Option<String>;
}

/// The real [`Logind`]: Varlink first where the plan says so, D-Bus on exactly a Varlink
/// connect failure (pam_systemd 262's only fallback), the diagnosis over D-Bus.
pub struct LogindClient<V, D> {
    varlink: V,
    dbus: D,
}

impl<V: Transport, D: Transport + Explain> LogindClient<V, D> {
    pub fn new(varlink: V, dbus: D) -> Self {
        LogindClient { varlink, dbus }
    }
}

impl<V: Transport, D: Transport + Explain> Logind for LogindClient<V, D> {
    fn create_session(&mut self, ep: &Endpoint, plan: &Plan<'_>, props: &[(&'static str, PropValue)]) -> Created {
        let mut attempts = Vec::new();
        let mut fell_back = None;
        let mut next = plan.first();
        let started = Instant::now();
        if plan.probes_varlink()
            && let Err(f) = self.varlink.reachable(ep)
            && let Next::Send(a) = plan.next(
                Attempt {
                    via: Via::Varlink,
                    request: next.request,
                },
                &f,
            )
        {
            // No io.systemd.Login: logind ≤ 257, whose C module the login follows.
            next = a;
        }
        let result = loop {
            // One deadline over both transports: D-Bus after a Varlink connect failure gets
            // what is left of it.
            let ep = &ep.remaining(started);
            let r = match next.via {
                Via::Varlink => self.varlink.create(ep, plan, next, props, &mut attempts),
                Via::DbusPidfd | Via::Dbus => self.dbus.create(ep, plan, next, props, &mut attempts),
            };
            match r {
                Err(f) if f.falls_back() => match plan.next(next, &f) {
                    Next::Send(a) if a.via != Via::Varlink => {
                        fell_back = Some(f);
                        next = a;
                    }
                    Next::NoSession => {
                        fell_back = Some(f);
                        break Ok(Answer::NoSession);
                    }
                    _ => break Err(f),
                },
                other => break other,
            }
        };
        Created {
            attempts,
            result,
            fell_back,
        }
    }

    fn release_session(&mut self, ep: &Endpoint, id: &[u8], varlink: bool) -> Result<Via, Failure> {
        let started = Instant::now();
        if varlink {
            match self.varlink.release(ep, id) {
                Ok(()) => return Ok(Via::Varlink),
                Err(f) if f.falls_back() => log::debug!("{}", FallbackLine(&f)),
                Err(f) => return Err(f),
            }
        }
        self.dbus.release(&ep.remaining(started), id).map(|()| Via::Dbus)
    }

    fn speaks_varlink(&mut self, ep: &Endpoint) -> bool {
        self.varlink.reachable(ep).is_ok()
    }

    fn why(&mut self, ep: &Endpoint, uid: u32, trigger: Trigger, deadline: Option<Instant>) -> Option<String> {
        self.dbus.why(ep, uid, trigger, deadline)
    }

    fn inhibit(&mut self, ep: &Endpoint, req: &crate::inhibit::Request<'_>) -> Result<std::os::fd::OwnedFd, Failure> {
        crate::inhibit::InhibitCall::inhibit(&mut crate::inhibit::DbusInhibit, ep, req)
    }
}
