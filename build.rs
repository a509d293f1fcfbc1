//! Link arguments for the cdylib, as systemd's meson build passes them for pam_systemd.so:
//! the version script (only the two session hooks are global), immediate binding (`-z now`) and
//! a read-only GOT after relocation (`-z relro`). rustc already limits the exports to the
//! `#[no_mangle]` functions; the script mirrors meson, and `tests/artifact.rs` checks the result.
//!
//! The unwinder is linked statically (libgcc_eh.a, what `gcc -static-libgcc` links into a shared
//! object) instead of std's default libgcc_s.so.1: one library fewer for every login to map and
//! relocate (BENCHMARKS.md: cold dlopen and loading instructions). The `_Unwind_*` functions stay
//! local (the version script), and this .so finds its own unwind tables through
//! `dl_iterate_phdr` (PT_GNU_EH_FRAME), so nothing is shared with the host's unwinder;
//! tests/panic_guard.rs unwinds a real panic through the built module.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let script = format!("{dir}/pam_systemd_rs.sym");
    println!("cargo:rerun-if-changed=pam_systemd_rs.sym");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={script}");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,now");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,relro");
    println!("cargo:rustc-cdylib-link-arg=-Wl,--no-undefined");
    // Relative relocations packed into DT_RELR (glibc >= 2.36): fewer, faster relocations at load.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,pack-relative-relocs");
    // Ahead of std's `-lgcc_s` on the link line, so `_Unwind_*` resolve here and libgcc_s.so.1
    // is no longer NEEDED (the link uses --as-needed). Not bundled into the rlib: the linker
    // finds libgcc_eh.a in gcc's own directory at the final link of the .so (and of the doctor
    // and test programs, which then carry their own unwinder too).
    println!("cargo:rustc-link-lib=static:-bundle=gcc_eh");
}
