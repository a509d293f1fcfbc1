"""Minimal reader of callgrind output files (one event, Ir): self and inclusive cost per
function, self cost per object. Used by bench/report.py; also runnable by hand:

    python3 bench/cgparse.py FILE [N]     top N functions by self and inclusive Ir
"""
import collections
import os
import re
import sys


class Profile:
    def __init__(self, path):
        self.total = 0
        self.self_cost = collections.Counter()  # (obj, fn) -> Ir
        self.calls = collections.Counter()  # ((obj, fn), (obj, fn)) -> inclusive Ir of the calls
        names = {"ob": {}, "fl": {}, "fn": {}}
        ob = fn = cob = cfn = None
        pending_call = False

        def name(kind, rest):
            m = re.match(r"\((\d+)\)(?: (.*))?$", rest)
            if not m:
                return rest
            if m.group(2) is not None:
                names[kind][m.group(1)] = m.group(2)
            return names[kind].get(m.group(1), "?")

        with open(path, errors="replace") as f:
            for line in f:
                line = line.rstrip("\n")
                if not line:
                    continue
                c = line[0]
                if c.isdigit() or c in "+-*":
                    ir = int(line.split()[-1]) if len(line.split()) > 1 else 0
                    if pending_call:
                        caller, callee = (ob, fn), (cob if cob else ob, cfn)
                        if caller != callee:
                            self.calls[(caller, callee)] += ir
                        pending_call = False
                    else:
                        self.self_cost[(ob, fn)] += ir
                    continue
                key, _, rest = line.partition("=")
                if key == "ob":
                    ob = name("ob", rest)
                elif key == "fn":
                    fn = name("fn", rest)
                    cob = cfn = None
                elif key == "cob":
                    cob = name("ob", rest)
                elif key == "cfn":
                    cfn = name("fn", rest)
                elif key in ("fl", "fi", "fe", "cfi", "cfl"):
                    name("fl", rest)
                elif key == "calls":
                    pending_call = True
                elif line.startswith("summary:") or line.startswith("totals:"):
                    self.total = max(self.total, int(line.split()[1]))
        if not self.total:
            self.total = sum(self.self_cost.values())
        self.incl = collections.Counter(self.self_cost)
        for (caller, _callee), ir in self.calls.items():
            self.incl[caller] += ir
        # A callee's cob= is only given when it differs; fix up calls recorded before
        # we knew (cob None means same object as the caller, handled above).

    def by_object(self):
        out = collections.Counter()
        for (ob, _fn), ir in self.self_cost.items():
            out[ob] += ir
        return out

    def incl_of(self, fn_name, obj_sub=None):
        """Inclusive Ir summed over functions named fn_name (optionally in objects matching)."""
        return sum(ir for (ob, fn), ir in self.incl.items()
                   if fn == fn_name and (obj_sub is None or (ob and obj_sub in ob)))

    def self_of_object(self, obj_sub):
        return sum(ir for (ob, _fn), ir in self.self_cost.items() if ob and obj_sub in ob)

    def top_self(self, n, obj_sub=None):
        items = [((ob, fn), ir) for (ob, fn), ir in self.self_cost.items()
                 if obj_sub is None or (ob and obj_sub in ob)]
        return sorted(items, key=lambda x: -x[1])[:n]

    def top_incl(self, n, obj_sub=None):
        items = [((ob, fn), ir) for (ob, fn), ir in self.incl.items()
                 if obj_sub is None or (ob and obj_sub in ob)]
        return sorted(items, key=lambda x: -x[1])[:n]


def short_obj(ob):
    return os.path.basename(ob or "?")


def crate_of(fn):
    m = re.search(r"([A-Za-z_][A-Za-z0-9_]*)::", fn or "")
    return m.group(1) if m else "(no path: C/asm or unnamed)"


if __name__ == "__main__":
    p = Profile(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    print("total", p.total)
    for ob, ir in p.by_object().most_common():
        print(f"{ir:>10} {short_obj(ob)}")
    print("-- self")
    for (ob, fn), ir in p.top_self(n):
        print(f"{ir:>10} {fn} [{short_obj(ob)}]")
    print("-- inclusive")
    for (ob, fn), ir in p.top_incl(n):
        print(f"{ir:>10} {fn} [{short_obj(ob)}]")
