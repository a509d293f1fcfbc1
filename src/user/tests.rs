//! Unit tests of the user record: NSS look-ups, and the golden tables of the writer and the
//! reader. Expected values come from Debian 12's libsystemd-shared-252.so, the code the C module is
//! built from (`tests/golden/gen.c` regenerates them; see tests/golden/README.md).

use super::nss::*;
use super::record_read::*;
use super::record_write::*;
use super::utf8::*;

#[test]
#[cfg_attr(miri, ignore)] // NSS and sockets are not available under miri
fn lookup_root_and_missing() {
    let root = lookup(b"root").unwrap();
    assert_eq!((root.uid, root.name.as_slice()), (0, &b"root"[..]));
    assert_eq!(lookup(b"no-such-user-pam-systemd-rs"), Err(LookupError::NotFound));
    assert_eq!(lookup(b"0"), Err(LookupError::InvalidName));
}

// Expected values generated with Debian 12's libsystemd-shared-252.so (the code the C
// module is built from): `nss_passwd_to_user_record()` + `json_variant_format(json, 0)`, and
// `json_parse()` + `user_record_load(REFUSE_SECRET|PERMISSIVE)` on machine
// 3d1219c7c4c5404aaa1f6d2a48adfda4 with host name "vm".

struct RecordCase {
    name: &'static [u8],
    uid: u32,
    gid: u32,
    gecos: &'static [u8],
    dir: &'static [u8],
    shell: &'static [u8],
    sp: Option<(&'static [u8], &'static [u8], [i64; 6])>,
    expected: Option<&'static [u8]>,
}

const RECORD_CASES: &[RecordCase] = &[
    RecordCase { name: b"pamtest1", uid: 59001, gid: 59001, gecos: b"PAM test user 1", dir: b"/home/pamtest1", shell: b"/bin/bash", sp: Some((b"pamtest1", b"*", [19000, 0, 99999, 7, -1, -1])), expected: Some(b"{\"userName\":\"pamtest1\",\"uid\":59001,\"gid\":59001,\"realName\":\"PAM test user 1\",\"homeDirectory\":\"/home/pamtest1\",\"shell\":\"/bin/bash\",\"passwordChangeNow\":false,\"lastPasswordChangeUSec\":1641600000000000,\"passwordChangeMaxUSec\":8639913600000000,\"passwordChangeWarnUSec\":604800000000}") },
    RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
    RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"u", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
    RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"Doe, John,Room 1,555,666", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"Doe, John,Room 1,555,666\",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
    RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"\"q\" \\b\\", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"\\\"q\\\" \\\\b\\\\\",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
    RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"a\x01b\x1fc", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"a b c\",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
    RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"del\x7f", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"del\x7f\",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
    RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"col:on", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"col on\",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
    RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"\xc3\xa9t\xc3\xa9", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"\xc3\xa9t\xc3\xa9\",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
    RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"bad\xffutf8", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"bad utf8\",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
    RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"\xc0\xaf", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"  \",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
    RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"\xed\xa0\x80", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"   \",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
    RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"\xef\xbf\xbe", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"   \",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
    RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"\xef\xb7\x90", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"   \",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
    RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"\xf0\x9f\x98\x80", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"\xf0\x9f\x98\x80\",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
    RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"\xf4\x8f\xbf\xbf", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"    \",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
    RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"\xf4\x90\x80\x80", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"    \",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
    RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"\xf8\x88\x80\x80\x80", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"     \",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
    RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"trunc\xe2\x82", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"trunc  \",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
    RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"\x08\x0c\x0a\x0d\x09", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"     \",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
    RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"\xe0\x80\x80", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"   \",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
    RecordCase { name: b"u", uid: 1000, gid: 100, gecos: b"\xc2\x80\xdf\xbf", dir: b"/home/u", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":1000,\"gid\":100,\"realName\":\"\xc2\x80\xdf\xbf\",\"homeDirectory\":\"/home/u\",\"shell\":\"/bin/sh\"}") },
    RecordCase { name: b"u", uid: 0, gid: 0, gecos: b"", dir: b"", shell: b"", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":0,\"gid\":0}") },
    RecordCase { name: b"u", uid: 0, gid: 0, gecos: b"", dir: b"/h\xff", shell: b"\xff", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":0,\"gid\":0}") },
    RecordCase { name: b"u", uid: 0, gid: 0, gecos: b"", dir: b"/h\"o\\m\x01e", shell: b"/bin/\x1b", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":0,\"gid\":0,\"homeDirectory\":\"/h\\\"o\\\\m\\u0001e\",\"shell\":\"/bin/\\u001b\"}") },
    RecordCase { name: b"u", uid: 0, gid: 0, gecos: b"", dir: b"/x\x7f", shell: b"sh:x", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":0,\"gid\":0,\"homeDirectory\":\"/x\x7f\",\"shell\":\"sh:x\"}") },
    RecordCase { name: b"u", uid: 0, gid: 0, gecos: b"", dir: b"/\xef\xbf\xbf", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":0,\"gid\":0,\"shell\":\"/bin/sh\"}") },
    RecordCase { name: b"", uid: 1, gid: 1, gecos: b"", dir: b"/", shell: b"/bin/sh", sp: None, expected: None },
    RecordCase { name: b"bad\xff", uid: 1, gid: 1, gecos: b"", dir: b"/", shell: b"/bin/sh", sp: None, expected: None },
    RecordCase { name: b"\xed\xa0\x80", uid: 1, gid: 1, gecos: b"", dir: b"/", shell: b"/bin/sh", sp: None, expected: None },
    RecordCase { name: b"p\"q\\r", uid: 1, gid: 1, gecos: b"", dir: b"/", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"p\\\"q\\\\r\",\"uid\":1,\"gid\":1,\"homeDirectory\":\"/\",\"shell\":\"/bin/sh\"}") },
    RecordCase { name: b"ctl\x01", uid: 1, gid: 1, gecos: b"", dir: b"/", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"ctl\\u0001\",\"uid\":1,\"gid\":1,\"homeDirectory\":\"/\",\"shell\":\"/bin/sh\"}") },
    RecordCase { name: b"\xc3\xa9", uid: 1, gid: 1, gecos: b"", dir: b"/", shell: b"/bin/sh", sp: None, expected: Some(b"{\"userName\":\"\xc3\xa9\",\"uid\":1,\"gid\":1,\"homeDirectory\":\"/\",\"shell\":\"/bin/sh\"}") },
    RecordCase { name: b"u", uid: 4294967295, gid: 4294967295, gecos: b"", dir: b"/", shell: b"", sp: None, expected: Some(b"{\"userName\":\"u\",\"uid\":4294967295,\"gid\":4294967295,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"!", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"privileged\":{\"hashedPassword\":[\"!\"]}}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"!!", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"privileged\":{\"hashedPassword\":[\"!!\"]}}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"!*", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"x", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"!x", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"privileged\":{\"hashedPassword\":[\"\"]}}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"$6$salt$hash", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"privileged\":{\"hashedPassword\":[\"$6$salt$hash\"]}}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"!!x", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"x!", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"privileged\":{\"hashedPassword\":[\"x!\"]}}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"**", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"privileged\":{\"hashedPassword\":[\"**\"]}}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"bad\xff", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"\"\\", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"privileged\":{\"hashedPassword\":[\"\\\"\\\\\"]}}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"\x01", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"privileged\":{\"hashedPassword\":[\"\\u0001\"]}}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [0, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeNow\":true}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeNow\":false,\"lastPasswordChangeUSec\":86400000000}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [2, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeNow\":false,\"lastPasswordChangeUSec\":172800000000}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-2, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [213503981, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeNow\":false,\"lastPasswordChangeUSec\":18446743958400000000}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [213503982, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeNow\":false,\"lastPasswordChangeUSec\":18446744044800000000}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [213503983, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeNow\":false}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [9223372036854775807, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeNow\":false}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-9223372036854775808, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, 0, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, 1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeMinUSec\":86400000000}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, 2, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeMinUSec\":172800000000}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -2, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, 213503981, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeMinUSec\":18446743958400000000}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, 213503982, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeMinUSec\":18446744044800000000}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, 213503983, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, 9223372036854775807, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -9223372036854775808, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, 0, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, 1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeMaxUSec\":86400000000}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, 2, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeMaxUSec\":172800000000}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -2, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, 213503981, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeMaxUSec\":18446743958400000000}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, 213503982, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeMaxUSec\":18446744044800000000}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, 213503983, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, 9223372036854775807, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -9223372036854775808, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, 0, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, 1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeWarnUSec\":86400000000}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, 2, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeWarnUSec\":172800000000}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -2, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, 213503981, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeWarnUSec\":18446743958400000000}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, 213503982, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeWarnUSec\":18446744044800000000}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, 213503983, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, 9223372036854775807, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -9223372036854775808, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, 0, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, 1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeInactiveUSec\":86400000000}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, 2, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeInactiveUSec\":172800000000}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -2, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, 213503981, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeInactiveUSec\":18446743958400000000}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, 213503982, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"passwordChangeInactiveUSec\":18446744044800000000}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, 213503983, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, 9223372036854775807, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -9223372036854775808, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, -1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, 0])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"locked\":true}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, 1])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"locked\":true}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, 2])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"locked\":false,\"notAfterUSec\":172800000000}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, -2])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, 213503981])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"locked\":false,\"notAfterUSec\":18446743958400000000}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, 213503982])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"locked\":false}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, 213503983])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"locked\":false}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, 9223372036854775807])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"locked\":false}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"*", [-1, -1, -1, -1, -1, -9223372036854775808])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\"}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"v", b"*", [1, 1, 1, 1, 1, 1])), expected: None },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"$1$a$b", [0, 0, 0, 0, 0, 0])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"privileged\":{\"hashedPassword\":[\"$1$a$b\"]},\"locked\":true,\"passwordChangeNow\":true}") },
    RecordCase { name: b"u", uid: 5, gid: 6, gecos: b"", dir: b"/", shell: b"", sp: Some((b"u", b"$1$a$b", [3, 4, 5, 6, 7, 8])), expected: Some(b"{\"userName\":\"u\",\"uid\":5,\"gid\":6,\"homeDirectory\":\"/\",\"privileged\":{\"hashedPassword\":[\"$1$a$b\"]},\"locked\":false,\"notAfterUSec\":691200000000,\"passwordChangeNow\":false,\"lastPasswordChangeUSec\":259200000000,\"passwordChangeMinUSec\":345600000000,\"passwordChangeMaxUSec\":432000000000,\"passwordChangeWarnUSec\":518400000000,\"passwordChangeInactiveUSec\":604800000000}") },
];

#[test]
fn record_json_matches_libsystemd_shared() {
    for (i, c) in RECORD_CASES.iter().enumerate() {
        let pw = Passwd {
            name: c.name,
            passwd: b"x",
            uid: c.uid,
            gid: c.gid,
            gecos: c.gecos,
            dir: c.dir,
            shell: c.shell,
        };
        let sp = c.sp.map(
            |(name, password, [last_change, min, max, warn, inactive, expire])| Shadow {
                name,
                password,
                last_change,
                min,
                max,
                warn,
                inactive,
                expire,
            },
        );
        let got = record_json(&pw, sp.as_ref());
        assert_eq!(
            got.as_deref().map(String::from_utf8_lossy),
            c.expected.map(String::from_utf8_lossy),
            "case {i}: name {:?} gecos {:?}",
            String::from_utf8_lossy(c.name),
            String::from_utf8_lossy(c.gecos)
        );
    }
}

#[test]
fn record_json_stops_at_nul() {
    let pw = Passwd {
        name: b"u\0x",
        passwd: b"x",
        uid: 1,
        gid: 2,
        gecos: b"\0a",
        dir: b"/h\0\xff",
        shell: b"",
    };
    assert_eq!(
        record_json(&pw, None).as_deref(),
        Some(&br#"{"userName":"u","uid":1,"gid":2,"homeDirectory":"/h"}"#[..])
    );
}

#[test]
#[cfg_attr(miri, ignore)] // NSS and sockets are not available under miri
fn shadow_lookup_of_unknown_user_is_none() {
    let name = c"no-such-user-pam-systemd-rs";
    assert_eq!(shadow_by_name(name), None);
}

fn vm() -> Machine {
    Machine {
        machine_id: parse_id128(b"3d1219c7c4c5404aaa1f6d2a48adfda4"),
        hostname: Some(b"vm".to_vec()),
    }
}

type Identity = Option<(&'static str, Option<u32>)>;
const CACHED_CASES: &[(&[u8], Identity)] = &[
    (b"{\"userName\":\"pamtest1\",\"uid\":59001}", Some(("pamtest1", Some(59001)))), // OK
    (b"{\"userName\":\"pamtest1\"}", Some(("pamtest1", None))), // OK
    (b"{\"uid\":5}", None), // LOADERR
    (b"{}", None), // LOADERR
    (b"[]", None), // LOADERR
    (b"\"x\"", None), // LOADERR
    (b"{\"userName\":\"pamtest1\",\"uid\":59001,\"secret\":{}}", None), // LOADERR
    (b"{\"userName\":\"pamtest1\",\"uid\":-1}", Some(("pamtest1", None))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":65535}", Some(("pamtest1", None))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":4294967295}", Some(("pamtest1", None))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":4294967296}", Some(("pamtest1", None))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":\"5\"}", Some(("pamtest1", None))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":5.0}", Some(("pamtest1", Some(5)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":5.5}", Some(("pamtest1", None))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":5e0}", Some(("pamtest1", Some(5)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":null}", Some(("pamtest1", None))), // OK
    (b"{\"userName\":5,\"uid\":5}", None), // LOADERR
    (b"{\"userName\":null,\"uid\":5}", None), // LOADERR
    (b"{\"userName\":\"123\",\"uid\":5}", None), // LOADERR
    (b"{\"userName\":\"a/b\",\"uid\":5}", None), // LOADERR
    (b"{\"userName\":\" a\",\"uid\":5}", None), // LOADERR
    (b"{\"userName\":\"pamtest1\",\"uid\":5,\"uid\":6}", Some(("pamtest1", Some(5)))), // OK
    (b"{\"userName\":\"a\",\"userName\":\"b\",\"uid\":5}", Some(("a", Some(5)))), // OK
    (b" {\"userName\":\"pamtest1\",\"uid\":59001} ", Some(("pamtest1", Some(59001)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":59001} x", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":059001}", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":59001,}", None), // PARSEERR
    (b"{\"userName\":\"pamt\\u0065st1\",\"uid\":1}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"privileged\":{\"hashedPassword\":[\"x\"]}}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"uid\":77}]}", Some(("pamtest1", Some(77)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"binding\":{\"3d1219c7c4c5404aaa1f6d2a48adfda4\":{\"uid\":78}}}", Some(("pamtest1", Some(78)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"status\":{\"3d1219c7c4c5404aaa1f6d2a48adfda4\":{\"uid\":79}}}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"signature\":[]}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"foo\":{\"bar\":[1,2,{\"a\":null}]}}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"disposition\":\"bogus\"}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"realName\":5}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"privileged\":{}}", None), // LOADERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":5}", None), // LOADERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"binding\":5}", None), // LOADERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"secret\":5}", None), // LOADERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"privileged\":5}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchHostname\":\"vm\",\"uid\":80}]}", Some(("pamtest1", Some(80)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"00000000000000000000000000000001\",\"uid\":81}]}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"userName\":\"other\"}]}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"uid\":-5}]}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"binding\":{\"3d1219c7c4c5404aaa1f6d2a48adfda4\":{\"uid\":-5}}}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"binding\":{\"3d1219c7c4c5404aaa1f6d2a48adfda4\":5}}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[5]}", None), // LOADERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"uid\":82}]}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":\"x\",\"uid\":5}", Some(("pamtest1", Some(5)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":null,\"uid\":5}", Some(("pamtest1", Some(5)))), // OK
    (b"{\"userName\":\"bad/\",\"userName\":\"pamtest1\",\"uid\":5}", None), // LOADERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"status\":5}", None), // LOADERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"signature\":5}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"binding\":{\"3d1219c7c4c5404aaa1f6d2a48adfda4\":{\"uid\":78}},\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"uid\":77}]}", Some(("pamtest1", Some(78)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"uid\":77}],\"binding\":{\"3d1219c7c4c5404aaa1f6d2a48adfda4\":{\"uid\":78}}}", Some(("pamtest1", Some(78)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"uid\":77},{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"uid\":79}]}", Some(("pamtest1", Some(79)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"uid\":null}]}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3D1219C7C4C5404AAA1F6D2A48ADFDA4\",\"uid\":77}]}", Some(("pamtest1", Some(77)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"bogus\",\"uid\":77}]}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":5,\"uid\":77}]}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":[\"bogus\",\"3d1219c7c4c5404aaa1f6d2a48adfda4\"],\"uid\":77}]}", Some(("pamtest1", Some(77)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":[5,\"3d1219c7c4c5404aaa1f6d2a48adfda4\"],\"uid\":77}]}", Some(("pamtest1", Some(77)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":[\"00000000000000000000000000000001\",\"3d1219c7c4c5404aaa1f6d2a48adfda4\"],\"uid\":77}]}", Some(("pamtest1", Some(77)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchHostname\":[\"vm\"],\"uid\":77}]}", None), // CRASH
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchHostname\":5,\"uid\":77}]}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchHostname\":\"VM\",\"uid\":77}]}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchHostname\":\"other\",\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"uid\":77}]}", Some(("pamtest1", Some(77)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3d1219c7-c4c5-404a-aa1f-6d2a48adfda4\",\"uid\":77}]}", Some(("pamtest1", Some(77)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"binding\":{\"3D1219C7C4C5404AAA1F6D2A48ADFDA4\":{\"uid\":78}}}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"binding\":{\"3d1219c7c4c5404aaa1f6d2a48adfda4\":{\"uid\":78,\"uid\":79}}}", Some(("pamtest1", Some(78)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"binding\":{\"3d1219c7c4c5404aaa1f6d2a48adfda4\":{\"uid\":\"x\"}}}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"binding\":{\"3d1219c7c4c5404aaa1f6d2a48adfda4\":{\"uid\":null}}}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"binding\":{\"3d1219c7c4c5404aaa1f6d2a48adfda4\":{\"uid\":78},\"3d1219c7c4c5404aaa1f6d2a48adfda4\":{\"uid\":79}}}", Some(("pamtest1", Some(78)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[]}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":null}", None), // LOADERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"binding\":null}", None), // LOADERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"secret\":null}", None), // LOADERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"privileged\":null}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"secret\":{},\"secret\":{}}", None), // LOADERR
    (b"{\"privileged\":{},\"userName\":\"pamtest1\"}", Some(("pamtest1", None))), // OK
    (b"{\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"userName\":\"pamtest1\",\"uid\":5}]}", None), // LOADERR
    (b"{\"binding\":{\"3d1219c7c4c5404aaa1f6d2a48adfda4\":{\"uid\":5}},\"userName\":\"pamtest1\"}", Some(("pamtest1", Some(5)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"uid\":5.0}]}", Some(("pamtest1", Some(5)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"uid\":65535}]}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":-0}", Some(("pamtest1", Some(0)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":0}", Some(("pamtest1", Some(0)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":-0.0}", Some(("pamtest1", Some(0)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":4294967294}", Some(("pamtest1", Some(4294967294)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":4294967294.0}", Some(("pamtest1", Some(4294967294)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":18446744073709551615}", Some(("pamtest1", None))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":18446744073709551616}", Some(("pamtest1", None))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1e400}", Some(("pamtest1", None))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1.}", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":.5}", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":+1}", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":01}", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":0.5e1}", Some(("pamtest1", Some(5)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1e-0}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1e+2}", Some(("pamtest1", Some(100)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":100e-2}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1x}", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1 }", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":true}", Some(("pamtest1", None))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":tru}", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":truex}", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":nul}", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":[1 2]}", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":[,]}", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":[1,]}", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":{\"a\"}}", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":{\"a\":1 \"b\":2}}", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":{1:2}}", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\\/\\b\\f\\n\\r\\t\\\"\\\\\"}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\\a\"}", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\\u00e9\"}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\\u00E9\"}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\\u0000\"}", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\\ud800\"}", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\\udc00\"}", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\\ud83d\\ude00\"}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\\ud83dx\"}", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\\ufffe\"}", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\\uFDD0\"}", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\\u12\"}", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\\u12g4\"}", None), // PARSEERR
    (b"{\"userName\":\"pam\\u0074est1\",\"uid\":1}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1}\x09", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"a\x01b\"}", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"a\x7fb\"}", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"a\xffb\"}", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\xef\xbf\xbe\"}", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\xed\xa0\x80\"}", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1}\x0b", None), // PARSEERR
    (b"\x0c{\"userName\":\"pamtest1\",\"uid\":1}", None), // PARSEERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1}\x0a", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"x\":\"\x09\"}", None), // PARSEERR
    (b"", None), // PARSEERR
    (b" ", None), // PARSEERR
    (b"{\"userName\":\"p\xc3\xa9\",\"uid\":1}", Some(("pé", Some(1)))), // OK
    (b"{\"userName\":\"p\x7f\",\"uid\":1}", None), // PARSEERR
    (b"{\"userName\":\"-12\",\"uid\":1}", None), // LOADERR
    (b"{\"userName\":\"+12\",\"uid\":1}", Some(("+12", Some(1)))), // OK
    (b"{\"userName\":\"+4294967296\",\"uid\":1}", Some(("+4294967296", Some(1)))), // OK
    (b"{\"userName\":\".\",\"uid\":1}", None), // LOADERR
    (b"{\"userName\":\"..\",\"uid\":1}", None), // LOADERR
    (b"{\"userName\":\"a b\",\"uid\":1}", Some(("a b", Some(1)))), // OK
    (b"{\"userName\":\"a \",\"uid\":1}", None), // LOADERR
    (b"{\"userName\":\"\",\"uid\":1}", None), // LOADERR
    (b"{\"userName\":\"a:b\",\"uid\":1}", None), // LOADERR
    (b"{\"userName\":\"a@b\",\"uid\":1}", Some(("a@b", Some(1)))), // OK
    (b"{\"userName\":\"\\u0001a\",\"uid\":1}", None), // LOADERR
    (b"{\"userName\":\"-\",\"uid\":1}", None), // LOADERR
    (b"{\"userName\":\"-1a\",\"uid\":1}", Some(("-1a", Some(1)))), // OK
    (b"{\"userName\":\"0x10\",\"uid\":1}", Some(("0x10", Some(1)))), // OK
    (b"{\"userName\":\"4294967295\",\"uid\":1}", None), // LOADERR
    (b"{\"userName\":\"+0\",\"uid\":1}", Some(("+0", Some(1)))), // OK
    (b"{\"userName\":\"+-1\",\"uid\":1}", Some(("+-1", Some(1)))), // OK
    (b"{\"userName\":\"+65535\",\"uid\":1}", Some(("+65535", Some(1)))), // OK
    (b"{\"userName\":\"+4294967295\",\"uid\":1}", Some(("+4294967295", Some(1)))), // OK
    (b"{\"userName\":\"+18446744073709551616\",\"uid\":1}", Some(("+18446744073709551616", Some(1)))), // OK
    (b"{\"userName\":\"\xc2\xa0a\",\"uid\":1}", Some((" a", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":65535,\"uid\":5}", Some(("pamtest1", None))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"status\":null}", None), // LOADERR
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"status\":{}}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"signature\":null}", Some(("pamtest1", Some(1)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"uid\":\"x\",\"uid\":7}]}", Some(("pamtest1", Some(7)))), // OK
    (b"{\"userName\":5,\"userName\":\"pamtest1\",\"uid\":5}", Some(("pamtest1", Some(5)))), // OK
    (b"{\"userName\":null,\"userName\":\"pamtest1\",\"uid\":5}", Some(("pamtest1", Some(5)))), // OK
    (b"{\"userName\":\"pamtest1\",\"uid\":1,\"perMachine\":[{\"matchMachineId\":\"3d1219c7c4c5404aaa1f6d2a48adfda4\",\"matchMachineId\":\"00000000000000000000000000000001\",\"uid\":7}]}", Some(("pamtest1", Some(7)))), // OK
];

#[test]
fn cached_identity_matches_libsystemd_shared() {
    for (json, expected) in CACHED_CASES {
        let got = cached_identity_for(json, &vm());
        let got = got.as_ref().ok().map(|(n, u)| (n.as_str(), *u));
        assert_eq!(got, *expected, "{:?}", String::from_utf8_lossy(json));
    }
}

fn nested(open: &str, inner: &str, close: &str, n: usize) -> Vec<u8> {
    format!(
        r#"{{"userName":"pamtest1","uid":1,"x":{}{}{}}}"#,
        open.repeat(n),
        inner,
        close.repeat(n)
    )
    .into_bytes()
}

#[test]
fn nesting_limit() {
    let ok = Ok(("pamtest1".to_string(), Some(1)));
    assert_eq!(cached_identity_for(&nested("[", "", "]", 2048), &vm()), ok);
    assert_eq!(cached_identity_for(&nested("[", "", "]", 2049), &vm()), Err(()));
    assert_eq!(cached_identity_for(&nested(r#"{"a":"#, "1", "}", 2047), &vm()), ok);
    assert_eq!(cached_identity_for(&nested(r#"{"a":"#, "1", "}", 2048), &vm()), Err(()));
    assert_eq!(cached_identity_for(&nested("[", "", "]", 100_000), &vm()), Err(()));
    assert_eq!(cached_identity_for(&nested("[", "", "", 100_000), &vm()), Err(()));
}

#[test]
fn cached_identity_stops_at_nul_and_reads_the_pam_systemd_record() {
    let rec = br#"{"userName":"pamtest1","uid":59001,"gid":59001,"realName":"PAM test user 1","homeDirectory":"/home/pamtest1","shell":"/bin/bash","passwordChangeNow":false,"lastPasswordChangeUSec":1641600000000000,"passwordChangeMaxUSec":8639913600000000,"passwordChangeWarnUSec":604800000000}"#;
    assert_eq!(cached_identity(rec), Ok(("pamtest1".to_string(), Some(59001))));
    let mut with_nul = rec.to_vec();
    with_nul.extend_from_slice(b"\0garbage");
    assert_eq!(cached_identity(&with_nul), Ok(("pamtest1".to_string(), Some(59001))));
}

#[test]
fn relaxed_user_names_match_libsystemd_shared() {
    let cases: &[(&[u8], bool)] = &[
        (b"", false),
        (b" ", false),
        (b"a", true),
        (b" a", false),
        (b"a ", false),
        (b"a b", true),
        (b".", false),
        (b"..", false),
        (b"...", true),
        (b"-", false),
        (b"-1", false),
        (b"-01", false),
        (b"--1", true),
        (b"+1", true),
        (b"+", true),
        (b"0", false),
        (b"00", false),
        (b"4294967295", false),
        (b"65535", false),
        (b"a:b", false),
        (b"a/b", false),
        (b"a\x7f", false),
        (b"a\x01", false),
        (b"\xff", false),
        (b"\xc3\xa9", true),
        (b"\xef\xbf\xbe", false),
        (b"\x091", false),
        (b"1 ", false),
        (b" 1", false),
        (b"0x1", true),
        (b"1e3", true),
        (b"_", true),
        (b"a@b.c", true),
        (b"\xc2\xa0", true),
    ];
    for (name, valid) in cases {
        assert_eq!(
            valid_user_name_relaxed(name),
            *valid,
            "{:?}",
            String::from_utf8_lossy(name)
        );
    }
}
