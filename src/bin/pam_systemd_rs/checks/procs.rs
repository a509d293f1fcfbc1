//! Whether logind runs, from `/proc` (no bus): the module's gate directory, the logind process,
//! whether it is elogind; and the mount table.

use std::path::Path;

use super::Ctx;
use crate::report::{Finding, Level};

/// Does logind run: the module's gate (`/run/systemd/seats/`) and a logind process.
/// `logind`: the first logind process found (pid, name).
pub(super) fn logind_process(ctx: &Ctx, logind: Option<(u32, String)>) -> Finding {
    let gate = ctx.path("/run/systemd/seats");
    match (gate.is_dir(), logind) {
        (true, Some((pid, name))) => Finding::new(
            "logind",
            Level::Ok,
            format!("{name} runs (pid {pid}) and {} exists", gate.display()),
        ),
        (false, _) => Finding::new(
            "logind",
            Level::Problem,
            format!(
                "{} does not exist: logind is not running, and pam_systemd does nothing without it (logins succeed without a session, XDG_RUNTIME_DIR or user manager)",
                gate.display()
            ),
        )
        .fix("start logind: `systemctl start systemd-logind` (or elogind where there is no systemd)"),
        (true, None) => Finding::new(
            "logind",
            Level::Problem,
            format!(
                "no systemd-logind or elogind process, but {} exists (left from a logind that stopped): pam_systemd asks the bus for logind and fails the session unless the bus can start it",
                gate.display()
            ),
        )
        .fix("`systemctl start systemd-logind`; `systemctl status systemd-logind` and `journalctl -u systemd-logind` say why it stopped"),
    }
}

/// Whether logind here is elogind (its own logind.conf, no user units): on a live system the
/// logind process found (`running`) is elogind; under `--root` the elogind binary is there and
/// systemd-logind is not.
pub(super) fn is_elogind(ctx: &Ctx, running: Option<&str>) -> bool {
    if ctx.root == Path::new("/") {
        return running.is_some_and(|name| name != "systemd-logind");
    }
    let has = |p: &&str| ctx.path(p).is_file();
    let elogind = ["usr/libexec/elogind", "lib/elogind/elogind", "usr/lib/elogind/elogind"];
    let logind = ["lib/systemd/systemd-logind", "usr/lib/systemd/systemd-logind"];
    elogind.iter().any(has) && !logind.iter().any(has)
}

/// The first process whose `comm` is one of `names`.
pub(super) fn find_process(names: &[&str]) -> Option<(u32, String)> {
    let rd = std::fs::read_dir("/proc").ok()?;
    let mut pids: Vec<u32> = rd
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
        .collect();
    pids.sort_unstable();
    pids.into_iter().find_map(|pid| {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
        let comm = comm.trim();
        names.contains(&comm).then(|| (pid, comm.to_owned()))
    })
}

/// Whether `path` is a mount point (listed in /proc/self/mountinfo).
pub(super) fn is_mount_point(path: &str) -> bool {
    let Ok(text) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    text.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .any(|m| m.replace("\\040", " ") == path)
}
