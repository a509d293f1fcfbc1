//! The diagnosis' D-Bus reply reader (`diagnose::ask`): the values PID 1 and logind send back
//! to `Properties.Get`, `NameHasOwner` and `GetUnit`, read straight from a body's bytes.
//!
//! First byte: bit 0 = big endian. Bit 7 set = raw mode: the rest is a body read as one `v` at
//! the position given by bits 1-6 (alignment counts from the message's start): never a panic.
//! Otherwise the rest is a whole wire message, parsed as zbus parses bytes read from the socket,
//! and read by all three readers; where zbus itself reads the body (as `v`, `b` or `o`), what
//! the module's reader reads must be the same value, and it must read zbus's own encoding of that
//! value exactly.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pam_systemd_rs::fuzz_api::{Val, bool_reply, path_reply, read_variant, value_of};
use zbus::Message;
use zbus::wire::Endian;
use zbus::wire::serialized::{Context, Data};
use zbus::{ObjectPath, Variant as Value};

/// What the module's reader must make of a value zbus read.
fn expected(v: &Value<'_>) -> Val {
    match v {
        Value::U32(n) => Val::U32(*n),
        Value::U64(n) => Val::U64(*n),
        Value::Bool(b) => Val::Bool(*b),
        Value::Str(s) => Val::Str(s.as_str().to_owned()),
        Value::ObjectPath(p) => Val::Str(p.as_str().to_owned()),
        _ => Val::Other,
    }
}

fn same(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::U32(x), Val::U32(y)) => x == y,
        (Val::U64(x), Val::U64(y)) => x == y,
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Str(x), Val::Str(y)) => x == y,
        (Val::Other, Val::Other) => true,
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let endian = if sel & 1 != 0 { Endian::Big } else { Endian::Little };
    if sel & 0x80 != 0 {
        let position = usize::from((sel >> 1) & 0x3f);
        let _ = read_variant(rest, Context::new(endian, position));
        return;
    }
    let bytes = Data::new(rest.to_vec(), Context::new(endian, 0));
    // SAFETY: zbus's own receive path parses socket bytes the same way (the body is validated
    // again when deserialized).
    let Ok(msg) = (unsafe { Message::from_bytes(bytes) }) else {
        return;
    };
    let got = value_of(&msg);
    let flag = bool_reply(&msg);
    let path = path_reply(&msg);
    let body = msg.body();
    // zbus is laxer than the wire format (it does not insist on a string's terminating NUL),
    // so on the bytes as sent only what the reader does read must agree with zbus; zbus's own
    // encoding of the value it read must then be read exactly.
    match body.signature().to_string().as_str() {
        "v" => {
            if let Ok(v) = body.deserialize::<Value<'_>>() {
                let want = expected(&v);
                assert!(
                    matches!(got, Val::Other) || same(&got, &want),
                    "read {got:?}, zbus read {v:?}"
                );
                if let Some(again) = encoded(&v) {
                    let read = value_of(&again);
                    assert!(same(&read, &want), "read {read:?} from zbus's encoding of {v:?}");
                }
            }
        }
        "b" => {
            if let Ok((b,)) = body.deserialize::<(bool,)>() {
                assert!(flag.is_none_or(|f| f == b), "read {flag:?}, zbus read {b}");
                if let Some(again) = encoded(&(b,)) {
                    assert_eq!(bool_reply(&again), Some(b));
                }
            }
        }
        "o" => {
            if let Ok((p,)) = body.deserialize::<(ObjectPath<'_>,)>() {
                assert!(
                    path.as_deref().is_none_or(|q| q == p.as_str()),
                    "read {path:?}, zbus read {p}"
                );
                if let Some(again) = encoded(&(p.clone(),)) {
                    assert_eq!(path_reply(&again).as_deref(), Some(p.as_str()));
                }
            }
        }
        _ => {
            assert_eq!(flag, None);
            assert_eq!(path, None);
        }
    }
});

/// A message whose body is zbus's encoding of `body`.
fn encoded<B: zbus::export::serde::Serialize + zbus::DynamicType>(body: &B) -> Option<Message> {
    Message::method_call("/org/freedesktop/systemd1/unit/x", "Get")
        .build(body)
        .ok()
}
