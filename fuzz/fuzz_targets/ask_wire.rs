//! The diagnosis' D-Bus reply readers (`diagnose::ask`): the values PID 1 and logind send back
//! to `Properties.Get`, `NameHasOwner` and `GetUnit`, over the module's own message reader.
//!
//! First byte: bit 0 = big endian (raw variant mode). Bit 7 set = raw variant mode: the rest is
//! a body read as one `v`: never a panic. Otherwise the rest is a whole wire message, read by
//! the module's client as a reply and then by all three readers. zbus, an independent reader,
//! reads the same bytes: where both read a value, it must be the same; and whatever valid value
//! zbus read, the module must read zbus's own encoding of it exactly.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pam_systemd_rs::dbus::wire::valid_path;
use pam_systemd_rs::fuzz_api::{DbusReply, Val, bool_reply, path_reply, read_variant, value_of};
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

/// Whether the D-Bus specification allows the value (zbus is laxer: it reads object paths such
/// as `/a/` and strings with a NUL inside, which sd-bus and the module refuse).
fn valid(v: &Value<'_>) -> bool {
    match v {
        Value::Str(s) => !s.as_str().contains('\0'),
        Value::ObjectPath(p) => valid_path(p.as_str().as_bytes()),
        _ => true,
    }
}

/// A method return whose body is zbus's encoding of `body`, read by the module's client.
fn encoded<B: zbus::export::serde::Serialize + zbus::DynamicType>(body: &B) -> Option<DbusReply> {
    let call = Message::method_call("/org/freedesktop/systemd1/unit/x", "Get").build(&()).ok()?;
    let m = Message::method_return(&call.header()).build(body).ok()?;
    Some(DbusReply::from_message(m.data().bytes(), Vec::new()).expect("the module reads zbus's reply"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    if sel & 0x80 != 0 {
        let _ = read_variant(rest, sel & 1 != 0);
        return;
    }
    let ours = DbusReply::from_message(rest, Vec::new()).ok();
    let got = ours.as_ref().map(value_of);
    let flag = ours.as_ref().and_then(bool_reply);
    let path = ours.as_ref().and_then(path_reply);
    if ours.as_ref().is_some_and(|r| r.signature != "b") {
        assert_eq!(flag, None);
    }
    if ours.as_ref().is_some_and(|r| r.signature != "o") {
        assert_eq!(path, None);
    }
    let endian = if rest.first() == Some(&b'B') { Endian::Big } else { Endian::Little };
    // SAFETY: zbus's own receive path parses socket bytes the same way.
    let Ok(msg) = (unsafe { Message::from_bytes(Data::new(rest.to_vec(), Context::new(endian, 0))) }) else {
        return;
    };
    let body = msg.body();
    match body.signature().to_string().as_str() {
        "v" => {
            if let Ok(v) = body.deserialize::<Value<'_>>() {
                let want = expected(&v);
                if let Some(got) = &got {
                    assert!(matches!(got, Val::Other) || *got == want, "read {got:?}, zbus read {v:?}");
                }
                if valid(&v)
                    && let Some(again) = encoded(&v)
                {
                    assert_eq!(value_of(&again), want, "zbus's encoding of {v:?}");
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
                assert!(path.as_deref().is_none_or(|q| q == p.as_str()), "read {path:?}, zbus read {p}");
                if valid_path(p.as_str().as_bytes())
                    && let Some(again) = encoded(&(p.clone(),))
                {
                    assert_eq!(path_reply(&again).as_deref(), Some(p.as_str()));
                }
            }
        }
        _ => {}
    }
});
