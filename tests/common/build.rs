//! Paths, and what the tests build once per test binary: the testkit (`fake-logind`,
//! `mute-socket`, `half-bus`: a separate Cargo package with its own target dir `testkit/target`)
//! and the C client `tests/c/pamclient.c` with the helper module `pam_testhelper.so`, into
//! `target/testbin/`; the cached roots of `testbed/build-root`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn testbed_runner() -> PathBuf {
    repo_root().join("testbed/testbed")
}

fn testbin_dir() -> PathBuf {
    let d = repo_root().join("target/testbin");
    std::fs::create_dir_all(&d).expect("mkdir target/testbin");
    d
}

/// Builds the testkit once per test binary; returns its release dir.
pub fn testkit_dir() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let root = repo_root();
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let target = root.join("testkit/target");
            let st = Command::new(cargo)
                .args(["build", "--release", "--manifest-path"])
                .arg(root.join("testkit/Cargo.toml"))
                .arg("--target-dir")
                .arg(&target)
                .env_remove("CARGO_TARGET_DIR")
                .env_remove("RUSTFLAGS")
                .env_remove("CARGO_ENCODED_RUSTFLAGS")
                .status()
                .expect("run cargo build for testkit");
            assert!(st.success(), "building testkit failed");
            target.join("release")
        })
        .clone()
}

pub fn testkit_bin(name: &str) -> PathBuf {
    testkit_dir().join(name)
}

/// Compiles a C file with cc into target/testbin (atomically: temp name + rename).
pub fn compile_c(src: &str, out_name: &str, extra: &[&str]) -> PathBuf {
    let root = repo_root();
    let out = testbin_dir().join(out_name);
    let tmp = testbin_dir().join(format!("{out_name}.tmp{}", std::process::id()));
    let mut cmd = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()));
    cmd.arg("-O1").arg("-Wall").arg("-o").arg(&tmp).arg(root.join(src));
    cmd.args(extra);
    let st = cmd.status().unwrap_or_else(|e| panic!("running cc for {src}: {e}"));
    assert!(st.success(), "compiling {src} failed");
    std::fs::rename(&tmp, &out).expect("rename compiled binary");
    out
}

pub fn pamclient() -> PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| compile_c("tests/c/pamclient.c", "pamclient", &["-lpam", "-lpam_misc"]))
        .clone()
}

pub fn testhelper() -> PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        compile_c(
            "tests/c/pam_testhelper.c",
            "pam_testhelper.so",
            &["-shared", "-fPIC", "-lpam"],
        )
    })
    .clone()
}

/// The cached root `testbed/build-root NAME` makes (debian13, debian13-elogind, ...): built on
/// first use (minutes: mmdebstrap), then returned at once; asked once per test binary and name.
pub fn build_root(name: &str) -> PathBuf {
    static ROOTS: Mutex<BTreeMap<String, PathBuf>> = Mutex::new(BTreeMap::new());
    let mut roots = ROOTS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = roots.get(name) {
        return p.clone();
    }
    let mut cmd = Command::new(repo_root().join("testbed/build-root"));
    cmd.arg(name);
    let out = super::runner::run(cmd, Duration::from_secs(30 * 60));
    assert!(
        out.code() == 0,
        "testbed/build-root {name} failed (exit {}, timed out: {}): {}",
        out.code(),
        out.timed_out,
        out.stderr
    );
    let root = PathBuf::from(out.stdout.trim());
    assert!(
        root.is_dir(),
        "testbed/build-root {name} printed {root:?}, not a directory"
    );
    roots.insert(name.to_owned(), root.clone());
    root
}
