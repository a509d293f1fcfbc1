//! `pam_systemd_rs`: the command shipped with the module. One subcommand:
//!
//! ```text
//! pam_systemd_rs doctor [--json] [--root DIR] [USER]
//! pam_systemd_rs --help | --version
//! ```
//!
//! `doctor` checks, read-only and in order, what makes logins lose their session or user
//! manager (README, "When logins lose their user manager") and prints one finding per line.
//! Exit status: 0 healthy, 1 a problem found, 2 a check could not be made, bad usage or an
//! unknown user. Arguments are parsed by hand: three options do not need a parser crate.

mod checks;
mod conf;
mod pamd;
mod report;

use std::ffi::{CStr, CString, OsString};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: pam_systemd_rs doctor [--json] [--root DIR] [USER]
       pam_systemd_rs --help | --version

doctor   check why logins of USER (default: root) may lose their logind session or user
         manager: the PAM session stacks (sshd, login, su, runuser), logind, the system
         bus, USER in logind, user-runtime-dir@UID and user@UID in PID 1, logind.conf and
         the journal's recent logins. Read-only. One finding per line, with cause and fix.
  --json       one JSON document instead (for monitoring)
  --root DIR   read files (/etc/pam.d, logind.conf, the PAM module directory) under DIR
               instead of /; the bus and the journal are still the running system's

exit status: 0 healthy, 1 problem found, 2 could not check (or bad usage, unknown user)
";

#[derive(Debug, PartialEq, Eq)]
enum Cmd {
    Help,
    Version,
    Doctor { json: bool, root: PathBuf, user: String },
}

/// The command line, or the reason it is wrong.
fn parse(args: &[OsString]) -> Result<Cmd, String> {
    let mut it = args
        .iter()
        .map(|a| a.to_str().ok_or_else(|| format!("not UTF-8: {a:?}")));
    let first = match it.next() {
        None => return Err("no command given".into()),
        Some(a) => a?,
    };
    match first {
        "--help" | "-h" | "help" => return Ok(Cmd::Help),
        "--version" | "-V" => return Ok(Cmd::Version),
        "doctor" => {}
        other => return Err(format!("unknown command '{other}'")),
    }
    let mut json = false;
    let mut root = PathBuf::from("/");
    let mut user: Option<String> = None;
    let mut only_operands = false;
    while let Some(a) = it.next() {
        let a = a?;
        if only_operands || !a.starts_with('-') || a == "-" {
            if user.replace(a.to_owned()).is_some() {
                return Err("more than one USER given".into());
            }
            continue;
        }
        match a {
            "--" => only_operands = true,
            "--json" => json = true,
            "--help" | "-h" => return Ok(Cmd::Help),
            "--root" => root = PathBuf::from(it.next().ok_or("--root needs a directory")??),
            _ if a.starts_with("--root=") => root = PathBuf::from(&a["--root=".len()..]),
            other => return Err(format!("unknown option '{other}'")),
        }
    }
    Ok(Cmd::Doctor {
        json,
        root,
        user: user.unwrap_or_else(|| "root".to_owned()),
    })
}

/// Name and uid of `user` (a name, or a number for a uid) from NSS.
fn lookup(user: &str) -> Option<(String, u32)> {
    if let Ok(uid) = user.parse::<u32>() {
        return pam_systemd_rs::doctor_api::name_of_uid(uid).map(|name| (name, uid));
    }
    let mut buf = vec![0u8; 16384];
    // SAFETY: all-zero passwd is a valid out-parameter.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    let name = CString::new(user).ok()?;
    // SAFETY: valid pointers; buf has buf.len() writable bytes; name is NUL-terminated.
    let r = unsafe { libc::getpwnam_r(name.as_ptr(), &mut pwd, buf.as_mut_ptr().cast(), buf.len(), &mut result) };
    if r != 0 || result.is_null() {
        return None;
    }
    // SAFETY: on success pw_name points to a NUL-terminated string inside buf.
    let name = unsafe { CStr::from_ptr(pwd.pw_name) }.to_string_lossy().into_owned();
    Some((name, pwd.pw_uid))
}

fn usage_error(msg: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "pam_systemd_rs: {msg}\n{USAGE}");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let cmd = match parse(&args) {
        Ok(c) => c,
        Err(e) => return usage_error(&e),
    };
    let (json, root, user) = match cmd {
        Cmd::Help => {
            let _ = std::io::stdout().write_all(USAGE.as_bytes());
            return ExitCode::SUCCESS;
        }
        Cmd::Version => {
            let _ = writeln!(std::io::stdout(), "pam_systemd_rs {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Cmd::Doctor { json, root, user } => (json, root, user),
    };
    let Some((name, uid)) = lookup(&user) else {
        return usage_error(&format!("unknown user '{user}'"));
    };
    let bus_address = std::env::var("DBUS_SYSTEM_BUS_ADDRESS")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unix:path=/run/dbus/system_bus_socket".to_owned());
    let ctx = checks::Ctx {
        root,
        user: name.clone(),
        uid,
        bus_address,
        facts: Default::default(),
    };
    let findings = checks::run(&ctx);
    let text = if json {
        report::json(&name, uid, &findings)
    } else {
        report::human(&name, uid, &findings)
    };
    let _ = std::io::stdout().write_all(text.as_bytes());
    ExitCode::from(report::exit_code(&findings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(a: &[&str]) -> Result<Cmd, String> {
        parse(&a.iter().map(OsString::from).collect::<Vec<_>>())
    }

    fn doctor(json: bool, root: &str, user: &str) -> Result<Cmd, String> {
        Ok(Cmd::Doctor {
            json,
            root: root.into(),
            user: user.into(),
        })
    }

    #[test]
    fn command_lines() {
        assert_eq!(p(&["doctor"]), doctor(false, "/", "root"));
        assert_eq!(p(&["doctor", "--json", "alice"]), doctor(true, "/", "alice"));
        assert_eq!(p(&["doctor", "alice", "--json"]), doctor(true, "/", "alice"));
        assert_eq!(p(&["doctor", "--root", "/x", "0"]), doctor(false, "/x", "0"));
        assert_eq!(p(&["doctor", "--root=/y"]), doctor(false, "/y", "root"));
        assert_eq!(p(&["doctor", "--", "-odd"]), doctor(false, "/", "-odd"));
        assert_eq!(p(&["--help"]), Ok(Cmd::Help));
        assert_eq!(p(&["doctor", "-h"]), Ok(Cmd::Help));
        assert_eq!(p(&["--version"]), Ok(Cmd::Version));
        for bad in [
            &[][..],
            &["doctr"],
            &["doctor", "--jsn"],
            &["doctor", "a", "b"],
            &["doctor", "--root"],
        ] {
            assert!(p(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn users() {
        assert_eq!(lookup("root"), Some(("root".into(), 0)));
        assert_eq!(lookup("0"), Some(("root".into(), 0)));
        assert_eq!(lookup("no-such-user-xyz"), None);
    }
}
