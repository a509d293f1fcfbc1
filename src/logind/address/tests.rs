use super::*;

#[test]
fn address_table() {
    let p = |s: &str| Target::Path(s.as_bytes().to_vec());
    let a = |s: &str| Target::Abstract(s.as_bytes().to_vec());
    let tcp = |h: &str, port: u16, family: Option<Family>| Target::Tcp {
        host: h.into(),
        port,
        family,
    };
    let rows: Vec<(&str, Vec<Target>)> = vec![
        (
            "unix:path=/run/dbus/system_bus_socket",
            vec![p("/run/dbus/system_bus_socket")],
        ),
        ("unix:abstract=/tmp/dbus-x", vec![a("/tmp/dbus-x")]),
        ("unix:path=/a%20b,guid=0123", vec![p("/a b")]),
        ("unix:path=/x;unix:path=/y", vec![p("/x"), p("/y")]),
        ("garbage", vec![]),
        ("garbage;unix:path=/y", vec![p("/y")]),
        ("unix:path=", vec![]),
        ("unix:", vec![]),
        ("unix:path=/x,abstract=y", vec![]),
        ("unix:path=/x%zz", vec![]),
        ("unix:path=/x%4", vec![]),
        ("unix:foo=bar", vec![]),
        (":path=/x", vec![]),
        ("", vec![]),
        (";;", vec![]),
        ("tcp:host=localhost,port=1", vec![tcp("localhost", 1, None)]),
        (
            "tcp:host=127.0.0.1,port=5555,family=ipv4,bind=*",
            vec![tcp("127.0.0.1", 5555, Some(Family::Ipv4))],
        ),
        (
            "tcp:host=%3a%3a1,port=7,family=ipv6",
            vec![tcp("::1", 7, Some(Family::Ipv6))],
        ),
        ("tcp:host=h,port=7,guid=00", vec![tcp("h", 7, None)]),
        // host and port are required; a port is a number; a family is ipv4 or ipv6; a key once.
        ("tcp:port=1", vec![]),
        ("tcp:host=h", vec![]),
        ("tcp:host=,port=1", vec![]),
        ("tcp:host=h,port=http", vec![]),
        ("tcp:host=h,port=70000", vec![]),
        ("tcp:host=h,port=1,family=ipx", vec![]),
        ("tcp:host=h,port=1,port=2", vec![]),
        ("tcp:host=h,port=1,novalue", vec![]),
        ("tcp:host=h,port=1;unix:path=/y", vec![tcp("h", 1, None), p("/y")]),
        (
            "unixexec:path=/bin/dbus-stdio",
            vec![Target::Other("unixexec:path=/bin/dbus-stdio".into())],
        ),
    ];
    for (input, want) in rows {
        assert_eq!(parse_list(input), want, "{input:?}");
    }
}

#[test]
#[cfg_attr(miri, ignore)] // sockets: not available under miri
fn connect_errors_are_errnos() {
    assert_eq!(
        connect_unix(b"/nonexistent/socket", false, None).err(),
        Some(libc::ENOENT)
    );
    assert_eq!(connect_unix(&[b'x'; 200], false, None).err(), Some(libc::EINVAL));
    let dir = std::env::temp_dir().join(format!("addr-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("s");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    use std::os::unix::ffi::OsStrExt;
    assert!(connect_unix(path.as_os_str().as_bytes(), false, None).is_ok());
    drop(listener);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[cfg_attr(miri, ignore)] // sockets: not available under miri
fn tcp_connects_to_the_first_address_of_the_family() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    assert!(connect_tcp("127.0.0.1", port, None, None).is_ok());
    assert!(connect_tcp("localhost", port, Some(Family::Ipv4), None).is_ok());
    assert_eq!(
        connect_tcp("127.0.0.1", port, Some(Family::Ipv6), None).err(),
        Some(libc::EADDRNOTAVAIL)
    );
    drop(listener);
    assert_eq!(
        connect_tcp("127.0.0.1", port, None, None).err(),
        Some(libc::ECONNREFUSED)
    );
}
