#!/usr/bin/env python3
"""bench/sizes.py UNSTRIPPED_SO STRIPPED_SO [LABEL=C_SO]...: where the bytes of the .so go.

Prints Markdown: the sections of the stripped .so (and of each C module given), then the
symbol bytes of the unstripped copy (target/bench-prof: same code, strip=false) by group and by
crate, and the largest symbols. Symbol sizes come from `nm -S -C --defined-only`; a symbol
belongs to the LEFTMOST known non-std crate named in it (so `drop_in_place<zbus::Connection>`
is zbus's, `zbus::...::{{closure}}<pam_systemd_rs::...>` too), else to a std group. Code that
LTO inlined into a caller counts for the caller. Used by bench/run.sh (size_table).
"""
import collections
import re
import subprocess
import sys

# Crates of the dependency tree (cargo tree -e normal,no-proc-macro), grouped.
ZBUS = ["zbus_utils", "zbus", "zvariant", "winnow", "uuid", "hex", "endi", "zcheapstr",
        "ordered_stream", "serde_core", "serde", "socket2", "rustix", "linux_raw_sys", "bitflags",
        "futures_core", "futures_io", "pin_project_lite"]
OTHER_DEPS = ["zruntime", "pam", "pam_bindings", "zeroize", "libc", "log"]
OURS = "pam_systemd_rs"
KNOWN = [OURS] + ZBUS + OTHER_DEPS
CRATE_RE = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(sorted(KNOWN, key=len, reverse=True)) + r")::")

PANIC = ("std::panicking", "std::panic", "core::panicking", "core::panic", "std::backtrace",
         "std::sys::backtrace", "std::sys::pal::unix::stack_overflow", "std::rt::",
         "gimli::", "addr2line::", "miniz_oxide::", "rustc_demangle::", "object::",
         "std::sys::personality", "std::sys::exit_guard", "__rust_start_panic", "__rust_panic",
         "rust_panic", "rust_begin_unwind", "rust_eh_personality", "__rustc::")
FMT = ("core::fmt", "alloc::fmt", "std::io::Write::write_fmt", "core::str::pattern",
       "core::unicode", "core::num::flt2dec", "core::num::dec2flt", "core::num::fmt")


def group_of(name):
    m = CRATE_RE.search(name)
    if m:
        c = m.group(1)
        if c == OURS:
            if "pam_systemd_rs::dbus" in name:
                return "ours: the D-Bus client (dbus, dbus::wire)"
            if "pam_systemd_rs::varlink" in name:
                return "ours: the Varlink client (varlink, varlink::login)"
            if "pam_systemd_rs::json" in name:
                return "ours: JSON reader and writer (json)"
            if "user::record_read" in name or "user::utf8" in name:
                return "ours: user-record reader (user::record_read, utf8)"
            if "user::record_write" in name:
                return "ours: user-record JSON writer (user::record_write)"
            return "ours: the rest (pam_systemd_rs::)"
        if c in ZBUS:
            return "zbus and its crates (zbus, zbus_utils, winnow, serde, uuid, rustix, socket2, ...)"
        if c == "zruntime":
            return "zruntime (executor, timeout, unix socket)"
        return "pam-bindings, libc, log, zeroize"
    if any(p in name for p in PANIC) or "as core::fmt::Debug>::fmt" in name and "panic" in name:
        return "std: panic, backtrace and unwinding machinery (gimli, addr2line, miniz, demangle)"
    if any(p in name for p in FMT) or "as core::fmt::" in name:
        return "std: formatting (core::fmt, Display/Debug impls, numbers, unicode tables)"
    if re.match(r"^(<)?(std|core|alloc|hashbrown)::", name) or name.startswith(("<std::", "<core::", "<alloc::")):
        return "std: the rest (alloc, collections, io, sys, ...)"
    return "no Rust path (C runtime stubs, compiler-builtins, anonymous)"


def crate_of(name):
    m = CRATE_RE.search(name)
    if m:
        return m.group(1)
    m = re.search(r"([A-Za-z_][A-Za-z0-9_]*)::", name)
    return m.group(1) if m else "(no path)"


def symbols(path):
    out = subprocess.run(["nm", "-S", "-C", "--defined-only", path], capture_output=True, text=True,
                         check=True).stdout
    syms = []
    for line in out.splitlines():
        f = line.split(None, 3)
        if len(f) == 4 and re.fullmatch(r"[0-9a-f]+", f[1]):
            syms.append((int(f[1], 16), f[2], f[3]))
    return syms


def sections(path):
    out = subprocess.run(["readelf", "-SW", path], capture_output=True, text=True, check=True).stdout
    d = {}
    for line in out.splitlines():
        m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)", line)
        if m and m.group(1) != "NULL":
            d[m.group(1)] = int(m.group(2), 16)
    return d


def main():
    unstripped, stripped = sys.argv[1], sys.argv[2]
    others = [a.split("=", 1) for a in sys.argv[3:]]
    import os
    sizes = [("ours", stripped)] + others
    secs = {label: sections(p) for label, p in sizes}
    print("### Sections of the stripped .so files (bytes)\n")
    print("| section | " + " | ".join(label for label, _ in sizes) + " |")
    print("| --- |" + " ---: |" * len(sizes))
    names = sorted({s for d in secs.values() for s in d}, key=lambda s: -max(d.get(s, 0) for d in secs.values()))
    for s in names:
        if max(d.get(s, 0) for d in secs.values()) >= 2048:
            print(f"| `{s}` | " + " | ".join(f"{secs[label].get(s, 0):,}" for label, _ in sizes) + " |")
    print("| file size | " + " | ".join(f"**{os.path.getsize(p):,}**" for _, p in sizes) + " |")

    syms = symbols(unstripped)
    by_group, by_crate = collections.Counter(), collections.Counter()
    kinds = collections.Counter()
    for size, kind, name in syms:
        g = group_of(name)
        by_group[g] += size
        by_crate[crate_of(name)] += size
        kinds[kind.lower()] += size
    total = sum(by_group.values())
    ours_secs = secs["ours"]
    print(f"\n### Symbol bytes of our .so by group (unstripped copy; {total:,} B in symbols: "
          f"code {kinds['t']:,}, read-only data {kinds['r']:,}, data {kinds['d'] + kinds['b']:,})\n")
    print("Not in any symbol: the unwind tables (`.eh_frame` + `.eh_frame_hdr` + `.gcc_except_table` "
          f"= {ours_secs.get('.eh_frame', 0) + ours_secs.get('.eh_frame_hdr', 0) + ours_secs.get('.gcc_except_table', 0):,} B, "
          "needed by panic = \"unwind\": the panic guard), string literals merged into `.rodata`, "
          "alignment padding.\n")
    print("| group | bytes | share of symbol bytes |")
    print("| --- | ---: | ---: |")
    for g, n in by_group.most_common():
        print(f"| {g} | {n:,} | {100 * n / total:.1f} % |")
    print("\n### By crate (leftmost crate named in the symbol)\n")
    print("| crate | bytes |")
    print("| --- | ---: |")
    for c, n in by_crate.most_common(25):
        print(f"| {c} | {n:,} |")
    print("\n### Largest symbols\n")
    print("| bytes | symbol | group |")
    print("| ---: | --- | --- |")
    for size, kind, name in sorted(syms, reverse=True)[:30]:
        print(f"| {size:,} | `{name[:110]}` | {group_of(name).split(' (')[0]} |")


if __name__ == "__main__":
    main()
