//! The a(sv) and warnings for session limits; expected values observed through the real
//! pam_systemd.so 252 (docs/behaviour.md, cases 12 to 15).

use super::*;

fn lim<'a>(
    memory_max: &'a str,
    tasks_max: &'a str,
    cpu_weight: &'a str,
    io_weight: &'a str,
    runtime_max_sec: &'a str,
) -> Limits<'a> {
    Limits {
        memory_max: Some(memory_max.as_bytes()),
        tasks_max: Some(tasks_max.as_bytes()),
        cpu_weight: Some(cpu_weight.as_bytes()),
        io_weight: Some(io_weight.as_bytes()),
        runtime_max_sec: Some(runtime_max_sec.as_bytes()),
    }
}

#[test]
fn session_properties_spec_cases() {
    use PropValue::{U32, U64};
    type Row<'a> = (Limits<'a>, Vec<(&'static str, PropValue)>, Vec<&'static str>);
    let rows: Vec<Row> = vec![
        // behaviour.md case 12
        (
            lim("50%", "77", "idle", "20000", "1h30min"),
            vec![
                ("MemoryMaxScale", U32(2147483648)),
                ("RuntimeMaxUSec", U64(5400000000)),
                ("TasksMax", U64(77)),
                ("CPUWeight", U64(0)),
            ],
            vec!["Failed to parse systemd.io_weight, ignoring: 20000"],
        ),
        // behaviour.md case 13
        (
            lim("1G", "infinity", "100", "abc", "infinity"),
            vec![("MemoryMax", U64(1073741824)), ("CPUWeight", U64(100))],
            vec!["Failed to parse systemd.io_weight, ignoring: abc"],
        ),
        // behaviour.md case 14
        (
            lim("infinity", "0x10", "0", "1", "5"),
            vec![
                ("MemoryMax", U64(u64::MAX)),
                ("RuntimeMaxUSec", U64(5000000)),
                ("TasksMax", U64(16)),
                ("IOWeight", U64(1)),
            ],
            vec!["Failed to parse systemd.cpu_weight, ignoring: 0"],
        ),
        // behaviour.md case 15
        (
            lim("12.34%", "-1", "10000", "", "bogus"),
            vec![("MemoryMaxScale", U32(529998964)), ("CPUWeight", U64(10000))],
            vec![
                "Failed to parse systemd.runtime_max_sec: bogus, ignoring.",
                "Failed to parse systemd.tasks_max, ignoring: -1",
            ],
        ),
        // nothing set
        (Limits::default(), vec![], vec![]),
        // everything empty
        (lim("", "", "", "", ""), vec![], vec![]),
        // bad memory_max; " infinity" is not the literal "infinity"
        (
            lim("lots", "", "", "", " infinity"),
            vec![("RuntimeMaxUSec", U64(u64::MAX))],
            vec!["Failed to parse systemd.memory_max, ignoring: lots"],
        ),
        // io_weight does not know "idle"; tasks_max does not take percentages
        (
            lim("101%", "10%", "", "idle", ""),
            vec![],
            vec![
                "Failed to parse systemd.memory_max, ignoring: 101%",
                "Failed to parse systemd.tasks_max, ignoring: 10%",
                "Failed to parse systemd.io_weight, ignoring: idle",
            ],
        ),
        // all five present and valid: the wire order
        (
            lim("512M", "4096", "50", "200", "30s"),
            vec![
                ("MemoryMax", U64(536870912)),
                ("RuntimeMaxUSec", U64(30000000)),
                ("TasksMax", U64(4096)),
                ("CPUWeight", U64(50)),
                ("IOWeight", U64(200)),
            ],
            vec![],
        ),
        // "INFINITY" is not special for memory_max and fails every parser
        (
            lim("INFINITY", "infinity", "", "", ""),
            vec![],
            vec!["Failed to parse systemd.memory_max, ignoring: INFINITY"],
        ),
    ];
    for (l, want_props, want_warn) in rows {
        let (props, warn) = session_properties(&l);
        assert_eq!(props, want_props, "{l:?}");
        assert_eq!(warn, want_warn, "{l:?}");
    }
}

#[test]
fn non_utf8_warning_is_lossy() {
    let l = Limits {
        io_weight: Some(b"h\xff"),
        ..Limits::default()
    };
    let (props, warn) = session_properties(&l);
    assert!(props.is_empty());
    assert_eq!(
        warn,
        vec!["Failed to parse systemd.io_weight, ignoring: h\u{fffd}".to_string()]
    );
    assert_eq!(io_weight_outcome(None), LimitOutcome::Skip);
    assert_eq!(
        cpu_weight_outcome(Some(b"idle")),
        LimitOutcome::Value("CPUWeight", PropValue::U64(0))
    );
}
