//! The one error type of the hooks: a PAM return code plus the line to log (at LOG_ERR, or
//! LOG_WARNING where C logs the failure so: 262's `Failed to unset %s environment variable`).

use std::ffi::c_int;
use std::fmt;

/// A failed hook: what to return to libpam and what to say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    code: c_int,
    message: String,
    warning: bool,
}

impl Error {
    /// A failure with PAM code `code`, logged as `message`.
    pub fn new(code: c_int, message: impl fmt::Display) -> Self {
        Error {
            code,
            message: message.to_string(),
            warning: false,
        }
    }

    /// The same failure, its line logged at LOG_WARNING.
    pub fn warning(self) -> Self {
        Error { warning: true, ..self }
    }

    /// Whether the line is logged at LOG_WARNING instead of LOG_ERR.
    pub fn is_warning(&self) -> bool {
        self.warning
    }

    /// The PAM return code.
    pub fn code(&self) -> c_int {
        self.code
    }

    /// The line to log.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
