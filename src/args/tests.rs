//! Table tests of the argument parser: 252's arguments, then 257's capability sets and `compat=`.

use super::*;

fn run(argv: &[&'static str]) -> (Args<'static>, Vec<String>) {
    let owned: Vec<&'static [u8]> = argv.iter().map(|s| s.as_bytes()).collect();
    let mut warnings = Vec::new();
    let args = parse(&owned, |w| warnings.push(w.to_string()));
    (args, warnings)
}

#[test]
fn table() {
    struct Row {
        argv: &'static [&'static str],
        class: Option<&'static str>,
        ty: Option<&'static str>,
        desktop: Option<&'static str>,
        debug: bool,
        timeout: Option<Option<Duration>>,
        warnings: &'static [&'static str],
    }
    let d = None;
    let rows = [
        Row {
            argv: &[],
            class: None,
            ty: None,
            desktop: None,
            debug: false,
            timeout: d,
            warnings: &[],
        },
        Row {
            argv: &["debug"],
            class: None,
            ty: None,
            desktop: None,
            debug: true,
            timeout: d,
            warnings: &[],
        },
        Row {
            argv: &["class=greeter", "type=wayland", "desktop=KDE"],
            class: Some("greeter"),
            ty: Some("wayland"),
            desktop: Some("KDE"),
            debug: false,
            timeout: d,
            warnings: &[],
        },
        // behaviour.md case 29: a bad debug= value and an unknown word only warn; `class=` is empty.
        Row {
            argv: &["debug=maybe", "bogus", "class="],
            class: Some(""),
            ty: None,
            desktop: None,
            debug: false,
            timeout: d,
            warnings: &[
                "Failed to parse debug= argument, ignoring: maybe",
                "Unknown parameter 'bogus', ignoring",
            ],
        },
        Row {
            argv: &["debug", "debug=off"],
            class: None,
            ty: None,
            desktop: None,
            debug: false,
            timeout: d,
            warnings: &[],
        },
        Row {
            argv: &["debug=YES"],
            class: None,
            ty: None,
            desktop: None,
            debug: true,
            timeout: d,
            warnings: &[],
        },
        Row {
            argv: &["debug=maybe", "debug"],
            class: None,
            ty: None,
            desktop: None,
            debug: true,
            timeout: d,
            warnings: &["Failed to parse debug= argument, ignoring: maybe"],
        },
        // The exact word `debug` only; `debugx` is unknown; prefixes are case-sensitive.
        Row {
            argv: &["debugx", "Class=user"],
            class: None,
            ty: None,
            desktop: None,
            debug: false,
            timeout: d,
            warnings: &[
                "Unknown parameter 'debugx', ignoring",
                "Unknown parameter 'Class=user', ignoring",
            ],
        },
        Row {
            argv: &["class=a", "class=b"],
            class: Some("b"),
            ty: None,
            desktop: None,
            debug: false,
            timeout: d,
            warnings: &[],
        },
        Row {
            argv: &["timeout=10"],
            class: None,
            ty: None,
            desktop: None,
            debug: false,
            timeout: Some(Some(Duration::from_secs(10))),
            warnings: &[],
        },
        Row {
            argv: &["timeout=1500ms"],
            class: None,
            ty: None,
            desktop: None,
            debug: false,
            timeout: Some(Some(Duration::from_millis(1500))),
            warnings: &[],
        },
        Row {
            argv: &["timeout=2min"],
            class: None,
            ty: None,
            desktop: None,
            debug: false,
            timeout: Some(Some(Duration::from_secs(120))),
            warnings: &[],
        },
        Row {
            argv: &["timeout=infinity"],
            class: None,
            ty: None,
            desktop: None,
            debug: false,
            timeout: Some(None),
            warnings: &[],
        },
        Row {
            argv: &["timeout=-1"],
            class: None,
            ty: None,
            desktop: None,
            debug: false,
            timeout: d,
            warnings: &["Failed to parse timeout= argument, ignoring: -1"],
        },
        Row {
            argv: &["timeout=0"],
            class: None,
            ty: None,
            desktop: None,
            debug: false,
            timeout: d,
            warnings: &["Failed to parse timeout= argument, ignoring: 0"],
        },
        Row {
            argv: &["timeout=soon"],
            class: None,
            ty: None,
            desktop: None,
            debug: false,
            timeout: d,
            warnings: &["Failed to parse timeout= argument, ignoring: soon"],
        },
    ];
    for row in rows {
        let (args, warnings) = run(row.argv);
        assert_eq!(args.class, row.class.map(str::as_bytes), "{:?}", row.argv);
        assert_eq!(args.session_type, row.ty.map(str::as_bytes), "{:?}", row.argv);
        assert_eq!(args.desktop, row.desktop.map(str::as_bytes), "{:?}", row.argv);
        assert_eq!(args.debug, row.debug, "{:?}", row.argv);
        assert_eq!(args.timeout, row.timeout, "{:?}", row.argv);
        assert_eq!(warnings, row.warnings, "{:?}", row.argv);
    }
}

/// The 257 arguments and ours: capability sets (later ones add to earlier ones, as in C),
/// `compat=`, and the 257 wording of the unknown-parameter warning.
#[test]
fn capability_sets_and_compat() {
    let mut warnings = Vec::new();
    let argv: [&[u8]; 6] = [
        b"default-capability-ambient-set=cap_wake_alarm",
        b"default-capability-ambient-set=cap_kill,nope",
        b"default-capability-bounding-set=~cap_sys_admin",
        b"compat=257",
        b"compat=3",
        b"default-capability-bounding-set=x\\",
    ];
    let a = parse_with(&argv, caps::all_up_to(40), |w| warnings.push(w.to_string()));
    assert_eq!(a.ambient_set, (1 << 35) | (1 << 5));
    assert_eq!(a.bounding_set, caps::all_up_to(40) & !(1 << 21));
    assert_eq!(a.compat, Some(Generation::V257));
    assert_eq!(
        warnings,
        [
            "Unknown capability, ignoring: nope",
            "Failed to parse compat= argument, ignoring: 3",
            "Failed to parse default-capability-bounding-set= argument, ignoring: x\\",
        ]
    );
    assert_eq!(
        Warning::Unknown(b"x").text(Generation::V257),
        "Unknown parameter 'x', ignoring."
    );
    assert_eq!(
        Warning::Unknown(b"x").text(Generation::V252),
        "Unknown parameter 'x', ignoring"
    );
    let d = parse(&[], |_| {});
    assert_eq!(
        (d.ambient_set, d.bounding_set, d.compat),
        (caps::UNSET, caps::UNSET, None)
    );
}
