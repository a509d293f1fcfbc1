//! A real panic inside the built module is caught by its guard (src/boundary.rs): the host
//! process lives on, the hook returns PAM_SESSION_ERR, the line goes to syslog with the
//! module's prefix and nothing goes to stderr.
//!
//! The module cannot panic on purpose, so this suite builds it once more with the test-only
//! feature `panic-probe` (the argument `panic-probe` then panics at the top of the hook, inside
//! the guard) in the release profile the packages ship (fat LTO, strip, the statically linked
//! unwinder of build.rs), into its own target directory, and runs it in the testbed like any
//! other case. tests/artifact.rs checks that the shipped .so has no such probe.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use common::*;

/// `cargo build --release --lib --features panic-probe` into target/panic-probe (once per run).
fn probe_module() -> Module {
    static SO: OnceLock<PathBuf> = OnceLock::new();
    let path = SO.get_or_init(|| {
        let root = repo_root();
        let dir = root.join("target/panic-probe");
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.current_dir(&root)
            .args([
                "build",
                "--release",
                "--lib",
                "--features",
                "panic-probe",
                "--target-dir",
            ])
            .arg(&dir);
        let out = runner::run(cmd, Duration::from_secs(20 * 60));
        assert_eq!(out.code(), 0, "building the probe module failed:\n{}", out.stderr);
        dir.join("release/libpam_systemd_rs.so")
    });
    Module {
        path: path.clone(),
        kind: Impl::Rs,
    }
}

#[test]
fn a_panic_in_the_built_module_is_caught_by_the_guard() {
    let so = probe_module();
    // The probe really is in this build (so the case below can fail).
    let text = std::fs::read(&so.path).unwrap();
    assert!(
        text.windows(11).any(|w| w == b"panic probe"),
        "no probe in {}",
        so.path.display()
    );
    let needed = Command::new("readelf").arg("-d").arg(&so.path).output().unwrap();
    let needed = String::from_utf8_lossy(&needed.stdout).into_owned();
    assert!(
        !needed.contains("libgcc_s"),
        "the unwinder should be linked in:\n{needed}"
    );

    let o = Case::new(&so).args(&["debug", "panic-probe"]).run();
    let summary = o.summary();
    assert_eq!(o.client_rc, Some(0), "the client must survive the panic: {summary}");
    assert_eq!(o.open_rc, Some(PAM_SESSION_ERR), "{summary}");
    assert_eq!(o.close_rc, Some(PAM_SESSION_ERR), "{summary}");
    assert_eq!(o.end_rc, Some(0), "{summary}");
    assert_eq!(o.threads, Some(1), "{summary}");
    assert!(!o.stderr.contains("panicked"), "the panic went to stderr: {summary}");
    let lines: Vec<&str> = o
        .syslog
        .iter()
        .filter(|l| l.is_module() && l.severity() == 3)
        .map(|l| l.text.as_str())
        .collect();
    assert!(
        lines.iter().any(|l| l.contains("panic probe")),
        "the panic's message, logged at LOG_ERR: {lines:?}\n{summary}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("Internal error (panic)")),
        "the guard's line: {lines:?}\n{summary}"
    );
    assert!(
        o.syslog
            .iter()
            .filter(|l| l.text.contains("panic"))
            .all(|l| l.raw.contains("pam_systemd_rs(pamtest:session): ")),
        "every panic line carries the module's prefix: {summary}"
    );
}
