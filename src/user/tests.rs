use super::*;

#[test]
fn lookup_root_and_missing() {
    let root = lookup(b"root").unwrap();
    assert_eq!((root.uid, root.name.as_slice()), (0, &b"root"[..]));
    assert_eq!(lookup(b"no-such-user-pam-systemd-rs"), Err(LookupError::NotFound));
    assert_eq!(lookup(b"0"), Err(LookupError::InvalidName));
}
