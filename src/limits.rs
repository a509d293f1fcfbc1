//! pam_systemd's own rule for session limits: the five `systemd.*` PAM data strings an earlier
//! module may set become the a(sv) of CreateSession (`append_session_memory_max()`,
//! `append_session_runtime_max_sec()`, `append_session_tasks_max()`, `append_session_cpu_weight()`,
//! `append_session_io_weight()` in pam_systemd.c), or a warning each. The number syntax itself is
//! systemd's, in [`crate::parse`]. See docs/behaviour.md, "Session limits".

use crate::parse::{
    cgroup_weight, cpu_weight, cstr, parse_permyriad, parse_sec, parse_size_1024, permyriad_to_scale, safe_atou64,
};

/// A D-Bus variant value of one a(sv) entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropValue {
    /// `u`
    U32(u32),
    /// `t`
    U64(u64),
}

/// The five `systemd.*` PAM data strings (NUL-terminated in C; pass the bytes before the NUL).
/// `None` = the PAM data item is not set.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits<'a> {
    /// `systemd.memory_max`
    pub memory_max: Option<&'a [u8]>,
    /// `systemd.tasks_max`
    pub tasks_max: Option<&'a [u8]>,
    /// `systemd.cpu_weight`
    pub cpu_weight: Option<&'a [u8]>,
    /// `systemd.io_weight`
    pub io_weight: Option<&'a [u8]>,
    /// `systemd.runtime_max_sec`
    pub runtime_max_sec: Option<&'a [u8]>,
}

/// What one `append_session_*()` helper does with its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitOutcome {
    /// Nothing appended, nothing logged (unset, empty, or a skipped `infinity`).
    Skip,
    /// One `(sv)` entry appended.
    Value(&'static str, PropValue),
    /// Nothing appended; a LOG_WARNING line with this text is logged.
    Warn(String),
}

/// Renders a C string for `%s`: the raw bytes, lossily converted (invalid UTF-8 becomes
/// U+FFFD; the C module would write the raw bytes to syslog).
fn show(s: &[u8]) -> String {
    String::from_utf8_lossy(cstr(s)).into_owned()
}

/// The value unless `isempty()` (NULL or "").
fn non_empty(v: Option<&[u8]>) -> Option<&[u8]> {
    v.map(cstr).filter(|s| !s.is_empty())
}

/// Mirrors v252 `append_session_memory_max()`: empty → skip; exactly `infinity` →
/// `MemoryMax t UINT64_MAX`; `parse_permyriad()` → `MemoryMaxScale u
/// UINT32_SCALE_FROM_PERMYRIAD(p)`; `parse_size(…, 1024)` → `MemoryMax t`; otherwise WARNING
/// `Failed to parse systemd.memory_max, ignoring: %s`.
pub fn memory_max_outcome(limit: Option<&[u8]>) -> LimitOutcome {
    let Some(limit) = non_empty(limit) else {
        return LimitOutcome::Skip;
    };
    if limit == b"infinity" {
        return LimitOutcome::Value("MemoryMax", PropValue::U64(u64::MAX));
    }
    if let Some(p) = parse_permyriad(limit) {
        return LimitOutcome::Value("MemoryMaxScale", PropValue::U32(permyriad_to_scale(p)));
    }
    match parse_size_1024(limit) {
        Some(v) => LimitOutcome::Value("MemoryMax", PropValue::U64(v)),
        None => LimitOutcome::Warn(format!("Failed to parse systemd.memory_max, ignoring: {}", show(limit))),
    }
}

/// Mirrors v252 `append_session_runtime_max_sec()`: empty or exactly `infinity` → skip;
/// `parse_sec()` → `RuntimeMaxUSec t`; otherwise WARNING
/// `Failed to parse systemd.runtime_max_sec: %s, ignoring.`
pub fn runtime_max_sec_outcome(limit: Option<&[u8]>) -> LimitOutcome {
    let Some(limit) = non_empty(limit) else {
        return LimitOutcome::Skip;
    };
    if limit == b"infinity" {
        return LimitOutcome::Skip;
    }
    match parse_sec(limit) {
        Some(v) => LimitOutcome::Value("RuntimeMaxUSec", PropValue::U64(v)),
        None => LimitOutcome::Warn(format!(
            "Failed to parse systemd.runtime_max_sec: {}, ignoring.",
            show(limit)
        )),
    }
}

/// Mirrors v252 `append_session_tasks_max()`: empty or exactly `infinity` → skip;
/// `safe_atou64()` → `TasksMax t`; otherwise WARNING
/// `Failed to parse systemd.tasks_max, ignoring: %s`.
pub fn tasks_max_outcome(limit: Option<&[u8]>) -> LimitOutcome {
    let Some(limit) = non_empty(limit) else {
        return LimitOutcome::Skip;
    };
    if limit == b"infinity" {
        return LimitOutcome::Skip;
    }
    match safe_atou64(limit) {
        Some(v) => LimitOutcome::Value("TasksMax", PropValue::U64(v)),
        None => LimitOutcome::Warn(format!("Failed to parse systemd.tasks_max, ignoring: {}", show(limit))),
    }
}

/// Mirrors v252 `append_session_cpu_weight()`: empty → skip; `cg_cpu_weight_parse()` →
/// `CPUWeight t`; otherwise WARNING `Failed to parse systemd.cpu_weight, ignoring: %s`.
pub fn cpu_weight_outcome(limit: Option<&[u8]>) -> LimitOutcome {
    let Some(limit) = non_empty(limit) else {
        return LimitOutcome::Skip;
    };
    match cpu_weight(limit) {
        Some(v) => LimitOutcome::Value("CPUWeight", PropValue::U64(v)),
        None => LimitOutcome::Warn(format!("Failed to parse systemd.cpu_weight, ignoring: {}", show(limit))),
    }
}

/// Mirrors v252 `append_session_io_weight()`: empty → skip; `cg_weight_parse()` →
/// `IOWeight t`; otherwise WARNING `Failed to parse systemd.io_weight, ignoring: %s`.
pub fn io_weight_outcome(limit: Option<&[u8]>) -> LimitOutcome {
    let Some(limit) = non_empty(limit) else {
        return LimitOutcome::Skip;
    };
    match cgroup_weight(limit) {
        Some(v) => LimitOutcome::Value("IOWeight", PropValue::U64(v)),
        None => LimitOutcome::Warn(format!("Failed to parse systemd.io_weight, ignoring: {}", show(limit))),
    }
}

/// Mirrors the a(sv) part of v252 `pam_sm_open_session()` (the `append_session_*()` calls in
/// the order memory_max, runtime_max_sec, tasks_max, cpu_weight, io_weight).
///
/// Returns the entries in wire order and the LOG_WARNING lines in log order. Warning texts are
/// exact; non-UTF-8 bytes in an echoed value are rendered with `String::from_utf8_lossy` (the C
/// module passes the raw bytes to `pam_syslog("%s")`).
pub fn session_properties(l: &Limits) -> (Vec<(&'static str, PropValue)>, Vec<String>) {
    let mut props = Vec::with_capacity(5);
    let mut warnings = Vec::new();
    for outcome in [
        memory_max_outcome(l.memory_max),
        runtime_max_sec_outcome(l.runtime_max_sec),
        tasks_max_outcome(l.tasks_max),
        cpu_weight_outcome(l.cpu_weight),
        io_weight_outcome(l.io_weight),
    ] {
        match outcome {
            LimitOutcome::Skip => {}
            LimitOutcome::Value(name, v) => props.push((name, v)),
            LimitOutcome::Warn(w) => warnings.push(w),
        }
    }
    (props, warnings)
}

#[cfg(test)]
mod tests;
