#!/usr/bin/env bash
# The journal is trusted only as far as it is signed (SPEC §9).  Someone who
# can write state_dir removes a hold line, or moves a termination date, and
# recomputes the hash chain; or signs a checkpoint of the forgery with a key
# of their own.  Every command that writes state then refuses (exit 1,
# naming the line and both hashes) and destroys nothing; `hold` still
# records a hold, with a warning.  The admin's way out, `journal accept`,
# needs the signing key, journals the discrepancy, seals a new checkpoint,
# and every later certificate names the acceptance.
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
mkpolicy b 'lea = District B' 'contact = privacy@b.example' \
	'dispose_after_termination = 30d' 'certify_within = 10d' \
	'method = overwrite' <<POL
[dataset "files"]
path = $T/srv/b/**
categories = Enrollment
POL
for n in 1 2; do mkdata "$T/srv/a/records/r$n.csv" "MARK-A-R$n" 2; done
mkdata "$T/srv/a/exports/e1.csv" "MARK-A-E1" 2
mkdata "$T/srv/b/b1.csv" "MARK-B1" 2
L check >/dev/null || die "check: $(L check 2>&1)"
expect_exit 0 L terminate a "$(days_ago 60)" >/dev/null
expect_exit 0 L terminate b "$(days_ago 2)" >/dev/null       # not due for 28 days
expect_exit 0 L hold a --reason "subpoena 2026-77" --dataset exports >/dev/null
expect_exit 0 L run >"$T/run1" 2>&1 || die "run 1: $(cat "$T/run1")"
[[ ! -e $T/srv/a/records/r1.csv && -e $T/srv/a/exports/e1.csv ]] || die "run 1 did not do what the hold allows"
L journal verify >"$T/jv" || die "journal verify after run 1: $(cat "$T/jv")"
cp "$J" "$T/journal.good"
before_a=$(snapshot "$T/srv/a")
before_b=$(snapshot "$T/srv/b")
ncert=$(ls "$T"/state/certificates/*.cert | wc -l)

# refused CMD...: exits 1, says what does not match, and writes nothing.
refused() {
	local n
	n=$(wc -l <"$J")
	expect_exit 1 L "$@" >"$T/out" 2>"$T/err"
	grep -q "$want" "$T/err" || die "$*: not explained: $(cat "$T/err")"
	[[ $(wc -l <"$J") == "$n" ]] || die "$*: wrote the journal"
}
untouched() {
	[[ $(snapshot "$T/srv/a") == "$before_a" ]] || die "$1: data of a changed"
	[[ $(snapshot "$T/srv/b") == "$before_b" ]] || die "$1: data of b changed"
	(($(ls "$T"/state/certificates/*.cert | wc -l) == ncert)) || die "$1: a certificate was issued"
}

# --- 1. the hold line removed, the chain recomputed -------------------------
hl=$(grep -n ' hold id=H-0001 ' "$J" | cut -d: -f1)
sed -i "${hl}d" "$J"
journal_rechain "$J"
want="checkpoint of .* seals line [0-9]* with hash [0-9a-f]\{64\}"
refused run
grep -q 'journal accept --reason' "$T/err" || die "the way out is not named: $(cat "$T/err")"
untouched "run on a journal without its hold"
refused terminate b "$(days_ago 90)"
refused release a
refused cert resend "$(basename "$(ls "$T"/state/certificates/*.cert | head -n 1)" .cert)"
expect_exit 1 L journal verify >"$T/jv"
grep -q '^checkpoint: FORGED OR MISMATCHED: .*seals line [0-9]* with hash' "$T/jv" || die "verify: $(cat "$T/jv")"
# A hold is still recorded (it only adds protection), with a warning.
n=$(wc -l <"$J")
expect_exit 0 L hold a --reason "re-placed after the edit" --dataset exports >"$T/out" 2>"$T/err"
grep -q 'warning: .*signed checkpoint.*the hold is recorded anyway' "$T/err" || die "hold: $(cat "$T/err")"
[[ $(wc -l <"$J") == $((n + 1)) ]] || die "hold not recorded on a mismatched journal"
refused run
untouched "run after the hold"
# Accepting needs the signing key: without it, nothing is recorded.
sed "s|^key = .*|key = $T/nokey|" "$T/lethe.conf" >"$T/nokey.conf"
n=$(wc -l <"$J")
expect_exit 2 "$LETHE" -c "$T/nokey.conf" journal accept --reason "no key" 2>"$T/err"
[[ $(wc -l <"$J") == "$n" ]] || die "accept without the key wrote the journal"
expect_exit 2 L journal accept 2>/dev/null                   # a reason is required
expect_exit 0 L journal accept --reason "restored a hand-edited journal; ticket 4711" >"$T/acc" 2>&1 ||
	die "accept: $(cat "$T/acc")"
grep -q '^journal: accepted: .*checkpoint of .* seals line' "$T/acc" || die "accept: $(cat "$T/acc")"
al=$(grep -n ' journal-accept ' "$J" | cut -d: -f1)
[[ -n $al ]] || die "no journal-accept event"
grep ' journal-accept ' "$J" | qgrep -E 'kind=(mismatch|short) lines=[0-9]+ head=[0-9a-f]{64} seq=[0-9]+ expected=[0-9a-f]{64} found=([0-9a-f]{64}|none) checkpoint_time=[0-9TZ:-]+ detail=.* reason=restored%20a%20hand-edited' ||
	die "the acceptance does not record the discrepancy: $(grep journal-accept "$J")"
L journal verify >"$T/jv" || die "verify after accept: $(cat "$T/jv")"
grep -q "^journal: line $al: accepted on .* (\(mismatch\|short\)): restored a hand-edited journal; ticket 4711" "$T/jv" || die "verify: $(cat "$T/jv")"
expect_exit 0 L journal accept --reason "again" >"$T/acc2"
grep -q 'nothing to accept' "$T/acc2" || die "second accept: $(cat "$T/acc2")"
# Trusted again: the re-placed hold protects the exports.
expect_exit 0 L run >"$T/run2" 2>&1 || die "run 2: $(cat "$T/run2")"
untouched "run 2 under the re-placed hold"
expect_exit 0 L release a >/dev/null
expect_exit 0 L run >"$T/run3" 2>&1 || die "run 3: $(cat "$T/run3")"
[[ ! -e $T/srv/a/exports/e1.csv ]] || die "released exports not destroyed"
c=$(ls -t "$T"/state/certificates/*.cert | head -n 1)
grep -q "^journal_accepted = line $al on .* (restored a hand-edited journal; ticket 4711)" "$c" ||
	die "the certificate does not name the acceptance: $(grep -A1 journal_ "$c")"
L verify "$c" >"$T/v" || die "verify: $(cat "$T/v")"
grep -q "^note issued after the agent's journal was accepted .*: line $al on " "$T/v" || die "verify: $(cat "$T/v")"
openssl cms -verify -binary -inform PEM -in "$c.p7s" -content "$c" \
	-CAfile "$T/certs/ca.pem" -out /dev/null 2>"$T/ossl" || die "stock openssl: $(cat "$T/ossl")"
cp "$J" "$T/journal.good"
before_a=$(snapshot "$T/srv/a")
ncert=$(ls "$T"/state/certificates/*.cert | wc -l)

# --- 2. a termination date moved back, the chain recomputed ------------------
sed -i -E "s/( terminate agreement=b date=)[0-9-]+/\1$(days_ago 90)/" "$J"
journal_rechain "$J"
want="does not match its signed checkpoint: the checkpoint of .* seals line [0-9]* with hash [0-9a-f]\{64\}, but the journal's line [0-9]* has hash [0-9a-f]\{64\}"
L plan --tsv >"$T/plan" 2>"$T/err" || true
grep -q "warning: .*$want.*lethe run. and every other command that records state refuse" "$T/err" ||
	die "plan does not warn: $(cat "$T/err")"
refused run
untouched "run on a journal with a moved termination"
cp "$T/journal.good" "$J"
L journal verify >/dev/null || die "the good journal does not verify"

# --- 3. the forgery signed with another key ---------------------------------
"$LETHE_TOP/certs/mkca" --vendor "Mallory" --host evil "$T/evil" >/dev/null 2>&1 || die "mkca"
sed -i -E "s/( terminate agreement=b date=)[0-9-]+/\1$(days_ago 90)/" "$J"
journal_rechain "$J"
sed -e "s|^key = .*|key = $T/evil/agent.key|" -e "s|^cert = .*|cert = $T/evil/agent.pem|" \
	-e "s|^chain = .*|chain = $T/evil/ca.pem|" "$T/lethe.conf" >"$T/evil.conf"
"$LETHE" -c "$T/evil.conf" journal accept --reason "mallory" >/dev/null 2>&1 ||
	die "the forger's own accept failed (it should succeed under the forger's CA)"
want="checkpoint.p7s: forged or damaged checkpoint"
refused run
untouched "run on a journal sealed with another key"
refused terminate b "$(days_ago 1)"
expect_exit 1 L journal verify >"$T/jv"
grep -q 'FORGED OR MISMATCHED: .*forged or damaged checkpoint' "$T/jv" || die "verify: $(cat "$T/jv")"

# --- 4. a hold line removed and its release left: the journal does not even
# replay; a hold is still recorded, under an id no line has used.
hl=$(grep -n ' hold id=H-0001 ' "$J" | tail -n 1 | cut -d: -f1)
sed -i "${hl}d" "$J"
journal_rechain "$J"
expect_exit 1 L plan >/dev/null 2>&1
n=$(wc -l <"$J")
expect_exit 0 L hold a --reason "after the journal broke" >"$T/out" 2>"$T/err"
grep -q '^H-0002: legal hold on a recorded' "$T/out" || die "hold on an unreplayable journal: $(cat "$T/out" "$T/err")"
grep -q "warning: .*no such hold 'H-0001'" "$T/err" || die "$(cat "$T/err")"
grep -q "warning: .*the hold is recorded anyway" "$T/err" || die "$(cat "$T/err")"
[[ $(wc -l <"$J") == $((n + 1)) ]] || die "hold not recorded"
want="forged or damaged checkpoint"
refused run
want="does not replay, so it cannot be accepted"
refused journal accept --reason "accept the broken one"
echo ok
