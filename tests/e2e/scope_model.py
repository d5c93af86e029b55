#!/usr/bin/env python3
"""scope_model.py: random policies over random trees, checked against a
reference written from SPEC §5 "Scope", independently of lethe's code.

    scope_model.py LETHE TOPDIR SEED...

For each seed: a tree of files (hard links inside and outside the allowed
roots, symlinks, nested roots), two or three agreements with overlapping
and exempt datasets, legal holds, one or two of them terminated.  Then:

  1. the reference: what each due agreement's disposition destroys, in the
     order run carries them out, from the written rules only:
       - an agreement is due when terminated; its scope is every dataset
         that is neither exempt nor held;
       - the names are every path any scope dataset matches; an object is
         a (device, inode) with all of those names;
       - an object is kept if any of its names is matched by an exempt or
         held dataset of the agreement, or by a dataset of another
         agreement that is exempt or held there; refused if matched by a
         dataset of another agreement that is not due, or if it has a link
         none of the scope's datasets matches; otherwise destroyed;
  2. `lethe run --dry-run --verbose` must list exactly those names as
     "destroy";
  3. `lethe run` must remove exactly those names from the disk and no
     other byte may change;
  4. the certificates' `files` must add up to the names destroyed.

Prints one line per seed; exits 1 at the first seed that disagrees, with
what differs (rerun that seed alone to debug).
"""
import fnmatch
import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
from datetime import date, timedelta

CATS = ["Assessment", "Attendance", "Other"]


def comp_match(pat, name):
    return fnmatch.fnmatchcase(name, pat)


def glob_match(pat, path):
    """SPEC §3 globs: `*`, `?` within a component; `**` a whole component
    matching zero or more components.  Absolute pattern and path."""
    p = [c for c in pat.split("/") if c not in ("", ".")]
    s = [c for c in path.split("/") if c not in ("", ".")]
    memo = {}

    def m(i, j):
        if (i, j) in memo:
            return memo[(i, j)]
        if i == len(p):
            r = j == len(s)
        elif p[i] == "**":
            r = m(i + 1, j) or (j < len(s) and m(i, j + 1))
        else:
            r = j < len(s) and comp_match(p[i], s[j]) and m(i + 1, j + 1)
        memo[(i, j)] = r
        return r

    return m(0, 0)


def walk(root):
    """Every non-directory under root, never following a symlink."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for n in filenames:
            out.append(os.path.join(dirpath, n))
        for n in dirnames:
            p = os.path.join(dirpath, n)
            if os.path.islink(p):
                out.append(p)
    return out


class World:
    def __init__(self, top, seed):
        self.r = random.Random(seed)
        self.top = top
        self.srv = os.path.join(top, "srv")
        self.outside = os.path.join(top, "outside")
        self.roots = [self.srv]

    def build_tree(self):
        r = self.r
        os.makedirs(self.outside)
        dirs = [""]
        for _ in range(r.randint(3, 7)):
            parent = r.choice(dirs)
            d = os.path.join(parent, r.choice(["a", "b", "c", "d", "e"]) +
                             str(r.randint(0, 2)))
            if d not in dirs:
                dirs.append(d)
        for d in dirs:
            os.makedirs(os.path.join(self.srv, d), exist_ok=True)
        files = []
        for i in range(r.randint(8, 25)):
            d = r.choice(dirs)
            name = "f%d.%s" % (i, r.choice(["csv", "txt", "bin"]))
            p = os.path.join(self.srv, d, name)
            with open(p, "w") as f:
                f.write("student record %d %s\n" % (i, "x" * r.randint(0, 3000)))
            files.append(p)
        for i in range(r.randint(0, 3)):	# links inside the tree
            src = r.choice(files)
            d = r.choice(dirs)
            p = os.path.join(self.srv, d, "l%d.%s" % (i, r.choice(["csv", "txt"])))
            if not os.path.exists(p):
                os.link(src, p)
        for i in range(r.randint(0, 2)):	# links from outside the roots
            o = os.path.join(self.outside, "o%d.txt" % i)
            with open(o, "w") as f:
                f.write("outside %d\n" % i)
            p = os.path.join(self.srv, r.choice(dirs), "h%d.csv" % i)
            if not os.path.exists(p):
                os.link(o, p)
        for i in range(r.randint(0, 2)):	# symlinks, to inside and out
            p = os.path.join(self.srv, r.choice(dirs), "s%d.csv" % i)
            if not os.path.lexists(p):
                os.symlink(r.choice(files + [self.outside]), p)
        if r.random() < 0.4 and len(dirs) > 1:	# a nested allowed root
            self.roots.append(os.path.join(self.srv, r.choice(dirs[1:])))
        self.dirs = dirs

    def random_glob(self):
        r = self.r
        d = r.choice(self.dirs)
        base = os.path.join(self.srv, d) if d else self.srv
        # No tail matches a directory by its last component: such a glob
        # names no file below it and is refused outright (0632), which is
        # not the object rules this reference checks.  Directories here
        # have no dot, files all have one.
        tail = r.choice(["**", "*.csv", "**/*.csv", "*.*", "**/*.txt", "f?.*",
                         "**/l*", "*/**"])
        return base + "/" + tail

    def build_policies(self):
        r = self.r
        self.agreements = []
        today = date.today()
        for ai, aid in enumerate(["aa", "bb", "cc"][:r.randint(2, 3)]):
            ds = []
            for k in range(r.randint(1, 4)):
                ds.append({
                    "name": "d%d" % k,
                    "path": self.random_glob(),
                    "cats": r.sample(CATS, r.randint(1, 2)),
                    "exempt": r.random() < 0.2,
                })
            term = None
            if ai == 0 or r.random() < 0.5:
                term = today - timedelta(days=r.randint(1, 20))
            holds = []
            if r.random() < 0.3:
                holds.append(("dataset", r.choice(ds)["name"]))
            elif r.random() < 0.2:
                holds.append(("category", r.choice(CATS)))
            self.agreements.append({"id": aid, "ds": ds, "term": term,
                                    "holds": holds})

    def write(self, conf):
        os.makedirs(os.path.join(self.top, "policies.d"), exist_ok=True)
        for a in self.agreements:
            with open(os.path.join(self.top, "policies.d", a["id"] + ".ini"),
                      "w") as f:
                f.write("[agreement]\nid = %s\nlea = %s District\n"
                        "contact = dpo@%s.example\nmethod = overwrite\n"
                        "dispose_after_termination = 30d\n\n" %
                        (a["id"], a["id"], a["id"]))
                for d in a["ds"]:
                    f.write('[dataset "%s"]\npath = %s\n' % (d["name"], d["path"]))
                    if d["exempt"]:
                        f.write("deidentified = yes\n")
                    f.write("categories = %s\n\n" % ", ".join(d["cats"]))
        text = open(conf).read()
        text = re.sub(r"(?m)^allowed_roots = .*$",
                      "allowed_roots = " + " ".join(self.roots), text)
        with open(conf, "w") as f:
            f.write(text)

    # The reference, from the written rules only.
    def held(self, a, d):
        """SPEC §5: a hold freezes the datasets (or categories) it names;
        it fails closed: one whose categories match no dataset of the
        agreement freezes all of it."""
        for kind, v in a["holds"]:
            if kind == "dataset" and v == d["name"]:
                return True
            if kind == "category" and (v in d["cats"] or
                                       not any(v in x["cats"] for x in a["ds"])):
                return True
        return False

    def reference(self):
        present = set(p for root in [self.srv] for p in walk(root))
        destroyed = []
        for a in self.agreements:
            if a["term"] is None:
                continue
            scope = [d for d in a["ds"] if not d["exempt"] and not self.held(a, d)]
            names = [p for p in sorted(present)
                     if any(glob_match(d["path"], p) for d in scope)]
            objs = {}
            for p in names:
                st = os.lstat(p)
                objs.setdefault((st.st_dev, st.st_ino), []).append(p)
            guards = []	# (glob, verdict)
            for d in a["ds"]:
                if d["exempt"] or self.held(a, d):
                    guards.append((d["path"], "kept"))
            for b in self.agreements:
                if b is a:
                    continue
                for d in b["ds"]:
                    if d["exempt"] or self.held(b, d):
                        guards.append((d["path"], "kept"))
                    elif b["term"] is None:
                        guards.append((d["path"], "refused"))
            for key, ps in objs.items():
                verdicts = set(v for p in ps for g, v in guards if glob_match(g, p))
                if verdicts:
                    continue
                if os.lstat(ps[0]).st_nlink > len(ps):
                    continue
                destroyed.extend(ps)
                present.difference_update(ps)
        return sorted(destroyed)


def snapshot(paths):
    out = {}
    for p in paths:
        if os.path.islink(p):
            out[p] = "link:" + os.readlink(p)
        else:
            with open(p, "rb") as f:
                out[p] = hashlib.sha256(f.read()).hexdigest()
    return out


def one(lethe, top, seed):
    w = World(top, seed)
    w.build_tree()
    w.build_policies()
    conf = os.path.join(top, "lethe.conf")
    w.write(conf)
    env = dict(os.environ)

    def L(*args):
        return subprocess.run([lethe, "-c", conf] + list(args), env=env,
                              capture_output=True, text=True, errors="replace")

    chk = L("check")
    if chk.returncode != 0:
        return "check failed: " + chk.stderr[-800:]
    for a in w.agreements:
        if a["term"] is not None:
            L("terminate", a["id"], a["term"].isoformat())
        for kind, v in a["holds"]:
            args = ["hold", a["id"], "--reason", "random test hold"]
            args += ["--dataset", v] if kind == "dataset" else ["--category", v]
            h = L(*args)
            if h.returncode != 0:
                return "hold failed: " + h.stderr
    want = w.reference()
    before = snapshot(walk(w.srv) + walk(w.outside))
    dry = L("run", "--dry-run", "--verbose")
    listed = sorted(m.group(1) for m in
                    re.finditer(r"(?m)^\S+:   destroy (.*)$", dry.stdout))
    if listed != want:
        return ("dry run lists %d, the reference %d\n  only dry: %s\n  only ref: %s\n%s"
                % (len(listed), len(want), sorted(set(listed) - set(want))[:5],
                   sorted(set(want) - set(listed))[:5], dry.stdout[-1500:]))
    run = L("run")
    after = snapshot(walk(w.srv) + walk(w.outside))
    gone = sorted(set(before) - set(after))
    if gone != want:
        return ("run removed %d, the reference %d\n  only run: %s\n  only ref: %s\n%s"
                % (len(gone), len(want), sorted(set(gone) - set(want))[:5],
                   sorted(set(want) - set(gone))[:5], run.stderr[-1500:]))
    changed = [p for p in after if after[p] != before.get(p)]
    if changed:
        return "run changed kept bytes: %s" % changed[:5]
    files = 0
    certdir = os.path.join(top, "state", "certificates")
    for n in os.listdir(certdir) if os.path.isdir(certdir) else []:
        if n.endswith(".cert"):
            for line in open(os.path.join(certdir, n)):
                if line.startswith("files = "):
                    files += int(line.split("=")[1])
    if files != len(want):
        return "certificates say %d files; %d were destroyed" % (files, len(want))
    return None


def main():
    lethe, topdir = sys.argv[1], sys.argv[2]
    seeds = [int(s) for s in sys.argv[3:]]
    for seed in seeds:
        top = os.path.join(topdir, "seed-%d" % seed)
        tmpl = os.path.join(topdir, "host")
        shutil.copytree(tmpl, top, symlinks=True)
        # The host template's paths point at the template: repoint them.
        conf = os.path.join(top, "lethe.conf")
        text = open(conf).read().replace(tmpl, top)
        open(conf, "w").write(text)
        why = one(lethe, top, seed)
        if why is not None:
            print("seed %d: FAIL: %s" % (seed, why))
            return 1
        print("seed %d: ok" % seed)
        shutil.rmtree(top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
