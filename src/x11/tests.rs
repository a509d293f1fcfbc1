use super::*;

#[test]
fn local_displays() {
    assert_eq!(local_display_number(b":0"), Some(&b"0"[..]));
    assert_eq!(local_display_number(b":12.0"), Some(&b"12"[..]));
    assert_eq!(local_display_number(b"host:0"), None);
    assert_eq!(local_display_number(b":"), None);
    assert_eq!(local_display_number(b":x"), None);
    assert_eq!(local_display_number(b""), None);
}

#[test]
fn vt_names() {
    assert_eq!(vtnr_from_tty("tty2"), Some(2));
    assert_eq!(vtnr_from_tty("tty63"), Some(63));
    assert_eq!(vtnr_from_tty("tty64"), None);
    assert_eq!(vtnr_from_tty("tty0"), None);
    assert_eq!(vtnr_from_tty("ttyS0"), None);
    assert_eq!(vtnr_from_tty("pts"), None);
}

#[test]
fn stat_lines() {
    // pid (comm with ) and spaces) state ppid pgrp session tty_nr ...
    assert_eq!(tty_nr_from_stat("42 (X) y) S 1 42 42 1025 42 0"), Some((4, 1)));
    assert_eq!(tty_nr_from_stat("42 (Xorg) S 1 42 42 0 -1"), None);
    assert_eq!(tty_nr_from_stat("garbage"), None);
}

/// A display number with no server behind it: no answer, no error.
#[test]
#[cfg_attr(miri, ignore)] // NSS and sockets are not available under miri
fn no_server() {
    assert_eq!(vt_of_display(b":987654"), None);
}
