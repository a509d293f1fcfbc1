//! Capability sets as pam_systemd 257 handles them: the `default-capability-*-set=` arguments
//! (`parse_caps()`), the choice of the sets applied at the end of a successful open
//! (`apply_user_record_settings()`), and the two process-state changes themselves
//! (`capability_ambient_set_apply()`, `capability_bounding_set_drop()`), made with `prctl(2)` and
//! `capget(2)`/`capset(2)` directly (no libcap).

use crate::sys::errno;

/// The capability names this module knows, by number (Linux 6.x, as systemd 257 knows them).
const NAMES: [&str; 41] = [
    "cap_chown",
    "cap_dac_override",
    "cap_dac_read_search",
    "cap_fowner",
    "cap_fsetid",
    "cap_kill",
    "cap_setgid",
    "cap_setuid",
    "cap_setpcap",
    "cap_linux_immutable",
    "cap_net_bind_service",
    "cap_net_broadcast",
    "cap_net_admin",
    "cap_net_raw",
    "cap_ipc_lock",
    "cap_ipc_owner",
    "cap_sys_module",
    "cap_sys_rawio",
    "cap_sys_chroot",
    "cap_sys_ptrace",
    "cap_sys_pacct",
    "cap_sys_admin",
    "cap_sys_boot",
    "cap_sys_nice",
    "cap_sys_resource",
    "cap_sys_time",
    "cap_sys_tty_config",
    "cap_mknod",
    "cap_lease",
    "cap_audit_write",
    "cap_audit_control",
    "cap_setfcap",
    "cap_mac_override",
    "cap_mac_admin",
    "cap_syslog",
    "cap_wake_alarm",
    "cap_block_suspend",
    "cap_audit_read",
    "cap_perfmon",
    "cap_bpf",
    "cap_checkpoint_restore",
];

/// `CAP_WAKE_ALARM`, the ambient default of 257 for regular users on a seat or in user@.service.
pub const CAP_WAKE_ALARM: u32 = 35;
/// `CAP_SETPCAP`, needed to drop from the bounding set.
const CAP_SETPCAP: u32 = 8;
/// systemd's `CAP_LIMIT`: the highest capability a 64-bit mask with `UINT64_MAX` as "unset" holds.
const CAP_LIMIT: u32 = 62;

/// "No set given": systemd's `UINT64_MAX` marker.
pub const UNSET: u64 = u64::MAX;

/// `capability_from_name()`: a number 0..=62 (systemd's integer syntax) or a known name,
/// case-insensitively.
pub fn from_name(word: &[u8]) -> Option<u32> {
    if let Some(n) = crate::parse::safe_atoi(word) {
        return u32::try_from(n).ok().filter(|&n| n <= CAP_LIMIT);
    }
    let word = std::str::from_utf8(word).ok()?;
    NAMES
        .iter()
        .position(|n| n.eq_ignore_ascii_case(word))
        .and_then(|i| u32::try_from(i).ok())
}

/// The words of a `default-capability-*-set=` value: split at `,` without coalescing (`a,,b`
/// has an empty word, and so has a value ending in `,` or an empty value), a backslash taking the
/// next byte literally; `Err` for a trailing backslash (after the words before it were taken).
fn words(value: &[u8]) -> (Vec<Vec<u8>>, bool) {
    let mut out = Vec::new();
    let mut word = Vec::new();
    let mut it = value.iter();
    loop {
        match it.next() {
            None => {
                out.push(word);
                return (out, true);
            }
            Some(b',') => out.push(std::mem::take(&mut word)),
            Some(b'\\') => match it.next() {
                Some(&c) => word.push(c),
                None => return (out, false),
            },
            Some(&c) => word.push(c),
        }
    }
}

/// `parse_caps()`: applies a `[~]name,name,…` value to `caps` (`UNSET` at first; `~` starts
/// from `all`, the kernel's capabilities, and removes). Calls `unknown` for every word that is
/// no capability; `Err(())` when the value cannot be split (the caller warns), with the words
/// before the problem already applied, as in C.
pub fn parse_into(value: &[u8], caps: &mut u64, all: u64, mut unknown: impl FnMut(&[u8])) -> Result<(), ()> {
    let (subtract, rest) = match value.strip_prefix(b"~") {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let (words, complete) = words(rest);
    for w in &words {
        let Some(c) = from_name(w) else {
            unknown(w);
            continue;
        };
        let m = 1u64 << c;
        let base = if *caps == UNSET {
            if subtract { all } else { 0 }
        } else {
            *caps
        };
        *caps = if subtract { base & !m } else { base | m };
    }
    if complete { Ok(()) } else { Err(()) }
}

/// All capabilities up to `last` (`all_capabilities()`).
pub fn all_up_to(last: u32) -> u64 {
    let last = last.min(CAP_LIMIT);
    (1u64 << (last + 1)) - 1
}

/// What to do with the process's capabilities at the end of a successful 257 open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// Raise these in the inheritable and ambient sets (and lower all other ambient ones).
    pub ambient: Option<u64>,
    /// Keep only these in the bounding set (and the inheritable set).
    pub bounding: Option<u64>,
}

/// `apply_user_record_settings()`'s choice: the ambient set is the argument's, else the default
/// (`CAP_WAKE_ALARM` for regular users in user@.service's stack or on a seat); it is applied
/// (masked by the bounding set) unless unset or empty; the bounding set is applied unless unset
/// or complete (`all`).
pub fn change(ambient_arg: u64, bounding_arg: u64, regular: bool, systemd_user: bool, seat: &[u8], all: u64) -> Change {
    let mut ambient = ambient_arg;
    if ambient == UNSET && regular && (systemd_user || !seat.is_empty()) {
        ambient = 1u64 << CAP_WAKE_ALARM;
    }
    Change {
        ambient: (ambient != UNSET && ambient != 0).then_some(ambient & bounding_arg),
        bounding: (bounding_arg != UNSET && bounding_arg & all != all).then_some(bounding_arg),
    }
}

// ---------------------------------------------------------------------------------------------
// The process-state changes (thin, over prctl/capget/capset).
// ---------------------------------------------------------------------------------------------

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// The three sets of this thread, as 64-bit masks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sets {
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
}

/// `capget(2)` of the calling thread.
pub fn get() -> Result<Sets, i32> {
    let mut h = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut d = [CapData::default(); 2];
    // SAFETY: a valid header and room for the two data structs of version 3.
    let r = unsafe { libc::syscall(libc::SYS_capget, &mut h as *mut CapHeader, d.as_mut_ptr()) };
    if r < 0 {
        return Err(errno());
    }
    let [lo, hi] = d;
    let join = |l: u32, h: u32| u64::from(l) | (u64::from(h) << 32);
    Ok(Sets {
        effective: join(lo.effective, hi.effective),
        permitted: join(lo.permitted, hi.permitted),
        inheritable: join(lo.inheritable, hi.inheritable),
    })
}

/// `capset(2)` of the calling thread.
fn set(s: Sets) -> Result<(), i32> {
    let mut h = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let split = |v: u64| ((v & 0xffff_ffff) as u32, (v >> 32) as u32);
    let (el, eh) = split(s.effective);
    let (pl, ph) = split(s.permitted);
    let (il, ih) = split(s.inheritable);
    let d = [
        CapData {
            effective: el,
            permitted: pl,
            inheritable: il,
        },
        CapData {
            effective: eh,
            permitted: ph,
            inheritable: ih,
        },
    ];
    // SAFETY: a valid header and the two data structs of version 3, only read by the kernel.
    let r = unsafe { libc::syscall(libc::SYS_capset, &mut h as *mut CapHeader, d.as_ptr()) };
    if r < 0 { Err(errno()) } else { Ok(()) }
}

fn prctl(op: libc::c_int, a: u64, b: u64) -> Result<libc::c_int, i32> {
    // SAFETY: prctl with integer arguments only.
    let r = unsafe { libc::prctl(op, a, b, 0u64, 0u64) };
    if r < 0 { Err(errno()) } else { Ok(r) }
}

/// `cap_last_cap()`: `/proc/sys/kernel/cap_last_cap`, capped at 62; else probe the bounding set.
pub fn last_cap() -> u32 {
    if let Some(n) = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
    {
        return n.min(CAP_LIMIT);
    }
    let mut p = 40;
    while p < CAP_LIMIT && prctl(libc::PR_CAPBSET_READ, u64::from(p) + 1, 0).is_ok() {
        p += 1;
    }
    while p > 0 && prctl(libc::PR_CAPBSET_READ, u64::from(p), 0).is_err() {
        p -= 1;
    }
    p
}

/// `capability_ambient_set_apply(set, also_inherit=true)`: capabilities missing from the
/// bounding set are left out; the inheritable set becomes `set`; each capability of `set` is
/// raised in the ambient set and every other one lowered.
pub fn apply_ambient(mut set: u64, last: u32) -> Result<(), i32> {
    for i in 0..=last {
        if set == 0 {
            break;
        }
        if set & (1 << i) != 0 && prctl(libc::PR_CAPBSET_READ, u64::from(i), 0) != Ok(1) {
            set &= !(1 << i);
        }
    }
    // ambient_capabilities_supported()
    let probe = prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_IS_SET as u64, 5);
    if matches!(probe, Err(e) if e == libc::EINVAL || e == libc::EOPNOTSUPP || e == libc::ENOSYS) {
        return if set & all_up_to(last) == 0 {
            Ok(())
        } else {
            Err(libc::EOPNOTSUPP)
        };
    }
    let mut s = get()?;
    s.inheritable = (s.inheritable & !all_up_to(last)) | (set & all_up_to(last));
    self::set(s)?;
    for i in 0..=last {
        let i64_ = u64::from(i);
        if set & (1 << i) != 0 {
            prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_RAISE as u64, i64_)?;
        } else if prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_IS_SET as u64, i64_)? == 1 {
            prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_LOWER as u64, i64_)?;
        }
    }
    Ok(())
}

/// `capability_bounding_set_drop(keep, right_now=false)`: every capability not in `keep` leaves
/// the bounding set and the inheritable set (CAP_SETPCAP raised in the effective set for the
/// time it takes, if it can be).
pub fn drop_bounding(keep: u64, last: u32) -> Result<(), i32> {
    let before = get()?;
    if before.effective & (1 << CAP_SETPCAP) == 0 {
        let mut temp = before;
        temp.effective |= 1 << CAP_SETPCAP;
        // Failing here only means that the drops below fail.
        let _ = set(temp);
    }
    let mut after = before;
    let mut result = Ok(());
    for i in 0..=last {
        if keep & (1 << i) != 0 {
            continue;
        }
        if let Err(e) = prctl(libc::PR_CAPBSET_DROP, u64::from(i), 0) {
            // Not having it in the first place is fine.
            if prctl(libc::PR_CAPBSET_READ, u64::from(i), 0) != Ok(0) {
                result = Err(e);
                break;
            }
        }
        after.inheritable &= !(1 << i);
    }
    if let Err(e) = set(after)
        && after != before
    {
        return Err(e);
    }
    result
}

#[cfg(test)]
mod tests;
