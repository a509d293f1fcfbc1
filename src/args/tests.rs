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
        Warning::Unknown(b"x").text(Generation::V257).as_deref(),
        Some("Unknown parameter 'x', ignoring.")
    );
    assert_eq!(
        Warning::Unknown(b"x").text(Generation::V252).as_deref(),
        Some("Unknown parameter 'x', ignoring")
    );
    let d = parse(&[], |_| {});
    assert_eq!(
        (d.ambient_set, d.bounding_set, d.compat),
        (caps::UNSET, caps::UNSET, None)
    );
}

/// behaviour-262.md section 2 and case 16: `area=`, `inhibit=`, `inhibit-why=` — stored (last one wins;
/// an invalid non-empty area ignored, an earlier valid one kept), and their lines per
/// generation: none where known, `Unknown parameter` (the whole argument) where not, 262's own
/// line for a bad area.
#[test]
fn arguments_of_262() {
    let argv: [&[u8]; 8] = [
        b"area=foo",
        b"area=a/b",
        b"inhibit=sleep:shutdown",
        b"inhibit=",
        b"inhibit-why=Backup",
        b"area=..",
        b"area=",
        b"compat=262",
    ];
    let mut warnings = Vec::new();
    let a = parse(&argv, |w| warnings.push(w));
    assert_eq!(a.area, Some(&b""[..]));
    assert_eq!(a.inhibit, Some(&b""[..]));
    assert_eq!(a.inhibit_why, Some(&b"Backup"[..]));
    assert_eq!(a.compat, Some(Generation::V262));
    let lines = |g: Generation| -> Vec<String> { warnings.iter().filter_map(|w| w.text(g)).collect() };
    assert_eq!(
        lines(Generation::V262),
        [
            "Area name specified among PAM module parameters is not valid, ignoring: a/b",
            "Area name specified among PAM module parameters is not valid, ignoring: ..",
        ]
    );
    assert_eq!(
        lines(Generation::V257),
        [
            "Unknown parameter 'area=foo', ignoring.",
            "Unknown parameter 'area=a/b', ignoring.",
            "Unknown parameter 'inhibit=sleep:shutdown', ignoring.",
            "Unknown parameter 'inhibit=', ignoring.",
            "Unknown parameter 'inhibit-why=Backup', ignoring.",
            "Unknown parameter 'area=..', ignoring.",
            "Unknown parameter 'area=', ignoring.",
        ]
    );
    assert_eq!(
        lines(Generation::V252),
        [
            "Unknown parameter 'area=foo', ignoring",
            "Unknown parameter 'area=a/b', ignoring",
            "Unknown parameter 'inhibit=sleep:shutdown', ignoring",
            "Unknown parameter 'inhibit=', ignoring",
            "Unknown parameter 'inhibit-why=Backup', ignoring",
            "Unknown parameter 'area=..', ignoring",
            "Unknown parameter 'area=', ignoring",
        ]
    );
    // An invalid area= keeps an earlier valid one.
    let a = parse(&[b"area=work", b"area=x/y"], |_| {});
    assert_eq!(a.area, Some(&b"work"[..]));
    // Prefix matching in C's order: `inhibit-why=` is not `inhibit=`; 255 bytes is a file name,
    // 256 is not.
    let a = parse(&[b"inhibit-why=x"], |_| {});
    assert_eq!((a.inhibit, a.inhibit_why), (None, Some(&b"x"[..])));
    let long = [b"area=".to_vec(), vec![b'a'; 255]].concat();
    assert_eq!(parse(&[&long], |_| {}).area.map(<[u8]>::len), Some(255));
    let longer = [b"area=".to_vec(), vec![b'a'; 256]].concat();
    assert_eq!(parse(&[&longer], |_| {}).area, None);
    assert_eq!(Generation::from_compat(b"262"), Some(Generation::V262));
}
