//! The table walked generation by generation: every generation has its entry, its number reads
//! back, the order of attempts and the installed-version thresholds agree, and each entry says
//! what its C module does. A generation added to `Generation::ALL` without a row here fails.

use super::*;

/// What each generation's C module does, written out per number (the source the entries are
/// checked against; one row per generation).
#[allow(clippy::type_complexity)] // a row is the rules, spelled out
const EXPECTED: &[(u32, u32, SystemdUser, [bool; 6], RecordEnv, Languages, bool)] = &[
    // number, since, systemd-user,
    // [early, incomplete, items at once, credentials, capabilities, pidfd failure fatal],
    // record env, languages, builds per attempt
    (
        252,
        0,
        SystemdUser::RuntimeDirOnly,
        [false; 6],
        RecordEnv::OnlyUnset,
        Languages::Preferred,
        false,
    ),
    (
        257,
        256,
        SystemdUser::ManagerSession,
        [true; 6],
        RecordEnv::Overwrite,
        Languages::PreferredAndAdditional,
        true,
    ),
    (
        262,
        258,
        SystemdUser::ManagerSession,
        [true; 6],
        RecordEnv::Overwrite,
        Languages::PreferredAndAdditional,
        true,
    ),
];

/// 262's request rules and words, per number (behaviour-262.md section 17): `[late gate, class none,
/// class if unset, light classes, greeter/foreign ranges, areas, inhibit, osc3008, extra device access,
/// unset empty, setup_environment, credentials every path]`, then
/// `[vtnr period, limits one text, incomplete warning, vtnr
/// warning, automatic choice lines]` and the open/close debug lines.
#[allow(clippy::type_complexity)] // a row is the rules, spelled out
const EXPECTED_262: &[(u32, [bool; 12], [bool; 5], &str, &str)] = &[
    (
        252,
        [
            false, false, false, false, false, false, false, false, false, false, false, false,
        ],
        [false, false, false, false, false],
        "pam-systemd initializing",
        "pam-systemd shutting down",
    ),
    (
        257,
        [
            false, false, false, false, false, false, false, false, false, false, false, false,
        ],
        [false, false, false, false, false],
        "pam-systemd initializing",
        "pam-systemd shutting down",
    ),
    (
        262,
        [true, true, true, true, true, true, true, true, true, true, true, true],
        [true, true, true, true, true],
        "pam-systemd: initializing...",
        "pam-systemd: shutting down...",
    ),
];

#[test]
fn every_generation_has_its_262_row() {
    assert_eq!(Generation::ALL.len(), EXPECTED_262.len());
    for g in Generation::ALL {
        let Some(&(_, flags, words, init, shut)) = EXPECTED_262.iter().find(|row| row.0 == g.number()) else {
            panic!("no expected 262 row for {g:?}");
        };
        let r = g.rules().request262;
        assert_eq!(
            [
                r.late_gate,
                r.class_none,
                r.class_if_unset,
                r.light_classes,
                r.greeter_foreign_ranges,
                r.areas,
                r.inhibit,
                r.osc3008,
                r.extra_device_access,
                r.unset_empty,
                r.setup_environment,
                r.credentials_every_path,
            ],
            flags,
            "{g:?}"
        );
        let w = g.rules().words;
        assert_eq!(
            [
                w.ignoring_vtnr_period,
                w.limits_data_one_text,
                w.incomplete_bad_bool_warning,
                w.vtnr_bad_warning,
                w.automatic_choice_lines,
            ],
            words,
            "{g:?}"
        );
        assert_eq!((w.initializing, w.shutting_down), (init, shut), "{g:?}");
    }
}

#[test]
fn every_generation_has_its_row() {
    assert_eq!(Generation::ALL.len(), EXPECTED.len());
    for g in Generation::ALL {
        let r = g.rules();
        let Some(&(_, since, systemd_user, flags, record_env, languages, builds)) =
            EXPECTED.iter().find(|row| row.0 == g.number())
        else {
            panic!("no expected row for {g:?}");
        };
        assert_eq!(r.since, since, "{g:?}");
        assert_eq!(r.systemd_user, systemd_user, "{g:?}");
        assert_eq!(
            [
                r.early_classes,
                r.incomplete_flag,
                r.items_at_once,
                r.credentials,
                r.capabilities,
                r.pidfd_failure_fatal
            ],
            flags,
            "{g:?}"
        );
        assert_eq!(r.record_env, record_env, "{g:?}");
        assert_eq!(r.languages, languages, "{g:?}");
        assert_eq!(r.builds_per_attempt, builds, "{g:?}");
    }
}

/// Numbers read back (PAM data, `compat=`), exactly: no sign, no zeros, no spaces.
#[test]
fn numbers_read_back() {
    for g in Generation::ALL {
        assert_eq!(Generation::from_number(g.number()), Some(g));
        let n = g.number().to_string();
        assert_eq!(Generation::from_compat(n.as_bytes()), Some(g), "{n}");
        for bad in [
            format!("+{n}"),
            format!("0{n}"),
            format!(" {n}"),
            format!("{n} "),
            format!("{n}0"),
        ] {
            assert_eq!(Generation::from_compat(bad.as_bytes()), None, "{bad:?}");
        }
    }
    assert_eq!(Generation::from_compat(b""), None);
    assert_eq!(Generation::from_compat(b"3"), None);
    assert_eq!(Generation::from_number(0), None);
    assert_eq!(Generation::from_number(253), None);
}

/// `ALL` is newest first, and so are the installed-version thresholds; `NEWEST` and `OLDEST` are
/// its ends; `older()` walks it.
#[test]
fn order_of_attempts() {
    assert_eq!(Generation::ALL.first(), Some(&Generation::NEWEST));
    assert_eq!(Generation::ALL.last(), Some(&Generation::OLDEST));
    for pair in Generation::ALL.windows(2) {
        let [newer, older] = pair else { unreachable!() };
        assert!(newer.number() > older.number(), "{newer:?} {older:?}");
        assert!(newer.rules().since > older.rules().since, "{newer:?} {older:?}");
        assert_eq!(newer.older(), Some(*older));
    }
    assert_eq!(Generation::OLDEST.older(), None);
    // A decided login always has the newest generation's request to send first
    // (`session::Derivations`), also for the `systemd-user` stack.
    assert_eq!(Generation::NEWEST.rules().systemd_user, SystemdUser::ManagerSession);
}

/// The installed systemd's generation: the newest whose `since` it reached; none (elogind):
/// the oldest.
#[test]
fn installed_version() {
    assert_eq!(Generation::installed(None), Generation::OLDEST);
    for g in Generation::ALL {
        assert_eq!(Generation::installed(Some(g.rules().since)), g, "{g:?}");
        if let Some(older) = g.older() {
            assert_eq!(Generation::installed(Some(g.rules().since - 1)), older, "{g:?}");
        }
    }
    for (version, number) in [
        (0, 252),
        (252, 252),
        (255, 252),
        (256, 257),
        (257, 257),
        (258, 262),
        (262, 262),
        (300, 262),
    ] {
        assert_eq!(Generation::installed(Some(version)).number(), number, "{version}");
    }
}

/// The words each generation logs differently.
#[test]
fn words() {
    for g in Generation::ALL {
        let w = g.rules().words;
        let unknown = crate::args::Warning::Unknown(b"x").text(g).unwrap_or_default();
        assert_eq!(unknown.ends_with('.'), w.unknown_parameter_period, "{g:?}");
        assert!(unknown.starts_with("Unknown parameter 'x', ignoring"), "{unknown}");
        // The line names $LANGUAGE exactly where the reading sets it.
        let sets_language = g.rules().languages == Languages::PreferredAndAdditional;
        assert_eq!(w.languages_not_installed.contains("$LANGUAGE"), sets_language, "{g:?}");
        assert!(w.languages_not_installed.contains("not setting $LANG"), "{g:?}");
    }
    assert!(!Generation::V252.rules().words.bus_connection_line);
    assert!(Generation::V257.rules().words.bus_connection_line);
    assert!(Generation::V262.rules().words.bus_connection_line);
}
