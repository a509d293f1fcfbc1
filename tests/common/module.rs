//! The module under test: ours (`target/debug/libpam_systemd_rs.so`, or `$PAM_SYSTEMD_RS_SO`) or
//! the C reference (the testbed's or world's own `pam_systemd.so`), and the one switch that runs
//! the suites on the C module (`PAM_SYSTEMD_RS_TEST_MODULE=c`).

use super::repo_root;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impl {
    /// Debian's pam_systemd.so (the C reference, v252).
    C,
    /// Our libpam_systemd_rs.so.
    Rs,
}

#[derive(Clone, Debug)]
pub struct Module {
    pub path: PathBuf,
    pub kind: Impl,
}

pub const C_MODULE_PATH: &str = "/lib/x86_64-linux-gnu/security/pam_systemd.so";

impl Module {
    pub fn c() -> Module {
        Module {
            path: C_MODULE_PATH.into(),
            kind: Impl::C,
        }
    }
    /// Ours: `$PAM_SYSTEMD_RS_SO`, else `<repo>/target/debug/libpam_systemd_rs.so`.
    /// `$PAM_SYSTEMD_RS_SO`, else the cdylib `cargo test` built next to this test binary
    /// (`target/<profile>/deps/`), else `target/debug/libpam_systemd_rs.so`.
    pub fn rs() -> Module {
        let path = std::env::var_os("PAM_SYSTEMD_RS_SO")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                std::env::current_exe()
                    .ok()
                    .and_then(|exe| exe.parent().map(|d| d.join("libpam_systemd_rs.so")))
                    .filter(|p| p.exists())
            })
            .unwrap_or_else(|| repo_root().join("target/debug/libpam_systemd_rs.so"));
        Module { path, kind: Impl::Rs }
    }
    /// [`Module::rs`] for tests of our module's own behaviour: it must have been built.
    pub fn rs_built() -> Module {
        let m = Module::rs();
        assert!(
            m.path.exists(),
            "{} missing: run `cargo build` first (or `cargo test`, which builds the cdylib)",
            m.path.display()
        );
        m
    }
    pub fn is_ours(&self) -> bool {
        self.kind == Impl::Rs
    }
}

/// Whether the suites run on the C module instead of ours: `PAM_SYSTEMD_RS_TEST_MODULE=c` (the one
/// switch for every suite; used to check the tests themselves against the reference).
pub fn module_is_c() -> bool {
    matches!(
        std::env::var("PAM_SYSTEMD_RS_TEST_MODULE").as_deref(),
        Ok("c") | Ok("C")
    )
}

/// The module under test: ours by default, the world's C module with `PAM_SYSTEMD_RS_TEST_MODULE=c`.
pub fn module() -> Module {
    match module_is_c() {
        true => Module::c(),
        false => {
            let m = Module::rs();
            assert!(
                m.path.exists(),
                "module under test {} does not exist (build it with `cargo build`, set \
                 PAM_SYSTEMD_RS_SO, or run with PAM_SYSTEMD_RS_TEST_MODULE=c)",
                m.path.display()
            );
            m
        }
    }
}
