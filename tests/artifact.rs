//! Checks on the built cdylib itself, as systemd's meson build checks pam_systemd.so:
//! the exported symbol set, immediate binding and RELRO, and the dlopen smoke test
//! (`test-dlopen`: `dlopen(path, RTLD_NOW|RTLD_NODELETE)` succeeds, then `dlclose() == 0`).

use std::ffi::CString;
use std::path::PathBuf;
use std::process::Command;

mod common;

/// The module under test, found as every suite finds it (`common::Module::rs`).
fn module() -> PathBuf {
    common::Module::rs_built().path
}

fn tool(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Exactly the two session hooks are exported, like Debian's pam_systemd.so (no
/// pam_sm_authenticate & co., no Rust symbols).
#[test]
fn exports_exactly_the_two_session_hooks() {
    let so = module();
    let out = tool("nm", &["-D", "--defined-only", so.to_str().unwrap()]);
    let mut syms: Vec<&str> = out
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (_addr, kind, name) = (f.next()?, f.next()?, f.next()?);
            "TDBRVWiu"
                .contains(kind)
                .then_some(name.split('@').next().unwrap_or(name))
        })
        .collect();
    syms.sort_unstable();
    syms.dedup();
    assert_eq!(syms, ["pam_sm_close_session", "pam_sm_open_session"], "nm -D:\n{out}");
}

/// `-z now` and `-z relro`, as meson links it.
#[test]
fn linked_with_now_and_relro() {
    let so = module();
    let dynamic = tool("readelf", &["-d", "-W", so.to_str().unwrap()]);
    assert!(
        dynamic.contains("BIND_NOW") || dynamic.contains("Flags: NOW"),
        "{dynamic}"
    );
    let headers = tool("readelf", &["-l", "-W", so.to_str().unwrap()]);
    assert!(headers.contains("GNU_RELRO"), "{headers}");
    // Linked against libpam like the C module; no libpam_misc, no libsystemd.
    assert!(dynamic.contains("[libpam.so.0]"), "{dynamic}");
    assert!(!dynamic.contains("libsystemd"), "{dynamic}");
    // The unwinder is linked in (build.rs): no libgcc_s.so.1 to map at every login.
    assert!(!dynamic.contains("libgcc_s"), "{dynamic}");
}

/// The test-only panic probe (feature `panic-probe`, tests/panic_guard.rs) is not in this build.
#[test]
fn no_panic_probe_in_the_module() {
    let bytes = std::fs::read(module()).unwrap();
    assert!(!bytes.windows(11).any(|w| w == b"panic probe"));
    assert!(!bytes.windows(11).any(|w| w == b"panic-probe"));
}

/// meson's dlopen test: every undefined symbol resolves at load time, and unloading works.
#[test]
fn dlopen_now_then_dlclose() {
    let so = module();
    let path = CString::new(so.to_str().unwrap()).unwrap();
    for flags in [libc::RTLD_NOW, libc::RTLD_NOW | libc::RTLD_NODELETE] {
        // SAFETY: a NUL-terminated path; loading runs no module code but initialisers.
        let h = unsafe { libc::dlopen(path.as_ptr(), flags) };
        if h.is_null() {
            // SAFETY: dlerror returns a NUL-terminated string after a failed dlopen.
            let err = unsafe { std::ffi::CStr::from_ptr(libc::dlerror()) };
            panic!("dlopen({}) failed: {}", so.display(), err.to_string_lossy());
        }
        for sym in [c"pam_sm_open_session", c"pam_sm_close_session"] {
            // SAFETY: valid handle and NUL-terminated symbol name.
            assert!(!unsafe { libc::dlsym(h, sym.as_ptr()) }.is_null(), "{sym:?} missing");
        }
        // SAFETY: the handle from the successful dlopen above, closed once.
        assert_eq!(unsafe { libc::dlclose(h) }, 0);
    }
}
