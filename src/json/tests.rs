//! Unit tests of the JSON reader and writer. The reader's full table is exercised through the
//! user record (src/user/tests.rs, tests/golden) and the Varlink reply (src/varlink/tests.rs);
//! these pin what the two share and what only the Varlink side looks at.

use super::*;

#[test]
fn scalars_and_containers() {
    assert_eq!(parse(b" true "), Ok(Value::Bool(true)));
    assert_eq!(parse(b"false"), Ok(Value::Bool(false)));
    assert_eq!(parse(b"null"), Ok(Value::Null));
    assert_eq!(parse(b"-1"), Ok(Value::Integer(-1)));
    assert_eq!(parse(b"18446744073709551615"), Ok(Value::Unsigned(u64::MAX)));
    assert_eq!(
        parse(b"18446744073709551616"),
        Ok(Value::Real(18_446_744_073_709_551_616.0))
    );
    assert_eq!(parse(b"1.5"), Ok(Value::Real(1.5)));
    assert_eq!(parse(br#""a\u00e9""#), Ok(Value::Str("a\u{e9}".as_bytes().to_vec())));
    let v = parse(br#"{"a":[1,{"b":null}],"a":2}"#).unwrap();
    assert_eq!(
        v.by_key("a"),
        Some(&Value::Array(vec![
            Value::Unsigned(1),
            Value::Object(vec![(b"b".to_vec(), Value::Null)])
        ]))
    );
    assert_eq!(v.members().len(), 2);
    assert_eq!(v.by_key("c"), None);
}

#[test]
fn refusals() {
    for bad in [
        &b""[..],
        b" ",
        b"{",
        b"[1,]",
        b"{\"a\" 1}",
        b"01",
        b"1.",
        b"truex",
        b"\"\\u0000\"",
        b"\"\x7f\"",
        b"\"\x01\"",
        b"\"\\ud800\"",
        b"\"\xff\"",
        b"1 2",
        b"\x0b1",
        b"{}\0",
    ] {
        assert_eq!(parse(bad), Err(Error::Syntax), "{:?}", String::from_utf8_lossy(bad));
    }
    assert_eq!(parse(br#""\ufdd0""#), Err(Error::NonCharacter));
}

#[test]
fn depth_limit_without_recursion() {
    // DEPTH_MAX levels below the top are fine, one more is refused, also deep inside the part
    // that is only checked (below KEEP_DEPTH).
    let ok = format!("{}{}", "[".repeat(DEPTH_MAX + 1), "]".repeat(DEPTH_MAX + 1));
    assert!(parse(ok.as_bytes()).is_ok());
    let deep = format!("{}{}", "[".repeat(DEPTH_MAX + 2), "]".repeat(DEPTH_MAX + 2));
    assert_eq!(parse(deep.as_bytes()), Err(Error::TooDeep));
    let scalar = format!("{}1{}", "[".repeat(DEPTH_MAX + 1), "]".repeat(DEPTH_MAX + 1));
    assert_eq!(parse(scalar.as_bytes()), Err(Error::TooDeep));
    // A million open brackets: refused at the limit, in bounded time and stack.
    assert_eq!(parse("[".repeat(1_000_000).as_bytes()), Err(Error::TooDeep));
    assert_eq!(parse("[".repeat(100).as_bytes()), Err(Error::Syntax));
}

#[test]
fn number_types() {
    assert_eq!(Value::Real(3.0).as_unsigned(), Some(3));
    assert_eq!(Value::Real(-0.0).as_unsigned(), Some(0));
    assert_eq!(Value::Real(3.5).as_unsigned(), None);
    assert_eq!(Value::Integer(-3).as_unsigned(), None);
    assert_eq!(Value::Unsigned(u64::MAX).as_integer(), None);
    assert_eq!(Value::Unsigned(5).as_integer(), Some(5));
    assert_eq!(Value::Real(-2.0).as_integer(), Some(-2));
    assert_eq!(Value::Str(b"5".to_vec()).as_integer(), None);
}

#[test]
fn writer() {
    let mut out = vec![b'{'];
    push_str(&mut out, "s", b"a\"\\\x08\x0c\n\r\t\x01\x1f\x7f\xc3\xa9");
    push_u64(&mut out, "u", u64::MAX);
    push_i64(&mut out, "i", -5);
    push_bool(&mut out, "b", false);
    push_strv(&mut out, "v", &[&b"x"[..], b"y"]);
    push_strv::<&[u8]>(&mut out, "e", &[]);
    push_key(&mut out, "o");
    out.push(b'{');
    push_bool(&mut out, "t", true);
    out.extend_from_slice(b"}}");
    assert_eq!(
        String::from_utf8(out.clone()).unwrap(),
        "{\"s\":\"a\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\u{e9}\",\"u\":18446744073709551615,\"i\":-5,\"b\":false,\"v\":[\"x\",\"y\"],\"e\":[],\"o\":{\"t\":true}}"
    );
    // What the writer writes (without DEL), the reader reads back.
    let mut clean = vec![b'{'];
    push_str(&mut clean, "s", b"a\"\\\x08\n\x01");
    clean.push(b'}');
    assert_eq!(
        parse(&clean).unwrap().by_key("s"),
        Some(&Value::Str(b"a\"\\\x08\n\x01".to_vec()))
    );
}

#[test]
fn canonical_form_is_sd_json_format() {
    let c = |s: &[u8]| format_canonical(s).map(|v| String::from_utf8(v).unwrap());
    assert_eq!(
        c(b" { \"a\" : [ 1 , -0 , 2.5 ] ,\n\"b\":\"x\\/\\u0041\\u00e9\\n\\u001f\" , \"c\" : {\"d\":[[[[[[true]]]]]]} } ")
            .as_deref(),
        Some("{\"a\":[1,0,2.500000000000000000000e+00],\"b\":\"x/A\u{e9}\\n\\u001f\",\"c\":{\"d\":[[[[[[true]]]]]]}}")
    );
    assert_eq!(c(b"0.0").as_deref(), Some("0.000000000000000000000e+00"));
    assert_eq!(c(b"-1e-7").as_deref(), Some("-9.999999999999999547481e-08"));
    assert_eq!(c(b"1e400").as_deref(), Some("null"));
    assert_eq!(c(b"1e100").as_deref(), Some("1.000000000000000015903e+100"));
    assert_eq!(c(b"18446744073709551615").as_deref(), Some("18446744073709551615"));
    assert_eq!(c(b"{\"a\":}"), None);
    assert_eq!(c(b"\"\x7f\""), None);
}

#[test]
fn members_raw_are_top_level_members_only() {
    let m = br#" {"x":{"record":1}, "record" : {"a":[1,"]}"]} , "incomplete":false} "#;
    let members = members_raw(m).unwrap();
    let raw = |key: &[u8]| members.iter().find(|(k, _)| k.as_slice() == key).map(|(_, v)| *v);
    assert_eq!(members.len(), 3);
    assert_eq!(raw(b"record"), Some(&br#"{"a":[1,"]}"]}"#[..]));
    assert_eq!(raw(b"incomplete"), Some(&b"false"[..]));
    assert_eq!(raw(b"x"), Some(&br#"{"record":1}"#[..]));
    assert_eq!(raw(b"y"), None);
    assert_eq!(members_raw(b"[1]"), None);
    assert_eq!(
        members_raw(br#"{"a":-1.5e3}"#),
        Some(vec![(b"a".to_vec(), &b"-1.5e3"[..])])
    );
}

#[test]
fn strings_copy_runs_and_decode_escapes() {
    let s = |text: &[u8]| match parse(text) {
        Ok(Value::Str(s)) => Ok(s),
        Ok(other) => panic!("{other:?}"),
        Err(e) => Err(e),
    };
    for (text, want) in [
        (&br#""""#[..], &b""[..]),
        (br#""abc""#, b"abc"),
        (br#""a\nb""#, b"a\nb"),
        (br#""\"x\\""#, b"\"x\\"),
        (br#""\/\b\f\r\t""#, b"/\x08\x0c\r\t"),
        ("\"é€😀 x\"".as_bytes(), "é€😀 x".as_bytes()),
        (br#""a\u00e9b\ud83d\ude00c\u001f""#, "aéb😀c\u{1f}".as_bytes()),
        ("\"\\\\é\\\"\"".as_bytes(), "\\é\"".as_bytes()),
    ] {
        assert_eq!(s(text), Ok(want.to_vec()), "{}", String::from_utf8_lossy(text));
    }
    for bad in [
        &b"\"abc"[..],
        b"\"a\\",
        b"\"a\x7f\"",
        b"\"a\x1f\"",
        b"\"\t\"",
        b"\"\xc3\"",
        b"\"\xc3(\"",
        b"\"\xc0\xaf\"",
        b"\"\xed\xa0\x80\"",
        b"\"\xef\xbf\xbe\"",
        b"\"\xf4\x90\x80\x80\"",
        b"\"\xfe\"",
        b"\"\\x\"",
        b"\"\\u12\"",
        b"\"\\udc00\"",
        b"\"\\ud800\\u0041\"",
    ] {
        assert_eq!(s(bad), Err(Error::Syntax), "{}", String::from_utf8_lossy(bad));
    }
    assert_eq!(s(br#""ok\ufffe""#), Err(Error::NonCharacter));
}

#[test]
fn integers_and_where_they_become_reals() {
    for (text, want) in [
        (&b"0"[..], Value::Unsigned(0)),
        (b"-0", Value::Integer(0)),
        (b"-1", Value::Integer(-1)),
        (b"-9223372036854775808", Value::Integer(i64::MIN)),
        (b"-9223372036854775809", Value::Real(-9_223_372_036_854_775_809.0)),
        (b"18446744073709551615", Value::Unsigned(u64::MAX)),
        (b"18446744073709551616", Value::Real(18_446_744_073_709_551_616.0)),
        (
            b"123456789012345678901234",
            Value::Real(123_456_789_012_345_678_901_234.0),
        ),
        (b"1e2", Value::Real(100.0)),
        (b"-2.5E-1", Value::Real(-0.25)),
    ] {
        assert_eq!(parse(text), Ok(want), "{}", String::from_utf8_lossy(text));
    }
}

/// A container `KEEP_DEPTH` levels down is kept as its text, for the writer.
#[test]
fn containers_at_keep_depth_keep_their_text() {
    let text = format!(
        "{}{}{}",
        "[".repeat(KEEP_DEPTH),
        r#"{ "a" : [ 1 , [] ] }"#,
        "]".repeat(KEEP_DEPTH)
    );
    let mut v = &parse(text.as_bytes()).unwrap();
    for _ in 0..KEEP_DEPTH {
        v = match v {
            Value::Array(items) => items.first().unwrap(),
            other => panic!("{other:?}"),
        };
    }
    assert_eq!(v, &Value::Deep(br#"{ "a" : [ 1 , [] ] }"#.to_vec()));
}

/// The writer of parsed values writes what the token-by-token writer writes for their text, at
/// every depth (containers from `KEEP_DEPTH` down are written from their text).
#[test]
fn format_of_a_parsed_value_is_the_canonical_form_of_its_text() {
    let nested = |n: usize, inner: &str| format!("{}{inner}{}", "[ ".repeat(n), " ]".repeat(n));
    let mut texts: Vec<String> = [
        r#"{}"#,
        r#"[]"#,
        r#" { "a" : [ 1 , -0 , 2.5 , -9223372036854775808 , 18446744073709551615, 18446744073709551616 ] } "#,
        r#"{"b":"x\/\u0041\u00e9\n\u001f\u007f","c":{"d":[[[[[[true]]]]]]},"e":null,"f":false,"":{}}"#,
        r#"[0.0,-1e-7,1e400,1e100,-5,"\"\\\b\f\r\t"]"#,
        r#"{"record":{"userName":"a","perMachine":[{"matchMachineId":["x"],"resourceLimits":{"RLIMIT_NOFILE":{"cur":1,"max":[2,{"k":[3]}]}}}]}}"#,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for n in [KEEP_DEPTH - 1, KEEP_DEPTH, KEEP_DEPTH + 1, KEEP_DEPTH + 5] {
        texts.push(nested(n, r#"{ "k" : [ "v\n" , 1.5 , { } , [ ] ] , "l" : -3 }"#));
        texts.push(nested(n, "[ ] , { }"));
    }
    for text in &texts {
        let v = parse(text.as_bytes()).unwrap();
        assert_eq!(Some(format(&v)), format_canonical(text.as_bytes()), "{text}");
    }
}

#[test]
fn integers_written() {
    let mut out = vec![b'{'];
    push_u64(&mut out, "a", 0);
    push_i64(&mut out, "b", i64::MIN);
    push_i64(&mut out, "c", 0);
    push_i64(&mut out, "d", i64::MAX);
    push_u64(&mut out, "e", 10);
    out.push(b'}');
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"{"a":0,"b":-9223372036854775808,"c":0,"d":9223372036854775807,"e":10}"#
    );
}
