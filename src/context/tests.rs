//! Table tests of the request derivation: behaviour.md's edge cases and the numbered cases that need no bus.

#![allow(clippy::type_complexity)]

use super::*;

fn inputs() -> Inputs<'static> {
    Inputs {
        uid: 1000,
        service: b"svc",
        ..Default::default()
    }
}

fn no_probe(_: &[u8]) -> Option<u32> {
    None
}

/// `(tty, type, class)` after mangling, with nothing else set (behaviour.md, "Edge cases").
#[test]
#[allow(clippy::type_complexity)] // a table row is five byte strings
fn tty_table() {
    let rows: &[(&[u8], &[u8], &[u8], &[u8], &[u8])] = &[
        // input tty, sent tty, sent display, type, class
        (b"", b"", b"", b"unspecified", b"background"),
        (b"/dev/", b"", b"", b"unspecified", b"background"),
        (b"/dev", b"", b"", b"unspecified", b"background"),
        (b"//dev//pts/1", b"pts/1", b"", b"tty", b"user"),
        (b"dev/pts/1", b"dev/pts/1", b"", b"tty", b"user"),
        (b"/dev/./tty3", b"tty3", b"", b"tty", b"user"),
        (b"/dev/pts/3", b"pts/3", b"", b"tty", b"user"),
        (b"console", b"console", b"", b"tty", b"user"),
        (b"a:b", b"", b"a:b", b"x11", b"user"),
        (b":0", b"", b":0", b"x11", b"user"),
        (b"SSH", b"SSH", b"", b"tty", b"user"),
        (b"ssh", b"", b"", b"tty", b"user"),
        (b"cron", b"", b"", b"unspecified", b"background"),
        (b"/dev/cron", b"cron", b"", b"tty", b"user"),
        (b"/dev/ssh", b"ssh", b"", b"tty", b"user"),
        (b"tty0", b"tty0", b"", b"tty", b"user"),
        (b"tty64", b"tty64", b"", b"tty", b"user"),
        (b"ttyS0", b"ttyS0", b"", b"tty", b"user"),
        (b"/dev/tty\xff", b"tty\xff", b"", b"tty", b"user"),
    ];
    for &(tty, want_tty, want_display, ty, class) in rows {
        let inp = Inputs { tty, ..inputs() };
        let d = derive(&inp, no_probe);
        let r = &d.request;
        let show = String::from_utf8_lossy(tty);
        assert_eq!(r.tty, want_tty, "tty for {show:?}");
        assert_eq!(r.display, want_display, "display for {show:?}");
        assert_eq!(r.session_type, ty, "type for {show:?}");
        assert_eq!(r.class, class, "class for {show:?}");
    }
}

/// behaviour.md cases 3 and 4: cron and ssh override type and class unconditionally in v252.
#[test]
fn cron_and_ssh_override_env_and_args() {
    let inp = Inputs {
        tty: b"cron",
        class: b"user",
        session_type: b"x11",
        ..inputs()
    };
    let r = derive(&inp, no_probe).request;
    assert_eq!(
        (r.session_type, r.class, r.tty),
        (&b"unspecified"[..], &b"background"[..], &b""[..])
    );

    let inp = Inputs {
        tty: b"ssh",
        class: b"greeter",
        ..inputs()
    };
    let r = derive(&inp, no_probe).request;
    assert_eq!((r.session_type, r.class, r.tty), (&b"tty"[..], &b"user"[..], &b""[..]));
}

/// behaviour.md case 6: an explicit display wins over a tty with a colon, and a real tty stays.
#[test]
fn display_and_tty() {
    let inp = Inputs {
        tty: b"tty7",
        display: b":1",
        ..inputs()
    };
    let r = derive(&inp, no_probe).request;
    assert_eq!(
        (r.tty, r.display, r.session_type, r.vtnr),
        (&b"tty7"[..], &b":1"[..], &b"x11"[..], 0)
    );

    let inp = Inputs {
        tty: b":5",
        display: b":1",
        ..inputs()
    };
    let r = derive(&inp, no_probe).request;
    assert_eq!((r.tty, r.display), (&b""[..], &b":1"[..]));
}

/// behaviour.md case 7: a VT number on a seat other than seat0 is dropped (and reported for the debug line).
#[test]
fn vtnr_reset_for_non_seat0() {
    let inp = Inputs {
        tty: b"/dev/tty1",
        seat: b"seat1",
        vtnr: b"3",
        ..inputs()
    };
    let d = derive(&inp, no_probe);
    assert_eq!(
        (d.request.seat, d.request.vtnr, d.request.tty),
        (&b"seat1"[..], 0, &b"tty1"[..])
    );
    assert_eq!(d.ignored_vtnr, Some(3));

    let inp = Inputs {
        seat: b"seat0",
        vtnr: b"3",
        ..inputs()
    };
    let d = derive(&inp, no_probe);
    assert_eq!((d.request.vtnr, d.ignored_vtnr), (3, None));

    let inp = Inputs {
        seat: b"seat1",
        vtnr: b"0",
        ..inputs()
    };
    assert_eq!(derive(&inp, no_probe).ignored_vtnr, None);
}

/// behaviour.md case 8: XDG_VTNR follows systemd's number rules; failures count as 0.
#[test]
fn vtnr_table() {
    let rows: &[(&[u8], u32)] = &[
        (b"0x10", 16),
        (b"010", 8),
        (b" 7", 7),
        (b"+5", 5),
        (b"abc", 0),
        (b"-1", 0),
        (b"4294967296", 0),
        (b"4294967295", 4294967295),
        (b"", 0),
        (b"2", 2),
        (b"7 ", 0),
    ];
    for &(v, want) in rows {
        let inp = Inputs { vtnr: v, ..inputs() };
        assert_eq!(
            derive(&inp, no_probe).request.vtnr,
            want,
            "{:?}",
            String::from_utf8_lossy(v)
        );
    }
}

/// behaviour.md case 9: `remote` comes from rhost alone; IP literals count as remote.
#[test]
fn remote_table() {
    let rows: &[(&[u8], bool)] = &[
        (b"localhost", false),
        (b"LOCALHOST.", false),
        (b"foo.localhost", false),
        (b"localhost.localdomain", false),
        (b"127.0.0.1", true),
        (b"::1", true),
        (b"", false),
        (b"192.168.1.5", true),
        (b"example.org", true),
        (b"localhost.localdomain.", false),
        (b"x.localhost.localdomain", false),
        (b"notlocalhost", true),
    ];
    for &(rhost, want) in rows {
        let inp = Inputs {
            remote_host: rhost,
            remote_user: b"bob",
            ..inputs()
        };
        assert_eq!(
            derive(&inp, no_probe).request.remote,
            want,
            "{:?}",
            String::from_utf8_lossy(rhost)
        );
    }
}

/// behaviour.md case 1: the whole request for an ordinary ssh-style login.
#[test]
fn whole_request() {
    let inp = Inputs {
        tty: b"/dev/pts/3",
        remote_host: b"192.168.1.5",
        remote_user: b"bob",
        ..inputs()
    };
    let r = derive(&inp, no_probe).request;
    assert_eq!(
        r,
        Request {
            uid: 1000,
            service: b"svc",
            session_type: b"tty",
            class: b"user",
            desktop: b"",
            seat: b"",
            vtnr: 0,
            tty: b"pts/3",
            display: b"",
            remote: true,
            remote_user: b"bob",
            remote_host: b"192.168.1.5",
            area: None,
            extra_device_access: vec![],
        }
    );
}

/// behaviour.md cases 10 and 11: arguments are fallbacks; PAM env wins, then the process env.
#[test]
fn env_over_args() {
    let ty = getenv_harder(None, None, Some(b"wayland"));
    let class = getenv_harder(None, None, Some(b"greeter"));
    let desktop = getenv_harder(None, None, Some(b"KDE"));
    assert_eq!(
        (ty, class, desktop),
        (Some(&b"wayland"[..]), Some(&b"greeter"[..]), Some(&b"KDE"[..]))
    );

    assert_eq!(getenv_harder(Some(b"x11"), None, Some(b"wayland")), Some(&b"x11"[..]));
    assert_eq!(
        getenv_harder(Some(b""), Some(b"GNOME"), Some(b"KDE")),
        Some(&b"GNOME"[..])
    );
    assert_eq!(
        getenv_harder(None, Some(b"lock-screen"), Some(b"greeter")),
        Some(&b"lock-screen"[..])
    );
    assert_eq!(getenv_harder(Some(b""), Some(b""), Some(b"")), Some(&b""[..]));
    assert_eq!(getenv_harder(Some(b""), Some(b""), None), None);
}

/// An empty class argument counts as unset (behaviour.md case 29), and defaults follow the type.
#[test]
fn defaults() {
    let inp = Inputs {
        tty: b"pts/0",
        class: b"",
        ..inputs()
    };
    assert_eq!(derive(&inp, no_probe).request.class, b"user");
    let inp = Inputs {
        session_type: b"unspecified",
        ..inputs()
    };
    assert_eq!(derive(&inp, no_probe).request.class, b"background");
    let inp = Inputs {
        session_type: b"wayland",
        ..inputs()
    };
    assert_eq!(derive(&inp, no_probe).request.class, b"user");
}

/// Step 10: the X11 probe is asked only for a display with no VT number yet, on no seat or
/// seat0, and what it finds puts the session on seat0.
#[test]
fn x11_probe() {
    let inp = Inputs {
        display: b":0",
        ..inputs()
    };
    let r = derive(&inp, |d| {
        assert_eq!(d, b":0");
        Some(2)
    })
    .request;
    assert_eq!((r.seat, r.vtnr), (&b"seat0"[..], 2));

    let inp = Inputs {
        display: b":0",
        seat: b"seat1",
        ..inputs()
    };
    let r = derive(&inp, |_| panic!("not asked for another seat")).request;
    assert_eq!((r.seat, r.vtnr), (&b"seat1"[..], 0));

    let inp = Inputs {
        display: b":0",
        vtnr: b"4",
        ..inputs()
    };
    let r = derive(&inp, |_| panic!("not asked when the VT is known")).request;
    assert_eq!(r.vtnr, 4);

    let inp = Inputs {
        display: b":0",
        seat: b"seat0",
        ..inputs()
    };
    let r = derive(&inp, |_| Some(7)).request;
    assert_eq!((r.seat, r.vtnr), (&b"seat0"[..], 7));

    let inp = Inputs {
        display: b":0",
        ..inputs()
    };
    let r = derive(&inp, |_| None).request;
    assert_eq!((r.seat, r.vtnr), (&b""[..], 0));
}

// ---------------------------------------------------------------------------------------------
// 257
// ---------------------------------------------------------------------------------------------

/// `user_record_disposition()` from uid and name (Debian's system-uid-max 999), unless declared.
#[test]
fn disposition_table() {
    use Disposition::*;
    let rows: &[(Option<Disposition>, u32, &[u8], Disposition)] = &[
        (None, 0, b"root", Intrinsic),
        (None, 0, b"toor", Intrinsic),
        (None, 1000, b"root", Intrinsic),
        (None, 65534, b"nobody", Intrinsic),
        (None, 4000, b"nobody", Intrinsic),
        (None, 65534, b"nfsnobody", Intrinsic),
        (None, 1, b"daemon", System),
        (None, 999, b"sys", System),
        (None, 1000, b"alice", Regular),
        (None, 61183, b"a", Regular),
        (None, 61184, b"a", Dynamic),
        (None, 65519, b"a", Dynamic),
        (None, 65520, b"a", Regular),
        (None, 524_287, b"a", Regular),
        (None, 524_288, b"a", Container),
        (None, 1_879_048_191, b"a", Container),
        (None, 1_879_048_192, b"a", Regular),
        (None, 0x8000_0000, b"a", Reserved),
        (Some(Regular), 0, b"root", Regular),
        (Some(System), 1000, b"alice", System),
    ];
    for &(declared, uid, name, want) in rows {
        assert_eq!(Disposition::of(declared, uid, name), want, "{uid} {name:?}");
    }
    assert_eq!(Disposition::from_name(b"dynamic"), Some(Dynamic));
    assert_eq!(Disposition::from_name(b"Dynamic"), None);
}

/// The 257 class rules: (service, tty, env class, disposition, incomplete) → (type, class, tty,
/// ignored incomplete class); the 252 rules give `user`/`background` for the same inputs.
#[test]
fn classes_257_table() {
    use Disposition::*;
    type Row = (
        &'static [u8],
        &'static [u8],
        &'static [u8],
        Disposition,
        bool,
        &'static [u8],
        &'static [u8],
        &'static [u8],
        Option<&'static [u8]>,
    );
    let rows: &[Row] = &[
        (
            b"login",
            b"/dev/tty1",
            b"",
            Intrinsic,
            false,
            b"tty",
            b"user-early",
            b"tty1",
            None,
        ),
        (
            b"login",
            b"/dev/tty1",
            b"",
            System,
            false,
            b"tty",
            b"user-early",
            b"tty1",
            None,
        ),
        (
            b"login",
            b"/dev/tty1",
            b"",
            Dynamic,
            false,
            b"tty",
            b"user-early",
            b"tty1",
            None,
        ),
        (
            b"login",
            b"/dev/tty1",
            b"",
            Container,
            false,
            b"tty",
            b"user",
            b"tty1",
            None,
        ),
        (
            b"login",
            b"/dev/tty1",
            b"",
            Regular,
            false,
            b"tty",
            b"user",
            b"tty1",
            None,
        ),
        (b"sshd", b"ssh", b"", Intrinsic, false, b"tty", b"user", b"", None),
        (
            b"sshd",
            b"ssh",
            b"background-light",
            Intrinsic,
            false,
            b"tty",
            b"user",
            b"",
            None,
        ),
        (
            b"cron",
            b"cron",
            b"",
            Intrinsic,
            false,
            b"unspecified",
            b"background",
            b"",
            None,
        ),
        (
            b"x",
            b"",
            b"",
            Intrinsic,
            false,
            b"unspecified",
            b"background",
            b"",
            None,
        ),
        (b"x", b":0", b"", Intrinsic, false, b"x11", b"user", b"", None),
        (
            b"login", b"tty1", b"greeter", Intrinsic, false, b"tty", b"greeter", b"tty1", None,
        ),
        (
            b"systemd-user",
            b"tty1",
            b"user",
            Regular,
            false,
            b"unspecified",
            b"manager",
            b"",
            None,
        ),
        (
            b"systemd-user",
            b"",
            b"",
            Intrinsic,
            false,
            b"unspecified",
            b"manager-early",
            b"",
            None,
        ),
        (
            b"systemd-user",
            b"",
            b"",
            Dynamic,
            true,
            b"unspecified",
            b"manager-early",
            b"",
            Some(b"manager-early"),
        ),
        (
            b"login",
            b"tty1",
            b"",
            Regular,
            true,
            b"tty",
            b"user-incomplete",
            b"tty1",
            None,
        ),
        (
            b"login",
            b"tty1",
            b"user",
            Intrinsic,
            true,
            b"tty",
            b"user-incomplete",
            b"tty1",
            None,
        ),
        (
            b"login",
            b"tty1",
            b"",
            Intrinsic,
            true,
            b"tty",
            b"user-early",
            b"tty1",
            Some(b"user-early"),
        ),
        (
            b"x",
            b"",
            b"",
            Regular,
            true,
            b"unspecified",
            b"background",
            b"",
            Some(b"background"),
        ),
    ];
    for &(service, tty, class, disposition, incomplete, ty, want_class, want_tty, ignored) in rows {
        let inp = Inputs {
            service,
            tty,
            class,
            disposition,
            incomplete,
            ..inputs()
        };
        let d = derive_for(&inp, Generation::V257, no_probe);
        let show = format!(
            "{:?} {:?} {:?} {disposition:?} {incomplete}",
            String::from_utf8_lossy(service),
            String::from_utf8_lossy(tty),
            String::from_utf8_lossy(class)
        );
        assert_eq!(d.request.session_type, ty, "{show}");
        assert_eq!(d.request.class, want_class, "{show}");
        assert_eq!(d.request.tty, want_tty, "{show}");
        assert_eq!(d.incomplete_ignored, ignored, "{show}");
        let old = derive_for(&inp, Generation::V252, no_probe).request;
        assert!(
            [&b"user"[..], b"background", b"greeter"].contains(&old.class),
            "252 class {:?} for {show}",
            String::from_utf8_lossy(old.class)
        );
        assert_eq!(derive(&inp, no_probe), derive_for(&inp, Generation::V252, no_probe));
    }
}

/// `$XDG_SESSION_INCOMPLETE`: systemd booleans; anything else is false with the error line.
#[test]
fn incomplete_flag_values() {
    assert_eq!(incomplete_flag(None), Ok(false));
    assert_eq!(incomplete_flag(Some(b"")), Ok(false));
    assert_eq!(incomplete_flag(Some(b"on")), Ok(true));
    assert_eq!(incomplete_flag(Some(b"0")), Ok(false));
    assert_eq!(
        incomplete_flag(Some(b"2")),
        Err("Boolean environment variable value of 'XDG_SESSION_INCOMPLETE' is not valid: 2".into())
    );
}

/// Every generation through the derivation, each rule of its table entry (`rules`) checked
/// against what the derivation does: the `systemd-user` stack, the early classes and the
/// incomplete flag; where none of them applies, every generation derives the same request.
#[test]
fn every_generation_derives_by_its_rules() {
    use crate::rules::SystemdUser;
    for g in Generation::ALL {
        let rules = g.rules();
        let derive_g = |inp: &Inputs<'static>| derive_for(inp, g, no_probe);

        // user@.service's stack, an early user asking for a tty session.
        let inp = Inputs {
            service: b"systemd-user",
            tty: b"/dev/tty2",
            class: b"greeter",
            disposition: Disposition::System,
            ..inputs()
        };
        let r = derive_g(&inp).request;
        match rules.systemd_user {
            SystemdUser::ManagerSession => {
                // A class asked for stays where the rule only fills an empty one (262).
                let class: &[u8] = if rules.request262.class_if_unset {
                    b"greeter"
                } else if rules.early_classes {
                    b"manager-early"
                } else {
                    b"manager"
                };
                assert_eq!(
                    (r.session_type, r.class, r.tty),
                    (&b"unspecified"[..], class, &b""[..]),
                    "{g:?}"
                );
            }
            SystemdUser::RuntimeDirOnly => {
                // Not special in the derivation: the request is the one any service gets.
                let other = derive(
                    &Inputs {
                        service: b"svc",
                        ..inp.clone()
                    },
                    no_probe,
                )
                .request;
                assert_eq!(
                    r,
                    Request {
                        service: b"systemd-user",
                        ..other
                    },
                    "{g:?}"
                );
            }
        }

        // An early user on a tty without a class asked for; a regular one never is early.
        for (disposition, early) in [
            (Disposition::Intrinsic, true),
            (Disposition::Dynamic, true),
            (Disposition::Regular, false),
        ] {
            let inp = Inputs {
                tty: b"/dev/tty3",
                disposition,
                ..inputs()
            };
            // (uid 1000, not root: 262 makes early users light.)
            let want: &[u8] = if early && rules.request262.light_classes {
                b"user-light"
            } else if early && rules.early_classes {
                b"user-early"
            } else {
                b"user"
            };
            assert_eq!(derive_g(&inp).request.class, want, "{g:?} {disposition:?}");
        }

        // The incomplete flag: a user session becomes user-incomplete; another class is kept,
        // with the warning's class.
        let inp = Inputs {
            tty: b"/dev/pts/1",
            incomplete: true,
            ..inputs()
        };
        let d = derive_g(&inp);
        let want: &[u8] = if rules.incomplete_flag {
            b"user-incomplete"
        } else {
            b"user"
        };
        assert_eq!((d.request.class, d.incomplete_ignored), (want, None), "{g:?}");
        let d = derive_g(&Inputs {
            class: b"greeter",
            ..inp
        });
        let ignored = rules.incomplete_flag.then_some(&b"greeter"[..]);
        assert_eq!(
            (d.request.class, d.incomplete_ignored),
            (&b"greeter"[..], ignored),
            "{g:?}"
        );

        // No rule applies: the same request as every other generation's.
        for tty in [&b""[..], b"cron", b"ssh", b":0", b"/dev/pts/4"] {
            let inp = Inputs {
                tty,
                seat: b"seat1",
                vtnr: b"3",
                remote_host: b"example.org",
                ..inputs()
            };
            let (mine, oldest) = (derive_g(&inp), derive(&inp, no_probe));
            assert_eq!(
                (&mine.request, mine.ignored_vtnr, mine.incomplete_ignored),
                (&oldest.request, oldest.ignored_vtnr, oldest.incomplete_ignored),
                "{g:?} {tty:?}"
            );
            // The only other difference: 262's "Automatically chose" lines, where type and
            // class were left to choose (cron and ssh set both).
            let chosen = rules.words.automatic_choice_lines && !matches!(tty, b"cron" | b"ssh");
            assert_eq!(mine.lines.len(), if chosen { 2 } else { 0 }, "{g:?} {tty:?}");
            assert!(oldest.lines.is_empty());
        }
    }
}

/// behaviour-262.md section 4's table (and cases 8–12, 16–18, 22): the automatic class of 262, next to
/// 257's, for every disposition, root or not, type, tty, area and the class asked for:
/// `(service, tty, type, class asked, disposition, root, area, default area) → (262 type,
/// 262 class, 257 class)`.
#[test]
fn classes_262_table() {
    use Disposition::*;
    #[allow(clippy::type_complexity)]
    let rows: &[(
        &[u8],
        &[u8],
        &[u8],
        &[u8],
        Disposition,
        bool,
        Option<&[u8]>,
        Option<&[u8]>,
        &[u8],
        &[u8],
        &[u8],
    )] = &[
        // root on a VT, in X, over ssh, with no tty
        (
            b"login",
            b"/dev/tty1",
            b"",
            b"",
            Intrinsic,
            true,
            None,
            None,
            b"tty",
            b"user-early",
            b"user-early",
        ),
        (
            b"gdm",
            b"",
            b"wayland",
            b"",
            Intrinsic,
            true,
            None,
            None,
            b"wayland",
            b"user-early",
            b"user",
        ),
        (
            b"gdm",
            b"",
            b"x11",
            b"",
            Intrinsic,
            true,
            None,
            None,
            b"x11",
            b"user-early",
            b"user",
        ),
        (
            b"sshd", b"ssh", b"", b"", Intrinsic, true, None, None, b"tty", b"user", b"user",
        ),
        (
            b"svc",
            b"",
            b"",
            b"",
            Intrinsic,
            true,
            None,
            None,
            b"unspecified",
            b"background-light",
            b"background",
        ),
        (
            b"svc",
            b"",
            b"",
            b"",
            System,
            false,
            None,
            None,
            b"unspecified",
            b"background-light",
            b"background",
        ),
        (
            b"crond",
            b"cron",
            b"",
            b"",
            System,
            false,
            None,
            None,
            b"unspecified",
            b"background",
            b"background",
        ),
        // system, dynamic and nobody on a tty; graphical types stay user; others are light
        (
            b"login",
            b"/dev/tty2",
            b"",
            b"",
            System,
            false,
            None,
            None,
            b"tty",
            b"user-light",
            b"user-early",
        ),
        (
            b"login",
            b"/dev/tty2",
            b"",
            b"",
            Dynamic,
            false,
            None,
            None,
            b"tty",
            b"user-light",
            b"user-early",
        ),
        (
            b"login",
            b"/dev/tty2",
            b"",
            b"",
            Intrinsic,
            false,
            None,
            None,
            b"tty",
            b"user-light",
            b"user-early",
        ),
        (
            b"gdm", b"", b"x11", b"", System, false, None, None, b"x11", b"user", b"user",
        ),
        (
            b"gdm", b"", b"mir", b"", System, false, None, None, b"mir", b"user", b"user",
        ),
        (
            b"svc",
            b"",
            b"web",
            b"",
            System,
            false,
            None,
            None,
            b"web",
            b"user-light",
            b"user",
        ),
        // regular users: light only with an area
        (
            b"login",
            b"/dev/tty2",
            b"",
            b"",
            Regular,
            false,
            None,
            None,
            b"tty",
            b"user",
            b"user",
        ),
        (
            b"login",
            b"/dev/tty2",
            b"",
            b"",
            Regular,
            false,
            Some(b"foo"),
            None,
            b"tty",
            b"user-light",
            b"user",
        ),
        (
            b"svc",
            b"",
            b"",
            b"",
            Regular,
            false,
            Some(b"foo"),
            None,
            b"unspecified",
            b"background-light",
            b"background",
        ),
        (
            b"login",
            b"/dev/tty2",
            b"",
            b"",
            Regular,
            false,
            None,
            Some(b"work"),
            b"tty",
            b"user-light",
            b"user",
        ),
        (
            b"login",
            b"/dev/tty2",
            b"",
            b"",
            Regular,
            false,
            Some(b""),
            Some(b"work"),
            b"tty",
            b"user",
            b"user",
        ),
        (
            b"login",
            b"/dev/tty2",
            b"",
            b"",
            Regular,
            false,
            Some(b".."),
            Some(b"work"),
            b"tty",
            b"user",
            b"user",
        ),
        // container, foreign, reserved: unchanged
        (
            b"login",
            b"/dev/tty2",
            b"",
            b"",
            Container,
            false,
            Some(b"foo"),
            None,
            b"tty",
            b"user",
            b"user",
        ),
        (
            b"login",
            b"/dev/tty2",
            b"",
            b"",
            Foreign,
            false,
            None,
            None,
            b"tty",
            b"user",
            b"user",
        ),
        // a class asked for stays in the systemd-user, cron and ssh rules (262)
        (
            b"systemd-user",
            b"",
            b"",
            b"background-light",
            Regular,
            false,
            None,
            None,
            b"unspecified",
            b"background-light",
            b"manager",
        ),
        (
            b"systemd-user",
            b"",
            b"",
            b"",
            Regular,
            false,
            None,
            None,
            b"unspecified",
            b"manager",
            b"manager",
        ),
        (
            b"systemd-user",
            b"",
            b"",
            b"",
            System,
            false,
            None,
            None,
            b"unspecified",
            b"manager-early",
            b"manager-early",
        ),
        (
            b"sshd",
            b"ssh",
            b"",
            b"background-light",
            Regular,
            false,
            None,
            None,
            b"tty",
            b"background-light",
            b"user",
        ),
        (
            b"crond",
            b"cron",
            b"",
            b"user",
            Regular,
            false,
            None,
            None,
            b"unspecified",
            b"user",
            b"background",
        ),
        // the pseudo class none passes through
        (
            b"login",
            b"/dev/tty2",
            b"",
            b"none",
            Regular,
            false,
            None,
            None,
            b"tty",
            b"none",
            b"none",
        ),
    ];
    for &(service, tty, ty, class, disposition, root, area, default_area, want_ty, want262, want257) in rows {
        let inp = Inputs {
            service,
            tty,
            session_type: ty,
            class,
            disposition,
            root,
            area,
            default_area,
            ..inputs()
        };
        let show = format!(
            "{:?} {:?} {:?} {:?} {disposition:?} root={root} {area:?} {default_area:?}",
            String::from_utf8_lossy(service),
            String::from_utf8_lossy(tty),
            String::from_utf8_lossy(ty),
            String::from_utf8_lossy(class),
        );
        let d = derive_for(&inp, Generation::V262, no_probe);
        assert_eq!(d.request.session_type, want_ty, "262 type {show}");
        assert_eq!(d.request.class, want262, "262 class {show}");
        let old = derive_for(&inp, Generation::V257, no_probe);
        assert_eq!(old.request.class, want257, "257 class {show}");
        // 257 has no areas and no lines of its own; 252's request is what it always was.
        assert_eq!((old.request.area, old.lines.is_empty()), (None, true), "{show}");
    }
}

/// behaviour-262.md section 5 and cases 16–18: the area that survives, and the lines of the derivation
/// in C's order (type chosen, invalid area, class chosen).
#[test]
fn area_and_lines_262() {
    use log::Level::{Debug, Warn};
    #[allow(clippy::type_complexity)]
    let rows: &[(Option<&[u8]>, Option<&[u8]>, Option<&[u8]>, Vec<(log::Level, &str)>)] = &[
        (
            Some(b"foo"),
            None,
            Some(b"foo"),
            vec![
                (Debug, "Automatically chose session type 'tty'."),
                (Debug, "Automatically chose session class 'user-light'."),
            ],
        ),
        (
            Some(b".."),
            Some(b"work"),
            None,
            vec![
                (Debug, "Automatically chose session type 'tty'."),
                (
                    Warn,
                    "Specified area '..' is not a valid filename, ignoring area request.",
                ),
                (Debug, "Automatically chose session class 'user'."),
            ],
        ),
        (
            Some(b"a/b"),
            None,
            None,
            vec![
                (Debug, "Automatically chose session type 'tty'."),
                (
                    Warn,
                    "Specified area 'a/b' is not a valid filename, ignoring area request.",
                ),
                (Debug, "Automatically chose session class 'user'."),
            ],
        ),
        (
            Some(b""),
            Some(b"work"),
            None,
            vec![
                (Debug, "Automatically chose session type 'tty'."),
                (Debug, "Automatically chose session class 'user'."),
            ],
        ),
        (
            None,
            Some(b"work"),
            Some(b"work"),
            vec![
                (Debug, "Automatically chose session type 'tty'."),
                (Debug, "Automatically chose session class 'user-light'."),
            ],
        ),
    ];
    for (area, default_area, want, lines) in rows {
        let inp = Inputs {
            tty: b"/dev/pts/1",
            area: *area,
            default_area: *default_area,
            ..inputs()
        };
        let d = derive_for(&inp, Generation::V262, no_probe);
        assert_eq!(d.request.area, *want, "{area:?} {default_area:?}");
        let got: Vec<(log::Level, &str)> = d.lines.iter().map(|(l, t)| (*l, t.as_str())).collect();
        assert_eq!(&got, lines, "{area:?} {default_area:?}");
        for g in [Generation::V257, Generation::V252] {
            let d = derive_for(&inp, g, no_probe);
            assert_eq!((d.request.area, d.request.class), (None, &b"user"[..]), "{g:?}");
        }
    }
    // Type and class given: no lines at all.
    let inp = Inputs {
        session_type: b"tty",
        class: b"user",
        ..inputs()
    };
    assert!(derive_for(&inp, Generation::V262, no_probe).lines.is_empty());
}

/// behaviour-262.md section 3 and case 22: `$XDG_SESSION_EXTRA_DEVICE_ACCESS` split on `:` with empty
/// fields dropped, no quote or backslash processing; only 262 reads it.
#[test]
fn extra_device_access_262() {
    let rows: &[(&[u8], &[&[u8]])] = &[
        (b"", &[]),
        (b":", &[]),
        (b"::", &[]),
        (b"gpu", &[b"gpu"]),
        (b"gpu::render:", &[b"gpu", b"render"]),
        (b":gpu", &[b"gpu"]),
        (b"a\\:b", &[b"a\\", b"b"]),
        (b"'a:b'", &[b"'a", b"b'"]),
        (b"\"x y\":z", &[b"\"x y\"", b"z"]),
    ];
    for &(value, want) in rows {
        assert_eq!(split_extra_device_access(value), want, "{value:?}");
        let inp = Inputs {
            extra_device_access: value,
            ..inputs()
        };
        assert_eq!(
            derive_for(&inp, Generation::V262, no_probe).request.extra_device_access,
            want
        );
        for g in [Generation::V257, Generation::V252] {
            assert!(derive_for(&inp, g, no_probe).request.extra_device_access.is_empty());
        }
    }
}

/// behaviour-262.md section 3, cases 19 and 20: the environment parse warnings by generation.
#[test]
fn env_parse_lines_by_generation() {
    assert_eq!(
        vtnr_warning(b"abc", Generation::V262).as_deref(),
        Some(
            "Failed to parse environment variable value 'abc' of 'XDG_VTNR' as unsigned integer, falling back to using 0."
        )
    );
    assert_eq!(vtnr_warning(b"7", Generation::V262), None);
    assert_eq!(vtnr_warning(b"", Generation::V262), None);
    assert!(vtnr_warning(b"-1", Generation::V262).is_some());
    for g in [Generation::V257, Generation::V252] {
        assert_eq!(vtnr_warning(b"abc", g), None);
    }
    assert_eq!(
        incomplete_flag_for(Some(b"maybe"), Generation::V262),
        (
            false,
            Some((
                log::Level::Warn,
                "Failed to parse environment variable value 'maybe' of 'XDG_SESSION_INCOMPLETE', falling back to using 'false'.".into()
            ))
        )
    );
    assert_eq!(
        incomplete_flag_for(Some(b"maybe"), Generation::V257),
        (
            false,
            Some((
                log::Level::Error,
                "Boolean environment variable value of 'XDG_SESSION_INCOMPLETE' is not valid: maybe".into()
            ))
        )
    );
    assert_eq!(incomplete_flag_for(Some(b"yes"), Generation::V262), (true, None));
    assert_eq!(incomplete_flag_for(None, Generation::V262), (false, None));
}

/// The dispositions of 258's new uid ranges: greeter dynamic, foreign its own; regular before.
#[test]
fn dispositions_by_generation() {
    let rows = [
        (60577, Disposition::Regular, Disposition::Regular),
        (60578, Disposition::Dynamic, Disposition::Regular),
        (60705, Disposition::Dynamic, Disposition::Regular),
        (60706, Disposition::Regular, Disposition::Regular),
        (0x7ffd_ffff, Disposition::Regular, Disposition::Regular),
        (0x7ffe_0000, Disposition::Foreign, Disposition::Regular),
        (0x7ffe_ffff, Disposition::Foreign, Disposition::Regular),
        (0x7fff_0000, Disposition::Regular, Disposition::Regular),
        (61184, Disposition::Dynamic, Disposition::Dynamic),
    ];
    for (uid, d262, d257) in rows {
        assert_eq!(Disposition::of_for(None, uid, b"x", Generation::V262), d262, "{uid}");
        assert_eq!(Disposition::of_for(None, uid, b"x", Generation::V257), d257, "{uid}");
        assert_eq!(Disposition::of(None, uid, b"x"), d257, "{uid}");
    }
    assert_eq!(Disposition::from_name(b"foreign"), Some(Disposition::Foreign));
}
