//! The test harness shared by the suites (see `tests/README.md` for where a new case goes):
//!
//! * [`build`]: paths, and the testkit and C client built once per test binary;
//! * [`module`]: the module under test, ours or the C reference, and the one switch between them;
//! * [`runner`]: the one way to start `testbed/testbed` (bounded, TERM then KILL on its process
//!   group) and the worlds it boots;
//! * [`case`]: one PAM session through the C client inside a testbed, built from items, env,
//!   arguments and fake-logind settings;
//! * [`outcome`]: what a case left behind, parsed; [`syslog`]: the module's log lines;
//! * [`pair`]: the same case through the C module and ours, compared; [`busmon`]: the login1
//!   calls seen on a testbed's bus; [`varlinkmon`]: the Varlink requests logind ≥ 258 got;
//! * [`testbed`]: the one script builder: a bash script inside a testbed, through the runner
//!   (cases, end-to-end clients, load, the doctor's worlds).
//!
//! ```ignore
//! let out = Case::new(&module())
//!     .item("tty", "/dev/pts/3")
//!     .fake_conf("reply_existing", "1")
//!     .run();
//! assert_eq!(out.open_rc, Some(0));
//! ```
// Each suite uses only part of the harness.
#![allow(dead_code, unused_imports)]

pub mod build;
pub mod busmon;
pub mod case;
pub mod module;
pub mod outcome;
pub mod pair;
pub mod runner;
pub mod syslog;
pub mod testbed;
pub mod varlinkmon;

pub use build::*;
pub use case::*;
pub use module::*;
pub use outcome::*;
pub use runner::{Logind, World};
pub use serde_json::Value;
pub use syslog::*;
pub mod checks;
