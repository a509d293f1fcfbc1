#!/usr/bin/env python3
"""bench/report.py OUTDIR: turn the raw files of bench/run.sh into a Markdown summary (stdout)."""
import collections
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cgparse import Profile, crate_of, short_obj  # noqa: E402

OUT = sys.argv[1]
RS, C = "bench-rs", "bench-c"


def kv_file(path):
    d = {}
    if os.path.exists(path):
        for line in open(path):
            k, _, v = line.rstrip("\n").partition("=")
            d[k] = v
    return d


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def ratio(a, b):
    try:
        return a / b
    except (ZeroDivisionError, TypeError):
        return float("nan")


def latency(path):
    """svc -> dict(inner=[usec], wall=[usec], bad=n)"""
    d = collections.defaultdict(lambda: {"inner": [], "wall": [], "bad": 0})
    if not os.path.exists(path):
        return d
    for line in open(path):
        f = line.split()
        if len(f) != 5:
            continue
        svc, inner, wall, orc, crc = f[0], int(f[1]), int(f[2]), int(f[3]), int(f[4])
        d[svc]["inner"].append(inner)
        d[svc]["wall"].append(wall)
        if orc or crc:
            d[svc]["bad"] += 1
    return d


def probes(path):
    d = collections.defaultdict(list)
    if os.path.exists(path):
        for line in open(path):
            kv = dict(x.split("=", 1) for x in line.split())
            d[kv["svc"]].append({k: (int(v) if re.fullmatch(r"-?\d+", v) else v) for k, v in kv.items()})
    return d


def concurrent(path):
    """svc -> dict(logins, elapsed, open_ok, close_ok, failures, created, released, left)"""
    d = collections.defaultdict(lambda: collections.Counter())
    if not os.path.exists(path):
        return d
    for line in open(path):
        kv = dict(x.split("=", 1) for x in line.split())
        c = d[kv["svc"]]
        c["runs"] += 1
        for k in ("logins", "open_ok", "close_ok", "failures"):
            c[k] += int(kv[k])
        c["elapsed"] += float(kv["elapsed"])
        c["created"] += int(kv["created"]) - int(kv["created_before"])
        rel = kv["released"].split("/")
        rel0 = kv["released_before"].split("/")
        c["released"] += int(rel[0]) - int(rel0[0])
        if len(rel) > 1:
            c["fifo_eof"] += int(rel[1]) - int(rel0[1])
        c["left"] += int(kv["left"]) if kv["left"].isdigit() else 10**9
    return d


def fmt(x, unit=""):
    if isinstance(x, float):
        if x != x:
            return "n/a"
        if abs(x) >= 100:
            return f"{x:,.0f}{unit}"
        return f"{x:.2f}{unit}"
    if isinstance(x, int):
        return f"{x:,}{unit}"
    return str(x)


def verdict(r, target, higher_better=False):
    if r != r:
        return ""
    ok = r >= target if higher_better else r <= target
    return ("≥" if higher_better else "≤") + f" {target} " + ("✅" if ok else "❌")


rows = []


def row(metric, ours, c, r=None, target=None, higher=False, unit=""):
    if r is None and isinstance(ours, (int, float)) and isinstance(c, (int, float)):
        r = ratio(ours, c)
    rows.append((metric, fmt(ours, unit), fmt(c, unit), fmt(r) if r is not None else "",
                 verdict(r, target, higher) if target is not None and r is not None else ""))


machine = kv_file(os.path.join(OUT, "machine.txt"))
params = ""
for line in open(os.path.join(OUT, "machine.txt")):
    if line.startswith("logins="):
        params = line.strip()
static = kv_file(os.path.join(OUT, "static.txt"))
print("# make bench: our pam_systemd_rs vs Debian's pam_systemd.so\n")
print(f"- date: {machine.get('date')}, total run time {machine.get('total_seconds', '?')} s")
print(f"- machine: {machine.get('nproc')} CPUs, {machine.get('cpu')}, kernel {machine.get('kernel')}")
print(f"- {machine.get('rustc')}; module at commit {machine.get('commit')}; C module {machine.get('c_module')}; "
      f"elogind {machine.get('elogind')}; {machine.get('valgrind')}")
print(f"- parameters: {params}")
print("- latency = pam_start..pam_end inside a fresh forked child (wall = fork..waitpid in the parent); "
      "every login: tty=pts/7, rhost=10.0.0.9, user pamtest1, `session required <module>`; "
      "A/B interleaved, order alternating every round\n")

for kind, label in (("elogind", "elogind 246"), ("fake", "instant fake logind, pidfd=0")):
    lat = latency(os.path.join(OUT, kind, "latency.txt"))
    n_rs, n_c = len(lat[RS]["inner"]), len(lat[C]["inner"])
    if not n_rs or not n_c:
        continue
    for p, name, tgt in ((50, "median", 0.9), (90, "p90", None), (99, "p99", None)):
        a, b = pct(lat[RS]["inner"], p), pct(lat[C]["inner"], p)
        row(f"login latency vs {label}: {name} (µs, n={n_rs}/{n_c})", a, b, target=tgt)
    a, b = pct(lat[RS]["wall"], 50), pct(lat[C]["wall"], 50)
    row(f"login wall incl. fork+exit vs {label}: median (µs)", a, b)
    if lat[RS]["bad"] or lat[C]["bad"]:
        row(f"failed logins vs {label}", lat[RS]["bad"], lat[C]["bad"])

# Real systemd as PID 1: each world's logind against that world's own C module.
WORLDS = (("world-debian12", "real logind 252 (Debian 12, C module 252)"),
          ("world-debian13", "real logind 257 (Debian 13, C module 257)"))
for kind, label in WORLDS:
    lat = latency(os.path.join(OUT, kind, "latency.txt"))
    n_rs, n_c = len(lat[RS]["inner"]), len(lat[C]["inner"])
    if not n_rs or not n_c:
        continue
    for p, name, tgt in ((50, "median", 0.9), (90, "p90", 0.9)):
        a, b = pct(lat[RS]["inner"], p), pct(lat[C]["inner"], p)
        row(f"login latency vs {label}: {name} (µs, n={n_rs}/{n_c})", a, b, target=tgt)
    row(f"failed logins vs {label}", lat[RS]["bad"], lat[C]["bad"])

lat1 = latency(os.path.join(OUT, "fake", "latency-pidfd1.txt"))
lat0 = latency(os.path.join(OUT, "fake", "latency.txt"))
if lat1[RS]["inner"]:
    a, b = pct(lat1[RS]["inner"], 50), pct(lat1[C]["inner"], 50)
    row(f"login latency vs fake pidfd=1: median (µs, n={len(lat1[RS]['inner'])})", a, b)
    d = pct(lat0[RS]["inner"], 50) - a
    rows.append(("→ cost of the failed CreateSessionWithPIDFD attempt (ours pidfd=0 − pidfd=1 median, µs)",
                 fmt(d), "0 (C 252 never tries)", "", ""))

# Callgrind.
cg = {}
for kind, cfg in (("elogind", "pidfd0"), ("fake", "pidfd0"), ("fake", "pidfd1"),
                  ("world-debian12", "pidfd0"), ("world-debian13", "pidfd0")):
    for svc in (RS, C, "bench-rsprof"):
        p = os.path.join(OUT, kind, f"callgrind-{cfg}-{svc}.out")
        if not os.path.exists(p):
            continue
        # A login that failed under valgrind measures something else: say so, count nothing.
        log = p[:-len(".out")] + ".log"
        outcome = open(log).read() if os.path.exists(log) else ""
        if "open_rc=0 close_rc=0" not in outcome:
            rows.append((f"callgrind {kind} {cfg} {svc}: the login FAILED under valgrind, not counted",
                         "", "", "", "❌"))
            continue
        cg[(kind, cfg, svc)] = Profile(p)


def cgrow(kind, cfg, label, fn=None, obj=None, target=None):
    a, b = cg.get((kind, cfg, RS)), cg.get((kind, cfg, C))
    if not a or not b:
        return
    if fn == "TOTAL":
        x, y = a.total, b.total
    elif obj:
        x, y = a.self_of_object("libpam_systemd_rs"), b.self_of_object("pam_systemd.so")
    else:
        x, y = a.incl_of(fn), b.incl_of(fn)
    row(label, x, y, target=target)


cgrow("elogind", "pidfd0", "Ir, whole client process, one login vs elogind", "TOTAL", target=0.8)
cgrow("elogind", "pidfd0", "Ir, pam_start..pam_end (loginbench `login`, incl.)", "login")
cgrow("elogind", "pidfd0", "Ir, inside the module's own object (self)", obj=True)
cgrow("elogind", "pidfd0", "Ir, pam_start_confdir incl. (config + dlopen of the module)", "pam_start_confdir")
cgrow("elogind", "pidfd0", "Ir, pam_sm_open_session incl.", "pam_sm_open_session")
cgrow("elogind", "pidfd0", "Ir, pam_sm_close_session incl.", "pam_sm_close_session")
cgrow("elogind", "pidfd0", "Ir, pam_end incl. (dlclose)", "pam_end")
cgrow("world-debian12", "pidfd0", "Ir, whole client process, one login vs real logind 252", "TOTAL", target=0.6)
cgrow("world-debian12", "pidfd0", "Ir, pam_sm_open_session incl. vs real logind 252", "pam_sm_open_session")
cgrow("world-debian13", "pidfd0", "Ir, whole client process, one login vs real logind 257", "TOTAL", target=0.6)
cgrow("world-debian13", "pidfd0", "Ir, pam_sm_open_session incl. vs real logind 257", "pam_sm_open_session")
cgrow("world-debian13", "pidfd0", "Ir, pam_sm_close_session incl. vs real logind 257", "pam_sm_close_session")
cgrow("fake", "pidfd0", "Ir, whole process vs fake pidfd=0", "TOTAL")
cgrow("fake", "pidfd1", "Ir, whole process vs fake pidfd=1", "TOTAL")
a0, a1 = cg.get(("fake", "pidfd0", RS)), cg.get(("fake", "pidfd1", RS))
if a0 and a1:
    rows.append(("→ Ir of the failed CreateSessionWithPIDFD attempt (ours, fake pidfd=0 − pidfd=1)",
                 fmt(a0.total - a1.total), "0", "", ""))


def dl(path):
    xs = [tuple(map(int, l.split())) for l in open(path)] if os.path.exists(path) else []
    return [x[0] for x in xs], [x[1] for x in xs]


o_rs, c_rs = dl(os.path.join(OUT, "dlopen-rs.txt"))
o_c, c_c = dl(os.path.join(OUT, "dlopen-c.txt"))
row(f"cold dlopen(RTLD_NOW) median (µs, n={len(o_rs)})", pct(o_rs, 50), pct(o_c, 50), target=1.0)
row("cold dlopen+dlclose median (µs)", pct([a + b for a, b in zip(o_rs, c_rs)], 50),
    pct([a + b for a, b in zip(o_c, c_c)], 50))
row("relocations (readelf -r)", int(static.get("relocs_rs", 0)), int(static.get("relocs_c", 0)))
rows.append(("libraries loaded beyond libpam/libc", static.get("extra_libs_rs", "").strip() or "none",
             static.get("extra_libs_c", "").strip() or "none", "", ""))

pr = probes(os.path.join(OUT, "elogind", "probe.txt"))
if pr[RS] and pr[C]:
    def med(svc, f):
        return statistics.median(f(x) for x in pr[svc])
    row("VmRSS added by open_session (kB, median of 7)",
        med(RS, lambda x: x["rss_after_open"] - x["rss_after_start"]),
        med(C, lambda x: x["rss_after_open"] - x["rss_after_start"]), target=1.0)
    row("VmRSS added by pam_start (module load, kB)",
        med(RS, lambda x: x["rss_after_start"] - x["rss_start"]),
        med(C, lambda x: x["rss_after_start"] - x["rss_start"]))
    row("VmRSS after pam_end − before pam_start (kB)",
        med(RS, lambda x: x["rss_after_end"] - x["rss_start"]),
        med(C, lambda x: x["rss_after_end"] - x["rss_start"]))
    row("threads after open_session", med(RS, lambda x: x["threads_after_open"]),
        med(C, lambda x: x["threads_after_open"]))
    row("new fds after close_session (session fifo, syslog...)",
        med(RS, lambda x: x["fds_after_close"] - x["fds_start"]),
        med(C, lambda x: x["fds_after_close"] - x["fds_start"]))
    row("new fds after pam_end", med(RS, lambda x: x["fds_after_end"] - x["fds_start"]),
        med(C, lambda x: x["fds_after_end"] - x["fds_start"]))

row(".so size, stripped (bytes)", int(static.get("size_rs_stripped", 0)),
    int(static.get("size_c_stripped", 0)), target=1.0)
rows.append(("crates linked in (cargo tree -e normal,no-proc-macro; in the tree incl. proc-macros)",
             f"{static.get('crates_linked')} ({static.get('crates_tree')})", "n/a (C)", "", ""))

for kind, label in (("elogind", "elogind"), ("fake", "fake")):
    cc = concurrent(os.path.join(OUT, kind, "concurrent.txt"))
    if not cc[RS] or not cc[C]:
        continue
    r_rs = cc[RS]["logins"] / cc[RS]["elapsed"]
    r_c = cc[C]["logins"] / cc[C]["elapsed"]
    row(f"logins/s, 32 clients vs {label} ({cc[RS]['elapsed']:.1f}s/{cc[C]['elapsed']:.1f}s)", r_rs, r_c,
        target=1.1, higher=True)
    for svc_name, svc in (("ours", RS), ("C", C)):
        pass

    def check(c):
        s = f"{c['logins']} logins, open ok {c['open_ok']}, close ok {c['close_ok']}; logind: created {c['created']}, released {c['released']}"
        if c.get("fifo_eof"):
            s += f", fifo EOF {c['fifo_eof']}"
        s += f", left {c['left']}"
        ok = (c["failures"] == 0 and c["created"] == c["logins"] and c["released"] == c["logins"] and c["left"] == 0)
        return s + (" ✅" if ok else " ❌")
    rows.append((f"  every session created and released ({label})", check(cc[RS]), check(cc[C]), "", ""))

print("| metric | ours | C | ours/C | target |")
print("| --- | ---: | ---: | ---: | --- |")
for r in rows:
    print("| " + " | ".join(r) + " |")

# Profile details.
print("\n## Where the instructions go (callgrind, one login vs elogind)\n")
a, b, ap = cg.get(("elogind", "pidfd0", RS)), cg.get(("elogind", "pidfd0", C)), cg.get(("elogind", "pidfd0", "bench-rsprof"))
if a and b:
    print("Self Ir per object (the client process's startup, ~identical for both, is in ld.so/libc too):\n")
    print("| object | ours | C |")
    print("| --- | ---: | ---: |")
    oa, ob_ = a.by_object(), b.by_object()
    objs = {}
    for o, ir in list(oa.items()) + list(ob_.items()):
        k = short_obj(o)
        k = "the module (.so)" if k in ("libpam_systemd_rs.so", "pam_systemd.so") else k
        objs.setdefault(k, [0, 0])
    for o, ir in oa.items():
        k = short_obj(o)
        objs["the module (.so)" if k == "libpam_systemd_rs.so" else k][0] += ir
    for o, ir in ob_.items():
        k = short_obj(o)
        objs["the module (.so)" if k == "pam_systemd.so" else k][1] += ir
    for k, (x, y) in sorted(objs.items(), key=lambda kv: -max(kv[1])):
        if max(x, y) >= 1000:
            print(f"| {k} | {x:,} | {y:,} |")
    print(f"| **total** | **{a.total:,}** | **{b.total:,}** |")

    nss = [ir for (caller, callee), ir in b.calls.items()
           if caller[0] and "pam_systemd.so" in caller[0] and callee[1] == "dlopen@@GLIBC_2.34"]
    if nss:
        print(f"\nC's pam_sm_open_session itself calls dlopen() ({sum(nss):,} Ir incl.): libsystemd's userdb "
              "loads libnss_systemd.so.2 (nss_systemd_block) before getpwnam; ours does not.")
    ld_a = sum(a.incl_of(f) for f in ("dlopen@@GLIBC_2.34",))
    ld_b = sum(b.incl_of(f) for f in ("dlopen@@GLIBC_2.34",))
    print(f"\nInclusive Ir of every dlopen() in the process (module load incl. relocation; for C also "
          f"the NSS module it pulls in through getpwnam): ours {ld_a:,}, C {ld_b:,}.")
    for name in ("do_lookup_x", "_dl_relocate_object"):
        print(f"- `{name}` self: ours {a.incl_of(name) and sum(ir for (o, f), ir in a.self_cost.items() if f == name):,}, "
              f"C {sum(ir for (o, f), ir in b.self_cost.items() if f == name):,}")

if ap:
    mod = "libpam_systemd_rs"
    print("\n### Ours: self Ir inside the module by crate (unstripped copy, same code)\n")
    c = collections.Counter()
    for (o, f), ir in ap.self_cost.items():
        if o and mod in o:
            c[crate_of(f)] += ir
    print("| crate | self Ir |")
    print("| --- | ---: |")
    for k, v in c.most_common(15):
        print(f"| {k} | {v:,} |")
    print("\n### Ours: inclusive Ir of the module's main steps\n")
    print("| function | incl. Ir |")
    print("| --- | ---: |")
    want = [
        "pam_sm_open_session", "pam_sm_close_session",
        "pam_systemd_rs::logind::connect::{{closure}}",
        "zbus::connection::builder::Builder::build_::{{closure}}",
        "<zbus::connection::handshake::client::Client as zbus::connection::handshake::Handshake>::perform::{{closure}}",
        "zbus::connection::handshake::client::create_hello_method_call",
        "zbus::address::transport::Transport::connect::{{closure}}",
        "pam_systemd_rs::logind::SystemBus::create_session",
        "pam_systemd_rs::logind::SystemBus::create_session::{{closure}}::{{closure}}",
        "zbus::message::builder::Builder::build",
        "zbus::wire::ser::to_writer_for_signature",
        "zbus::message::parser::parse",
        "zbus::connection::Connection::close::{{closure}}",
        "zruntime::driver::block_on",
    ]
    for w in want:
        v = ap.incl_of(w, mod)
        if v:
            print(f"| `{w}` | {v:,} |")
    alloc = sum(ap.incl_of(f) for f in ("malloc", "free", "realloc", "calloc"))
    print(f"\nmalloc+free+realloc+calloc incl. in the whole process: ours {alloc:,}"
          + (f", C {sum(b.incl_of(f) for f in ('malloc', 'free', 'realloc', 'calloc')):,}" if b else "") + ".")
    print("\n### Ours: top 25 functions by self Ir (whole process)\n")
    print("| self Ir | function | object |")
    print("| ---: | --- | --- |")
    for (o, f), ir in ap.top_self(25):
        print(f"| {ir:,} | `{f[:110]}` | {short_obj(o)} |")
if b:
    print("\n### C: top 25 functions by self Ir (whole process; the C module is stripped: addresses)\n")
    print("| self Ir | function | object |")
    print("| ---: | --- | --- |")
    for (o, f), ir in b.top_self(25):
        print(f"| {ir:,} | `{f[:110]}` | {short_obj(o)} |")
    print("\n### C: top inclusive entries\n")
    print("| incl. Ir | function | object |")
    print("| ---: | --- | --- |")
    for (o, f), ir in b.top_incl(40):
        if "pam_systemd" in (o or "") or f.startswith(("pam_", "getpw", "dlopen", "sd_", "_nss")):
            print(f"| {ir:,} | `{f[:110]}` | {short_obj(o)} |")
