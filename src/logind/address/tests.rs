use super::*;

#[test]
fn address_table() {
    let p = |s: &str| Target::Path(s.as_bytes().to_vec());
    let a = |s: &str| Target::Abstract(s.as_bytes().to_vec());
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
        (
            "tcp:host=localhost,port=1",
            vec![Target::Other("tcp:host=localhost,port=1".into())],
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
