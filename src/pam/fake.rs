//! A scripted libpam for the unit tests of the steps that keep PAM data (`osc`, `inhibit`):
//! environment, items, data (values, ids, fds with their cleanup run as libpam runs it), and
//! per-key failures.

use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::os::fd::OwnedFd;

use super::{Code, PamData, PamOps, StringItem};

/// What one key holds.
#[derive(Debug)]
pub(crate) enum Datum {
    /// A plain value (no cleanup).
    Value(usize),
    /// A 16-byte id with a `free()` cleanup.
    Id(Option<[u8; 16]>),
    /// An fd with the close cleanup; dropping the datum is libpam running the cleanup.
    Fd(OwnedFd),
}

#[derive(Default)]
pub(crate) struct FakePam {
    pub env: Vec<(CString, Vec<u8>)>,
    pub items: Vec<(StringItem, Vec<u8>)>,
    pub data: HashMap<CString, Datum>,
    /// `pam_get_data` answers this code for these keys.
    pub get_fails: Vec<(CString, Code)>,
    /// `pam_set_data` answers this code for these keys.
    pub set_fails: Vec<(CString, Code)>,
    /// `pam_get_item` fails.
    pub item_fails: Option<Code>,
    /// Every key cleared with `pam_set_data(key, NULL, NULL)`, in order.
    pub cleared: Vec<CString>,
}

impl FakePam {
    pub fn env(mut self, name: &CStr, value: &str) -> Self {
        self.env.push((name.to_owned(), value.as_bytes().to_vec()));
        self
    }

    pub fn item(mut self, which: StringItem, value: &str) -> Self {
        self.items.push((which, value.as_bytes().to_vec()));
        self
    }

    fn get_fail(&self, name: &CStr) -> Result<(), Code> {
        match self.get_fails.iter().find(|(k, _)| k.as_c_str() == name) {
            Some((_, c)) => Err(*c),
            None => Ok(()),
        }
    }

    fn set_fail(&self, name: &CStr) -> Result<(), Code> {
        match self.set_fails.iter().find(|(k, _)| k.as_c_str() == name) {
            Some((_, c)) => Err(*c),
            None => Ok(()),
        }
    }

    /// The fd stored under `name`, if any.
    pub fn fd(&self, name: &CStr) -> Option<&OwnedFd> {
        match self.data.get(name) {
            Some(Datum::Fd(fd)) => Some(fd),
            _ => None,
        }
    }
}

impl PamOps for FakePam {
    fn user(&mut self) -> Result<Vec<u8>, Code> {
        Ok(b"alice".to_vec())
    }

    fn item(&self, which: StringItem) -> Result<Option<Vec<u8>>, Code> {
        if let Some(c) = self.item_fails {
            return Err(c);
        }
        Ok(self.items.iter().find(|(w, _)| *w == which).map(|(_, v)| v.clone()))
    }

    fn getenv(&self, name: &CStr) -> Option<Vec<u8>> {
        self.env
            .iter()
            .find(|(k, _)| k.as_c_str() == name)
            .map(|(_, v)| v.clone())
    }

    fn putenv(&mut self, name: &str, value: &[u8]) -> Result<(), Code> {
        let name = CString::new(name).map_err(|_| crate::ffi::PAM_BUF_ERR)?;
        self.env.retain(|(k, _)| *k != name);
        self.env.push((name, value.to_vec()));
        Ok(())
    }

    fn unsetenv(&mut self, name: &str) -> Result<(), Code> {
        let name = CString::new(name).map_err(|_| crate::ffi::PAM_BUF_ERR)?;
        self.env.retain(|(k, _)| *k != name);
        Ok(())
    }

    fn info(&mut self, _text: &str) {}

    fn data_is_set(&self, name: &CStr) -> Result<bool, Code> {
        self.get_fail(name)?;
        Ok(self.data.contains_key(name))
    }

    fn data_value(&self, name: &CStr) -> Result<Option<usize>, Code> {
        self.get_fail(name)?;
        Ok(match self.data.get(name) {
            None => None,
            Some(Datum::Value(v)) => Some(*v),
            // FD_TO_PTR: fd + 1.
            Some(Datum::Fd(fd)) => Some(std::os::fd::AsRawFd::as_raw_fd(fd) as usize + 1),
            Some(Datum::Id(_)) => Some(1),
        })
    }

    unsafe fn data_str(&self, name: &CStr) -> Result<Option<Vec<u8>>, Code> {
        self.get_fail(name)?;
        Ok(None)
    }

    fn set_data_value(&mut self, name: &CStr, value: usize) -> Result<(), Code> {
        self.set_fail(name)?;
        self.data.insert(name.to_owned(), Datum::Value(value));
        Ok(())
    }

    fn set_data_string(&mut self, name: &CStr, _value: &[u8]) -> Result<(), Code> {
        self.set_fail(name)?;
        Ok(())
    }

    fn strerror(&self, code: Code) -> String {
        format!("pam error {code}")
    }
}

impl PamData for FakePam {
    fn set_data_fd(&mut self, name: &CStr, fd: OwnedFd) -> Result<(), Code> {
        // On failure `fd` is dropped: closed, as the real one closes it.
        self.set_fail(name)?;
        self.data.insert(name.to_owned(), Datum::Fd(fd));
        Ok(())
    }

    fn set_data_id128(&mut self, name: &CStr, id: [u8; 16]) -> Result<(), Code> {
        self.set_fail(name)?;
        self.data.insert(name.to_owned(), Datum::Id(Some(id)));
        Ok(())
    }

    unsafe fn data_id128(&self, name: &CStr) -> Result<Option<[u8; 16]>, Code> {
        self.get_fail(name)?;
        Ok(match self.data.get(name) {
            Some(Datum::Id(id)) => *id,
            _ => None,
        })
    }

    fn clear_data(&mut self, name: &CStr) -> Result<(), Code> {
        self.set_fail(name)?;
        self.cleared.push(name.to_owned());
        // libpam runs the old cleanup: an fd is closed here, when the datum drops.
        self.data.insert(name.to_owned(), Datum::Value(0));
        Ok(())
    }
}
