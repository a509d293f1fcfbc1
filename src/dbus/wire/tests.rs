//! The wire format, both ways: what the module writes reads back field for field, and every
//! way a received message can be malformed is refused with its reason, never a panic.

use super::*;

/// A reply message (METHOD_RETURN or ERROR) as a bus would send it, written by hand here.
pub(crate) fn reply_message(
    big: bool,
    kind: u8,
    reply_serial: u32,
    error: Option<&str>,
    body: &[u8],
    sig: &str,
    fds: u32,
) -> Vec<u8> {
    let mut m = vec![if big { b'B' } else { b'l' }, kind, 0, 1];
    let u = |v: u32| if big { v.to_be_bytes() } else { v.to_le_bytes() };
    m.extend_from_slice(&u(u32::try_from(body.len()).unwrap()));
    m.extend_from_slice(&u(7));
    m.extend_from_slice(&[0; 4]);
    pad(&mut m, 8);
    m.extend_from_slice(&[REPLY_SERIAL, 1, b'u', 0]);
    m.extend_from_slice(&u(reply_serial));
    if let Some(name) = error {
        pad(&mut m, 8);
        m.extend_from_slice(&[ERROR_NAME, 1, b's', 0]);
        m.extend_from_slice(&u(u32::try_from(name.len()).unwrap()));
        m.extend_from_slice(name.as_bytes());
        m.push(0);
    }
    if !sig.is_empty() {
        pad(&mut m, 8);
        m.extend_from_slice(&[SIGNATURE, 1, b'g', 0, u8::try_from(sig.len()).unwrap()]);
        m.extend_from_slice(sig.as_bytes());
        m.push(0);
    }
    if fds > 0 {
        pad(&mut m, 8);
        m.extend_from_slice(&[UNIX_FDS, 1, b'u', 0]);
        m.extend_from_slice(&u(fds));
    }
    let fields = u32::try_from(m.len() - PREFIX).unwrap();
    m[12..16].copy_from_slice(&u(fields));
    pad(&mut m, 8);
    m.extend_from_slice(body);
    m
}

/// A `soshusub` body as logind sends it (little endian).
fn created_body() -> Body {
    let mut b = Body::new();
    b.str("c1")
        .path("/org/freedesktop/login1/session/c1")
        .str("/run/user/1000")
        .fd(0)
        .u32(1000)
        .str("seat0")
        .u32(2)
        .bool(false);
    b
}

fn created_message() -> Vec<u8> {
    let b = created_body();
    reply_message(false, METHOD_RETURN, 2, None, b.bytes(), b.signature(), 1)
}

#[test]
fn a_method_call_reads_back() {
    let mut body = Body::new();
    body.u32(1000)
        .fd(0)
        .str("sshd")
        .u64(0)
        .bool(true)
        .props(&[("MemoryMax", PropValue::U64(1 << 30)), ("TasksMax", PropValue::U32(7))]);
    assert_eq!(body.signature(), "uhstba(sv)");
    let call = Call {
        destination: "org.freedesktop.login1",
        path: "/org/freedesktop/login1",
        interface: "org.freedesktop.login1.Manager",
        member: "CreateSessionWithPIDFD",
    };
    let m = method_call(3, &call, &body, 1).unwrap();
    assert_eq!(frame_len(&m[..PREFIX]), Ok(m.len()));
    let h = parse(&m).unwrap();
    assert_eq!(
        (h.kind, h.serial, h.path, h.interface, h.member, h.destination),
        (
            METHOD_CALL,
            3,
            Some(call.path),
            Some(call.interface),
            Some(call.member),
            Some(call.destination)
        )
    );
    assert_eq!(
        (h.signature, h.unix_fds, h.big, h.reply_serial),
        ("uhstba(sv)", 1, false, None)
    );
    let mut c = h.cursor();
    assert_eq!(c.u32(), Ok(1000));
    assert_eq!(c.fd_index(), Ok(0));
    assert_eq!(c.str(), Ok("sshd"));
    assert_eq!(c.u64(), Ok(0));
    assert_eq!(c.bool(), Ok(true));
    let end = c.array_start(8).unwrap();
    let mut props = Vec::new();
    while c.position() < end {
        c.align(8).unwrap();
        props.push((c.str().unwrap().to_owned(), c.variant().unwrap()));
    }
    assert_eq!(c.end(), Ok(()));
    assert_eq!(
        props,
        [
            ("MemoryMax".to_owned(), Val::U64(1 << 30)),
            ("TasksMax".to_owned(), Val::U32(7))
        ]
    );
}

#[test]
fn the_hello_call_is_byte_exact() {
    let call = Call {
        destination: "org.freedesktop.DBus",
        path: "/org/freedesktop/DBus",
        interface: "org.freedesktop.DBus",
        member: "Hello",
    };
    let m = method_call(1, &call, &Body::new(), 0).unwrap();
    let mut want = vec![b'l', 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0x6d, 0, 0, 0];
    let field = |w: &mut Vec<u8>, code: u8, sig: u8, s: &str| {
        pad(w, 8);
        w.extend_from_slice(&[code, 1, sig, 0]);
        w.extend_from_slice(&u32::try_from(s.len()).unwrap().to_le_bytes());
        w.extend_from_slice(s.as_bytes());
        w.push(0);
    };
    field(&mut want, 1, b'o', "/org/freedesktop/DBus");
    field(&mut want, 2, b's', "org.freedesktop.DBus");
    field(&mut want, 3, b's', "Hello");
    field(&mut want, 6, b's', "org.freedesktop.DBus");
    assert_eq!(want.len() - PREFIX, 0x6d);
    pad(&mut want, 8);
    assert_eq!(m, want);
}

#[test]
fn strings_that_cannot_be_sent_spoil_the_call() {
    let call = Call {
        destination: "d.e",
        path: "/p",
        interface: "i.f",
        member: "M",
    };
    for spoil in [
        |b: &mut Body| {
            b.str("a\0b");
        },
        |b: &mut Body| {
            b.path("/a//b");
        },
        |b: &mut Body| {
            b.path("a");
        },
        |b: &mut Body| {
            b.props(&[("x\0", PropValue::U32(1))]);
        },
    ] {
        let mut b = Body::new();
        spoil(&mut b);
        assert_eq!(method_call(1, &call, &b, 0), None);
    }
    assert_eq!(method_call(0, &call, &Body::new(), 0), None, "serial 0");
    let bad_path = Call { path: "/x/", ..call };
    assert_eq!(method_call(1, &bad_path, &Body::new(), 0), None);
}

#[test]
fn replies_read_in_both_byte_orders() {
    let m = created_message();
    let h = parse(&m).unwrap();
    assert_eq!(
        (h.kind, h.reply_serial, h.signature, h.unix_fds),
        (METHOD_RETURN, Some(2), "soshusub", 1)
    );
    let mut c = h.cursor();
    assert_eq!(c.str(), Ok("c1"));
    assert_eq!(c.path(), Ok("/org/freedesktop/login1/session/c1"));
    // Big endian: the same error reply read the same.
    for big in [false, true] {
        let body = if big {
            [&6u32.to_be_bytes()[..], b"no way\0"].concat()
        } else {
            [&6u32.to_le_bytes()[..], b"no way\0"].concat()
        };
        let m = reply_message(big, ERROR, 9, Some("org.freedesktop.DBus.Error.Failed"), &body, "s", 0);
        let h = parse(&m).unwrap();
        assert_eq!(
            (h.kind, h.big, h.reply_serial, h.error_name),
            (ERROR, big, Some(9), Some("org.freedesktop.DBus.Error.Failed"))
        );
        assert_eq!(h.cursor().str(), Ok("no way"));
    }
}

#[test]
fn malformed_messages_are_refused_with_their_reason() {
    let good = created_message();
    let at = |needle: &[u8]| good.windows(needle.len()).position(|w| w == needle).unwrap();
    let patch = |i: usize, v: &[u8]| {
        let mut m = good.clone();
        m[i..i + v.len()].copy_from_slice(v);
        m
    };
    let body_start = good.len() - created_body().bytes().len();
    let rows: Vec<(&str, Vec<u8>, &str)> = vec![
        ("byte order", patch(0, b"x"), "unknown byte order"),
        ("version", patch(3, &[2]), "not protocol version 1"),
        ("type 0", patch(1, &[0]), "message type 0"),
        ("serial 0", patch(8, &[0, 0, 0, 0]), "serial 0"),
        (
            "body length",
            patch(4, &[0xff, 0xff, 0xff, 0xff]),
            "message longer than 128 MiB",
        ),
        (
            "one byte more",
            [&good[..], &[0]].concat(),
            "length differs from the header's",
        ),
        (
            "field array into the body",
            patch(12, &[0x48, 0, 0, 0]),
            "length differs from the header's",
        ),
        ("field code 0", patch(PREFIX, &[0]), "header field 0"),
        (
            "reply serial as s",
            patch(PREFIX + 2, b"s"),
            "a header field of the wrong type",
        ),
        (
            "a field twice",
            patch(at(&[SIGNATURE, 1, b'g']), &[REPLY_SERIAL]),
            "a header field twice",
        ),
        (
            "signature chars",
            patch(at(b"soshusub"), b"soshusuZ"),
            "an invalid signature",
        ),
        (
            "id without NUL",
            patch(body_start + 6, b"x"),
            "a string without its NUL",
        ),
        (
            "id not UTF-8",
            patch(body_start + 4, &[0xff]),
            "a string that is not UTF-8",
        ),
        ("id with a NUL", patch(body_start + 4, &[0]), "a NUL inside a string"),
        ("padding", patch(body_start + 7, &[1]), "padding is not zero"),
        (
            "object path",
            patch(at(b"/org/freedesktop/login1/session"), b"-"),
            "an invalid object path",
        ),
        ("boolean 2", patch(good.len() - 4, &[2]), "a boolean other than 0 or 1"),
        (
            "trailing",
            [&good[..], &[0, 0, 0, 0]].concat(),
            "length differs from the header's",
        ),
    ];
    for (what, m, want) in rows {
        let r = parse(&m).and_then(|h| {
            let mut c = h.cursor();
            c.str()?;
            c.path()?;
            c.str()?;
            c.fd_index()?;
            c.u32()?;
            c.str()?;
            c.u32()?;
            c.bool()?;
            c.end()
        });
        assert_eq!(r, Err(WireError(want)), "{what}");
    }
}

#[test]
fn header_rules_of_each_type() {
    // A return without its reply serial; an error without a name; a body without a signature.
    let mut m = reply_message(false, METHOD_RETURN, 0, None, &[], "", 0);
    assert_eq!(parse(&m), Err(WireError("a header field its type requires is missing")));
    m = reply_message(false, ERROR, 3, None, &[], "", 0);
    assert_eq!(parse(&m), Err(WireError("a header field its type requires is missing")));
    m = reply_message(false, METHOD_RETURN, 3, None, &[1, 0, 0, 0], "", 0);
    assert_eq!(parse(&m), Err(WireError("a body without a signature")));
    m = reply_message(false, ERROR, 3, Some("NoDots"), &[], "", 0);
    assert_eq!(parse(&m), Err(WireError("an invalid error name")));
    m = reply_message(false, ERROR, 3, Some("a.1b"), &[], "", 0);
    assert_eq!(parse(&m), Err(WireError("an invalid error name")));
    // A signal needs path, interface and member; unknown types are read (and left to ignore).
    m = reply_message(false, SIGNAL, 3, None, &[], "", 0);
    assert_eq!(parse(&m), Err(WireError("a header field its type requires is missing")));
    m = reply_message(false, 9, 3, None, &[], "", 0);
    assert_eq!(parse(&m).map(|h| h.kind), Ok(9));
}

#[test]
fn unknown_header_fields_of_basic_types_are_skipped() {
    // Field 10 (`o`) after the reply serial.
    let mut field = reply_message(false, METHOD_RETURN, 5, None, &[], "", 0);
    pad(&mut field, 8);
    field.extend_from_slice(&[10, 1, b'o', 0, 2, 0, 0, 0, b'/', b'x', 0]);
    let len = u32::try_from(field.len() - PREFIX).unwrap();
    field[12..16].copy_from_slice(&len.to_le_bytes());
    pad(&mut field, 8);
    assert_eq!(parse(&field).map(|h| h.reply_serial), Ok(Some(5)));
    // The same with a container type: refused (the module reads no nested values).
    let i = field.iter().rposition(|&b| b == b'o').unwrap();
    field[i] = b'a';
    assert_eq!(
        parse(&field),
        Err(WireError("a header field of a type the module does not read"))
    );
}

#[test]
fn truncated_messages_never_read() {
    let good = created_message();
    for n in 0..good.len() {
        let m = &good[..n];
        let r = if n < PREFIX { frame_len(m) } else { parse(m).map(|_| 0) };
        assert!(r.is_err(), "{n} bytes read");
    }
}

#[test]
fn arrays_and_variants() {
    // An array longer than what is there, or than 64 MiB.
    let mut c = Cursor::new(&[8, 0, 0, 0, 0, 0, 0, 0, 1, 0], false);
    assert_eq!(c.array_start(8), Err(WireError("truncated")));
    let mut c = Cursor::new(&[5, 0, 0, 0, 0, 0, 0, 0], true);
    assert_eq!(c.array_start(8), Err(WireError("an array longer than 64 MiB")));
    // Variants of basic types read; others are Other, unread.
    let rows: Vec<(Vec<u8>, Val)> = vec![
        (vec![1, b'u', 0, 0, 9, 0, 0, 0], Val::U32(9)),
        (vec![1, b'b', 0, 0, 1, 0, 0, 0], Val::Bool(true)),
        (vec![1, b't', 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0], Val::U64(1)),
        (vec![1, b's', 0, 0, 1, 0, 0, 0, b'x', 0], Val::Str("x".into())),
        (vec![1, b'o', 0, 0, 1, 0, 0, 0, b'/', 0], Val::Str("/".into())),
        (vec![1, b'i', 0, 0, 9, 0, 0, 0], Val::Other),
        (vec![2, b'a', b's', 0, 0, 0, 0, 0], Val::Other),
        (vec![1, b'v', 0, 1, b'u', 0, 0, 0, 9, 0, 0, 0], Val::Other),
    ];
    for (bytes, want) in rows {
        assert_eq!(Cursor::new(&bytes, false).variant(), Ok(want), "{bytes:?}");
    }
}

#[test]
fn object_paths_and_error_names() {
    for (p, ok) in [
        ("/", true),
        ("/a/b_c/D9", true),
        ("", false),
        ("a", false),
        ("/a/", false),
        ("//", false),
        ("/a-b", false),
    ] {
        assert_eq!(valid_path(p.as_bytes()), ok, "{p:?}");
    }
    for (n, ok) in [
        ("org.freedesktop.DBus.Error.Failed", true),
        ("a.b", true),
        ("a", false),
        ("a..b", false),
        ("a.9b", false),
        ("a.b-c", false),
    ] {
        assert_eq!(valid_error_name(n.as_bytes()), ok, "{n:?}");
    }
}
