#!/usr/bin/env bash
# Issue 14, item 10: a certificate says only what was done.  `categories`
# lists the categories of data that was destroyed, not of a dataset that
# was empty; the verification text speaks of keys only when keys were
# destroyed, and of read-back bytes only when bytes were read back.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
mkpolicy a 'method = auto' <<P
[dataset "scores"]
path = $T/srv/a/scores/*
categories = Assessment

[dataset "attendance"]
path = $T/srv/a/attendance/*
categories = Attendance
P
mkdata "$T/srv/a/scores/s.csv" MARK-S 2
mkdir -p "$T/srv/a/attendance"
L terminate a "$(days_ago 1)" >/dev/null
L run >"$T/run" 2>&1 || die "run: $(cat "$T/run")"
c=$(ls "$T"/state/certificates/a-*.cert)
grep -qx 'categories = Assessment' "$c" || die "categories: $(grep '^categories' "$c")"
v=$(sed -n '/^verification/,/^started/p' "$c" | grep -v '^started' | tr '\n' ' ')
grep -q 'bytes read back' <<<"$v" || die "verification: $v"
grep -q 'key' <<<"$v" && die "verification speaks of keys: $v"
# Crypto-shred only: keys, no read-back.
mkpolicy b 'method = auto' <<P
[dataset "dumps"]
path = $T/srv/b/*
categories = Other
P
mkdir -p "$T/srv/b"
seq 1 100 | L seal -a b >"$T/srv/b/d.lethe"
L terminate b "$(days_ago 1)" >/dev/null
L run >"$T/run" 2>&1 || die "run b: $(cat "$T/run")"
c=$(ls "$T"/state/certificates/b-*.cert)
v=$(sed -n '/^verification/,/^started/p' "$c" | grep -v '^started' | tr '\n' ' ')
grep -q 'the 1 destroyed key looked up again' <<<"$v" || die "verification: $v"
grep -q 'bytes read back' <<<"$v" && die "verification claims a read-back: $v"
echo ok
