//! Session limits from PAM data (behaviour.md, open step 16's a(sv)): five strings = the input split at
//! NUL bytes (a field of exactly "\x01" stands for "unset"). Each limit yields at most one
//! property or one warning; property names and types are the documented ones.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pam_systemd_rs::fuzz_api::{Limits, PropValue, session_properties};

fuzz_target!(|data: &[u8]| {
    let mut f = data.split(|&b| b == 0);
    let mut next = || f.next().filter(|s| *s != b"\x01");
    let l = Limits {
        memory_max: next(),
        tasks_max: next(),
        cpu_weight: next(),
        io_weight: next(),
        runtime_max_sec: next(),
    };
    let (props, warnings) = session_properties(&l);
    assert!(props.len() + warnings.len() <= 5);
    for (name, v) in &props {
        match (*name, v) {
            ("MemoryMax", PropValue::U64(_))
            | ("RuntimeMaxUSec", PropValue::U64(_))
            | ("TasksMax", PropValue::U64(_))
            | ("MemoryMaxScale", PropValue::U32(_)) => {}
            ("CPUWeight", PropValue::U64(w)) => assert!(*w <= 10000),
            ("IOWeight", PropValue::U64(w)) => assert!((1..=10000).contains(w)),
            other => panic!("unexpected property {other:?}"),
        }
    }
    for w in &warnings {
        assert!(w.starts_with("Failed to parse systemd."), "{w}");
    }
});
