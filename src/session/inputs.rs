//! What open reads before it asks logind: the PAM items, the environment (`getenv_harder`), the
//! `systemd.*` limits PAM data, the bus address and the release timeout.

use super::*;

/// The PAM items, absent ones empty.
#[derive(Debug, Default)]
pub(super) struct Items {
    pub(super) service: Vec<u8>,
    pub(super) display: Vec<u8>,
    pub(super) tty: Vec<u8>,
    pub(super) remote_user: Vec<u8>,
    pub(super) remote_host: Vec<u8>,
}

/// The string items: all at once with one error text where the pinned generation reads them
/// so (`Rules::items_at_once`), else one by one; only the service where the pinned generation
/// registers no session for the `systemd-user` stack.
pub(super) fn read_items(pam: &impl PamOps, compat: Option<Generation>) -> Result<Items, Error> {
    let rules = compat.map(Generation::rules);
    let get = |which: StringItem, name: &str| {
        pam.item(which).map(Option::unwrap_or_default).map_err(|r| {
            if rules.is_some_and(|r| r.items_at_once) {
                pam_fail(pam, r, "Failed to get PAM items")
            } else {
                pam_fail(pam, r, format!("Failed to get PAM {name}"))
            }
        })
    };
    let service = get(StringItem::Service, "service")?;
    if rules.is_some_and(|r| r.systemd_user == SystemdUser::RuntimeDirOnly) && service == b"systemd-user" {
        // Nothing else is read for user@.service's stack.
        return Ok(Items {
            service,
            ..Items::default()
        });
    }
    Ok(Items {
        service,
        display: get(StringItem::XDisplay, "XDISPLAY")?,
        tty: get(StringItem::Tty, "TTY")?,
        remote_user: get(StringItem::RUser, "RUSER")?,
        remote_host: get(StringItem::RHost, "RHOST")?,
    })
}

/// The session limits earlier modules set as PAM data.
#[derive(Debug, Default)]
pub(super) struct Limits {
    pub(super) memory_max: Option<Vec<u8>>,
    pub(super) tasks_max: Option<Vec<u8>>,
    pub(super) cpu_weight: Option<Vec<u8>>,
    pub(super) io_weight: Option<Vec<u8>>,
    pub(super) runtime_max_sec: Option<Vec<u8>>,
}

impl Limits {
    /// pam_systemd 262's `can_use_varlink()`: none of the five is set (even an empty string
    /// counts as set).
    pub(super) fn none_set(&self) -> bool {
        self.memory_max.is_none()
            && self.tasks_max.is_none()
            && self.cpu_weight.is_none()
            && self.io_weight.is_none()
            && self.runtime_max_sec.is_none()
    }

    pub(super) fn borrowed(&self) -> crate::limits::Limits<'_> {
        crate::limits::Limits {
            memory_max: self.memory_max.as_deref(),
            tasks_max: self.tasks_max.as_deref(),
            cpu_weight: self.cpu_weight.as_deref(),
            io_weight: self.io_weight.as_deref(),
            runtime_max_sec: self.runtime_max_sec.as_deref(),
        }
    }
}

/// The five limits, in C's order; a failure names its key, or (`Words::limits_data_one_text`)
/// is `Failed to get PAM data`.
pub(super) fn read_limits(pam: &impl PamOps, generation: Generation) -> Result<Limits, Error> {
    let one_text = generation.rules().words.limits_data_one_text;
    let limit = |key: &CStr| {
        // SAFETY: the `systemd.*` limit keys hold NUL-terminated strings by pam_systemd's
        // documented convention (pam_systemd(8): "set with pam_set_data() as strings").
        unsafe { pam.data_str(key) }.map_err(|r| {
            if one_text {
                pam_fail(pam, r, "Failed to get PAM data")
            } else {
                pam_fail(pam, r, format!("Failed to get PAM {} data", key.to_string_lossy()))
            }
        })
    };
    Ok(Limits {
        memory_max: limit(c"systemd.memory_max")?,
        tasks_max: limit(c"systemd.tasks_max")?,
        cpu_weight: limit(c"systemd.cpu_weight")?,
        io_weight: limit(c"systemd.io_weight")?,
        runtime_max_sec: limit(c"systemd.runtime_max_sec")?,
    })
}

/// `getenv_harder()`: PAM env, then the process env (secure_getenv), then the argument.
pub(super) fn getenv_harder(
    pam: &impl PamOps,
    host: &impl Host,
    name: &CStr,
    fallback: Option<&[u8]>,
) -> Option<Vec<u8>> {
    let from_pam = pam.getenv(name);
    let from_process = if from_pam.as_deref().is_some_and(|v| !v.is_empty()) {
        None
    } else {
        host.secure_getenv(name)
    };
    context::getenv_harder(from_pam.as_deref(), from_process.as_deref(), fallback).map(<[u8]>::to_vec)
}

/// The system bus address: `$DBUS_SYSTEM_BUS_ADDRESS` (secure_getenv, as sd-bus), else the default.
pub(super) fn system_bus_address(host: &impl Host) -> String {
    host.secure_getenv(c"DBUS_SYSTEM_BUS_ADDRESS")
        .and_then(|v| String::from_utf8(v).ok())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| logind::DEFAULT_SYSTEM_BUS_ADDRESS.to_owned())
}

/// `$SYSTEMD_BUS_TIMEOUT` (secure_getenv, a time span), else sd-bus's 25 s.
pub(super) fn release_timeout_default(host: &impl Host) -> Duration {
    host.secure_getenv(c"SYSTEMD_BUS_TIMEOUT")
        .and_then(|v| parse::parse_sec(&v))
        .filter(|&usec| usec > 0 && usec != u64::MAX)
        .map_or(DEFAULT_RELEASE_TIMEOUT, Duration::from_micros)
}
