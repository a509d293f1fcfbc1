//! The D-Bus transport's hook for the diagnosis: what is asked on a connection of its own when a
//! login fails. `diagnose::ask` implements it and the hooks hand it in, so that the transport
//! does not depend on the diagnosis. A leaf: it imports nothing else of `logind`.

use crate::dbus::Connection;
use crate::diagnose::rule::Trigger;

/// A question asked on a D-Bus connection about user `uid`'s failing login. `None`: nothing to
/// say (notes about why go to LOG_DEBUG inside).
pub trait Question {
    fn ask(&self, conn: &mut Connection, uid: u32, trigger: Trigger) -> Option<String>;
}
