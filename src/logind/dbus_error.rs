//! D-Bus error replies as sd-bus reads them: the name → errno table (`bus-error.c`) and
//! `bus_error_message()`. A leaf: the D-Bus transport and the diagnosis' bus reader both use it.
//! (Varlink's own table, `sd_varlink_error_to_errno()`, will sit beside it as its own file.)

use crate::sys::strerror;

/// The error name (if the failure was an error reply) and the text of a failed call, as the
/// module reports it: a D-Bus error's name and [`error_message`]; anything else in the client's
/// words.
pub fn name_and_message(e: &crate::dbus::Error) -> (Option<String>, String) {
    match e {
        crate::dbus::Error::Reply { name, message } => (Some(name.clone()), error_message(name, message.as_deref())),
        other => (None, other.to_string()),
    }
}

/// systemd's `bus_error_message()`: logind's text, except that AccessDenied always reads
/// "Access denied"; an error without a text reads as `strerror` of the errno sd-bus maps the
/// error name to.
pub fn error_message(name: &str, message: Option<&str>) -> String {
    if name == "org.freedesktop.DBus.Error.AccessDenied" {
        return "Access denied".into();
    }
    match message {
        Some(m) => m.to_owned(),
        None => strerror(errno_of_error_name(name)),
    }
}

/// sd-bus's table from D-Bus error names to errno values (bus-error.c), for the names a bus or
/// logind sends; anything else is EIO.
fn errno_of_error_name(name: &str) -> i32 {
    let Some(short) = name.strip_prefix("org.freedesktop.DBus.Error.") else {
        return libc::EIO;
    };
    match short {
        "Failed" | "AccessDenied" | "AuthFailed" | "InteractiveAuthorizationRequired" => libc::EACCES,
        "NoMemory" => libc::ENOMEM,
        "ServiceUnknown" => libc::EHOSTUNREACH,
        "NameHasNoOwner" => libc::ENXIO,
        "NoReply" | "Timeout" | "TimedOut" => libc::ETIMEDOUT,
        "IOError" => libc::EIO,
        "BadAddress" => libc::EADDRNOTAVAIL,
        "NotSupported" => libc::EOPNOTSUPP,
        "LimitsExceeded" => libc::ENOBUFS,
        "NoServer" => libc::EHOSTDOWN,
        "NoNetwork" => libc::ENONET,
        "AddressInUse" => libc::EADDRINUSE,
        "Disconnected" => libc::ECONNRESET,
        "InvalidArgs" | "InvalidSignature" | "MatchRuleInvalid" | "InvalidFileContent" => libc::EINVAL,
        "FileNotFound" | "MatchRuleNotFound" => libc::ENOENT,
        "FileExists" => libc::EEXIST,
        "UnknownMethod" | "UnknownObject" | "UnknownInterface" | "UnknownProperty" => libc::EBADR,
        "PropertyReadOnly" => libc::EROFS,
        "UnixProcessIdUnknown" | "SELinuxSecurityContextUnknown" => libc::ESRCH,
        "InconsistentMessage" => libc::EBADMSG,
        "ObjectPathInUse" => libc::EBUSY,
        _ => libc::EIO,
    }
}
