#!/usr/bin/env bash
# A journal that records runs but has no signed checkpoint counts as
# tampered (SPEC §9): deleting checkpoint and checkpoint.p7s does not make a
# rewritten journal pass, and neither does removing the journal with them
# while certificates remain.  An admin who restores a backup of the whole
# state_dir is trusted as it stands; one who restores an older journal
# beside a newer checkpoint recovers through `journal accept`.  An empty
# state_dir (a fresh host) is trusted, of course.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
J=$T/state/journal
mkpolicy a 'lea = District A' 'contact = privacy@a.example' \
	'dispose_after_termination = 30d' 'certify_within = 10d' \
	'method = overwrite' <<POL
[dataset "records"]
path = $T/srv/a/records/**
categories = Enrollment

[dataset "exports"]
path = $T/srv/a/exports/**
categories = Assessment
POL
mkdata "$T/srv/a/records/r1.csv" "MARK-R1" 2
mkdata "$T/srv/a/exports/e1.csv" "MARK-E1" 2
# A fresh host: no journal, no checkpoint, nothing refused.
expect_exit 0 L run >/dev/null 2>&1
L journal verify >"$T/jv" || die "fresh: $(cat "$T/jv")"
expect_exit 0 L terminate a "$(days_ago 60)" >/dev/null
expect_exit 0 L hold a --reason "audit" --dataset exports >/dev/null
expect_exit 0 L run >"$T/run1" 2>&1 || die "run 1: $(cat "$T/run1")"
[[ ! -e $T/srv/a/records/r1.csv && -e $T/srv/a/exports/e1.csv ]] || die "run 1"
before=$(snapshot "$T/srv/a")
tar -C "$T" -cf "$T/backup.tar" state        # the admin's nightly backup

# refused CMD...: exits 1, says why, writes nothing, destroys nothing.
refused() {
	local n
	n=$(wc -l <"$J")
	expect_exit 1 L "$@" >"$T/out" 2>"$T/err"
	grep -q "$want" "$T/err" || die "$*: not explained: $(cat "$T/err")"
	[[ $(wc -l <"$J") == "$n" ]] || die "$*: wrote the journal"
	[[ $(snapshot "$T/srv/a") == "$before" ]] || die "$*: data changed"
}

# --- 1. checkpoint deleted, hold line removed, chain recomputed -------------
rm "$T/state/checkpoint" "$T/state/checkpoint.p7s"
hl=$(grep -n ' hold id=H-0001 ' "$J" | cut -d: -f1)
sed -i "${hl}d" "$J"
journal_rechain "$J"
want="journal records a run (line [0-9]*: [a-z-]*) but there is no signed checkpoint"
refused run
refused terminate a "$(days_ago 61)"
refused directive cancel D-0001 --reason x
expect_exit 1 L journal verify >"$T/jv"
grep -q '^checkpoint: MISSING: .*records a run' "$T/jv" || die "verify: $(cat "$T/jv")"
expect_exit 0 L journal accept --reason "checkpoint lost in a disk swap" >"$T/acc" 2>&1 || die "accept: $(cat "$T/acc")"
grep ' journal-accept ' "$J" | qgrep ' kind=no-checkpoint ' || die "$(grep journal-accept "$J")"
L journal verify >"$T/jv" || die "verify after accept: $(cat "$T/jv")"
grep -q '^checkpoint: signed by ' "$T/jv" || die "no new checkpoint: $(cat "$T/jv")"
# The accepted journal has no hold: the admin places it again first.
expect_exit 0 L hold a --reason "audit, re-placed" --dataset exports >/dev/null
expect_exit 0 L run >/dev/null 2>&1
[[ $(snapshot "$T/srv/a") == "$before" ]] || die "held exports destroyed after accept"

# --- 2. the journal and the checkpoint both removed, certificates remain ----
mv "$J" "$T/journal.aside"
rm "$T/state/checkpoint" "$T/state/checkpoint.p7s"
want="journal has no signed checkpoint, but $T/state/certificates holds certificates"
expect_exit 1 L run >"$T/out" 2>"$T/err"
grep -q "$want" "$T/err" || die "no journal: $(cat "$T/err")"
[[ $(snapshot "$T/srv/a") == "$before" ]] || die "data changed"
mv "$T/journal.aside" "$J"

# --- 3. the whole state_dir restored from the backup: trusted as it is ------
rm -rf "$T/state"
tar -C "$T" -xf "$T/backup.tar"
L journal verify >"$T/jv" || die "restored backup: $(cat "$T/jv")"
expect_exit 0 L run >"$T/run3" 2>&1 || die "run on the restored backup: $(cat "$T/run3")"
[[ $(snapshot "$T/srv/a") == "$before" ]] || die "restored backup: data changed"

# --- 4. only the journal restored from the backup, beside a newer checkpoint -
cp "$J" "$T/journal.backup"
expect_exit 0 L hold a --reason "second matter" --dataset records >/dev/null
expect_exit 0 L run >/dev/null 2>&1                           # seals the longer journal
cp "$T/journal.backup" "$J"
want="journal has [0-9]* lines, but its signed checkpoint of .* seals line [0-9]* with hash [0-9a-f]\{64\}: lines were removed, or an older journal was put back"
refused run
expect_exit 0 L journal accept --reason "journal restored from the 02:00 backup" >"$T/acc" 2>&1 || die "accept: $(cat "$T/acc")"
grep ' journal-accept ' "$J" | qgrep ' kind=short ' || die "$(grep journal-accept "$J")"
expect_exit 0 L release a >/dev/null
expect_exit 0 L run >"$T/run4" 2>&1 || die "run 4: $(cat "$T/run4")"
[[ ! -e $T/srv/a/exports/e1.csv ]] || die "released exports not destroyed"
c=$(ls -t "$T"/state/certificates/*.cert | head -n 1)
grep -q '^journal_accepted = line [0-9]* on .* by .* (journal restored from the 02:00 backup)$' "$c" ||
	die "certificate: $(grep journal_ "$c")"
L verify "$c" >"$T/v" || die "verify: $(cat "$T/v")"
echo ok
