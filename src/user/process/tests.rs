//! The process settings against a scripted process: what is called, in which order, with which
//! log lines, per generation; setrlimit_closest's fallback; 262's umask strings; the real calls in
//! a forked child.

use super::*;

const NOFILE: Resource = libc::RLIMIT_NOFILE;
const CORE: Resource = libc::RLIMIT_CORE;
const CPU: Resource = libc::RLIMIT_CPU;

fn name_of(resource: Resource) -> &'static str {
    RLIMITS.iter().find(|(_, r)| *r == resource).map_or("?", |(n, _)| n)
}

/// A process as the kernel and glibc would treat it, with faults on demand; every call is
/// recorded in order.
struct Fake {
    calls: Vec<String>,
    umask: u32,
    nice: i32,
    /// errno as left by earlier calls (glibc's nice() puts it back on success).
    errno_before: i32,
    /// CAP_SYS_NICE / CAP_SYS_RESOURCE.
    privileged: bool,
    /// nice() fails with this errno.
    nice_fails: Option<i32>,
    limits: Vec<(Resource, Limit)>,
    /// setrlimit of this resource fails with this errno (before the kernel's own checks).
    set_fails: Vec<(Resource, i32)>,
    get_fails: Option<i32>,
}

impl Fake {
    fn new() -> Fake {
        Fake {
            calls: Vec::new(),
            umask: 0o022,
            nice: 0,
            errno_before: 0,
            privileged: false,
            nice_fails: None,
            limits: RLIMITS
                .iter()
                .map(|(_, r)| (*r, Limit { cur: 1024, max: 4096 }))
                .collect(),
            set_fails: Vec::new(),
            get_fails: None,
        }
    }

    fn limit(&self, resource: Resource) -> Limit {
        self.limits
            .iter()
            .find(|(r, _)| *r == resource)
            .map(|(_, l)| *l)
            .unwrap()
    }

    fn with_limit(mut self, resource: Resource, cur: u64, max: u64) -> Fake {
        for (r, l) in &mut self.limits {
            if *r == resource {
                *l = Limit { cur, max };
            }
        }
        self
    }
}

impl ProcessOps for Fake {
    fn umask(&mut self, mask: u32) -> u32 {
        self.calls.push(format!("umask {mask:04o}"));
        std::mem::replace(&mut self.umask, mask)
    }

    fn nice(&mut self, increment: i32) -> (i32, i32) {
        self.calls.push(format!("nice {increment}"));
        if let Some(e) = self.nice_fails {
            return (-1, e);
        }
        let new = (self.nice + increment).clamp(-20, 19);
        if new < self.nice && !self.privileged {
            // The kernel says EACCES; glibc turns it into EPERM.
            return (-1, libc::EPERM);
        }
        self.nice = new;
        (new, self.errno_before)
    }

    fn getrlimit(&mut self, resource: Resource) -> Result<Limit, i32> {
        self.calls.push(format!("getrlimit {}", name_of(resource)));
        match self.get_fails {
            Some(e) => Err(e),
            None => Ok(self.limit(resource)),
        }
    }

    fn setrlimit(&mut self, resource: Resource, limit: Limit) -> Result<(), i32> {
        self.calls
            .push(format!("setrlimit {} {}:{}", name_of(resource), limit.cur, limit.max));
        if let Some((_, e)) = self.set_fails.iter().find(|(r, _)| *r == resource) {
            return Err(*e);
        }
        if limit.cur > limit.max {
            return Err(libc::EINVAL);
        }
        if limit.max > self.limit(resource).max && !self.privileged {
            return Err(libc::EPERM);
        }
        for (r, l) in &mut self.limits {
            if *r == resource {
                *l = limit;
            }
        }
        Ok(())
    }
}

fn settings() -> ProcessSettings {
    ProcessSettings::default()
}

fn with_limit(mut s: ProcessSettings, resource: Resource, cur: u64, max: u64) -> ProcessSettings {
    let i = RLIMITS.iter().position(|(_, r)| *r == resource).unwrap();
    s.rlimits[i] = Some(Limit { cur, max });
    s
}

/// Runs C's sequence (umask, [the environment], nice and limits) with `debug` on or off; the
/// calls made and the log lines.
fn run(s: &ProcessSettings, g: ProcessRules, fake: &mut Fake, debug: bool) -> Vec<String> {
    let ((), lines) = crate::logging::tests::captured(|| {
        crate::logging::with_scope(b"login", debug, |_| {
            apply_umask(s, g, fake);
            apply_nice_and_limits(s, g, fake);
        })
    });
    lines
}

/// The three generations' process rules (262's entry in the table comes with its generation;
/// `generations_map` checks the others against the table).
const V252: ProcessRules = ProcessRules {
    umask_access_mode: false,
    nice_failure_warns: false,
};
const V257: ProcessRules = V252;
const V262: ProcessRules = ProcessRules {
    umask_access_mode: true,
    nice_failure_warns: true,
};

/// Each field alone, with debug on: one call and its debug line; with debug off the same calls
/// and no lines.
#[test]
fn each_field_alone() {
    let umask = ProcessSettings {
        umask: Some(0o027),
        umask_as_access_mode: Some(0o027),
        ..settings()
    };
    let nice = ProcessSettings {
        nice: Some(5),
        ..settings()
    };
    let nofile = with_limit(settings(), NOFILE, 512, 2048);
    let rows: &[(&ProcessSettings, &[&str], &[&str])] = &[
        (
            &umask,
            &["umask 0027"],
            &["DEBUG Set user umask to 0027 based on user record."],
        ),
        (
            &nice,
            &["nice 5"],
            &["DEBUG Nice level set to 5, based on user record."],
        ),
        (
            &nofile,
            &["setrlimit NOFILE 512:2048"],
            &["DEBUG Resource limit NOFILE set, based on user record."],
        ),
        (&ProcessSettings::default(), &[], &[]),
    ];
    for g in [V252, V257, V262] {
        for (s, calls, lines) in rows {
            let mut f = Fake::new();
            assert_eq!(run(s, g, &mut f, true), *lines, "{g:?} {s:?}");
            assert_eq!(f.calls, *calls, "{g:?} {s:?}");
            let mut f = Fake::new();
            assert_eq!(run(s, g, &mut f, false), Vec::<String>::new(), "{g:?} {s:?}");
            assert_eq!(f.calls, *calls, "{g:?} {s:?}");
        }
    }
}

/// `%04o`: 0 is `0000`, 0777 is `0777`.
#[test]
fn umask_line_is_four_octal_digits() {
    for (mask, shown) in [(0, "0000"), (0o7, "0007"), (0o777, "0777")] {
        let s = ProcessSettings {
            umask: Some(mask),
            ..settings()
        };
        let mut f = Fake::new();
        let lines = run(&s, V252, &mut f, true);
        assert_eq!(
            lines,
            [format!("DEBUG Set user umask to {shown} based on user record.")]
        );
        assert_eq!(f.umask, mask);
    }
}

/// Each generation applies the umask of its own reading.
#[test]
fn umask_of_the_generations_reading() {
    let s = ProcessSettings {
        umask: Some(0o022),
        umask_as_access_mode: Some(0o077),
        ..settings()
    };
    for (g, want) in [(V252, "umask 0022"), (V257, "umask 0022"), (V262, "umask 0077")] {
        let mut f = Fake::new();
        run(&s, g, &mut f, false);
        assert_eq!(f.calls, [want], "{g:?}");
    }
    let only_262 = ProcessSettings {
        umask_as_access_mode: Some(0o077),
        ..settings()
    };
    let mut f = Fake::new();
    run(&only_262, V257, &mut f, false);
    assert!(f.calls.is_empty());
}

/// Everything at once: umask, nice, then the limits in resource-number order (CPU, CORE,
/// NOFILE), whatever order the record listed them in.
#[test]
fn all_together_in_c_order() {
    let s = ProcessSettings {
        umask: Some(0o077),
        nice: Some(3),
        ..settings()
    };
    let s = with_limit(with_limit(with_limit(s, NOFILE, 100, 200), CPU, 10, 20), CORE, 0, 0);
    let mut f = Fake::new();
    let lines = run(&s, V257, &mut f, true);
    assert_eq!(
        f.calls,
        [
            "umask 0077",
            "nice 3",
            "setrlimit CPU 10:20",
            "setrlimit CORE 0:0",
            "setrlimit NOFILE 100:200"
        ]
    );
    assert_eq!(
        lines,
        [
            "DEBUG Set user umask to 0077 based on user record.",
            "DEBUG Nice level set to 3, based on user record.",
            "DEBUG Resource limit CPU set, based on user record.",
            "DEBUG Resource limit CORE set, based on user record.",
            "DEBUG Resource limit NOFILE set, based on user record.",
        ]
    );
    assert_eq!((f.umask, f.nice), (0o077, 3));
    assert_eq!(f.limit(NOFILE), Limit { cur: 100, max: 200 });
}

/// nice(): C tests `nice(level) < 0`. A failure is ERR (262: WARNING) with errno; a successful
/// nice to a negative level reads as a failure too, with the errno glibc put back (here 0,
/// "Success"). Both are ignored: the limits still follow.
#[test]
fn nice_failures_are_logged_and_ignored() {
    let s = with_limit(
        ProcessSettings {
            nice: Some(-5),
            ..settings()
        },
        NOFILE,
        1,
        2,
    );
    let rows: &[(ProcessRules, bool, Option<i32>, &str)] = &[
        (
            V252,
            false,
            None,
            "ERROR Failed to set nice level to -5, ignoring: Operation not permitted",
        ),
        (
            V257,
            false,
            None,
            "ERROR Failed to set nice level to -5, ignoring: Operation not permitted",
        ),
        (
            V262,
            false,
            None,
            "WARN Failed to set nice level to -5, ignoring: Operation not permitted",
        ),
        (
            V252,
            true,
            None,
            "ERROR Failed to set nice level to -5, ignoring: Success",
        ),
        (
            V262,
            true,
            None,
            "WARN Failed to set nice level to -5, ignoring: Success",
        ),
        (
            V257,
            true,
            Some(libc::ESRCH),
            "ERROR Failed to set nice level to -5, ignoring: No such process",
        ),
    ];
    for (g, privileged, fails, line) in rows {
        let mut f = Fake::new();
        f.privileged = *privileged;
        f.nice_fails = *fails;
        let lines = run(&s, *g, &mut f, false);
        assert_eq!(lines, [*line], "{g:?}");
        assert_eq!(f.calls, ["nice -5", "setrlimit NOFILE 1:2"], "{g:?}");
    }
    // The errno shown for a "successful" negative level is whatever was left before the call.
    let mut f = Fake::new();
    f.privileged = true;
    f.errno_before = libc::ENOENT;
    let lines = run(&s, V252, &mut f, false);
    assert_eq!(
        lines,
        ["ERROR Failed to set nice level to -5, ignoring: No such file or directory"]
    );
    assert_eq!(f.nice, -5);
}

/// nice() is relative: the level is added to the current one (glibc: getpriority + increment).
#[test]
fn nice_is_an_increment() {
    let s = ProcessSettings {
        nice: Some(4),
        ..settings()
    };
    let mut f = Fake::new();
    f.nice = 10;
    let lines = run(&s, V257, &mut f, true);
    assert_eq!(lines, ["DEBUG Nice level set to 4, based on user record."]);
    assert_eq!(f.nice, 14);
}

/// setrlimit_closest(): EPERM with a finite hard limit retries with both values lowered to the
/// hard limit (or succeeds without a call when that is what is set); EPERM with an infinite hard
/// limit, any other errno, or a getrlimit failure is an error; the next limit is still applied.
#[test]
fn setrlimit_closest_table() {
    let inf = RLIM_INFINITY;
    struct Row {
        limit: (u64, u64),
        hard: (u64, u64),
        set_fails: Option<i32>,
        get_fails: Option<i32>,
        calls: &'static [&'static str],
        result: Result<(), i32>,
        after: (u64, u64),
    }
    let rows = [
        // Within the hard limit: set as asked.
        Row {
            limit: (100, 200),
            hard: (1024, 4096),
            set_fails: None,
            get_fails: None,
            calls: &["setrlimit NOFILE 100:200"],
            result: Ok(()),
            after: (100, 200),
        },
        // Above it (EPERM): lowered to the hard limit.
        Row {
            limit: (8192, 8192),
            hard: (1024, 4096),
            set_fails: None,
            get_fails: None,
            calls: &[
                "setrlimit NOFILE 8192:8192",
                "getrlimit NOFILE",
                "setrlimit NOFILE 4096:4096",
            ],
            result: Ok(()),
            after: (4096, 4096),
        },
        Row {
            limit: (10, inf),
            hard: (1024, 4096),
            set_fails: None,
            get_fails: None,
            calls: &[
                "setrlimit NOFILE 10:18446744073709551615",
                "getrlimit NOFILE",
                "setrlimit NOFILE 10:4096",
            ],
            result: Ok(()),
            after: (10, 4096),
        },
        // Lowered to exactly what is set: nothing more to do.
        Row {
            limit: (4096, 9999),
            hard: (4096, 4096),
            set_fails: None,
            get_fails: None,
            calls: &["setrlimit NOFILE 4096:9999", "getrlimit NOFILE"],
            result: Ok(()),
            after: (4096, 4096),
        },
        // EPERM although the hard limit is infinite: the EPERM stands.
        Row {
            limit: (1, 2),
            hard: (1024, inf),
            set_fails: Some(libc::EPERM),
            get_fails: None,
            calls: &["setrlimit NOFILE 1:2", "getrlimit NOFILE"],
            result: Err(libc::EPERM),
            after: (1024, inf),
        },
        // Another errno: no retry.
        Row {
            limit: (5, 2),
            hard: (1024, 4096),
            set_fails: None,
            get_fails: None,
            calls: &["setrlimit NOFILE 5:2"],
            result: Err(libc::EINVAL),
            after: (1024, 4096),
        },
        // getrlimit fails: its errno.
        Row {
            limit: (8192, 8192),
            hard: (1024, 4096),
            set_fails: None,
            get_fails: Some(libc::EFAULT),
            calls: &["setrlimit NOFILE 8192:8192", "getrlimit NOFILE"],
            result: Err(libc::EFAULT),
            after: (1024, 4096),
        },
        // The retry is refused too: its errno.
        Row {
            limit: (8192, 8192),
            hard: (1024, 4096),
            set_fails: Some(libc::EPERM),
            get_fails: None,
            calls: &[
                "setrlimit NOFILE 8192:8192",
                "getrlimit NOFILE",
                "setrlimit NOFILE 4096:4096",
            ],
            result: Err(libc::EPERM),
            after: (1024, 4096),
        },
    ];
    for (i, row) in rows.iter().enumerate() {
        let mut f = Fake::new().with_limit(NOFILE, row.hard.0, row.hard.1);
        if let Some(e) = row.set_fails {
            f.set_fails.push((NOFILE, e));
        }
        f.get_fails = row.get_fails;
        let r = setrlimit_closest(
            &mut f,
            NOFILE,
            Limit {
                cur: row.limit.0,
                max: row.limit.1,
            },
        );
        assert_eq!(r, row.result, "row {i}");
        assert_eq!(f.calls, row.calls, "row {i}");
        assert_eq!(
            f.limit(NOFILE),
            Limit {
                cur: row.after.0,
                max: row.after.1
            },
            "row {i}"
        );
    }
}

/// A limit that fails is logged at ERR with its errno and skipped; the others are applied; the
/// line is the same in every generation.
#[test]
fn limit_failures_are_logged_and_ignored() {
    let s = with_limit(
        with_limit(with_limit(settings(), CPU, 5, 2), CORE, 0, 0),
        NOFILE,
        1,
        RLIM_INFINITY,
    );
    for g in [V252, V257, V262] {
        let mut f = Fake::new().with_limit(NOFILE, 1024, RLIM_INFINITY);
        f.set_fails.push((NOFILE, libc::EPERM));
        let lines = run(&s, g, &mut f, true);
        assert_eq!(
            lines,
            [
                "ERROR Failed to set resource limit CPU, ignoring: Invalid argument",
                "DEBUG Resource limit CORE set, based on user record.",
                "ERROR Failed to set resource limit NOFILE, ignoring: Operation not permitted",
            ],
            "{g:?}"
        );
        assert_eq!(
            f.calls,
            [
                "setrlimit CPU 5:2",
                "setrlimit CORE 0:0",
                "setrlimit NOFILE 1:18446744073709551615",
                "getrlimit NOFILE"
            ],
            "{g:?}"
        );
    }
}

/// The table is C's: index = the resource number (the order C applies them in), the names of
/// rlimit_table[].
#[test]
fn rlimit_table_matches_the_resource_numbers() {
    for (i, (name, resource)) in RLIMITS.iter().enumerate() {
        assert_eq!(*resource as usize, i, "{name}");
        assert_eq!(rlimit_index(name.as_bytes()), Some(i));
    }
    // RLIMIT_RTTIME is the last one Linux knows (RLIMIT_NLIMITS = 16).
    assert_eq!(RLIMITS.len(), libc::RLIMIT_RTTIME as usize + 1);
    assert_eq!(rlimit_index(b"nofile"), None);
    assert_eq!(rlimit_index(b"7"), None);
    assert_eq!(rlimit_index(b"RLIMIT_NOFILE"), None);
}

/// 262's string umask: octal, systemd's whitespace skipped, no sign after it, strtoul's own
/// whitespace and sign after `\v`/`\f`, at most 0777, nothing after the digits.
#[test]
fn umask_strings_262() {
    let rows: &[(&[u8], Option<u32>)] = &[
        (b"022", Some(0o22)),
        (b"0022", Some(0o22)),
        (b"22", Some(0o22)),
        (b"0", Some(0)),
        (b"777", Some(0o777)),
        (b"0000000777", Some(0o777)),
        (b" \t\n\r077", Some(0o77)),
        (b"\x0b077", Some(0o77)),
        (b"\x0c\x0b 7", Some(0o7)),
        (b"\x0b-0", Some(0)),
        (b"\x0b+7", Some(0o7)),
        (b"\x0b-1", None),
        (b"\x0b-", None),
        (b"1000", None),
        (b"1777", None),
        (b"7777", None),
        (b"77777777777777777777777777", None),
        (b"", None),
        (b"  ", None),
        (b"-0", None),
        (b"+7", None),
        (b" -0", None),
        (b"8", None),
        (b"09", None),
        (b"0o22", None),
        (b"0x1", None),
        (b"22 ", None),
        (b"22x", None),
        (b"u=rwx", None),
    ];
    for (s, want) in rows {
        assert_eq!(umask_octal_string(s), *want, "{:?}", String::from_utf8_lossy(s));
    }
}

/// The table's entries carry these process rules.
#[test]
fn generations_map() {
    for g in crate::rules::Generation::ALL {
        let want = match g.number() {
            252 => V252,
            257 => V257,
            262 => V262,
            n => panic!("no process rules row for generation {n}"),
        };
        assert_eq!(g.rules().process, want, "generation {}", g.number());
    }
}

/// The real calls, in a forked child (umask, nice and limits are per process; the test threads
/// must not see them change): umask returns the previous mask, nice is relative, a limit within
/// the hard limit is set, and NOFILE above fs.nr_open (EPERM even for root) ends at the hard
/// limit through setrlimit_closest.
#[test]
#[cfg_attr(miri, ignore)] // no fork under miri
fn this_process_in_a_child() {
    fn child() -> i32 {
        let mut p = ThisProcess;
        let first = p.umask(0o027);
        if p.umask(0o077) != 0o027 || p.umask(first) != 0o077 {
            return 10;
        }
        // SAFETY: getpriority only reads this process's priority.
        let before = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        let (ret, _) = p.nice(1);
        if before < 19 && ret != before + 1 {
            return 11;
        }
        let Ok(core) = p.getrlimit(libc::RLIMIT_CORE) else {
            return 12;
        };
        let lower = Limit { cur: 0, max: core.max };
        if p.setrlimit(libc::RLIMIT_CORE, lower).is_err() || p.getrlimit(libc::RLIMIT_CORE) != Ok(lower) {
            return 13;
        }
        if p.setrlimit(libc::RLIMIT_CORE, Limit { cur: 2, max: 1 }) != Err(libc::EINVAL) {
            return 14;
        }
        let Ok(nofile) = p.getrlimit(libc::RLIMIT_NOFILE) else {
            return 15;
        };
        let want = Limit {
            cur: nofile.max,
            max: RLIM_INFINITY,
        };
        if setrlimit_closest(&mut p, libc::RLIMIT_NOFILE, want).is_err() {
            return 16;
        }
        if p.getrlimit(libc::RLIMIT_NOFILE)
            != Ok(Limit {
                cur: nofile.max,
                max: nofile.max,
            })
        {
            return 17;
        }
        0
    }
    // SAFETY: the child only makes system calls (no allocation, no locks) and leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = child();
        // SAFETY: ends the forked child without running the parent's atexit handlers.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waits for the child forked above; `status` is a valid out-pointer.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status), "status {status}");
    assert_eq!(
        libc::WEXITSTATUS(status),
        0,
        "the child's failing step (see the codes above)"
    );
}
