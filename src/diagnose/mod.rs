//! Why a login lost its user manager, in two parts:
//!
//! * [`rule`]: pure. What triggers the question (a failed CreateSession's error name and text, or
//!   a created session whose runtime directory is not in order), and the ONE rule from what PID 1
//!   and logind say about the user's units to the sentence naming the cause and the fix.
//! * [`ask`]: the bus half. Asks PID 1 and logind for those facts over D-Bus (read-only calls);
//!   the module asks on a failing login only, the doctor always.
//!
//! Neither depends on the session story. `ask` uses only two leaves of `logind`: its reading of
//! D-Bus errors (`logind::dbus_error`) and the hook it implements (`logind::question`); the
//! transport asks through that hook and never imports `ask`, so there is no circle.

pub mod ask;
pub mod rule;

pub use rule::*;
