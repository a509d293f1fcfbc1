//! Module arguments: argv = the input split at NUL bytes. Never panics; a later argument
//! overrides an earlier one; an argument produces at most one warning, except a capability set,
//! which (as in pam_systemd 257) warns once per unknown capability name: at most one per item.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pam_systemd_rs::args;

fuzz_target!(|data: &[u8]| {
    let argv: Vec<&[u8]> = data.split(|&b| b == 0).collect();
    let mut warnings = 0usize;
    let a = args::parse(&argv, |w| {
        warnings += 1;
        let _ = w.to_string();
    });
    let items: usize = argv.iter().map(|a| 1 + a.iter().filter(|&&b| b == b',').count()).sum();
    assert!(warnings <= items, "{warnings} warnings for {items} items");
    // The last class=/type=/desktop= wins.
    let last = |p: &[u8]| argv.iter().rev().find_map(|x| x.strip_prefix(p));
    assert_eq!(a.class, last(b"class="));
    assert_eq!(a.session_type, last(b"type="));
    assert_eq!(a.desktop, last(b"desktop="));
    if let Some(Some(t)) = a.timeout {
        assert!(!t.is_zero(), "timeout=0 must be refused");
    }
});
