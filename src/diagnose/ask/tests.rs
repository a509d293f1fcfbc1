use super::*;

fn msg_with<B: zbus::export::serde::Serialize + zbus::DynamicType>(body: &B) -> Message {
    Message::method_call("/org/freedesktop/systemd1/unit/x", "Get")
        .build(body)
        .unwrap()
}

fn val(v: zbus::Variant<'_>) -> Val {
    value_of(&msg_with(&v))
}

#[test]
fn variants_of_basic_types_read_from_the_wire() {
    assert!(matches!(val(zbus::Variant::from(5u32)), Val::U32(5)));
    assert!(matches!(val(zbus::Variant::from(10_000_000u64)), Val::U64(10_000_000)));
    assert!(matches!(val(zbus::Variant::from(u64::MAX)), Val::U64(u64::MAX)));
    assert!(matches!(val(zbus::Variant::from(true)), Val::Bool(true)));
    assert!(matches!(val(zbus::Variant::from(false)), Val::Bool(false)));
    assert_eq!(val(zbus::Variant::from("start-limit-hit")).str(), "start-limit-hit");
    assert_eq!(val(zbus::Variant::from("")).str(), "");
    let p = zbus::ObjectPath::try_from("/org/freedesktop/login1/user/_0").unwrap();
    assert_eq!(val(zbus::Variant::from(p)).str(), "/org/freedesktop/login1/user/_0");
    // Other types are not read.
    assert!(matches!(val(zbus::Variant::from(7i32)), Val::Other));
    assert!(matches!(val(zbus::Variant::from(vec!["a"])), Val::Other));
}

#[test]
fn big_endian_and_truncated_bodies() {
    // "t" variant, big endian: sig len 1, 't', NUL, 5 bytes padding to 8, value.
    let mut b = vec![1, b't', 0, 0, 0, 0, 0, 0];
    b.extend_from_slice(&42u64.to_be_bytes());
    let w = Wire {
        bytes: &b,
        big: true,
        position: 0,
    };
    assert!(matches!(w.variant(), Some(Val::U64(42))));
    // Cut short anywhere: no value, no panic.
    for n in 0..b.len() {
        let w = Wire {
            bytes: &b[..n],
            big: true,
            position: 0,
        };
        assert!(w.variant().is_none(), "{n}");
    }
    // A string without its NUL, or with a length past the end.
    let s = [1, b's', 0, 0, 3, 0, 0, 0, b'a', b'b', b'c', b'x'];
    let w = Wire {
        bytes: &s,
        big: false,
        position: 0,
    };
    assert!(w.variant().is_none());
    let s = [1, b's', 0, 0, 0xff, 0xff, 0xff, 0xff, 0];
    let w = Wire {
        bytes: &s,
        big: false,
        position: 0,
    };
    assert!(w.variant().is_none());
}

#[test]
fn replies_with_one_bool_or_path() {
    assert_eq!(bool_reply(&msg_with(&(true,))), Some(true));
    assert_eq!(bool_reply(&msg_with(&(false,))), Some(false));
    assert_eq!(bool_reply(&msg_with(&("x",))), None);
    let p = zbus::ObjectPath::try_from("/org/freedesktop/systemd1/unit/user_400_2eservice").unwrap();
    assert_eq!(
        path_reply(&msg_with(&(p,))).as_deref(),
        Some("/org/freedesktop/systemd1/unit/user_400_2eservice")
    );
    assert_eq!(path_reply(&msg_with(&(1u32,))), None);
}
