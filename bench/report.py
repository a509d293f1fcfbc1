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


STEPS = ("start", "open", "close", "end")


def latency(path):
    """svc -> dict(inner=[usec], wall=[usec], bad=n, start/open/close/end=[usec] when recorded)"""
    d = collections.defaultdict(lambda: {"inner": [], "wall": [], "bad": 0, "cpu": [], "open_cpu": [],
                                         **{k: [] for k in STEPS}})
    if not os.path.exists(path):
        return d
    for line in open(path):
        f = line.split()
        if len(f) not in (5, 9, 11):
            continue
        svc, inner, wall, orc, crc = f[0], int(f[1]), int(f[2]), int(f[3]), int(f[4])
        d[svc]["inner"].append(inner)
        d[svc]["wall"].append(wall)
        if len(f) >= 9:
            for k, v in zip(STEPS, f[5:9]):
                d[svc][k].append(int(v))
        if len(f) == 11:
            d[svc]["cpu"].append(int(f[9]))
            d[svc]["open_cpu"].append(int(f[10]))
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
        c["busy_ticks"] += int(kv.get("busy_ticks", 0))
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
print(f"- load average (1/5/15 min) at the start: {machine.get('load_start', '?')}, at the end: "
      f"{machine.get('load_end', '?')}; memory {machine.get('memory', '?')}")
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
          ("world-debian13", "real logind 257 (Debian 13, C module 257)"),
          ("world-debian14", "real logind 262 (Debian 14, C module 262)"))
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
                  ("world-debian12", "pidfd0"), ("world-debian13", "pidfd0"), ("world-debian14", "pidfd0")):
    for svc in (RS, C, "bench-rsprof", "bench-none"):
        p = os.path.join(OUT, kind, f"callgrind-{cfg}-{svc}.out")
        if not os.path.exists(p):
            continue
        if svc == "bench-none":  # the module-less baseline: PAM_PERM_DENIED is its normal outcome
            cg[(kind, cfg, svc)] = Profile(p)
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


# ---------------------------------------------------------------------------------------------
# Real systemd 262 (Debian 14 world, forky's C module): every ratio of issue 21, with the spread.
# ---------------------------------------------------------------------------------------------
def spread(xs):
    """p10 / p25-p75 / p90 of a sample, for the spread column"""
    if not xs:
        return ""
    return f"p10 {pct(xs, 10):,.0f}, IQR {pct(xs, 25):,.0f}–{pct(xs, 75):,.0f}, p90 {pct(xs, 90):,.0f}"


def world262():
    kind = "world-debian14"
    d = os.path.join(OUT, kind)
    if not os.path.isdir(d):
        return
    w = kv_file(os.path.join(d, "world.txt"))
    rows262 = []

    def r(metric, a, b, target=None, higher=False, spread_a="", spread_b=""):
        q = ratio(a, b) if isinstance(a, (int, float)) and isinstance(b, (int, float)) else None
        sp = "; ".join(x for x in (f"ours {spread_a}" if spread_a else "", f"C {spread_b}" if spread_b else "") if x)
        rows262.append((metric, fmt(a), fmt(b), fmt(q) if q is not None else "", sp,
                        verdict(q, target, higher) if target is not None and q is not None else ""))

    lat = latency(os.path.join(d, "latency.txt"))
    a_, b_ = lat[RS], lat[C]
    if a_["inner"] and b_["inner"]:
        n = f"n={len(a_['inner'])}/{len(b_['inner'])}"
        r(f"whole login, forked child's start → pam_end: median (µs, {n})", pct(a_["inner"], 50),
          pct(b_["inner"], 50), 0.9, spread_a=spread(a_["inner"]), spread_b=spread(b_["inner"]))
        r("whole login, forked child's start → pam_end: p90 (µs)", pct(a_["inner"], 90), pct(b_["inner"], 90), 0.9)
        r("login wall incl. fork + exit + waitpid: median (µs)", pct(a_["wall"], 50), pct(b_["wall"], 50),
          spread_a=spread(a_["wall"]), spread_b=spread(b_["wall"]))
        if a_["start"] and b_["start"]:
            first = lambda x: [s_ + o for s_, o in zip(x["start"], x["open"])]  # noqa: E731
            r("cold load + first hook: pam_start_confdir (dlopen) + pam_open_session, fresh process: median (µs)",
              pct(first(a_), 50), pct(first(b_), 50), 1.0, spread_a=spread(first(a_)), spread_b=spread(first(b_)))
            for k, label in (("start", "pam_start_confdir (config + cold dlopen of the module)"),
                             ("open", "pam_open_session (first hook: CreateSession, user lookup)"),
                             ("close", "pam_close_session"), ("end", "pam_end (dlclose)")):
                r(f"  {label}: median (µs)", pct(a_[k], 50), pct(b_[k], 50),
                  spread_a=spread(a_[k]), spread_b=spread(b_[k]))
        if a_["cpu"] and b_["cpu"]:
            r("  the client's own CPU time in the login (user + system, pam_start_confdir .. pam_end): median (µs)",
              pct(a_["cpu"], 50), pct(b_["cpu"], 50), spread_a=spread(a_["cpu"]), spread_b=spread(b_["cpu"]))
            r("    of which in pam_open_session: median (µs)", pct(a_["open_cpu"], 50), pct(b_["open_cpu"], 50))
            off = lambda x: [w - c for w, c in zip(x["inner"], x["cpu"])]  # noqa: E731
            r("  off the client's CPU (waiting for logind, userdbd, PID 1, the scheduler): median (µs)",
              pct(off(a_), 50), pct(off(b_), 50), spread_a=spread(off(a_)), spread_b=spread(off(b_)))
            floor = pct(off(b_), 50) / pct(b_["inner"], 50)
            rows262.append(("  bound: C's off-CPU median / C's whole-login median = the ratio a module with no CPU "
                            "time at all and C's waits would reach", "", "", fmt(floor), "", ""))
        r("failed logins (latency rounds)", a_["bad"], b_["bad"])

    A, B, N = cg.get((kind, "pidfd0", RS)), cg.get((kind, "pidfd0", C)), cg.get((kind, "pidfd0", "bench-none"))
    if A and B and N:
        r("Ir due to the module: whole process − the same process with no module in the stack",
          A.total - N.total, B.total - N.total, 0.5)
        r("  Ir, pam_sm_open_session incl.", A.incl_of("pam_sm_open_session"), B.incl_of("pam_sm_open_session"), 0.5)
        r("  Ir, pam_sm_close_session incl.", A.incl_of("pam_sm_close_session"),
          B.incl_of("pam_sm_close_session"), 1.0)
        r("  Ir, loading: pam_start_confdir incl. − baseline's", A.incl_of("pam_start_confdir") - N.incl_of("pam_start_confdir"),
          B.incl_of("pam_start_confdir") - N.incl_of("pam_start_confdir"))
        r("  Ir, unloading: pam_end incl. − baseline's", A.incl_of("pam_end") - N.incl_of("pam_end"),
          B.incl_of("pam_end") - N.incl_of("pam_end"))
        r("Ir, whole client process, one login (baseline without module: "
          f"{N.total:,})", A.total, B.total)
    elif os.path.exists(os.path.join(d, "callgrind-pidfd0-bench-rs.out")):
        rows262.append(("callgrind in the 262 world: a login failed or the baseline is missing", "", "", "", "", "❌"))

    o_rs, c_rs = dl(os.path.join(d, "dlopen-rs.txt"))
    o_c, c_c = dl(os.path.join(d, "dlopen-c.txt"))
    if o_rs and o_c:
        r(f"cold dlopen(RTLD_NOW) in a fresh child, in the world: median (µs, n={len(o_rs)})",
          pct(o_rs, 50), pct(o_c, 50), 1.0, spread_a=spread(o_rs), spread_b=spread(o_c))

    pr = probes(os.path.join(d, "probe.txt"))
    if pr[RS] and pr[C]:
        def med(svc, f):
            return statistics.median(f(x) for x in pr[svc])
        hw = lambda x: x["hwm_after_end"]  # noqa: E731
        r(f"peak RSS (VmHWM) of a one-login process (kB, median of {len(pr[RS])})", med(RS, hw), med(C, hw), 1.2,
          spread_a=f"{min(map(hw, pr[RS])):,}–{max(map(hw, pr[RS])):,}",
          spread_b=f"{min(map(hw, pr[C])):,}–{max(map(hw, pr[C])):,}")
        r("  of which before pam_start (loginbench + libpam + libc, kB)", med(RS, lambda x: x["hwm_start"]),
          med(C, lambda x: x["hwm_start"]))
        r("  VmRSS added by pam_start + open_session (module load + first hook, kB)",
          med(RS, lambda x: x["rss_after_open"] - x["rss_start"]), med(C, lambda x: x["rss_after_open"] - x["rss_start"]))
        r("threads after open_session", med(RS, lambda x: x["threads_after_open"]), med(C, lambda x: x["threads_after_open"]))
        r("new fds after pam_end", med(RS, lambda x: x["fds_after_end"] - x["fds_start"]),
          med(C, lambda x: x["fds_after_end"] - x["fds_start"]))

    cc = concurrent(os.path.join(d, "concurrent.txt"))
    if cc[RS] and cc[C]:
        halves = collections.defaultdict(list)
        loads = []
        for line in open(os.path.join(d, "concurrent.txt")):
            kv = dict(x.split("=", 1) for x in line.split())
            halves[kv["svc"]].append(int(kv["logins"]) / float(kv["elapsed"]))
            loads.append(kv.get("load", "?"))
        clients = dict(x.split("=", 1) for x in params.split() if "=" in x).get("clients", "?")
        r(f"logins/s, {clients} concurrent clients, same logind "
          f"({cc[RS]['elapsed']:.1f}s/{cc[C]['elapsed']:.1f}s; load at the halves' ends {', '.join(loads)})",
          cc[RS]["logins"] / cc[RS]["elapsed"], cc[C]["logins"] / cc[C]["elapsed"], 1.1, higher=True,
          spread_a="halves " + ", ".join(f"{x:.0f}" for x in halves[RS]),
          spread_b="halves " + ", ".join(f"{x:.0f}" for x in halves[C]))

        def check(c):
            ok = (c["failures"] == 0 and c["created"] == c["logins"] and c["released"] == c["logins"] and c["left"] == 0)
            return (f"{c['logins']} logins, open ok {c['open_ok']}, close ok {c['close_ok']}; logind: created "
                    f"{c['created']}, released {c['released']}, left {c['left']}" + (" ✅" if ok else " ❌"))
        rows262.append(("  every session created and released", check(cc[RS]), check(cc[C]), "", "", ""))
        if cc[RS]["busy_ticks"] and cc[C]["busy_ticks"]:
            ms = lambda c: 10.0 * c["busy_ticks"] / c["logins"]  # noqa: E731  (USER_HZ = 100)
            r("  machine's busy CPU per login during the run (/proc/stat, all processes: logind, PID 1, userdbd, "
              "the clients, anything else on the machine; ms)", ms(cc[RS]), ms(cc[C]))
            if b_["cpu"]:
                client_ms = pct(b_["cpu"], 50) / 1000.0
                rows262.append(("  bound: C's busy CPU per login / (the same − C's whole client CPU per login) = the "
                                "logins/s ratio a module and client costing no CPU at all would reach", "", "",
                                fmt(ms(cc[C]) / max(ms(cc[C]) - client_ms, 1e-9)), "", ""))

    a, b = int(static.get("size_rs_stripped", 0)), int(static.get("size_c262_stripped", 0))
    if a and b:
        r(".so size, stripped (bytes)", a, b, 2.0)
        r("relocations (readelf -r)", int(static.get("relocs_rs", 0)), int(static.get("relocs_c262", 0)))

    print("## Real systemd 262 (Debian 14 world): ours vs forky's C module, same logind, same run\n")
    print(f"- {w.get('systemd', '?')}; C module {w.get('c_package', '?')} ({w.get('c_module', '?')}); "
          f"glibc {w.get('glibc', '?')}, libpam {w.get('libpam', '?')} (the world's)")
    print(f"- load average (1/5/15 min) when the world started: {w.get('load_start', '?')}, when it ended: "
          f"{w.get('load_end', '?')} (2 CPUs, shared: absolute times are inflated by the load; A/B is "
          "interleaved login by login; Ir and sizes do not depend on load)")
    print("- both modules look the user up through systemd-userdbd and register over Varlink "
          "(io.systemd.Login), as logind 262 offers it. Under callgrind both get real pidfds "
          "(bench/pidfd_shim.c + bench/pidfd_helper.c: valgrind 3.19 lacks pidfd_open).")
    print("- Ir due to the module = Ir of the whole one-login process minus that of the same process "
          "with a module-less session stack (`bench-none`: libpam, config, the client itself); "
          "whole login = the forked child's pam_start_confdir .. pam_end; spread: p10, IQR, p90 "
          "of the rounds, the two halves of each module's concurrency run.\n")
    print("| metric | ours | C 262 | ours/C | spread | target |")
    print("| --- | ---: | ---: | ---: | --- | --- |")
    for x in rows262:
        print("| " + " | ".join(x) + " |")
    print()


world262()
print("## All generations: elogind 246, the fake, real logind 252 and 257 (and 262's Ir above)\n")
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

sizes = os.path.join(OUT, "sizes.md")
if os.path.exists(sizes):
    print("\n## Where the bytes of the .so go (bench/sizes.py)\n")
    print(open(sizes).read())
