#!/usr/bin/env bash
# Issue 14, item 3: a de-identified dataset holds a file sealed under the
# agreement's "Other" key.  Terminating the agreement used to destroy every
# key of it, that one included: the certificate said "retained", and the
# retained file could never be unsealed again.  Now a key is destroyed only
# when every sealed file known to use it is destroyed with it: the exempt
# file's key survives, the file still unseals, and the disposition says
# which key was kept and why.  Keys whose files are all due go.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
mkpolicy a 'method = auto' <<P
[dataset "exports"]
path = $T/srv/a/exports/*
categories = Assessment

[dataset "scores"]
path = $T/srv/a/scores/*
categories = Other

[dataset "research"]
path = $T/srv/a/research/*
deidentified = yes
P
mkdir -p "$T/srv/a/exports" "$T/srv/a/research" "$T/srv/a/scores"
seq 1 2000 | sed 's/^/assess-/' | L seal -a a --category Assessment >"$T/srv/a/exports/x.lethe"
seq 1 2000 | sed 's/^/other-/' | L seal -a a --category Other >"$T/srv/a/scores/s.lethe"
seq 1 2000 | sed 's/^/research-/' | L seal -a a --category Other >"$T/srv/a/research/r.lethe"
cp "$T/srv/a/exports/x.lethe" "$T/x-backup.lethe"
L terminate a "$(days_ago 2)" >/dev/null
L run --dry-run --verbose >"$T/dry" 2>&1 || true
grep -q 's.lethe: refused: its key is kept: it also seals a file of agreement a.s dataset research' "$T/dry" ||
	die "dry run: $(cat "$T/dry")"
expect_exit 1 L run >"$T/run" 2>&1
# The exempt file still unseals; so does the score file sealed under the
# same key (refused, kept); the Assessment key is gone with its data.
L unseal "$T/srv/a/research/r.lethe" >"$T/r.txt" || die "the exempt file no longer unseals"
[[ $(head -n 1 "$T/r.txt") == research-1 ]] || die "wrong plaintext"
[[ -f $T/srv/a/scores/s.lethe ]] || die "a file under the kept key was removed"
[[ ! -e $T/srv/a/exports/x.lethe ]] || die "the Assessment file is still there"
expect_exit 1 L unseal "$T/x-backup.lethe" >/dev/null 2>"$T/err"
grep -q 'key a/assessment/1 destroyed' "$T/err" || die "the Assessment key was not destroyed: $(cat "$T/err")"
grep -q '^tomb	a/other/' "$T/state/keys/keystore" && die "the Other key was destroyed"
c=$(ls "$T"/state/certificates/a-*.cert)
grep -qx 'result = partial' "$c" || die "not partial"
grep -q '^retained = research' "$c" || die "retained: $(grep '^retained' "$c")"
echo ok
