//! Link arguments for the cdylib, as systemd's meson build passes them for pam_systemd.so:
//! the version script (only the two session hooks are global), immediate binding (`-z now`) and
//! a read-only GOT after relocation (`-z relro`). rustc already limits the exports to the
//! `#[no_mangle]` functions; the script mirrors meson, and `tests/artifact.rs` checks the result.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let script = format!("{dir}/pam_systemd_rs.sym");
    println!("cargo:rerun-if-changed=pam_systemd_rs.sym");
    println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={script}");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,now");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,relro");
    println!("cargo:rustc-cdylib-link-arg=-Wl,--no-undefined");
    // Relative relocations packed into DT_RELR (glibc >= 2.36): fewer, faster relocations at load.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,pack-relative-relocs");
}
