//! The diagnosis' readers over replies zbus encodes (an encoder independent of the module's).

use super::*;
use zbus::Message;

/// A method return whose body is zbus's encoding of `body`, read back by the module's client.
fn reply_with<B: zbus::export::serde::Serialize + zbus::DynamicType>(body: &B) -> Reply {
    let call = Message::method_call("/org/freedesktop/systemd1/unit/x", "Get")
        .build(&())
        .unwrap();
    let ret = Message::method_return(&call.header()).build(body).unwrap();
    Reply::from_message(ret.data().bytes(), Vec::new()).unwrap()
}

fn val(v: zbus::Variant<'_>) -> Val {
    value_of(&reply_with(&v))
}

#[test]
fn variants_of_basic_types_read_from_the_wire() {
    assert_eq!(val(zbus::Variant::from(5u32)), Val::U32(5));
    assert_eq!(val(zbus::Variant::from(10_000_000u64)), Val::U64(10_000_000));
    assert_eq!(val(zbus::Variant::from(u64::MAX)), Val::U64(u64::MAX));
    assert_eq!(val(zbus::Variant::from(true)), Val::Bool(true));
    assert_eq!(val(zbus::Variant::from(false)), Val::Bool(false));
    assert_eq!(val(zbus::Variant::from("start-limit-hit")).str(), "start-limit-hit");
    assert_eq!(val(zbus::Variant::from("")).str(), "");
    let p = zbus::ObjectPath::try_from("/org/freedesktop/login1/user/_0").unwrap();
    assert_eq!(val(zbus::Variant::from(p)).str(), "/org/freedesktop/login1/user/_0");
    // Other types are not read.
    assert_eq!(val(zbus::Variant::from(7i32)), Val::Other);
    assert_eq!(val(zbus::Variant::from(vec!["a"])), Val::Other);
    // Not a variant at all.
    assert_eq!(value_of(&reply_with(&(5u32,))), Val::Other);
}

#[test]
fn big_endian_and_truncated_bodies() {
    // "t" variant, big endian: sig len 1, 't', NUL, 5 bytes padding to 8, value.
    let mut b = vec![1, b't', 0, 0, 0, 0, 0, 0];
    b.extend_from_slice(&42u64.to_be_bytes());
    assert_eq!(read_variant(&b, true), Some(Val::U64(42)));
    // Cut short anywhere: no value, no panic.
    for n in 0..b.len() {
        assert_eq!(read_variant(&b[..n], true), None, "{n}");
    }
    // A string without its NUL, or with a length past the end.
    let s = [1, b's', 0, 0, 3, 0, 0, 0, b'a', b'b', b'c', b'x'];
    assert_eq!(read_variant(&s, false), None);
    let s = [1, b's', 0, 0, 0xff, 0xff, 0xff, 0xff, 0];
    assert_eq!(read_variant(&s, false), None);
    // Padding that is not zero, a boolean that is neither 0 nor 1, bytes after the value.
    assert_eq!(read_variant(&[1, b'u', 0, 1, 5, 0, 0, 0], false), None);
    assert_eq!(read_variant(&[1, b'b', 0, 0, 2, 0, 0, 0], false), None);
    assert_eq!(read_variant(&[1, b'u', 0, 0, 5, 0, 0, 0, 0], false), None);
    assert_eq!(read_variant(&[1, b'u', 0, 0, 5, 0, 0, 0], false), Some(Val::U32(5)));
}

#[test]
fn replies_with_one_bool_or_path() {
    assert_eq!(bool_reply(&reply_with(&(true,))), Some(true));
    assert_eq!(bool_reply(&reply_with(&(false,))), Some(false));
    assert_eq!(bool_reply(&reply_with(&("x",))), None);
    assert_eq!(bool_reply(&reply_with(&(true, 1u32))), None);
    let p = zbus::ObjectPath::try_from("/org/freedesktop/systemd1/unit/user_400_2eservice").unwrap();
    assert_eq!(
        path_reply(&reply_with(&(p,))).as_deref(),
        Some("/org/freedesktop/systemd1/unit/user_400_2eservice")
    );
    assert_eq!(path_reply(&reply_with(&(1u32,))), None);
}
