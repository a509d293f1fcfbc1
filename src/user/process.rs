//! The user record's process settings, `umask`, `niceLevel` and `resourceLimits`, and how
//! pam_systemd applies them to the calling process in `apply_user_record_settings()`
//! (`src/login/pam_systemd.c`, the same code in 252, 257 and 262 except for one log level).
//!
//! Reading (`user_record_load()` with `USER_RECORD_PERMISSIVE`, `src/shared/user-record.c`) is
//! done by the record reader (`record_read::dispatch_process`) into [`ProcessSettings`]; this
//! module holds the value rules it uses ([`umask_octal_string`], [`NICE_RANGE`], [`rlimit_index`])
//! and the application:
//!
//! * [`apply_umask`] runs first, before the record's environment is exported;
//! * [`apply_nice_and_limits`] runs after `LANG`/`LANGUAGE` and before the capabilities:
//!   `nice(level)`, then `setrlimit_closest()` for every limit in resource-number order.
//!
//! Neither ever fails the login: C ignores every error (it logs and goes on). A putenv failure
//! between the two returns early in C, so the umask is then set and the rest is not.
//!
//! The process is reached through [`ProcessOps`] ([`ThisProcess`] is the real one), so the rules
//! are table-tested against a scripted fake.

use log::{debug, error, warn};

use crate::sys::strerror;

pub use crate::rules::ProcessRules;

/// A resource limit as `struct rlimit` holds it; `RLIM_INFINITY` is "unlimited".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub cur: u64,
    pub max: u64,
}

/// `RLIM_INFINITY` on Linux.
pub const RLIM_INFINITY: u64 = u64::MAX;

/// `_RLIMIT_MAX` (`RLIMIT_NLIMITS`) on Linux.
pub const RLIMIT_COUNT: usize = 16;

/// The resource type the libc calls take.
pub type Resource = libc::__rlimit_resource_t;

/// `rlimit_table[]` (`src/basic/rlimit-util.c`) in resource-number order, which is the order C
/// applies them in (`for (rl = 0; rl < _RLIMIT_MAX; rl++)`): the name as the log lines and the
/// record (after `RLIMIT_`) spell it, and the resource.
pub const RLIMITS: [(&str, Resource); RLIMIT_COUNT] = [
    ("CPU", libc::RLIMIT_CPU),
    ("FSIZE", libc::RLIMIT_FSIZE),
    ("DATA", libc::RLIMIT_DATA),
    ("STACK", libc::RLIMIT_STACK),
    ("CORE", libc::RLIMIT_CORE),
    ("RSS", libc::RLIMIT_RSS),
    ("NPROC", libc::RLIMIT_NPROC),
    ("NOFILE", libc::RLIMIT_NOFILE),
    ("MEMLOCK", libc::RLIMIT_MEMLOCK),
    ("AS", libc::RLIMIT_AS),
    ("LOCKS", libc::RLIMIT_LOCKS),
    ("SIGPENDING", libc::RLIMIT_SIGPENDING),
    ("MSGQUEUE", libc::RLIMIT_MSGQUEUE),
    ("NICE", libc::RLIMIT_NICE),
    ("RTPRIO", libc::RLIMIT_RTPRIO),
    ("RTTIME", libc::RLIMIT_RTTIME),
];

/// `rlimit_from_string()`: the index of a name (exact, case-sensitive, no number form).
pub fn rlimit_index(name: &[u8]) -> Option<usize> {
    RLIMITS.iter().position(|(n, _)| n.as_bytes() == name)
}

/// `nice_is_valid()`: `PRIO_MIN <= n < PRIO_MAX`.
pub const NICE_RANGE: std::ops::Range<i64> = -20..20;

/// The largest umask a record may carry (`json_dispatch_umask()` in 252/257, the `SD_JSON_STRICT`
/// limit of `json_dispatch_access_mode()` in 262).
pub const UMASK_MAX: u64 = 0o777;

/// What a cached record asks of the process, as `user_record_load()` leaves it: the regular
/// section, then every matching `perMachine` entry over it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcessSettings {
    /// `umask` as 252 and 257 read it: the first member that is an unsigned number, up to 0777.
    pub umask: Option<u32>,
    /// `umask` as 262 reads it: the first member, a number up to 0777 or an octal string; `null`
    /// clears what an earlier section set.
    pub umask_as_access_mode: Option<u32>,
    /// `niceLevel`: -20..19; `null` clears.
    pub nice: Option<i32>,
    /// `resourceLimits`, by index into [`RLIMITS`]; `null` clears them all.
    pub rlimits: [Option<Limit>; RLIMIT_COUNT],
}

impl ProcessSettings {
    /// The umask of that generation's reading.
    pub fn umask_for(&self, rules: ProcessRules) -> Option<u32> {
        if rules.umask_access_mode {
            self.umask_as_access_mode
        } else {
            self.umask
        }
    }

    /// Nothing to apply (for any generation).
    pub fn is_empty(&self) -> bool {
        *self == ProcessSettings::default()
    }
}

/// 262's `parse_mode()` of a string `umask` (`safe_atou_full(s, 8|SAFE_ATO_REFUSE_PLUS_MINUS)`,
/// at most 07777), limited to 0777: `Some(mode)`, or None where the dispatcher refuses it.
///
/// The steps, as C takes them: systemd's whitespace (" \t\n\r") is skipped and a sign after it
/// refused; then glibc's `strtoul(s, &end, 8)` skips its own whitespace (also `\v`, `\f`), takes
/// an optional sign and at least one octal digit, and must reach the end of the string; a
/// negative result that is not 0 wraps and is out of range.
pub fn umask_octal_string(s: &[u8]) -> Option<u32> {
    let s = {
        let skip = s
            .iter()
            .take_while(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
            .count();
        s.get(skip..)?
    };
    if matches!(s.first(), Some(b'+' | b'-')) {
        return None;
    }
    // strtoul: isspace() in the C locale, then a sign.
    let skip = s
        .iter()
        .take_while(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
        .count();
    let mut rest = s.get(skip..)?;
    let mut negative = false;
    if let Some((&sign @ (b'+' | b'-'), tail)) = rest.split_first() {
        negative = sign == b'-';
        rest = tail;
    }
    if rest.is_empty() || !rest.iter().all(|c| (b'0'..=b'7').contains(c)) {
        return None;
    }
    let mut value: u64 = 0;
    for &c in rest {
        // An overflow is ERANGE in strtoul.
        value = value.checked_mul(8)?.checked_add(u64::from(c - b'0'))?;
    }
    if negative && value != 0 {
        // -N wraps to ULONG_MAX - N + 1, which does not fit an unsigned int: ERANGE.
        return None;
    }
    if value > UMASK_MAX {
        return None;
    }
    u32::try_from(value).ok()
}

/// The calls `apply_user_record_settings()` makes on the calling process.
pub trait ProcessOps {
    /// `umask(mask)`: sets the file mode creation mask; the previous one.
    fn umask(&mut self, mask: u32) -> u32;
    /// glibc's `nice(increment)`: its return value (the new nice level, or -1 on error) and
    /// `errno` after the call (glibc restores the caller's errno on success).
    fn nice(&mut self, increment: i32) -> (i32, i32);
    /// `getrlimit(resource)`; `Err(errno)`.
    fn getrlimit(&mut self, resource: Resource) -> Result<Limit, i32>;
    /// `setrlimit(resource, limit)`; `Err(errno)`.
    fn setrlimit(&mut self, resource: Resource, limit: Limit) -> Result<(), i32>;
}

/// `setrlimit_closest()` (`src/basic/rlimit-util.c`, the same in 252, 257 and 262): set the
/// limit; if the kernel refuses with EPERM and the hard limit is finite, lower both values to
/// the hard limit and try once more (nothing to do if that is what is set already).
/// `Err(errno)` as C returns it (positive here).
///
/// C logs `Failed at setting rlimit … Will attempt setting value … instead.` with `log_debug()`
/// before the retry. That goes through systemd's own logger, which pam_systemd leaves at its
/// default level (info), so the line never appears; nothing is logged here either.
pub fn setrlimit_closest(ops: &mut impl ProcessOps, resource: Resource, want: Limit) -> Result<(), i32> {
    match ops.setrlimit(resource, want) {
        Ok(()) => return Ok(()),
        Err(e) if e != libc::EPERM => return Err(e),
        Err(_) => {}
    }
    let highest = ops.getrlimit(resource)?;
    if highest.max == RLIM_INFINITY {
        // The EPERM had another reason than the hard limit.
        return Err(libc::EPERM);
    }
    let fixed = Limit {
        cur: want.cur.min(highest.max),
        max: want.max.min(highest.max),
    };
    if fixed == highest {
        return Ok(());
    }
    ops.setrlimit(resource, fixed)
}

/// The first step of `apply_user_record_settings()`: `umask(value)` and, with `debug`,
/// `Set user umask to %04o based on user record.` (umask cannot fail).
pub fn apply_umask(s: &ProcessSettings, rules: ProcessRules, ops: &mut impl ProcessOps) {
    if let Some(mask) = s.umask_for(rules) {
        ops.umask(mask);
        debug!("Set user umask to {mask:04o} based on user record.");
    }
}

/// The steps of `apply_user_record_settings()` after the languages and before the capabilities:
/// `nice(level)` (a negative result is a failure, logged and ignored: ERR, in 262 WARNING), then
/// every resource limit through `setrlimit_closest()` in resource-number order (a failure is
/// logged at ERR and ignored), each success with a debug line.
pub fn apply_nice_and_limits(s: &ProcessSettings, rules: ProcessRules, ops: &mut impl ProcessOps) {
    if let Some(level) = s.nice {
        // C: `if (nice(level) < 0)`, so a new level below 0 reads as a failure too, with
        // whatever errno was before the call.
        let (ret, errno) = ops.nice(level);
        if ret < 0 {
            let err = strerror(errno.saturating_abs());
            if rules.nice_failure_warns {
                warn!("Failed to set nice level to {level}, ignoring: {err}");
            } else {
                error!("Failed to set nice level to {level}, ignoring: {err}");
            }
        } else {
            debug!("Nice level set to {level}, based on user record.");
        }
    }
    for ((name, resource), limit) in RLIMITS.iter().zip(s.rlimits.iter()) {
        let Some(limit) = limit else { continue };
        match setrlimit_closest(ops, *resource, *limit) {
            Ok(()) => debug!("Resource limit {name} set, based on user record."),
            Err(e) => error!(
                "Failed to set resource limit {name}, ignoring: {}",
                strerror(e.saturating_abs())
            ),
        }
    }
}

/// The calling process, through libc.
pub struct ThisProcess;

impl ProcessOps for ThisProcess {
    fn umask(&mut self, mask: u32) -> u32 {
        // SAFETY: umask only swaps the process's file mode creation mask; it cannot fail.
        unsafe { libc::umask(mask) }
    }

    fn nice(&mut self, increment: i32) -> (i32, i32) {
        // SAFETY: nice only changes this process's scheduling priority; no pointers.
        let ret = unsafe { libc::nice(increment) };
        (ret, crate::sys::errno())
    }

    fn getrlimit(&mut self, resource: Resource) -> Result<Limit, i32> {
        let mut rl = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `rl` is a valid, writable struct rlimit for the call.
        if unsafe { libc::getrlimit(resource, &mut rl) } < 0 {
            return Err(crate::sys::errno());
        }
        Ok(Limit {
            cur: rl.rlim_cur,
            max: rl.rlim_max,
        })
    }

    fn setrlimit(&mut self, resource: Resource, limit: Limit) -> Result<(), i32> {
        let rl = libc::rlimit {
            rlim_cur: limit.cur,
            rlim_max: limit.max,
        };
        // SAFETY: `rl` is a valid struct rlimit that setrlimit only reads.
        if unsafe { libc::setrlimit(resource, &rl) } < 0 {
            return Err(crate::sys::errno());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
