//! Paths, and what the tests build once per test binary: the testkit (`fake-logind`,
//! `mute-socket`, `half-bus`: a separate Cargo package with its own target dir `testkit/target`)
//! and the C client `tests/c/pamclient.c` with the helper module `pam_testhelper.so`, into
//! `target/testbin/`.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

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
fn compile_c(src: &str, out_name: &str, extra: &[&str]) -> PathBuf {
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

/// The cached Debian root `name` of `testbed/build-root` (`debian13`, `debian14`, ...): built on
/// first use (build-root is atomic and locked), its path asked once per test binary.
pub fn debian_root(name: &str) -> PathBuf {
    static ROOTS: OnceLock<std::sync::Mutex<std::collections::BTreeMap<String, PathBuf>>> = OnceLock::new();
    let roots = ROOTS.get_or_init(Default::default);
    let mut roots = roots.lock().unwrap_or_else(|e| e.into_inner());
    roots
        .entry(name.to_string())
        .or_insert_with(|| {
            let out = Command::new(repo_root().join("testbed/build-root"))
                .arg(name)
                .output()
                .unwrap_or_else(|e| panic!("testbed/build-root {name}: {e}"));
            assert!(
                out.status.success(),
                "build-root {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
        })
        .clone()
}
