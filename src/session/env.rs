//! What open leaves in the PAM environment and data after logind answered: the variables
//! (`update_environment`), the credentials, `setup_environment()` (262), the runtime directory
//! checks, the session fd.

use super::*;

/// The session fd, stored as fd+1 with no cleanup: deliberately never closed, so that logind sees
/// the session end when this process exits (the C module does the same).
pub(super) fn keep_session_fd(pam: &mut impl PamOps, fd: std::os::fd::OwnedFd) -> Result<(), Error> {
    let raw = fd.into_raw_fd();
    debug_assert!(raw >= 3, "dup'ed with F_DUPFD_CLOEXEC, 3");
    let value = usize::try_from(raw).unwrap_or_default().saturating_add(1);
    if let Err(r) = pam.set_data_value(c"systemd.session-fd", value) {
        // SAFETY: libpam did not take the fd; we still own it and close it once.
        drop(unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(raw) });
        return Err(pam_fail(pam, r, "Failed to install session fd"));
    }
    Ok(())
}

/// 262's `setup_environment()` (behaviour-262.md section 5): the area's home (`~/Areas/<area>`,
/// resolved, a directory owned by the user; else a warning, a PAM_TEXT_INFO message and no area),
/// `XDG_AREA` (unset without area), `HOME` (always), then `setup_runtime_directory()`: without a
/// runtime directory `XDG_RUNTIME_DIR` is unset when an area was asked for; with one and an area
/// `<rt>/Areas/<area>` is made and used; the bus address if `<dir>/bus` exists.
pub(super) fn setup_environment(
    pam: &mut impl PamOps,
    host: &impl Host,
    user: &User,
    runtime: Option<&[u8]>,
    area: Option<&[u8]>,
    g: Generation,
) -> Result<(), Error> {
    let mut home = user.home.clone();
    let mut area = area;
    if let Some(a) = area {
        let mut j = user.home.clone();
        if !j.ends_with(b"/") {
            j.push(b'/');
        }
        j.extend_from_slice(b"Areas/");
        j.extend_from_slice(a);
        match host.chase_directory(&j) {
            Err(errno) => {
                let text = format!(
                    "Path '{}' of requested user area '{}' is not accessible, reverting to regular home directory",
                    show(&j),
                    show(a)
                );
                warn!("{text}: {}", logind::strerror(errno));
                pam.info(&format!("{text}."));
                area = None;
            }
            Ok((resolved, owner)) if owner != user.uid => {
                let text = format!(
                    "Path '{}' of requested user area '{}' is not owned by user, reverting to regular home directory.",
                    show(&resolved),
                    show(a)
                );
                error!("{text}");
                pam.info(&text);
                area = None;
            }
            Ok((resolved, _)) => {
                debug!("Area '{}' selected, setting $HOME to '{}'.", show(a), show(&resolved));
                home = resolved;
            }
        }
    }
    update_environment(pam, "XDG_AREA", area.unwrap_or_default(), g)?;
    update_environment(pam, "HOME", &home, g)?;

    let Some(rt) = runtime else {
        if area.is_some() {
            update_environment(pam, "XDG_RUNTIME_DIR", b"", g)?;
        }
        return Ok(());
    };
    let mut dir = rt.to_vec();
    if let Some(a) = area {
        host.make_area_runtime_directory(rt, a, user.uid, user.gid)
            .map_err(|e| {
                let (line, errno) = match e {
                    AreaDirError::Open(errno) => (format!("Unable to open runtime directory '{}'", show(rt)), errno),
                    AreaDirError::Areas(errno) => (
                        format!("Unable to create 'Areas' directory below '{}'", show(rt)),
                        errno,
                    ),
                    AreaDirError::Area(errno) => (
                        format!("Unable to create '{}' directory below '{}/Areas'", show(a), show(rt)),
                        errno,
                    ),
                };
                let code = if errno == libc::ENOMEM {
                    PAM_BUF_ERR
                } else {
                    PAM_SERVICE_ERR
                };
                Error::new(code, format!("{line}: {}", logind::strerror(errno)))
            })?;
        if !dir.ends_with(b"/") {
            dir.push(b'/');
        }
        dir.extend_from_slice(b"Areas/");
        dir.extend_from_slice(a);
    }
    update_environment(pam, "XDG_RUNTIME_DIR", &dir, g)?;
    let mut bus = dir.clone();
    bus.extend_from_slice(b"/bus");
    match host.access(&bus) {
        Ok(()) => {
            let mut value = b"unix:path=".to_vec();
            value.extend_from_slice(&bus);
            update_environment(pam, "DBUS_SESSION_BUS_ADDRESS", &value, g)
        }
        Err(libc::ENOENT) => Ok(()),
        Err(errno) => {
            warn!(
                "Failed to check if {}/bus exists, ignoring: {}",
                show(&dir),
                logind::strerror(errno)
            );
            Ok(())
        }
    }
}

/// `update_environment()`: `NAME=VALUE` into the PAM env for a non-empty value; an empty one
/// does nothing, or (`Request262::unset_empty`) removes the variable if it is set (a failure
/// other than BAD_ITEM: the LOG_WARNING `Failed to unset %s environment variable` and its code).
pub(super) fn update_environment(
    pam: &mut impl PamOps,
    name: &str,
    value: &[u8],
    generation: Generation,
) -> Result<(), Error> {
    if value.is_empty() {
        if !generation.rules().request262.unset_empty || CString::new(name).is_ok_and(|n| pam.getenv(&n).is_none()) {
            return Ok(());
        }
        return match pam.unsetenv(name) {
            Ok(()) => Ok(()),
            Err(crate::ffi::PAM_BAD_ITEM) => Ok(()),
            Err(r) => Err(pam_fail(pam, r, format!("Failed to unset {name} environment variable")).warning()),
        };
    }
    pam.putenv(name, value)
        .map_err(|r| pam_fail(pam, r, format!("Failed to set environment variable {name}")))
}

/// `propagate_credential_to_environment()` for the three credentials: from
/// `$CREDENTIALS_DIRECTORY` (secure_getenv; absolute and normalized, else ignored), each file
/// read whole and set even if empty; a missing or unreadable one is skipped — with 262's debug
/// line `Failed to read credential '%s', ignoring: %m` where the generation logs it
/// (`Request262::credentials_every_path`; `read_credential()`: ENXIO without a directory,
/// EINVAL for one that is not absolute and normalized).
pub(super) fn propagate_credentials(
    pam: &mut impl PamOps,
    host: &impl Host,
    generation: Generation,
) -> Result<(), Error> {
    let logs = generation.rules().request262.credentials_every_path;
    let skipped = |credential: &str, errno: i32| {
        if logs {
            debug!(
                "Failed to read credential '{credential}', ignoring: {}",
                logind::strerror(errno)
            );
        }
    };
    let dir = match host.secure_getenv(c"CREDENTIALS_DIRECTORY") {
        Some(dir) if absolute_and_normalized(&dir) => dir,
        other => {
            let errno = if other.is_some() { libc::EINVAL } else { libc::ENXIO };
            for (credential, _) in CREDENTIALS {
                skipped(credential, errno);
            }
            return Ok(());
        }
    };
    for (credential, var) in CREDENTIALS {
        let mut path = dir.clone();
        if !path.ends_with(b"/") {
            path.push(b'/');
        }
        path.extend_from_slice(credential.as_bytes());
        let mut value = match host.read_file(&path) {
            Ok(v) => v,
            Err(errno) => {
                skipped(credential, errno);
                continue;
            }
        };
        // Used as a C string: it ends at the first NUL.
        if let Some(end) = value.iter().position(|&b| b == 0) {
            value.truncate(end);
        }
        pam.putenv(var, &value)
            .map_err(|r| pam_fail(pam, r, format!("Failed to set environment variable {var}")))?;
    }
    Ok(())
}

/// `path_is_absolute() && path_is_normalized()`: starts with `/`, no `.` or `..` component, no
/// `//`, shorter than PATH_MAX.
pub(super) fn absolute_and_normalized(p: &[u8]) -> bool {
    let Some(rest) = p.strip_prefix(b"/") else {
        return false;
    };
    let n = rest.split(|&b| b == b'/').count();
    p.len() < 4096
        && rest
            .split(|&b| b == b'/')
            .enumerate()
            .all(|(i, c)| c != b"." && c != b".." && (!c.is_empty() || i + 1 == n))
}

/// `configure_runtime_directory()`: XDG_RUNTIME_DIR (and the legacy bus address) only for a
/// directory that is really the user's; otherwise say why and carry on. `Ok(false)`: the
/// directory is not in order (the login's one check of it).
pub(super) fn configure_runtime_directory(
    pam: &mut impl PamOps,
    host: &impl Host,
    uid: u32,
    path: &[u8],
    generation: Generation,
) -> Result<bool, Error> {
    if !runtime_directory_in_order(host, path, uid) {
        return Ok(false);
    }
    update_environment(pam, "XDG_RUNTIME_DIR", path, generation)?;

    // Many programs still need $DBUS_SESSION_BUS_ADDRESS to find the user bus.
    let mut bus = path.to_vec();
    bus.extend_from_slice(b"/bus");
    if !host.exists(&bus) {
        return Ok(true);
    }
    let mut value = b"unix:path=".to_vec();
    value.extend_from_slice(&bus);
    pam.putenv("DBUS_SESSION_BUS_ADDRESS", &value)
        .map_err(|r| pam_fail(pam, r, "Failed to set bus variable"))?;
    Ok(true)
}

/// `validate_runtime_directory()` with its lines: the problem (LOG_ERR) and the LOG_WARNING.
pub(super) fn runtime_directory_in_order(host: &impl Host, path: &[u8], uid: u32) -> bool {
    if let Err(problem) = validate_runtime_directory(host, path, uid) {
        error!("{problem}");
        warn!("Not setting $XDG_RUNTIME_DIR, as the directory is not in order.");
        return false;
    }
    true
}
