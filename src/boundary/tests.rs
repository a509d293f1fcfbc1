use super::*;

fn fails(_: &mut Pam, args: &[&[u8]], _: &Scope) -> Result<(), Error> {
    Err(Error::new(17, format!("argc={}", args.len())))
}

/// A NULL handle is refused before anything touches it.
#[test]
fn null_handle() {
    // SAFETY: a NULL handle and no arguments is a contract-conforming input.
    let r = unsafe { guard(std::ptr::null_mut(), 0, std::ptr::null(), fails) };
    assert_eq!(r, ffi::PAM_SYSTEM_ERR);
}

#[test]
fn bad_argv() {
    assert!(unsafe { collect_args(-1, std::ptr::null()) }.is_none());
    assert!(unsafe { collect_args(2, std::ptr::null()) }.is_none());
    let a = c"debug";
    let ptrs = [a.as_ptr(), std::ptr::null()];
    assert!(unsafe { collect_args(2, ptrs.as_ptr()) }.is_none());
    let ok = unsafe { collect_args(1, ptrs.as_ptr()) }.unwrap();
    assert_eq!(ok, vec![&b"debug"[..]]);
}

/// A panic becomes PAM_SESSION_ERR; nothing unwinds.
#[test]
fn panic_is_contained() {
    assert_eq!(contain(|| panic!("boom")), ffi::PAM_SESSION_ERR);
    assert_eq!(
        contain(|| std::panic::panic_any(String::from("payload"))),
        ffi::PAM_SESSION_ERR
    );
    assert_eq!(contain(|| 7), 7);
}
