//! The user record reader: a record cached as PAM data by an earlier module, read the way
//! pam_systemd v252 reads it (`json_parse(JSON_PARSE_SENSITIVE)` +
//! `user_record_load(USER_RECORD_LOAD_REFUSE_SECRET|USER_RECORD_PERMISSIVE)`,
//! `src/shared/json.c`, `src/shared/user-record.c`), reduced to what the module uses next:
//! `userName` and `uid`. The input is another module's data, so this is fuzzed
//! (`fuzz/fuzz_targets/user_record.rs`). The JSON grammar itself is `crate::json`'s.

use super::process;
use super::settings::{self, RecordSettings};
use super::uid_is_valid;
use super::utf8::valid_user_name_relaxed;
use crate::json::{self, Value};
use crate::parse::cstr;

/// What a cached record's `perMachine` and `binding` sections are matched against: the machine ID
/// (`sd_id128_get_machine()`) and the host name (`gethostname_malloc()`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Machine {
    /// None when /etc/machine-id is missing, invalid or all-zero.
    pub machine_id: Option<[u8; 16]>,
    pub hostname: Option<Vec<u8>>,
}

impl Machine {
    /// This machine: /etc/machine-id and uname's nodename ("localhost" when empty or "(none)").
    pub fn current() -> Machine {
        let machine_id = std::fs::read("/etc/machine-id").ok().and_then(|b| {
            let t = b.strip_suffix(b"\n").unwrap_or(&b);
            if t.len() != 32 {
                return None;
            }
            parse_id128(t).filter(|id| id.iter().any(|&x| x != 0))
        });
        // SAFETY: utsname is plain data; uname fills it with NUL-terminated strings.
        let mut u: libc::utsname = unsafe { std::mem::zeroed() };
        // SAFETY: `u` is a valid, writable utsname.
        let hostname = if unsafe { libc::uname(&mut u) } == 0 {
            let n: Vec<u8> = u.nodename.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
            Some(if n.is_empty() || n == b"(none)" {
                b"localhost".to_vec()
            } else {
                n
            })
        } else {
            None
        };
        Machine { machine_id, hostname }
    }
}

/// `SD_ID128_TO_STRING()`: 32 lower-case hex digits.
pub(crate) fn id128_hex(id: &[u8; 16]) -> [u8; 32] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b'0'; 32];
    for (pair, &x) in out.chunks_exact_mut(2).zip(id) {
        for (o, nibble) in pair.iter_mut().zip([x >> 4, x & 0xf]) {
            *o = HEX.get(usize::from(nibble)).copied().unwrap_or(b'0');
        }
    }
    out
}

/// `sd_id128_from_string()`: 32 hex digits (either case), or the 36-character UUID form with
/// dashes at positions 8, 13, 18, 23.
pub(crate) fn parse_id128(s: &[u8]) -> Option<[u8; 16]> {
    let digits: Vec<u8> = match s.len() {
        32 => s.to_vec(),
        36 => {
            let mut d = Vec::with_capacity(32);
            for (i, &c) in s.iter().enumerate() {
                if matches!(i, 8 | 13 | 18 | 23) {
                    if c != b'-' {
                        return None;
                    }
                } else {
                    d.push(c);
                }
            }
            d
        }
        _ => return None,
    };
    let mut out = [0u8; 16];
    for (o, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let hi = char::from(*pair.first()?).to_digit(16)?;
        let lo = char::from(*pair.get(1)?).to_digit(16)?;
        *o = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(out)
}

/// `json_parse()`: one value; the errno on failure (v252: EINVAL, EUCLEAN for an escaped
/// non-character; too deep a nesting was measured as EINVAL too).
fn parse_json(s: &[u8]) -> Result<Value, i32> {
    json::parse(s).map_err(|e| match e {
        json::Error::NonCharacter => libc::EUCLEAN,
        json::Error::Syntax | json::Error::TooDeep => libc::EINVAL,
    })
}

fn members(v: &Value) -> &[(Vec<u8>, Value)] {
    v.members()
}

/// `json_variant_by_key()`: the first member with that key.
fn by_key<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    v.by_key(key)
}

/// `json_variant_has_type(v, JSON_VARIANT_UNSIGNED)` + `json_variant_unsigned()`.
fn as_unsigned(v: &Value) -> Option<u64> {
    v.as_unsigned()
}

/// `json_dispatch()` of a "uid" field in permissive mode: the first member whose type is right
/// (unsigned) decides; a value out of range or invalid leaves `uid` unchanged.
fn dispatch_uid(obj: &Value, uid: &mut Option<u32>) {
    let first = members(obj)
        .iter()
        .find(|(k, v)| k.as_slice() == b"uid" && as_unsigned(v).is_some());
    if let Some(u) = first
        .and_then(|(_, v)| as_unsigned(v))
        .and_then(|u| u32::try_from(u).ok())
        && uid_is_valid(u)
    {
        *uid = Some(u);
    }
}

/// `json_dispatch()`'s choice for one field: the first member named `key` whose value has the
/// field's type (members of another type are skipped; later ones of the right type are duplicates).
fn first_of<'v>(obj: &'v Value, key: &str, right_type: fn(&Value) -> bool) -> Option<&'v Value> {
    members(obj)
        .iter()
        .find(|(k, v)| k.as_slice() == key.as_bytes() && right_type(v))
        .map(|(_, v)| v)
}

fn is_str(v: &Value) -> bool {
    matches!(v, Value::Str(_))
}

fn is_array(v: &Value) -> bool {
    matches!(v, Value::Array(_))
}

/// A string field whose dispatcher accepts it (`check`), else None (the field stays as it was).
fn string_field(obj: &Value, key: &str, check: fn(&[u8]) -> bool) -> Option<Vec<u8>> {
    match first_of(obj, key, is_str) {
        Some(Value::Str(v)) if check(v) => Some(v.clone()),
        _ => None,
    }
}

/// An array-of-strings field whose dispatcher accepts every element, else None.
fn strings_field(obj: &Value, key: &str, check: fn(&[u8]) -> bool) -> Option<Vec<Vec<u8>>> {
    let Some(Value::Array(items)) = first_of(obj, key, is_array) else {
        return None;
    };
    items
        .iter()
        .map(|e| match e {
            Value::Str(v) if check(v) => Some(v.clone()),
            _ => None,
        })
        .collect()
}

/// The settings fields of the regular section (`regular`) or of a matching `perMachine` entry,
/// over what earlier sections set (`json_dispatch_environment()`, `json_dispatch_string()` with
/// `JSON_SAFE`, 257's `json_dispatch_locale(s)`).
fn dispatch_settings(obj: &Value, out: &mut RecordSettings, regular: bool) {
    if let Some(entries) = strings_field(obj, "environment", settings::env_assignment_is_valid) {
        // strv_env_replace_strdup(): a name seen again keeps its place and takes the new value.
        let mut env: Vec<Vec<u8>> = Vec::new();
        for e in entries {
            let name_len = e.iter().position(|&c| c == b'=').unwrap_or(e.len());
            let name = e.get(..=name_len).unwrap_or(&e);
            match env.iter_mut().find(|x| x.starts_with(name)) {
                Some(slot) => *slot = e,
                None => env.push(e),
            }
        }
        out.environment = env;
    }
    if regular && let Some(v) = string_field(obj, "emailAddress", settings::string_is_safe) {
        out.email = Some(v);
    }
    if let Some(v) = string_field(obj, "timeZone", settings::string_is_safe) {
        out.time_zone = Some(v);
    }
    // The languages, once per reading (`rules::Languages`).
    if let Some(v) = string_field(obj, "preferredLanguage", settings::string_is_safe) {
        out.preferred_language = Some(v);
    }
    if let Some(v) = string_field(obj, "preferredLanguage", settings::locale_is_name) {
        out.preferred_locale = Some(v);
    }
    if let Some(v) = strings_field(obj, "additionalLanguages", settings::locale_is_name) {
        out.additional_languages = v;
    }
    // 257: sd_json_dispatch_strv() with SD_JSON_STRICT.
    if let Some(v) = strings_field(obj, "capabilityAmbientSet", settings::string_is_safe) {
        out.capability_ambient = Some(v);
    }
    if let Some(v) = strings_field(obj, "capabilityBoundingSet", settings::string_is_safe) {
        out.capability_bounding = Some(v);
    }
}

/// `json_dispatch()` of a field whose table type is "any" (`_JSON_VARIANT_TYPE_INVALID`): the
/// first member with that key, whatever its type (later ones are duplicates, also when the
/// first one's dispatcher refuses it).
fn first_any<'v>(obj: &'v Value, key: &str) -> Option<&'v Value> {
    first_of(obj, key, |_| true)
}

/// `json_dispatch_rlimit_value()`: null is unlimited, else an unsigned number below
/// `RLIM_INFINITY`.
fn rlimit_value(v: &Value) -> Option<u64> {
    match v {
        Value::Null => Some(process::RLIM_INFINITY),
        v => as_unsigned(v).filter(|&u| u != process::RLIM_INFINITY),
    }
}

/// `json_dispatch_rlimits()` on an object: each `RLIMIT_<NAME>` member in order, an object of
/// exactly two members of which `cur` and `max` are limit values. The first bad member stops it;
/// the limits set before it stay (the dispatcher fails, and permissive loading keeps the rest).
fn dispatch_rlimits(members: &[(Vec<u8>, Value)], limits: &mut [Option<process::Limit>; process::RLIMIT_COUNT]) {
    for (key, value) in members {
        let Some(slot) = key
            .strip_prefix(b"RLIMIT_".as_slice())
            .and_then(process::rlimit_index)
            .and_then(|i| limits.get_mut(i))
        else {
            return;
        };
        let Value::Object(fields) = value else { return };
        if fields.len() != 2 {
            return;
        }
        let Some(cur) = by_key(value, "cur").and_then(rlimit_value) else {
            return;
        };
        let Some(max) = by_key(value, "max").and_then(rlimit_value) else {
            return;
        };
        *slot = Some(process::Limit { cur, max });
    }
}

/// The process settings of the regular section or of a matching `perMachine` entry, over what
/// earlier sections set (`json_dispatch_umask()` of 252/257 for an unsigned `umask`; 262's
/// `json_dispatch_access_mode()` with `SD_JSON_STRICT` for a `umask` of any type;
/// `json_dispatch_nice()`, `json_dispatch_rlimits()`). A value the dispatcher refuses leaves the
/// field as it was.
fn dispatch_process(obj: &Value, out: &mut process::ProcessSettings) {
    if let Some(u) = first_of(obj, "umask", |v| as_unsigned(v).is_some()).and_then(as_unsigned)
        && u <= process::UMASK_MAX
    {
        out.umask = u32::try_from(u).ok();
    }
    match first_any(obj, "umask") {
        Some(Value::Null) => out.umask_as_access_mode = None,
        Some(Value::Str(s)) => {
            if let Some(m) = process::umask_octal_string(s) {
                out.umask_as_access_mode = Some(m);
            }
        }
        Some(v) => {
            if let Some(u) = as_unsigned(v).filter(|&u| u <= process::UMASK_MAX) {
                out.umask_as_access_mode = u32::try_from(u).ok();
            }
        }
        None => {}
    }
    match first_any(obj, "niceLevel") {
        Some(Value::Null) => out.nice = None,
        Some(v) => {
            if let Some(n) = v.as_integer().filter(|n| process::NICE_RANGE.contains(n)) {
                out.nice = i32::try_from(n).ok();
            }
        }
        None => {}
    }
    match first_any(obj, "resourceLimits") {
        Some(Value::Null) => out.rlimits = Default::default(),
        Some(Value::Object(members)) => dispatch_rlimits(members, &mut out.rlimits),
        _ => {}
    }
}

/// `per_machine_match()`: matchMachineId (a string or an array of strings, each a 128-bit ID in
/// either form; others ignored) or matchHostname (a string compared exactly). Err where v252 fails
/// or crashes (a matchHostname array: it calls strcmp on NULL).
fn per_machine_match(entry: &Value, machine: &Machine) -> Result<bool, ()> {
    if let Some(m) = by_key(entry, "matchMachineId") {
        let ids: Vec<&Value> = match m {
            Value::Array(items) => items.iter().collect(),
            v => vec![v],
        };
        for id in ids {
            if let Value::Str(s) = id
                && let Some(id) = parse_id128(s)
                && Some(id) == machine.machine_id
            {
                return Ok(true);
            }
        }
        if machine.machine_id.is_none() {
            return Err(());
        }
    }
    if let Some(m) = by_key(entry, "matchHostname") {
        match m {
            Value::Str(s) => {
                let hn = machine.hostname.as_deref().ok_or(())?;
                if s.as_slice() == hn {
                    return Ok(true);
                }
            }
            Value::Array(_) => return Err(()),
            _ => {}
        }
    }
    Ok(false)
}

/// [`cached_identity`] on a given machine instead of this one.
#[cfg(test)]
pub fn cached_identity_for(json: &[u8], machine: &Machine) -> Result<(String, Option<u32>), ()> {
    identity(json, || machine.clone())
        .map(|r| (r.name, r.uid))
        .map_err(drop)
}

/// Reads a user record cached as PAM data the way pam_systemd v252 does (`json_parse` +
/// `user_record_load(..., USER_RECORD_LOAD_REFUSE_SECRET|USER_RECORD_PERMISSIVE)`), for the
/// fields it uses next. `json` is the C string stored (bytes after a NUL are ignored).
///
/// Err(()) where the C module fails with PAM_SERVICE_ERR before comparing names (see
/// `load_cached` for which of its two lines). Ok((userName, uid)): the caller compares
/// userName with the PAM user ("Acquired user record does not match user name.") and needs a
/// uid (None: "... does not have a UID.").
///
/// The uid is the top-level `uid`, overridden by matching `perMachine` entries (in order) and
/// then by `binding.<machine-id>.uid`, which is why the record may need this machine's
/// `Machine::current` (read only when it has a `perMachine` or `binding` section).
#[allow(clippy::result_unit_err)] // one outcome only: the C module's PAM_SERVICE_ERR
pub fn cached_identity(json: &[u8]) -> Result<(String, Option<u32>), ()> {
    identity(json, Machine::current).map(|r| (r.name, r.uid)).map_err(drop)
}

/// What 262's story needs of a record's JSON (cached or freshly formatted), top-level fields
/// only: `homeDirectory` (`user_record_home_directory()` without homed's fallback and auto home,
/// which NSS records never have), `defaultArea` and `gid`; `perMachine`/`binding` overrides are
/// not read here. A value that is not JSON gives nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HomeFields {
    pub home: Option<Vec<u8>>,
    pub default_area: Option<Vec<u8>>,
    pub gid: Option<u32>,
}

/// Reads [`HomeFields`] from a record's JSON.
pub fn home_fields(json: &[u8]) -> HomeFields {
    let Ok(v) = parse_json(cstr(json)) else {
        return HomeFields::default();
    };
    let string = |key: &str| match by_key(&v, key) {
        Some(Value::Str(s)) => Some(s.clone()),
        _ => None,
    };
    HomeFields {
        home: string("homeDirectory").filter(|h| h.starts_with(b"/")),
        default_area: string("defaultArea").filter(|a| settings::filename_is_valid(a)),
        gid: by_key(&v, "gid")
            .and_then(as_unsigned)
            .and_then(|g| u32::try_from(g).ok())
            .filter(|&g| uid_is_valid(g)),
    }
}

/// What the session needs of a cached record: name, uid and the declared disposition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedRecord {
    pub name: String,
    pub uid: Option<u32>,
    /// The first string `disposition` member, if it names a disposition.
    pub disposition: Option<crate::context::Disposition>,
    /// What the record says about the session's environment.
    pub settings: RecordSettings,
    /// What the record asks of the calling process (umask, nice level, resource limits).
    pub process: process::ProcessSettings,
}

/// Why a cached record was refused: its C line and errno.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordError {
    /// `Failed to parse JSON user record: %m` (not JSON at all: EINVAL)
    Parse(i32),
    /// `Failed to load user record: %m` (structural problems EBADMSG, bad sections EINVAL)
    Load(i32),
}

/// [`load_cached`] on a given machine instead of this one.
#[cfg(test)]
pub fn load_cached_for(json: &[u8], machine: &Machine) -> Result<CachedRecord, RecordError> {
    identity(json, || machine.clone())
}

/// [`cached_identity`] with the C module's two failures told apart, plus the disposition.
pub fn load_cached(json: &[u8]) -> Result<CachedRecord, RecordError> {
    identity(json, Machine::current)
}

/// [`load_cached`] of a record already parsed (`json::parse`): `user_record_load()` alone; the
/// errno of its failure.
pub fn load_parsed(v: &Value) -> Result<CachedRecord, i32> {
    record(v, Machine::current).map_err(|e| match e {
        RecordError::Parse(e) | RecordError::Load(e) => e,
    })
}

fn identity(json: &[u8], get_machine: impl FnOnce() -> Machine) -> Result<CachedRecord, RecordError> {
    // json_parse() fails with EINVAL for anything that is not JSON, EUCLEAN for an escaped
    // non-character.
    let v = parse_json(cstr(json)).map_err(RecordError::Parse)?;
    record(&v, get_machine)
}

/// `user_record_load()` of a parsed record.
fn record(v: &Value, get_machine: impl FnOnce() -> Machine) -> Result<CachedRecord, RecordError> {
    // user_record_load(): structural problems are EBADMSG (user_group_record_mangle()), the
    // sections' dispatchers and the missing name EINVAL.
    let bad_msg = RecordError::Load(libc::EBADMSG);
    let inval = RecordError::Load(libc::EINVAL);
    let Value::Object(top) = v else { return Err(bad_msg) };
    // user_group_record_mangle(): sections; REQUIRE_REGULAR, secret not allowed.
    let mut regular = false;
    for (k, _) in top {
        match k.as_slice() {
            b"secret" => return Err(bad_msg),
            b"privileged" | b"perMachine" | b"binding" | b"status" | b"signature" => {}
            _ => regular = true,
        }
    }
    if !regular {
        return Err(bad_msg);
    }
    // json_dispatch(): the first string "userName" decides; an invalid name is dropped.
    let name = top
        .iter()
        .find(|(k, v)| k.as_slice() == b"userName" && matches!(v, Value::Str(_)))
        .and_then(|(_, v)| match v {
            Value::Str(s) if valid_user_name_relaxed(s) => Some(s.clone()),
            _ => None,
        });
    // The same for "disposition"; an unknown value leaves it undeclared (permissive).
    let disposition = top
        .iter()
        .find(|(k, v)| k.as_slice() == b"disposition" && matches!(v, Value::Str(_)))
        .and_then(|(_, v)| match v {
            Value::Str(s) => crate::context::Disposition::from_name(s),
            _ => None,
        });
    let mut uid = None;
    dispatch_uid(v, &mut uid);
    let mut settings = RecordSettings::default();
    dispatch_settings(v, &mut settings, true);
    let mut process = process::ProcessSettings::default();
    dispatch_process(v, &mut process);
    let machine = if by_key(v, "perMachine").is_some() || by_key(v, "binding").is_some() {
        get_machine()
    } else {
        Machine::default()
    };
    let machine = &machine;
    if let Some(pm) = by_key(v, "perMachine") {
        let Value::Array(entries) = pm else { return Err(inval) };
        for e in entries {
            if !matches!(e, Value::Object(_)) {
                return Err(inval);
            }
            if per_machine_match(e, machine).map_err(|()| inval)? {
                dispatch_uid(e, &mut uid);
                dispatch_settings(e, &mut settings, false);
                dispatch_process(e, &mut process);
            }
        }
    }
    if let Some(b) = by_key(v, "binding") {
        if !matches!(b, Value::Object(_)) {
            return Err(inval);
        }
        let mid = machine.machine_id.ok_or(inval)?;
        let key = id128_hex(&mid);
        if let Some(entry) = std::str::from_utf8(&key).ok().and_then(|k| by_key(b, k)) {
            dispatch_uid(entry, &mut uid);
        }
    }
    if let Some(s) = by_key(v, "status")
        && !matches!(s, Value::Object(_))
    {
        return Err(inval);
    }
    // "User name field missing, refusing."
    let name = name.ok_or(inval)?;
    let name = String::from_utf8(name).map_err(|_| inval)?;
    Ok(CachedRecord {
        name,
        uid,
        disposition,
        settings,
        process,
    })
}
