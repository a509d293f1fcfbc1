//! The Varlink reply reader (src/varlink.rs, src/json.rs): what logind, or anything listening on
//! its socket, could answer. The input is what arrives on the socket; the message is the bytes
//! before the first NUL (as the client frames it).
//!
//! 1. `read_reply` never panics; when it accepts, `error` and `parameters` are what sd-varlink
//!    lets through (parameters an object or null).
//! 2. An error name maps to an errno in 1..=4095 (`sd_varlink_error_to_errno`).
//! 3. A success's parameters read as CreateSession's reply never panic, and what is accepted keeps
//!    C's rules: an absolute RuntimePath, a valid UID.
//! 4. Every string the reader accepted, written back by the writer, reads back the same (a raw DEL
//!    aside: systemd's writer emits it raw and its reader refuses it, as src/json.rs says).
//! 5. A message the JSON reader accepts writes (`json_format` of the value, the userdb record's
//!    way to its cached form) as its text does, token by token (`json_format_canonical`).
#![no_main]
use libfuzzer_sys::fuzz_target;
use pam_systemd_rs::fuzz_api::{
    JsonValue, json_format, json_format_canonical, json_parse, json_push_string, read_created, uid_is_valid,
    varlink_error_to_errno, varlink_read_reply,
};

fn strings<'v>(v: &'v JsonValue, out: &mut Vec<&'v [u8]>) {
    match v {
        JsonValue::Str(s) => out.push(s),
        JsonValue::Array(items) => items.iter().for_each(|i| strings(i, out)),
        JsonValue::Object(m) => m.iter().for_each(|(k, v)| {
            out.push(k);
            strings(v, out)
        }),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let message = data.split(|&b| b == 0).next().unwrap_or_default();
    if let Ok(v) = json_parse(message) {
        assert_eq!(Some(json_format(&v)), json_format_canonical(message), "written differently");
    }
    let Ok(reply) = varlink_read_reply(message) else { return };
    if let Some(p) = &reply.parameters {
        assert!(matches!(p, JsonValue::Object(_) | JsonValue::Null), "parameters {p:?}");
        let mut all = Vec::new();
        strings(p, &mut all);
        for s in all.into_iter().filter(|s| !s.contains(&0x7f)) {
            let mut w = Vec::new();
            json_push_string(&mut w, s);
            assert_eq!(json_parse(&w), Ok(JsonValue::Str(s.to_vec())), "{w:?}");
        }
    }
    match &reply.error {
        Some(name) => {
            let e = varlink_error_to_errno(name, reply.parameters.as_ref());
            assert!((1..=4095).contains(&e), "{name} -> {e}");
        }
        None => {
            if let Ok(c) = read_created(reply.parameters.as_ref()) {
                assert_eq!(c.runtime_path.first(), Some(&b'/'));
                if let Some(uid) = c.uid {
                    assert!(uid_is_valid(uid));
                }
            }
        }
    }
});
