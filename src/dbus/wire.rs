//! The D-Bus wire format, for the few messages the module sends and reads (pure: no I/O).
//!
//! * **Writing**: [`Body`] appends the argument types the module sends (`u`, `t`, `b`, `s`, `o`,
//!   `h` and the `a(sv)` of session properties), tracking the signature as it goes;
//!   [`method_call`] puts a little-endian header in front of it (fields PATH, INTERFACE, MEMBER,
//!   DESTINATION, SIGNATURE, UNIX_FDS, in sd-bus's order; no flags).
//! * **Reading**: [`frame_len`] tells from a message's first 16 bytes how long it is;
//!   [`parse`] checks a whole message and reads its header fields; [`Cursor`] reads a body
//!   argument by argument. Both byte orders are read. Every length, offset and alignment is
//!   checked against the bytes that are there, padding must be zero, strings must be UTF-8 with
//!   their NUL and no other, booleans 0 or 1, object paths well formed; a message is at most
//!   [`MAX_MESSAGE`] bytes, as sd-bus allows. Nothing is allocated from a length the peer
//!   sent, and nothing recurses: a variant is read only when it holds a basic type.

use crate::limits::PropValue;

/// The largest message sd-bus accepts (`BUS_MESSAGE_SIZE_MAX`, 128 MiB).
pub const MAX_MESSAGE: usize = 128 << 20;

/// The largest array sd-bus accepts (`BUS_ARRAY_MAX_SIZE`, 64 MiB).
const MAX_ARRAY: usize = 64 << 20;

/// The fixed part of a header, with the length of the header fields' array.
pub const PREFIX: usize = 16;

/// Message types.
pub const METHOD_CALL: u8 = 1;
pub const METHOD_RETURN: u8 = 2;
pub const ERROR: u8 = 3;
pub const SIGNAL: u8 = 4;

/// Header field codes.
const PATH: u8 = 1;
const INTERFACE: u8 = 2;
const MEMBER: u8 = 3;
const ERROR_NAME: u8 = 4;
const REPLY_SERIAL: u8 = 5;
const DESTINATION: u8 = 6;
const SENDER: u8 = 7;
const SIGNATURE: u8 = 8;
const UNIX_FDS: u8 = 9;

/// Why bytes are not a message the module can read (sd-bus: `EBADMSG`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WireError(pub &'static str);

type Result<T> = std::result::Result<T, WireError>;

/// A value of a basic type, as the diagnosis reads `Properties.Get` replies (`s` and `o` both
/// read as text); `Other` for any other type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Val {
    U32(u32),
    U64(u64),
    Bool(bool),
    Str(String),
    Other,
}

impl Val {
    pub fn str(self) -> String {
        match self {
            Val::Str(s) => s,
            _ => String::new(),
        }
    }
    pub fn u32(&self) -> Option<u32> {
        match *self {
            Val::U32(n) => Some(n),
            _ => None,
        }
    }
    pub fn u64(&self) -> Option<u64> {
        match *self {
            Val::U64(n) => Some(n),
            _ => None,
        }
    }
    pub fn bool(&self) -> Option<bool> {
        match *self {
            Val::Bool(b) => Some(b),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

/// A message body being written (little endian), with its signature. A string that cannot be
/// sent (a NUL inside, not a valid object path, longer than the format allows) spoils the body:
/// [`method_call`] then refuses it, as sd-bus refuses to append it (`EINVAL`).
#[derive(Debug, Default, Clone)]
pub struct Body {
    bytes: Vec<u8>,
    signature: String,
    spoiled: bool,
}

impl Body {
    pub fn new() -> Self {
        Body::default()
    }

    /// The signature so far.
    pub fn signature(&self) -> &str {
        &self.signature
    }

    /// The bytes so far.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn pad(&mut self, to: usize) {
        pad(&mut self.bytes, to);
    }

    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.signature.push('u');
        put_u32(&mut self.bytes, v);
        self
    }

    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.signature.push('t');
        self.pad(8);
        self.bytes.extend_from_slice(&v.to_le_bytes());
        self
    }

    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.signature.push('b');
        put_u32(&mut self.bytes, u32::from(v));
        self
    }

    /// `h`: the index of an fd sent with the message.
    pub fn fd(&mut self, index: u32) -> &mut Self {
        self.signature.push('h');
        put_u32(&mut self.bytes, index);
        self
    }

    pub fn str(&mut self, s: &str) -> &mut Self {
        self.signature.push('s');
        if !put_str(&mut self.bytes, s) {
            self.spoiled = true;
        }
        self
    }

    pub fn path(&mut self, p: &str) -> &mut Self {
        self.signature.push('o');
        if !valid_path(p.as_bytes()) || !put_str(&mut self.bytes, p) {
            self.spoiled = true;
        }
        self
    }

    /// `a(sv)` of `u` and `t` values (the session properties).
    pub fn props(&mut self, props: &[(&str, PropValue)]) -> &mut Self {
        self.signature.push_str("a(sv)");
        put_u32(&mut self.bytes, 0);
        let len_at = self.bytes.len().wrapping_sub(4);
        self.pad(8);
        let start = self.bytes.len();
        for (key, value) in props {
            self.pad(8);
            if !put_str(&mut self.bytes, key) {
                self.spoiled = true;
            }
            let (sig, v) = match *value {
                PropValue::U32(n) => (b'u', u64::from(n)),
                PropValue::U64(n) => (b't', n),
            };
            self.bytes.extend_from_slice(&[1, sig, 0]);
            if sig == b'u' {
                put_u32(&mut self.bytes, u32::try_from(v).unwrap_or_default());
            } else {
                self.pad(8);
                self.bytes.extend_from_slice(&v.to_le_bytes());
            }
        }
        let len = self.bytes.len().saturating_sub(start);
        match (u32::try_from(len), self.bytes.get_mut(len_at..len_at.wrapping_add(4))) {
            (Ok(n), Some(slot)) if len <= MAX_ARRAY => slot.copy_from_slice(&n.to_le_bytes()),
            _ => self.spoiled = true,
        }
        self
    }
}

fn pad(bytes: &mut Vec<u8>, to: usize) {
    while !bytes.len().is_multiple_of(to) {
        bytes.push(0);
    }
}

fn put_u32(bytes: &mut Vec<u8>, v: u32) {
    pad(bytes, 4);
    bytes.extend_from_slice(&v.to_le_bytes());
}

/// A string with its length and NUL; false (nothing written) when it cannot be sent.
fn put_str(bytes: &mut Vec<u8>, s: &str) -> bool {
    let Ok(len) = u32::try_from(s.len()) else {
        return false;
    };
    if s.as_bytes().contains(&0) {
        return false;
    }
    put_u32(bytes, len);
    bytes.extend_from_slice(s.as_bytes());
    bytes.push(0);
    true
}

/// One header field holding a string-like value (`o`, `s` or `g`).
fn put_field(bytes: &mut Vec<u8>, code: u8, sig: u8, value: &str) -> bool {
    pad(bytes, 8);
    bytes.extend_from_slice(&[code, 1, sig, 0]);
    if sig == b'g' {
        let Ok(len) = u8::try_from(value.len()) else {
            return false;
        };
        bytes.push(len);
        bytes.extend_from_slice(value.as_bytes());
        bytes.push(0);
        true
    } else {
        put_str(bytes, value)
    }
}

/// Where a method call goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call<'a> {
    pub destination: &'a str,
    pub path: &'a str,
    pub interface: &'a str,
    pub member: &'a str,
}

/// The whole method call message: header (serial `serial`, `fds` fds announced) and `body`.
/// `None` when the body is spoiled or the message would be too large.
pub fn method_call(serial: u32, call: &Call<'_>, body: &Body, fds: u32) -> Option<Vec<u8>> {
    if body.spoiled || serial == 0 || !valid_path(call.path.as_bytes()) {
        return None;
    }
    let body_len = u32::try_from(body.bytes.len()).ok()?;
    let mut m = Vec::with_capacity(128 + body.bytes.len());
    m.extend_from_slice(&[b'l', METHOD_CALL, 0, 1]);
    m.extend_from_slice(&body_len.to_le_bytes());
    m.extend_from_slice(&serial.to_le_bytes());
    m.extend_from_slice(&[0; 4]);
    let mut ok = put_field(&mut m, PATH, b'o', call.path)
        && put_field(&mut m, INTERFACE, b's', call.interface)
        && put_field(&mut m, MEMBER, b's', call.member)
        && put_field(&mut m, DESTINATION, b's', call.destination);
    if ok && !body.signature.is_empty() {
        ok = put_field(&mut m, SIGNATURE, b'g', &body.signature);
    }
    if !ok {
        return None;
    }
    if fds > 0 {
        pad(&mut m, 8);
        m.extend_from_slice(&[UNIX_FDS, 1, b'u', 0]);
        m.extend_from_slice(&fds.to_le_bytes());
    }
    let fields_len = u32::try_from(m.len().checked_sub(PREFIX)?).ok()?;
    m.get_mut(12..PREFIX)?.copy_from_slice(&fields_len.to_le_bytes());
    pad(&mut m, 8);
    m.extend_from_slice(&body.bytes);
    (m.len() <= MAX_MESSAGE).then_some(m)
}

// ---------------------------------------------------------------------------------------------
// Reading

/// The whole length of the message that starts with `prefix` (its first [`PREFIX`] bytes), after
/// checking them: byte order, version, sizes within [`MAX_MESSAGE`].
pub fn frame_len(prefix: &[u8]) -> Result<usize> {
    let c = Cursor::new(prefix, endian_of(prefix)?);
    if prefix.get(3) != Some(&1) {
        return Err(WireError("not protocol version 1"));
    }
    let body_len = c.u32_at(4)?;
    let fields_len = c.u32_at(12)?;
    let header = PREFIX
        .checked_add(to_usize(fields_len)?)
        .ok_or(WireError("header too long"))?;
    let total = header
        .checked_add(header.wrapping_neg() % 8)
        .and_then(|h| h.checked_add(to_usize(body_len).ok()?))
        .ok_or(WireError("message too long"))?;
    if total > MAX_MESSAGE {
        return Err(WireError("message longer than 128 MiB"));
    }
    Ok(total)
}

fn to_usize(n: u32) -> Result<usize> {
    usize::try_from(n).map_err(|_| WireError("length out of range"))
}

fn endian_of(bytes: &[u8]) -> Result<bool> {
    match bytes.first() {
        Some(b'l') => Ok(false),
        Some(b'B') => Ok(true),
        _ => Err(WireError("unknown byte order")),
    }
}

/// A message's header, as read by [`parse`], and its body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    /// [`METHOD_CALL`], [`METHOD_RETURN`], [`ERROR`], [`SIGNAL`], or another type (to be ignored).
    pub kind: u8,
    pub serial: u32,
    pub reply_serial: Option<u32>,
    pub error_name: Option<&'a str>,
    pub path: Option<&'a str>,
    pub interface: Option<&'a str>,
    pub member: Option<&'a str>,
    pub destination: Option<&'a str>,
    pub sender: Option<&'a str>,
    /// The body's signature (empty when there is none).
    pub signature: &'a str,
    /// How many fds came with the message.
    pub unix_fds: u32,
    /// Big-endian.
    pub big: bool,
    /// The body's bytes (it starts 8-aligned in the message, so alignment within it is the same).
    pub body: &'a [u8],
}

impl<'a> Header<'a> {
    /// A reader of the body's arguments.
    pub fn cursor(&self) -> Cursor<'a> {
        Cursor::new(self.body, self.big)
    }
}

/// Reads a whole message (exactly [`frame_len`] bytes): its header fields, checked as sd-bus
/// checks them (known fields with their types, at most once each, those each type requires),
/// and its body's place.
pub fn parse(msg: &[u8]) -> Result<Header<'_>> {
    let prefix = msg.get(..PREFIX).ok_or(WireError("shorter than a header"))?;
    if frame_len(prefix)? != msg.len() {
        return Err(WireError("length differs from the header's"));
    }
    let big = endian_of(msg)?;
    let mut c = Cursor::new(msg, big);
    let kind = *msg.get(1).ok_or(WireError("shorter than a header"))?;
    if kind == 0 {
        return Err(WireError("message type 0"));
    }
    let serial = c.u32_at(8)?;
    if serial == 0 {
        return Err(WireError("serial 0"));
    }
    let fields_end = PREFIX.saturating_add(to_usize(c.u32_at(12)?)?);
    let mut h = Header {
        kind,
        serial,
        reply_serial: None,
        error_name: None,
        path: None,
        interface: None,
        member: None,
        destination: None,
        sender: None,
        signature: "",
        unix_fds: 0,
        big,
        body: &[],
    };
    let mut seen = 0u16;
    c.pos = PREFIX;
    while c.pos < fields_end {
        c.align(8)?;
        let code = c.u8()?;
        let sig = c.signature()?;
        let bit = 1u16.checked_shl(u32::from(code)).unwrap_or(0);
        if (1..=9).contains(&code) {
            if seen & bit != 0 {
                return Err(WireError("a header field twice"));
            }
            seen |= bit;
        }
        let want: &[u8] = match code {
            PATH => b"o",
            INTERFACE | MEMBER | ERROR_NAME | DESTINATION | SENDER => b"s",
            REPLY_SERIAL | UNIX_FDS => b"u",
            SIGNATURE => b"g",
            0 => return Err(WireError("header field 0")),
            _ => {
                c.skip_basic(sig)?;
                continue;
            }
        };
        if sig.as_bytes() != want {
            return Err(WireError("a header field of the wrong type"));
        }
        match code {
            PATH => h.path = Some(c.path()?),
            INTERFACE => h.interface = Some(c.str()?),
            MEMBER => h.member = Some(c.str()?),
            ERROR_NAME => {
                let name = c.str()?;
                if !valid_error_name(name.as_bytes()) {
                    return Err(WireError("an invalid error name"));
                }
                h.error_name = Some(name);
            }
            REPLY_SERIAL => h.reply_serial = Some(c.u32()?).filter(|&s| s != 0),
            DESTINATION => h.destination = Some(c.str()?),
            SENDER => h.sender = Some(c.str()?),
            SIGNATURE => h.signature = c.signature()?,
            _ => h.unix_fds = c.u32()?,
        }
    }
    if c.pos != fields_end {
        return Err(WireError("header fields overrun their array"));
    }
    c.align(8)?;
    h.body = msg.get(c.pos..).ok_or(WireError("body out of range"))?;
    if !h.body.is_empty() && h.signature.is_empty() {
        return Err(WireError("a body without a signature"));
    }
    let required = match kind {
        METHOD_CALL => h.path.is_some() && h.member.is_some(),
        METHOD_RETURN => h.reply_serial.is_some(),
        ERROR => h.reply_serial.is_some() && h.error_name.is_some(),
        SIGNAL => h.path.is_some() && h.interface.is_some() && h.member.is_some(),
        _ => true,
    };
    if !required {
        return Err(WireError("a header field its type requires is missing"));
    }
    Ok(h)
}

/// Reads arguments one after the other from a body (or a whole message: alignment counts from
/// the start of `bytes`).
#[derive(Clone, Debug)]
pub struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    big: bool,
}

impl<'a> Cursor<'a> {
    pub fn new(bytes: &'a [u8], big: bool) -> Self {
        Cursor { bytes, pos: 0, big }
    }

    /// Where the next read starts.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Whether everything has been read.
    pub fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }

    /// Fails unless everything has been read.
    pub fn end(&self) -> Result<()> {
        if self.at_end() {
            Ok(())
        } else {
            Err(WireError("bytes after the last argument"))
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or(WireError("length out of range"))?;
        let b = self.bytes.get(self.pos..end).ok_or(WireError("truncated"))?;
        self.pos = end;
        Ok(b)
    }

    /// Skips the padding to a multiple of `to`, which must be zero bytes.
    pub fn align(&mut self, to: usize) -> Result<()> {
        let n = self.pos.wrapping_neg() % to;
        if self.take(n)?.iter().any(|&b| b != 0) {
            return Err(WireError("padding is not zero"));
        }
        Ok(())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        self.align(N)?;
        self.take(N)?.try_into().map_err(|_| WireError("truncated"))
    }

    fn u32_at(&self, at: usize) -> Result<u32> {
        let mut c = self.clone();
        c.pos = at;
        c.u32()
    }

    pub fn u8(&mut self) -> Result<u8> {
        self.take(1)?.first().copied().ok_or(WireError("truncated"))
    }

    pub fn u32(&mut self) -> Result<u32> {
        let b = self.array::<4>()?;
        Ok(if self.big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    pub fn u64(&mut self) -> Result<u64> {
        let b = self.array::<8>()?;
        Ok(if self.big {
            u64::from_be_bytes(b)
        } else {
            u64::from_le_bytes(b)
        })
    }

    /// `b`: 0 or 1 only, as sd-bus reads it.
    pub fn bool(&mut self) -> Result<bool> {
        match self.u32()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(WireError("a boolean other than 0 or 1")),
        }
    }

    /// `h`: the index of one of the message's fds (checked by the caller).
    pub fn fd_index(&mut self) -> Result<u32> {
        self.u32()
    }

    /// The text of `len` bytes and its NUL.
    fn text(&mut self, len: usize) -> Result<&'a str> {
        let bytes = self.terminated(len)?;
        text_of(bytes)
    }

    /// `len` bytes and the NUL after them (not checked further).
    fn terminated(&mut self, len: usize) -> Result<&'a [u8]> {
        let bytes = self.take(len)?;
        if self.u8()? != 0 {
            return Err(WireError("a string without its NUL"));
        }
        Ok(bytes)
    }

    /// `s`.
    pub fn str(&mut self) -> Result<&'a str> {
        let len = to_usize(self.u32()?)?;
        self.text(len)
    }

    /// `o`: a well-formed object path.
    pub fn path(&mut self) -> Result<&'a str> {
        let p = self.str()?;
        if valid_path(p.as_bytes()) {
            Ok(p)
        } else {
            Err(WireError("an invalid object path"))
        }
    }

    /// `g`: a signature (its characters are type codes; at most 255 of them).
    pub fn signature(&mut self) -> Result<&'a str> {
        let len = usize::from(self.u8()?);
        let bytes = self.terminated(len)?;
        if bytes.iter().all(|&b| is_type_code(b)) {
            // Type codes are ASCII other than NUL: the text checks cannot fail.
            return text_of(bytes);
        }
        // Not a signature; the text checks come first, for the same error as any string.
        text_of(bytes)?;
        Err(WireError("an invalid signature"))
    }

    /// Skips one value of the single basic type `sig` (an unknown header field's).
    fn skip_basic(&mut self, sig: &str) -> Result<()> {
        match sig.as_bytes() {
            b"y" => self.u8().map(drop),
            b"n" | b"q" => self.array::<2>().map(drop),
            b"i" | b"u" | b"h" => self.u32().map(drop),
            b"b" => self.bool().map(drop),
            b"x" | b"t" | b"d" => self.u64().map(drop),
            b"s" => self.str().map(drop),
            b"o" => self.path().map(drop),
            b"g" => self.signature().map(drop),
            _ => Err(WireError("a header field of a type the module does not read")),
        }
    }

    /// `v` holding a basic type read as [`Val`] (`u`, `t`, `b`, `s`, `o`); anything else is
    /// [`Val::Other`], and the cursor is then left where the value starts (not read).
    pub fn variant(&mut self) -> Result<Val> {
        let sig = self.signature()?;
        Ok(match sig {
            "u" => Val::U32(self.u32()?),
            "t" => Val::U64(self.u64()?),
            "b" => Val::Bool(self.bool()?),
            "s" => Val::Str(self.str()?.to_owned()),
            "o" => Val::Str(self.path()?.to_owned()),
            _ => Val::Other,
        })
    }

    /// The start of an array whose elements align to `element_align`: reads its length and the
    /// padding before the first element, and returns where the array ends.
    pub fn array_start(&mut self, element_align: usize) -> Result<usize> {
        let len = to_usize(self.u32()?)?;
        if len > MAX_ARRAY {
            return Err(WireError("an array longer than 64 MiB"));
        }
        self.align(element_align)?;
        let end = self.pos.checked_add(len).ok_or(WireError("length out of range"))?;
        if end > self.bytes.len() {
            return Err(WireError("truncated"));
        }
        Ok(end)
    }
}

/// Bytes read as a string's text: no NUL inside, UTF-8.
fn text_of(bytes: &[u8]) -> Result<&str> {
    if bytes.contains(&0) {
        return Err(WireError("a NUL inside a string"));
    }
    std::str::from_utf8(bytes).map_err(|_| WireError("a string that is not UTF-8"))
}

/// A character of a signature: a type code (`ybnqiuxtdsogvha`) or a bracket of a struct or a
/// dict entry.
fn is_type_code(b: u8) -> bool {
    matches!(
        b,
        b'y' | b'b'
            | b'n'
            | b'q'
            | b'i'
            | b'u'
            | b'x'
            | b't'
            | b'd'
            | b's'
            | b'o'
            | b'g'
            | b'v'
            | b'h'
            | b'a'
            | b'('
            | b')'
            | b'{'
            | b'}'
    )
}

/// An object path: `/`, or `/`-separated non-empty elements of `[A-Za-z0-9_]`.
pub fn valid_path(p: &[u8]) -> bool {
    match p {
        b"/" => true,
        [b'/', rest @ ..] => rest
            .split(|&b| b == b'/')
            .all(|e| !e.is_empty() && e.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_')),
        _ => false,
    }
}

/// An error name (an interface name): at most 255 bytes, at least two `.`-separated elements
/// of `[A-Za-z0-9_]`, none empty or starting with a digit.
fn valid_error_name(n: &[u8]) -> bool {
    n.len() <= 255
        && n.contains(&b'.')
        && n.split(|&b| b == b'.').all(|e| {
            e.first().is_some_and(|b| !b.is_ascii_digit()) && e.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_')
        })
}

#[cfg(test)]
pub(crate) mod tests;
