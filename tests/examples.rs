//! The shipped `pam.d-examples/` stacks are usable as they are: every module they name exists on
//! this system (or is ours), every `@include` resolves, our module's arguments parse without a
//! warning, and each stack has exactly one session line for `pam_systemd_rs.so` (and none for
//! the C module). Also: `scripts/install-module` puts the file where libpam looks.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const SECURITY_DIR: &str = "/lib/x86_64-linux-gnu/security";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn examples() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo().join("pam.d-examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

/// The session lines of `file` that name our module, with their arguments.
fn check_stack(file: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut ours = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap().trim();
        if line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if words[0] == "@include" {
            let name = words[1];
            let found =
                Path::new("/etc/pam.d").join(name).exists() || repo().join("pam.d-examples").join(name).exists();
            assert!(found, "{}: @include {name} does not resolve", file.display());
            continue;
        }
        let kind = words[0].trim_start_matches('-');
        assert!(
            ["auth", "account", "session", "password"].contains(&kind),
            "{}: bad line {line:?}",
            file.display()
        );
        // The control is one word or a [bracketed] expression that may contain spaces.
        let mut rest = &words[1..];
        if rest[0].starts_with('[') {
            let end = rest.iter().position(|w| w.ends_with(']')).unwrap();
            rest = &rest[end + 1..];
        } else {
            rest = &rest[1..];
        }
        if ["include", "substack"].contains(&words[1]) {
            continue;
        }
        let module = rest[0];
        assert_ne!(module, "pam_systemd.so", "{}: still names the C module", file.display());
        if module == "pam_systemd_rs.so" {
            assert_eq!(kind, "session", "{}: our module only has session hooks", file.display());
            ours.push(rest[1..].iter().map(|s| s.to_string()).collect());
        } else {
            assert!(
                Path::new(SECURITY_DIR).join(module).exists(),
                "{}: {module} not installed",
                file.display()
            );
        }
    }
    ours
}

#[test]
fn every_example_uses_the_module_once_with_valid_arguments() {
    let files = examples();
    for name in ["sshd", "login", "su", "runuser-l", "cron", "common-session"] {
        assert!(
            files.iter().any(|f| f.file_name().unwrap() == name),
            "pam.d-examples/{name} missing"
        );
    }
    for f in files {
        let ours = check_stack(&f);
        assert_eq!(ours.len(), 1, "{}: expected one pam_systemd_rs.so line", f.display());
        let args: Vec<Vec<u8>> = ours[0].iter().map(|a| a.clone().into_bytes()).collect();
        let argv: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        let mut warnings = Vec::new();
        pam_systemd_rs::args::parse(&argv, |w| warnings.push(w.to_string()));
        assert!(warnings.is_empty(), "{}: {warnings:?}", f.display());
    }
}

#[test]
fn install_script_finds_the_pam_module_directory() {
    let stage = std::env::temp_dir().join(format!("pam-systemd-rs-install-{}", std::process::id()));
    let so = common::Module::rs_built().path;
    let out = Command::new(repo().join("scripts/install-module"))
        .arg(&so)
        .env("DESTDIR", &stage)
        .env_remove("PAMLIBDIR")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let installed = stage
        .join(SECURITY_DIR.trim_start_matches('/'))
        .join("pam_systemd_rs.so");
    let meta = std::fs::metadata(&installed).unwrap();
    assert_eq!(meta.len(), std::fs::metadata(&so).unwrap().len());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(meta.permissions().mode() & 0o777, 0o644);
    std::fs::remove_dir_all(&stage).unwrap();
}
