#!/usr/bin/env bash
# lethe journal verify: intact after normal use; an edited, removed or
# reordered line is found and named, and the exit status is 1.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/srv" "$T/policies.d"
mkconf --bare
mkpolicy a 'lea = District A' 'contact = privacy@a.example' <<POL
[dataset "files"]
path = $T/srv/a/*.csv
categories = Attendance
POL
J=$T/state/journal

L journal verify >"$T/out" || die "an empty journal should verify"
grep -q '^journal: 0 lines' "$T/out" || die "$(cat "$T/out")"
L terminate a 2026-10-15 >/dev/null
L hold a --reason "first" >/dev/null
L release a >/dev/null
L hold a --reason "second" >/dev/null
L journal verify >"$T/out" || die "verify failed on an untouched journal"
grep -qE '^journal: 4 lines, chain intact, head [0-9a-f]{64}$' "$T/out" || die "$(cat "$T/out")"
cp "$J" "$T/journal.orig"

# An edit: the termination date moved by a day.
sed -i '1s/date=2026-10-15/date=2026-10-16/' "$J"
expect_exit 1 L journal verify >"$T/out"
grep -q "journal:1: hash chain broken" "$T/out" || die "edit not named: $(cat "$T/out")"
# Everything that reads the journal refuses it too.
expect_exit 1 L plan >/dev/null 2>&1
expect_exit 1 L hold a --reason x >/dev/null 2>&1

# A removed line.
cp "$T/journal.orig" "$J"
sed -i '2d' "$J"
expect_exit 1 L journal verify >"$T/out"
grep -q "journal:2: sequence number 3, expected 2" "$T/out" || die "removal: $(cat "$T/out")"

# Two lines swapped.
cp "$T/journal.orig" "$J"
{ sed -n 1p "$T/journal.orig"; sed -n 3p "$T/journal.orig"
  sed -n 2p "$T/journal.orig"; sed -n 4p "$T/journal.orig"; } >"$J"
expect_exit 1 L journal verify >"$T/out"
grep -q "journal:2:" "$T/out" || die "reorder: $(cat "$T/out")"

# A torn last line (an interrupted write): readers skip it and say so; the
# next command that records state removes it and journals the repair.
cp "$T/journal.orig" "$J"
truncate -s -5 "$J"
expect_exit 0 L journal verify >"$T/out"
grep -q '^journal: 3 lines, chain intact' "$T/out" || die "torn: $(cat "$T/out")"
grep -q '^journal: torn last line (.* bytes without a newline' "$T/out" || die "torn: $(cat "$T/out")"
expect_exit 0 L plan --now 2026-11-01 >/dev/null
expect_exit 0 L terminate a 2026-10-20 >/dev/null 2>"$T/err"
grep -q "removed a torn last line ([0-9]* bytes" "$T/err" || die "repair not said: $(cat "$T/err")"
grep -q '^4 [^ ]* journal-repair line=4 bytes=[0-9]* sha256=[0-9a-f]\{64\} ' "$J" || die "repair not journaled: $(tail -2 "$J")"
grep -q '^5 [^ ]* terminate agreement=a date=2026-10-20 ' "$J" || die "terminate not recorded after the repair"
L journal verify >"$T/out" || die "repaired journal does not verify: $(cat "$T/out")"
grep -q torn "$T/out" && die "still torn: $(cat "$T/out")"

cp "$T/journal.orig" "$J"
L journal verify >/dev/null || die "restored journal should verify"
echo ok
