//! The one error type of the hooks: a PAM return code plus the line to log at LOG_ERR.

use std::ffi::c_int;
use std::fmt;

/// A failed hook: what to return to libpam and what to say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    code: c_int,
    message: String,
}

impl Error {
    /// A failure with PAM code `code`, logged as `message`.
    pub fn new(code: c_int, message: impl fmt::Display) -> Self {
        Error {
            code,
            message: message.to_string(),
        }
    }

    /// The PAM return code.
    pub fn code(&self) -> c_int {
        self.code
    }

    /// The LOG_ERR line.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
