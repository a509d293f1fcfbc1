//! The io.systemd.Login calls: the parameters as C 262 builds them, the reply as C 262 reads it
//! (tables), and both calls against a scripted peer.

use super::super::tests::{answer, serve};
use super::*;
use crate::varlink::Step;
use std::io::Write;
use std::time::Duration;

fn base() -> CreateSession<'static> {
    CreateSession {
        uid: 1000,
        pid: Some(Pidref {
            pid: 4242,
            pidfd_id: 0,
            boot_id: None,
        }),
        session_type: b"tty",
        class: b"user",
        ..CreateSession::default()
    }
}

fn text(v: Result<Vec<u8>, i32>) -> String {
    String::from_utf8(v.unwrap()).unwrap()
}

#[test]
fn create_session_parameters_minimal() {
    // Everything empty is left out; UID, PID, Type, Class and Remote are always there.
    assert_eq!(
        text(create_session_parameters(&base())),
        r#"{"UID":1000,"PID":{"pid":4242},"Type":"tty","Class":"user","Remote":false}"#
    );
    let none = CreateSession {
        pid: None,
        session_type: b"",
        class: b"",
        ..base()
    };
    assert_eq!(
        text(create_session_parameters(&none)),
        r#"{"UID":1000,"PID":null,"Type":"","Class":"","Remote":false}"#
    );
}

#[test]
fn create_session_parameters_full() {
    let devices: &[&[u8]] = &[b"/dev/dri/card0", b"/dev/snd/pcmC0D0p"];
    let c = CreateSession {
        uid: 0,
        pid: Some(Pidref {
            pid: 1,
            pidfd_id: 1234567890123,
            boot_id: Some([
                0x3d, 0x12, 0x19, 0xc7, 0xc4, 0xc5, 0x40, 0x4a, 0xaa, 0x1f, 0x6d, 0x2a, 0x48, 0xad, 0xfd, 0xa4,
            ]),
        }),
        service: b"sshd",
        session_type: b"x11",
        class: b"user-early-light",
        desktop: b"GNOME",
        seat: b"seat0",
        vtnr: 7,
        tty: b"tty7",
        display: b":0",
        remote: true,
        remote_user: b"r\"u",
        remote_host: b"h\xc3\xa9st\n",
        extra_device_access: devices,
    };
    assert_eq!(
        text(create_session_parameters(&c)),
        concat!(
            r#"{"UID":0,"PID":{"pid":1,"pidfdId":1234567890123,"bootId":"3d1219c7c4c5404aaa1f6d2a48adfda4"},"#,
            r#""Service":"sshd","Type":"x11","Class":"user_early_light","Desktop":"GNOME","Seat":"seat0","#,
            r#""VTNr":7,"TTY":"tty7","Display":":0","Remote":true,"RemoteUser":"r\"u","RemoteHost":"hést\n","#,
            r#""ExtraDeviceAccess":["/dev/dri/card0","/dev/snd/pcmC0D0p"]}"#
        )
    );
}

#[test]
fn pidref_rules() {
    let with = |pidfd_id, boot_id| {
        let c = CreateSession {
            pid: Some(Pidref {
                pid: -1,
                pidfd_id,
                boot_id,
            }),
            ..base()
        };
        text(create_session_parameters(&c))
    };
    // No pidfd ID: no boot ID either; a null boot ID is left out.
    assert!(with(0, Some([1; 16])).contains(r#""PID":{"pid":-1},"#));
    assert!(with(5, Some([0; 16])).contains(r#""PID":{"pid":-1,"pidfdId":5},"#));
    assert!(with(5, None).contains(r#""PID":{"pid":-1,"pidfdId":5},"#));
    assert!(with(5, Some([0xff; 16])).contains(r#""bootId":"ffffffffffffffffffffffffffffffff"}"#));
}

#[test]
fn enums_are_underscorified_and_strings_must_be_utf8() {
    let c = CreateSession {
        class: b"background-light",
        session_type: b"a+b-c_d",
        ..base()
    };
    let t = text(create_session_parameters(&c));
    assert!(t.contains(r#""Type":"a_b_c_d","Class":"background_light""#), "{t}");
    for bad in [
        CreateSession {
            service: b"\xff",
            ..base()
        },
        CreateSession {
            class: b"us\xc3",
            ..base()
        },
        CreateSession {
            session_type: b"\xed\xa0\x80",
            ..base()
        },
        CreateSession {
            remote_host: b"\xc0\x80",
            ..base()
        },
        CreateSession {
            extra_device_access: &[b"/dev/ok", b"/dev/\xfe"],
            ..base()
        },
    ] {
        assert_eq!(create_session_parameters(&bad), Err(libc::EUCLEAN), "{bad:?}");
    }
    // Left out when empty, so never checked.
    assert!(create_session_parameters(&CreateSession { service: b"", ..base() }).is_ok());
}

#[test]
fn release_session_parameters_table() {
    assert_eq!(text(release_session_parameters(b"c1")), r#"{"Id":"c1"}"#);
    assert_eq!(text(release_session_parameters(b"")), r#"{"Id":""}"#);
    assert_eq!(release_session_parameters(b"\x80"), Err(libc::EUCLEAN));
}

fn created(json: &str) -> Result<Created, i32> {
    let v = crate::json::parse(json.as_bytes()).unwrap();
    read_created(Some(&v))
}

#[test]
fn create_reply_table() {
    let good = Created {
        id: b"c1".to_vec(),
        runtime_path: b"/run/user/1000".to_vec(),
        uid: Some(1000),
        seat: None,
        vtnr: 0,
    };
    let cases: &[(&str, Result<Created, i32>)] = &[
        (
            r#"{"Id":"c1","RuntimePath":"/run/user/1000","UID":1000}"#,
            Ok(good.clone()),
        ),
        // What logind 262 also sends is ignored (SD_JSON_ALLOW_EXTENSIONS).
        (
            r#"{"Id":"c1","RuntimePath":"/run/user/1000","UID":1000,"Type":"tty","Class":"user","Seat":"seat0","VTNr":2}"#,
            Ok(Created {
                seat: Some(b"seat0".to_vec()),
                vtnr: 2,
                ..good.clone()
            }),
        ),
        (
            r#"{"UID":"1000","RuntimePath":"/run/user/1000","Id":"c1"}"#,
            Ok(good.clone()),
        ),
        (
            r#"{"Id":"c1","RuntimePath":"/run/user/1000","UID":1000.0}"#,
            Ok(good.clone()),
        ),
        (
            r#"{"Id":"c1","RuntimePath":"/run/user/1000","UID":" 0b1111101000"}"#,
            Ok(good.clone()),
        ),
        (
            r#"{"Id":"c1","RuntimePath":"//run/./user/../1000/","UID":1000}"#,
            Ok(Created {
                runtime_path: b"//run/./user/../1000/".to_vec(),
                ..good.clone()
            }),
        ),
        (
            r#"{"Id":"","RuntimePath":"/","UID":null,"VTNr":null}"#,
            Ok(Created {
                id: Vec::new(),
                runtime_path: b"/".to_vec(),
                uid: None,
                seat: None,
                vtnr: u32::MAX,
            }),
        ),
        (
            r#"{"Id":"c1","RuntimePath":"/run/user/1000","UID":1000,"VTNr":"7"}"#,
            Ok(Created {
                vtnr: 7,
                ..good.clone()
            }),
        ),
        // Mandatory members missing.
        (r#"{"RuntimePath":"/run/user/1000","UID":1000}"#, Err(libc::ENXIO)),
        (r#"{"Id":"c1","UID":1000}"#, Err(libc::ENXIO)),
        (r#"{"Id":"c1","RuntimePath":"/run/user/1000"}"#, Err(libc::ENXIO)),
        (r#"{}"#, Err(libc::ENXIO)),
        // Wrong types (null is no string here: the table has no SD_JSON_NULLABLE).
        (
            r#"{"Id":null,"RuntimePath":"/run/user/1000","UID":1000}"#,
            Err(libc::EINVAL),
        ),
        (
            r#"{"Id":1,"RuntimePath":"/run/user/1000","UID":1000}"#,
            Err(libc::EINVAL),
        ),
        (r#"{"Id":"c1","RuntimePath":null,"UID":1000}"#, Err(libc::EINVAL)),
        (
            r#"{"Id":"c1","RuntimePath":"/run/user/1000","UID":1000,"Seat":null}"#,
            Err(libc::EINVAL),
        ),
        (
            r#"{"Id":"c1","RuntimePath":"/run/user/1000","UID":true}"#,
            Err(libc::EINVAL),
        ),
        (
            r#"{"Id":"c1","RuntimePath":"/run/user/1000","UID":-1}"#,
            Err(libc::EINVAL),
        ),
        (
            r#"{"Id":"c1","RuntimePath":"/run/user/1000","UID":"x"}"#,
            Err(libc::EINVAL),
        ),
        (
            r#"{"Id":"c1","RuntimePath":"/run/user/1000","UID":1.5}"#,
            Err(libc::EINVAL),
        ),
        (
            r#"{"Id":"c1","RuntimePath":"/run/user/1000","UID":1000,"VTNr":[1]}"#,
            Err(libc::EINVAL),
        ),
        // Invalid UIDs and out-of-range numbers.
        (
            r#"{"Id":"c1","RuntimePath":"/run/user/1000","UID":65535}"#,
            Err(libc::EINVAL),
        ),
        (
            r#"{"Id":"c1","RuntimePath":"/run/user/1000","UID":4294967295}"#,
            Err(libc::EINVAL),
        ),
        (
            r#"{"Id":"c1","RuntimePath":"/run/user/1000","UID":4294967296}"#,
            Err(libc::ERANGE),
        ),
        (
            r#"{"Id":"c1","RuntimePath":"/run/user/1000","UID":1000,"VTNr":4294967296}"#,
            Err(libc::ERANGE),
        ),
        // Paths: absolute, not empty, components up to 255 bytes, shorter than PATH_MAX.
        (
            r#"{"Id":"c1","RuntimePath":"run/user/1000","UID":1000}"#,
            Err(libc::EINVAL),
        ),
        (r#"{"Id":"c1","RuntimePath":"","UID":1000}"#, Err(libc::EINVAL)),
        // A known member twice; the type check comes first.
        (
            r#"{"Id":"c1","Id":"c2","RuntimePath":"/run/user/1000","UID":1000}"#,
            Err(libc::ENOTUNIQ),
        ),
        (
            r#"{"Id":"c1","RuntimePath":"/run/user/1000","UID":1000,"UID":1000}"#,
            Err(libc::ENOTUNIQ),
        ),
        (
            r#"{"Id":"c1","Id":2,"RuntimePath":"/run/user/1000","UID":1000}"#,
            Err(libc::EINVAL),
        ),
        // Members are dispatched in order: the first failure decides.
        (r#"{"UID":1e100,"Id":null}"#, Err(libc::EINVAL)),
        (r#"{"Id":"c1","Id":"c1","UID":4294967296}"#, Err(libc::ENOTUNIQ)),
    ];
    for (json, want) in cases {
        assert_eq!(&created(json), want, "{json}");
    }
    let long_component = format!(r#"{{"Id":"c1","RuntimePath":"/{}","UID":1000}}"#, "a".repeat(256));
    assert_eq!(created(&long_component), Err(libc::EINVAL));
    let ok_component = format!(r#"{{"Id":"c1","RuntimePath":"/{}","UID":1000}}"#, "a".repeat(255));
    assert!(created(&ok_component).is_ok());
    let long_path = format!(r#"{{"Id":"c1","RuntimePath":"{}","UID":1000}}"#, "/a".repeat(2048));
    assert_eq!(created(&long_path), Err(libc::EINVAL));
    let ok_path = format!(r#"{{"Id":"c1","RuntimePath":"{}/","UID":1000}}"#, "/a".repeat(2047));
    assert!(created(&ok_path).is_ok());
    // No parameters at all reads as an empty object; null is not an object.
    assert_eq!(read_created(None), Err(libc::ENXIO));
    assert_eq!(read_created(Some(&Value::Null)), Err(libc::EINVAL));
}

const CREATED: &[u8] = b"{\"parameters\":{\"Id\":\"7\",\"RuntimePath\":\"/run/user/1000\",\"UID\":1000,\"Seat\":\"seat0\",\"VTNr\":1,\"Type\":\"tty\",\"Class\":\"user\"}}\0";

fn soon() -> Option<Instant> {
    Some(Instant::now() + Duration::from_secs(5))
}

#[test]
fn create_session_over_the_wire() {
    let (sock, h) = answer(CREATED);
    let r = create_session(sock.bytes(), soon(), &base()).unwrap();
    assert_eq!(
        r,
        Registered::Created(Created {
            id: b"7".to_vec(),
            runtime_path: b"/run/user/1000".to_vec(),
            uid: Some(1000),
            seat: Some(b"seat0".to_vec()),
            vtnr: 1,
        })
    );
    let served = h.join().unwrap();
    assert_eq!(
        String::from_utf8(served.request).unwrap(),
        r#"{"method":"io.systemd.Login.CreateSession","parameters":{"UID":1000,"PID":{"pid":4242},"Type":"tty","Class":"user","Remote":false}}"#
    );
    assert!(served.fds.is_empty(), "C sends no fd with CreateSession");
}

#[test]
fn create_session_answers() {
    let (sock, h) = answer(b"{\"error\":\"io.systemd.Login.AlreadySessionMember\"}\0");
    assert_eq!(
        create_session(sock.bytes(), soon(), &base()),
        Ok(Registered::AlreadySessionMember)
    );
    h.join().unwrap();

    let (sock, h) = answer(b"{\"error\":\"io.systemd.Login.NoSuchSeat\",\"parameters\":{}}\0");
    let e = create_session(sock.bytes(), soon(), &base()).unwrap_err();
    assert_eq!(
        e.failure,
        Failure::Reply {
            name: "io.systemd.Login.NoSuchSeat".into(),
            errno: libc::EBADR
        }
    );
    assert_eq!(
        e.c_line(),
        "Varlink call io.systemd.Login.CreateSession failed: io.systemd.Login.NoSuchSeat"
    );
    assert_eq!(e.pam_code(), crate::ffi::PAM_SERVICE_ERR);
    assert!(!e.falls_back());
    h.join().unwrap();

    // CreateSession hands the reply's parameters to sd_varlink_error_to_errno().
    let (sock, h) =
        answer(b"{\"error\":\"io.systemd.System\",\"parameters\":{\"errno\":12,\"errnoName\":\"ENOMEM\"}}\0");
    let e = create_session(sock.bytes(), soon(), &base()).unwrap_err();
    assert_eq!(e.errno(), libc::ENOMEM);
    assert_eq!(e.pam_code(), crate::ffi::PAM_BUF_ERR);
    h.join().unwrap();

    let (sock, h) = answer(b"{\"parameters\":{\"Id\":\"7\",\"UID\":1000}}\0");
    let e = create_session(sock.bytes(), soon(), &base()).unwrap_err();
    assert_eq!(e.failure, Failure::BadParameters(libc::ENXIO));
    assert_eq!(
        e.c_line(),
        "Failed to parse CreateSession() reply: No such device or address"
    );
    h.join().unwrap();
}

#[test]
fn create_session_refuses_non_utf8_before_sending() {
    let (sock, h) = serve(false, |_| {});
    let c = CreateSession { tty: b"\xff", ..base() };
    let e = create_session(sock.bytes(), soon(), &c).unwrap_err();
    assert_eq!(e.failure, Failure::Encode(libc::EUCLEAN));
    assert_eq!(
        e.c_line(),
        "Failed to issue io.systemd.Login.CreateSession varlink call: Structure needs cleaning"
    );
    h.join().unwrap();
}

#[test]
fn release_session_over_the_wire() {
    let (sock, h) = answer(b"{}\0");
    assert_eq!(release_session(sock.bytes(), soon(), b"7"), Ok(()));
    let served = h.join().unwrap();
    assert_eq!(
        served.request,
        br#"{"method":"io.systemd.Login.ReleaseSession","parameters":{"Id":"7"}}"#
    );

    // Parameters of a success are not read.
    let (sock, h) = answer(b"{\"parameters\":null}\0");
    assert_eq!(release_session(sock.bytes(), soon(), b"7"), Ok(()));
    h.join().unwrap();

    // ReleaseSession passes no reply to sd_varlink_error_to_errno(): io.systemd.System is EBADR.
    let (sock, h) = answer(b"{\"error\":\"io.systemd.System\",\"parameters\":{\"errnoName\":\"ENOMEM\"}}\0");
    let e = release_session(sock.bytes(), soon(), b"7").unwrap_err();
    assert_eq!(e.errno(), libc::EBADR);
    assert_eq!(
        e.c_line(),
        "Varlink call io.systemd.Login.ReleaseSession failed: io.systemd.System"
    );
    h.join().unwrap();

    let (sock, h) = answer(b"{\"error\":\"io.systemd.Login.NoSuchSession\"}\0");
    let e = release_session(sock.bytes(), soon(), b"7").unwrap_err();
    assert_eq!(e.errno(), libc::EBADR);
    h.join().unwrap();
}

#[test]
fn missing_socket_falls_back_and_mute_logind_times_out() {
    let missing = super::super::tests::TempSock::new();
    let e = create_session(missing.bytes(), soon(), &base()).unwrap_err();
    assert!(e.falls_back());
    let e = release_session(missing.bytes(), soon(), b"7").unwrap_err();
    assert!(e.falls_back());

    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let (sock, h) = serve(true, move |s| {
        let _ = s.flush();
        let _ = rx.recv_timeout(Duration::from_secs(10));
    });
    let e = create_session(sock.bytes(), Some(Instant::now() + Duration::from_millis(200)), &base()).unwrap_err();
    tx.send(()).unwrap();
    assert_eq!(e.failure, Failure::Timeout(Step::Receive));
    assert!(!e.falls_back());
    assert_eq!(
        e.c_line(),
        "Failed to issue io.systemd.Login.CreateSession varlink call: Timer expired"
    );
    h.join().unwrap();
}

/// Our own pidref as C builds it: our pid; on a kernel with pidfs the pidfd's ID, which is the
/// pidfd's inode number there (checked independently with fstat), and then the boot ID from
/// /proc; without pidfs neither.
#[test]
#[cfg_attr(miri, ignore)] // syscalls
fn own_pidref_is_ours() {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let p = own_pidref().unwrap();
    assert_eq!(p.pid, std::process::id() as i32);
    let raw = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) };
    assert!(raw >= 0, "pidfd_open: {}", std::io::Error::last_os_error());
    let fd = unsafe { OwnedFd::from_raw_fd(raw as i32) };
    let mut sfs: libc::statfs = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::fstatfs(fd.as_raw_fd(), &mut sfs) }, 0);
    #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
    let pidfs = i64::from(sfs.f_type) == 0x5049_4446;
    if pidfs {
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        assert_eq!(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) }, 0);
        assert_eq!(p.pidfd_id, st.st_ino, "the pidfd ID is the pidfs inode number");
        let text = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
        let hexed: String = p.boot_id.unwrap().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hexed, text.trim().replace('-', ""));
        let t = text_of(&p);
        assert!(
            t.contains(&format!(
                r#""PID":{{"pid":{},"pidfdId":{},"bootId":"{hexed}"}}"#,
                p.pid, p.pidfd_id
            )),
            "{t}"
        );
    } else {
        assert_eq!((p.pidfd_id, p.boot_id), (0, None));
    }
}

fn text_of(p: &Pidref) -> String {
    text(create_session_parameters(&CreateSession {
        pid: Some(*p),
        ..base()
    }))
}
