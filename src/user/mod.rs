//! The user record (pam_systemd's `acquire_user_record()`): the record an earlier module cached
//! as PAM data `systemd-user-record-<name>` ([`cached_identity`]), else `userdb_by_name()` as it
//! behaves on a Debian system without systemd-userdbd: systemd's name rules, then NSS
//! (`getpwnam_r`, `getspnam_r`), and the record formatted as JSON and cached in turn
//! ([`record_json`]).
//!
//! * [`nss`]: the look-ups (I/O).
//! * [`record_write`]: NSS entries → the JSON string systemd caches, byte for byte.
//! * [`record_read`]: a cached JSON record → `(userName, uid)`, read as systemd reads it.
//! * [`process`]: the record's `umask`, `niceLevel` and `resourceLimits`, and how they are
//!   applied to the calling process.
//! * [`settings`]: the record's environment settings (`environment`, `EMAIL`, `TZ`, `LANG`) and
//!   the rules that decide which reach the PAM environment.
//! * [`utf8`]: systemd's UTF-8, GECOS and user-name rules, shared by the two.

pub mod nss;
pub mod process;
pub mod record_read;
pub mod record_write;
pub mod settings;
pub mod userdb;
pub mod utf8;

pub use nss::{lookup, shadow_by_name};
pub use record_read::{RecordError, cached_identity, home_fields, load_cached};
pub use record_write::{Passwd, Shadow, record_json};
pub use utf8::valid_user_name_relaxed;

/// The PAM data key is this prefix + the user name; the value is the JSON as a C string.
pub const DATA_KEY_PREFIX: &str = "systemd-user-record-";

/// `uid_is_valid()`: not (uid_t) -1 and not the 16-bit -1.
pub fn uid_is_valid(u: u32) -> bool {
    u != u32::MAX && u != 0xFFFF
}

#[cfg(test)]
mod tests;
