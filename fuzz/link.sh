#!/bin/sh
# Linker wrapper for fuzz builds only. The module's build.rs links its cdylib with
# -Wl,--no-undefined (right for the shipped .so); under cargo-fuzz the cdylib is built too
# (same crate) with sanitizer instrumentation whose runtime symbols only the fuzz binaries
# provide, so that one flag is dropped here. Everything else goes to cc unchanged.
for a in "$@"; do
    shift
    [ "$a" = "-Wl,--no-undefined" ] && continue
    set -- "$@" "$a"
done
exec "${CC:-cc}" "$@"
