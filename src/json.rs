//! systemd's JSON, read and written the way sd-json (`src/libsystemd/sd-json/sd-json.c`, `json.c`
//! before 254) does it, for the two places the module meets JSON: user records (`user::record_read`,
//! `user::record_write`) and Varlink messages (`varlink`).
//!
//! * Reading ([`parse`]): `sd_json_parse()`'s grammar and strictness: whitespace " \t\n\r" only,
//!   systemd's string rules (no raw control bytes or DEL, `\u0000`, lone surrogates and escaped
//!   non-characters refused, raw bytes valid UTF-8 by systemd's rules), its number rules
//!   (integers that do not fit 64 bits become reals), and its nesting limit. One iterative grammar
//!   (no recursion at all); containers nested deeper than [`KEEP_DEPTH`] are checked and not
//!   kept, so no input makes the reader hold much more memory than the input itself.
//! * Writing: `sd_json_variant_format(v, 0)`: no whitespace, members in the order written,
//!   strings escaped as `json_format_string()` escapes them ([`push_string`]).
//!
//! The input is another program's data (a PAM module's cached record, logind's reply), so the
//! reader is fuzzed (`fuzz/fuzz_targets/user_record.rs`, `fuzz/fuzz_targets/varlink_reply.rs`)
//! and run over systemd's own JSON and Varlink fuzz corpora (`tests/systemd_corpus.rs`).

use crate::user::utf8::{unichar_is_valid, utf8_char_len};

/// A parsed JSON value; containers nested deeper than `KEEP_DEPTH` are validated and kept as
/// their text only.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Unsigned(u64),
    Integer(i64),
    Real(f64),
    Str(Vec<u8>),
    Array(Vec<Value>),
    Object(Vec<(Vec<u8>, Value)>),
    /// A container at `KEEP_DEPTH` (its content is irrelevant to the readers): its text as given,
    /// already checked, for [`format()`]. Containers inside it are not kept at all.
    Deep(Vec<u8>),
}

/// json.c's DEPTH_MAX: a value nested more than this many levels below the top-level value is an
/// error (measured against libsystemd-shared-252).
pub const DEPTH_MAX: usize = 2048;
/// How many levels of containers are kept as values: a Varlink reply's top object and its
/// `parameters`, then a user record's five (top object, perMachine array, entry, matchMachineId
/// array / binding entry object / resourceLimits, and a perMachine entry's resourceLimits'
/// `RLIMIT_*` objects), so that the record inside a userdb reply reads as the record alone
/// does. It bounds the recursion of dropping, comparing and cloning a value.
const KEEP_DEPTH: usize = 7;

/// The bytes that end a string's run of bytes copied as they are: the quote, the backslash,
/// control bytes, DEL and non-ASCII bytes (a UTF-8 sequence to check).
// Indexing in a constant's evaluation: out of bounds would fail the build, never a login.
#[allow(clippy::indexing_slicing)]
const STOPS_RUN: [bool; 256] = {
    let mut t = [true; 256];
    let mut c = 0x20;
    while c < 0x7f {
        t[c] = c == b'"' as usize || c == b'\\' as usize;
        c += 1;
    }
    t
};

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    /// Set when parsing stopped at a `\u` escape of a non-character (U+FDD0..U+FDEF,
    /// U+xxFFFE/F): json.c's tokenizer accepts it, but the string then fails
    /// `utf8_is_valid()` when it becomes a variant, with EUCLEAN instead of EINVAL.
    unclean: bool,
    /// Set when parsing stopped at a value nested deeper than [`DEPTH_MAX`].
    too_deep: bool,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }
    /// json.c skips " \t\n\r" only.
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }
    fn eat(&mut self, lit: &[u8]) -> bool {
        if self.s.get(self.pos..).is_some_and(|r| r.starts_with(lit)) {
            self.pos += lit.len();
            true
        } else {
            false
        }
    }
    fn hex4(&mut self) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = char::from(self.peek()?).to_digit(16)?;
            v = v * 16 + d;
            self.pos += 1;
        }
        Some(v)
    }

    /// A string (after the opening quote): escapes \" \\ \/ \b \f \n \r \t \uXXXX (surrogate
    /// pairs combined; lone surrogates, \u0000 and non-characters refused); raw bytes below 0x20
    /// and DEL refused; raw bytes must be valid UTF-8 by systemd's rules. Runs of bytes that need
    /// no decoding are copied in one piece.
    fn string(&mut self) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        loop {
            // The run up to the next quote, backslash or control byte; a non-ASCII byte starts a
            // UTF-8 sequence that must be valid and then belongs to the run.
            let start = self.pos;
            loop {
                let rest = self.s.get(self.pos..)?;
                let stop = rest
                    .iter()
                    .position(|&c| STOPS_RUN.get(usize::from(c)) != Some(&false))?;
                self.pos += stop;
                if self.peek()? < 0x80 {
                    break;
                }
                self.pos += utf8_char_len(self.s.get(self.pos..)?)?;
            }
            let run = self.s.get(start..self.pos)?;
            if out.is_empty() && self.peek() == Some(b'"') {
                // No escape: the string is this run (one allocation of its size).
                self.pos += 1;
                return Some(run.to_vec());
            }
            out.extend_from_slice(run);
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Some(out);
                }
                b'\\' => self.escape(&mut out)?,
                // A control byte or DEL.
                _ => return None,
            }
        }
    }

    /// One escape (at its backslash), its character appended to `out`.
    fn escape(&mut self, out: &mut Vec<u8>) -> Option<()> {
        self.pos += 1;
        let e = self.peek()?;
        self.pos += 1;
        let simple = match e {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'/' => Some(b'/'),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'u' => None,
            _ => return None,
        };
        if let Some(b) = simple {
            out.push(b);
            return Some(());
        }
        let x = self.hex4()?;
        let ch = if (0xD800..=0xDBFF).contains(&x) {
            if !self.eat(b"\\u") {
                return None;
            }
            let y = self.hex4()?;
            if !(0xDC00..=0xDFFF).contains(&y) {
                return None;
            }
            0x10000 + ((x - 0xD800) << 10) + (y - 0xDC00)
        } else {
            x
        };
        if ch == 0 || (0xD800..=0xDFFF).contains(&ch) {
            return None;
        }
        if !unichar_is_valid(ch) {
            self.unclean = true;
            return None;
        }
        let mut buf = [0u8; 4];
        out.extend_from_slice(char::from_u32(ch)?.encode_utf8(&mut buf).as_bytes());
        Some(())
    }

    /// json_parse_number(): `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`; integers that overflow
    /// 64 bits become reals.
    fn number(&mut self) -> Option<Value> {
        let start = self.pos;
        let negative = self.eat(b"-");
        let int_start = self.pos;
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                while matches!(self.peek(), Some(b'0'..=b'9')) {
                    self.pos += 1;
                }
            }
            _ => return None,
        }
        let int_end = self.pos;
        let mut real = false;
        if self.eat(b".") {
            real = true;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return None;
            }
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.pos += 1;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            real = true;
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return None;
            }
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.pos += 1;
            }
        }
        if !real {
            // The digits' value, unless it overflows 64 bits.
            let magnitude = self.s.get(int_start..int_end)?.iter().try_fold(0u64, |v, &d| {
                v.checked_mul(10)?.checked_add(u64::from(d.wrapping_sub(b'0')))
            });
            match (magnitude, negative) {
                (Some(u), false) => return Some(Value::Unsigned(u)),
                (Some(u), true) => {
                    if let Some(i) = 0i64.checked_sub_unsigned(u) {
                        return Some(Value::Integer(i));
                    }
                }
                (None, _) => {}
            }
        }
        let text = std::str::from_utf8(self.s.get(start..self.pos)?).ok()?;
        // Note: systemd computes reals in long double with exp10l(), which is not always exact
        // (1e3 comes out below 1000); this is the correctly rounded value.
        text.parse::<f64>().ok().map(Value::Real)
    }

    /// One value (the top-level one), without recursion: containers being read are kept on an
    /// explicit stack, one frame per open container; those opened at `KEEP_DEPTH` or deeper are
    /// checked but not kept. A value (scalar or container) nested more than `DEPTH_MAX` levels
    /// below the top is refused.
    fn value(&mut self) -> Option<Value> {
        let mut stack: Vec<Frame> = Vec::new();
        'value: loop {
            // A value at nesting level stack.len().
            if stack.len() > DEPTH_MAX {
                self.too_deep = true;
                return None;
            }
            self.skip_ws();
            let mut done = match self.peek()? {
                c @ (b'{' | b'[') => {
                    self.pos += 1;
                    let is_obj = c == b'{';
                    stack.push(match (stack.len() >= KEEP_DEPTH, is_obj) {
                        (true, _) => Frame::Skip {
                            is_obj,
                            // The outermost skipped container keeps its text (from its bracket).
                            start: (stack.len() == KEEP_DEPTH).then_some(self.pos - 1),
                        },
                        (false, true) => Frame::Object(Vec::new(), Vec::new()),
                        (false, false) => Frame::Array(Vec::new()),
                    });
                    self.skip_ws();
                    if !self.eat(if is_obj { b"}" } else { b"]" }) {
                        if is_obj {
                            self.member_key(&mut stack)?;
                        }
                        continue 'value;
                    }
                    stack.pop()?.finish(self.s.get(..self.pos)?)
                }
                _ => self.scalar()?,
            };
            // Hand the finished value to its container; close containers that end here.
            loop {
                let Some(top) = stack.last_mut() else {
                    return Some(done);
                };
                let is_obj = top.add(done);
                self.skip_ws();
                if self.eat(if is_obj { b"}" } else { b"]" }) {
                    done = stack.pop()?.finish(self.s.get(..self.pos)?);
                    continue;
                }
                if !self.eat(b",") {
                    return None;
                }
                if is_obj {
                    self.skip_ws();
                    self.member_key(&mut stack)?;
                }
                continue 'value;
            }
        }
    }

    /// `"key"` and `:` of the next member of the object on top of `stack`.
    fn member_key(&mut self, stack: &mut [Frame]) -> Option<()> {
        if !self.eat(b"\"") {
            return None;
        }
        let k = self.string()?;
        self.skip_ws();
        if !self.eat(b":") {
            return None;
        }
        if let Some(Frame::Object(_, key)) = stack.last_mut() {
            *key = k;
        }
        Some(())
    }

    fn scalar(&mut self) -> Option<Value> {
        let c = self.peek()?;
        let v = match c {
            b'"' => {
                self.pos += 1;
                Value::Str(self.string()?)
            }
            b'-' | b'0'..=b'9' => self.number()?,
            _ if self.eat(b"true") => Value::Bool(true),
            _ if self.eat(b"false") => Value::Bool(false),
            _ if self.eat(b"null") => Value::Null,
            _ => return None,
        };
        // What may follow a value: whitespace, ',', ']', '}', ':' or the end ("1x", "truex" fail).
        match self.peek() {
            None | Some(b' ' | b'\t' | b'\n' | b'\r' | b',' | b']' | b'}' | b':') => Some(v),
            Some(_) => None,
        }
    }
}

/// A container being read by `Parser::value`.
enum Frame {
    /// An object: its members so far, and the key of the member being read.
    Object(Vec<(Vec<u8>, Value)>, Vec<u8>),
    Array(Vec<Value>),
    /// A container at `KEEP_DEPTH` or deeper: checked, not kept; the one at `KEEP_DEPTH` knows
    /// where its text starts.
    Skip {
        is_obj: bool,
        start: Option<usize>,
    },
}

impl Frame {
    /// Adds a finished member value; whether this container is an object.
    fn add(&mut self, v: Value) -> bool {
        match self {
            Frame::Object(members, key) => {
                members.push((std::mem::take(key), v));
                true
            }
            Frame::Array(items) => {
                items.push(v);
                false
            }
            Frame::Skip { is_obj, .. } => *is_obj,
        }
    }

    /// The value of a closed container; `read` is the input up to its closing bracket.
    fn finish(self, read: &[u8]) -> Value {
        match self {
            Frame::Object(members, _) => Value::Object(members),
            Frame::Array(items) => Value::Array(items),
            Frame::Skip { start, .. } => Value::Deep(start.and_then(|i| read.get(i..)).unwrap_or_default().to_vec()),
        }
    }
}

/// Why [`parse`] refused its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Not JSON (sd-json: `EINVAL`).
    Syntax,
    /// A `\u` escape of a non-character: the tokenizer takes it, the string then fails
    /// `utf8_is_valid()` (sd-json: `EUCLEAN`).
    NonCharacter,
    /// Nested deeper than `DEPTH_MAX` (sd-json 262: `ELNRNG`).
    TooDeep,
}

/// `sd_json_parse(s, 0)`: one value, surrounded by optional " \t\n\r" only.
pub fn parse(s: &[u8]) -> Result<Value, Error> {
    let mut p = Parser {
        s,
        pos: 0,
        unclean: false,
        too_deep: false,
    };
    let Some(v) = p.value() else {
        return Err(if p.unclean {
            Error::NonCharacter
        } else if p.too_deep {
            Error::TooDeep
        } else {
            Error::Syntax
        });
    };
    p.skip_ws();
    if p.pos == s.len() { Ok(v) } else { Err(Error::Syntax) }
}

impl Value {
    /// The members of an object (none for any other value).
    pub fn members(&self) -> &[(Vec<u8>, Value)] {
        match self {
            Value::Object(m) => m,
            _ => &[],
        }
    }

    /// `sd_json_variant_by_key()`: the first member with that key.
    pub fn by_key(&self, key: &str) -> Option<&Value> {
        self.members()
            .iter()
            .find(|(k, _)| k.as_slice() == key.as_bytes())
            .map(|(_, v)| v)
    }

    /// `sd_json_variant_has_type(v, UNSIGNED)` + `sd_json_variant_unsigned()`: a non-negative
    /// integer, or a real that converts to `u64` and back unchanged.
    pub fn as_unsigned(&self) -> Option<u64> {
        match *self {
            Value::Unsigned(u) => Some(u),
            Value::Integer(i) => u64::try_from(i).ok(),
            // (double)(uint64_t) r == r; -0.0 passes.
            Value::Real(r) if r.fract() == 0.0 && r > -1.0 && r < 18_446_744_073_709_551_616.0 => Some(r as u64),
            _ => None,
        }
    }

    /// `sd_json_variant_has_type(v, INTEGER)` + `sd_json_variant_integer()`: an integer that fits
    /// `i64`, or a real that converts to `i64` and back unchanged.
    pub fn as_integer(&self) -> Option<i64> {
        match *self {
            Value::Integer(i) => Some(i),
            Value::Unsigned(u) => i64::try_from(u).ok(),
            // (double)(int64_t) r == r
            Value::Real(r)
                if r.fract() == 0.0 && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&r) =>
            {
                Some(r as i64)
            }
            _ => None,
        }
    }

    /// The bytes of a string value.
    pub fn as_str(&self) -> Option<&[u8]> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Writing: sd_json_variant_format(v, 0)
// ---------------------------------------------------------------------------------------------

/// `json_format_string()`: `"`, `\`, \b \f \n \r \t escaped; other bytes below 0x20 as `\u00xx`
/// (lower-case hex); everything else (DEL, non-ASCII UTF-8) raw.
pub fn push_string(out: &mut Vec<u8>, s: &[u8]) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let mut rest = s;
    // Runs without a byte to escape are copied in one piece.
    while let Some(i) = rest.iter().position(|&c| c < 0x20 || c == b'"' || c == b'\\') {
        let Some((run, tail)) = rest.split_at_checked(i) else {
            break;
        };
        let Some((&c, tail)) = tail.split_first() else { break };
        out.extend_from_slice(run);
        rest = tail;
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            c if c < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX.get(usize::from(c >> 4)).copied().unwrap_or(b'0'));
                out.push(HEX.get(usize::from(c & 0xf)).copied().unwrap_or(b'0'));
            }
            c => out.push(c),
        }
    }
    out.extend_from_slice(rest);
    out.push(b'"');
}

/// Appends `,"key":` to an object being written (the comma only when the object already has a
/// member, i.e. when the last byte is not its `{`).
pub fn push_key(out: &mut Vec<u8>, key: &str) {
    if out.last() != Some(&b'{') {
        out.push(b',');
    }
    push_string(out, key.as_bytes());
    out.push(b':');
}

/// `"key":123` (an unsigned member).
pub fn push_u64(out: &mut Vec<u8>, key: &str, v: u64) {
    push_key(out, key);
    push_decimal(out, v, false);
}

/// `"key":-123` (a signed member).
pub fn push_i64(out: &mut Vec<u8>, key: &str, v: i64) {
    push_key(out, key);
    push_decimal(out, v.unsigned_abs(), v < 0);
}

/// `"key":true` / `false`.
pub fn push_bool(out: &mut Vec<u8>, key: &str, v: bool) {
    push_key(out, key);
    out.extend_from_slice(if v { b"true" } else { b"false" });
}

/// `"key":"value"` (the value escaped by [`push_string`]).
pub fn push_str(out: &mut Vec<u8>, key: &str, v: &[u8]) {
    push_key(out, key);
    push_string(out, v);
}

/// `"key":["a","b"]`.
pub fn push_strv<S: AsRef<[u8]>>(out: &mut Vec<u8>, key: &str, v: &[S]) {
    push_key(out, key);
    out.push(b'[');
    for (i, s) in v.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_string(out, s.as_ref());
    }
    out.push(b']');
}

/// `sd_json_variant_format(v, 0)` of what `sd_json_parse()` makes of `raw` (a value [`parse`]
/// accepted): whitespace dropped, strings decoded and escaped again by [`push_string`], integers
/// in decimal, reals as `%.21e` (`DECIMAL_DIG`; not finite: `null`), members and elements in
/// their order, at any depth. Iterative (no recursion). None if `raw` is not JSON.
///
/// Reals: the value is the correctly rounded one; sd-json 257 (`exp10()`) and 262 (`xexp10i()`)
/// compute some reals with exponents one ulp away, which would print differently.
pub fn format_canonical(raw: &[u8]) -> Option<Vec<u8>> {
    parse(raw).ok()?;
    let mut out = Vec::with_capacity(raw.len());
    push_canonical(&mut out, raw)?;
    Some(out)
}

/// [`format_canonical`]'s writing, token by token, of text [`parse`] accepted (a `Deep` one).
fn push_canonical(out: &mut Vec<u8>, raw: &[u8]) -> Option<()> {
    let mut p = Parser {
        s: raw,
        pos: 0,
        unclean: false,
        too_deep: false,
    };
    loop {
        p.skip_ws();
        let Some(c) = p.peek() else { break };
        match c {
            b'{' | b'}' | b'[' | b']' | b',' | b':' => {
                out.push(c);
                p.pos += 1;
            }
            b'"' => {
                p.pos += 1;
                let s = p.string()?;
                push_string(out, &s);
            }
            b't' | b'f' | b'n' => {
                let lit: &[u8] = match c {
                    b't' => b"true",
                    b'f' => b"false",
                    _ => b"null",
                };
                if !p.eat(lit) {
                    return None;
                }
                out.extend_from_slice(lit);
            }
            _ => match p.number()? {
                v @ (Value::Unsigned(_) | Value::Integer(_) | Value::Real(_)) => push_scalar(out, &v),
                _ => return None,
            },
        }
    }
    Some(())
}

/// `sd_json_variant_format(v, 0)` of a value [`parse`] made: what [`format_canonical`] writes
/// for the text it was parsed from (`Deep` containers are written from their text).
/// Iterative (no recursion).
pub fn format(v: &Value) -> Vec<u8> {
    /// A container being written: its members or elements still to come.
    enum Open<'v> {
        Object(std::slice::Iter<'v, (Vec<u8>, Value)>),
        Array(std::slice::Iter<'v, Value>),
    }
    let mut out = Vec::with_capacity(256);
    let mut stack: Vec<Open<'_>> = Vec::new();
    let mut next = Some(v);
    loop {
        match next.take() {
            Some(Value::Object(members)) => {
                out.push(b'{');
                stack.push(Open::Object(members.iter()));
            }
            Some(Value::Array(items)) => {
                out.push(b'[');
                stack.push(Open::Array(items.iter()));
            }
            Some(Value::Deep(text)) => {
                // Checked when it was parsed: this cannot fail.
                let _ = push_canonical(&mut out, text);
            }
            Some(scalar) => push_scalar(&mut out, scalar),
            None => {}
        }
        // The next member or element of the innermost open container, or its end.
        let Some(open) = stack.last_mut() else { return out };
        let first = matches!(out.last(), Some(b'{' | b'['));
        match open {
            Open::Object(members) => match members.next() {
                Some((key, value)) => {
                    if !first {
                        out.push(b',');
                    }
                    push_string(&mut out, key);
                    out.push(b':');
                    next = Some(value);
                }
                None => {
                    out.push(b'}');
                    stack.pop();
                }
            },
            Open::Array(items) => match items.next() {
                Some(value) => {
                    if !first {
                        out.push(b',');
                    }
                    next = Some(value);
                }
                None => {
                    out.push(b']');
                    stack.pop();
                }
            },
        }
    }
}

/// A scalar as `sd_json_variant_format()` writes it (containers write nothing here).
fn push_scalar(out: &mut Vec<u8>, v: &Value) {
    match *v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        Value::Unsigned(u) => push_decimal(out, u, false),
        Value::Integer(i) => push_decimal(out, i.unsigned_abs(), i < 0),
        Value::Real(r) => push_real(out, r),
        Value::Str(ref s) => push_string(out, s),
        Value::Array(_) | Value::Object(_) | Value::Deep(_) => {}
    }
}

/// An integer in decimal, `-` first when `negative`.
fn push_decimal(out: &mut Vec<u8>, mut u: u64, negative: bool) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        if let Some(d) = digits.get_mut(i) {
            *d = b'0' + (u % 10) as u8;
        }
        u /= 10;
        if u == 0 || i == 0 {
            break;
        }
    }
    if negative {
        out.push(b'-');
    }
    out.extend_from_slice(digits.get(i..).unwrap_or_default());
}

/// `fprintf("%.*e", DECIMAL_DIG, r)` after `sd_json_variant_new_real()` (NaN and infinities
/// become `null`).
fn push_real(out: &mut Vec<u8>, r: f64) {
    if !r.is_finite() {
        out.extend_from_slice(b"null");
        return;
    }
    let r = if r == 0.0 { 0.0 } else { r };
    let s = format!("{r:.21e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((s.as_str(), "0"));
    let (sign, digits) = exp.strip_prefix('-').map_or(("+", exp), |d| ("-", d));
    out.extend_from_slice(mantissa.as_bytes());
    out.push(b'e');
    out.extend_from_slice(sign.as_bytes());
    if digits.len() < 2 {
        out.push(b'0');
    }
    out.extend_from_slice(digits.as_bytes());
}

/// The members of the top-level object `raw` (if [`parse`] accepts it and it is an object): each
/// key decoded, each value's raw text without surrounding whitespace, in order.
pub fn members_raw(raw: &[u8]) -> Option<Vec<(Vec<u8>, &[u8])>> {
    parse(raw).ok()?;
    let mut p = Parser {
        s: raw,
        pos: 0,
        unclean: false,
        too_deep: false,
    };
    let mut out = Vec::new();
    p.skip_ws();
    if !p.eat(b"{") {
        return None;
    }
    p.skip_ws();
    if p.eat(b"}") {
        return Some(out);
    }
    loop {
        p.skip_ws();
        if !p.eat(b"\"") {
            return None;
        }
        let k = p.string()?;
        p.skip_ws();
        if !p.eat(b":") {
            return None;
        }
        p.skip_ws();
        let start = p.pos;
        p.skip_value()?;
        out.push((k, raw.get(start..p.pos)?));
        p.skip_ws();
        if p.eat(b"}") {
            return Some(out);
        }
        if !p.eat(b",") {
            return None;
        }
    }
}

impl Parser<'_> {
    /// Moves past one value of JSON already checked by [`parse`], counting brackets outside
    /// strings (no recursion).
    fn skip_value(&mut self) -> Option<()> {
        let mut depth: usize = 0;
        loop {
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    self.string()?;
                }
                b'{' | b'[' => {
                    depth += 1;
                    self.pos += 1;
                    continue;
                }
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    self.pos += 1;
                }
                b',' | b':' | b' ' | b'\t' | b'\n' | b'\r' => {
                    if depth == 0 {
                        return Some(());
                    }
                    self.pos += 1;
                    continue;
                }
                _ => {
                    while matches!(self.peek(), Some(b'a'..=b'z' | b'0'..=b'9' | b'-' | b'+' | b'.' | b'E')) {
                        self.pos += 1;
                    }
                }
            }
            if depth == 0 {
                return Some(());
            }
        }
    }
}

#[cfg(test)]
mod tests;
