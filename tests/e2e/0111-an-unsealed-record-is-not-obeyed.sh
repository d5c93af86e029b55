#!/usr/bin/env bash
# Nobody without the signing key may make a rewritten journal pass (SPEC
# §9), also on a young host whose journal holds only the admin's records:
#  a) a terminate and a hold, each sealed as it was made; the hold removed,
#     the chain recomputed, checkpoint and checkpoint.p7s deleted: with
#     signing configured, records without a checkpoint are not trusted;
#  b) a forged `release`, correctly chained after the last checkpoint: a
#     record that lifts protection (or adds a trigger) past the checkpoint
#     was never sealed, and is not trusted.
# Each time `run` refuses (exit 1), nothing is destroyed, `journal verify`
# exits 1 saying why, and `journal accept` (which needs the signing key)
# is the way out.  A record whose seal fails is said as a failure (exit 1)
# when it is made.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
J=$T/state/journal
mkpolicy acme <<P
[dataset "all"]
path = $T/srv/acme/**
categories = Other
P
mkdata "$T/srv/acme/a.csv" HELD-DATA
expect_exit 0 L terminate acme "$(days_ago 1)" >/dev/null
expect_exit 0 L hold acme --reason "litigation" >/dev/null
[[ -f $T/state/checkpoint.p7s ]] || die "the records were not sealed"

# a) The hold removed, the chain recomputed, the checkpoint deleted.
cp -a "$T/state" "$T/state.orig"
grep -v ' hold ' "$J" >"$T/j" && cat "$T/j" >"$J"
journal_rechain "$J"
rm "$T/state/checkpoint" "$T/state/checkpoint.p7s"
expect_exit 1 L journal verify >"$T/v" 2>&1
grep -q 'checkpoint: MISSING: .*line 1: terminate.*no signed checkpoint' "$T/v" || die "verify: $(cat "$T/v")"
expect_exit 1 L run >"$T/run" 2>&1
grep -q 'no signed checkpoint' "$T/run" || die "run: $(cat "$T/run")"
[[ -f $T/srv/acme/a.csv ]] || die "held data destroyed through a rewritten journal"
expect_exit 1 L terminate acme "$(days_ago 1)" >/dev/null 2>&1

# b) A forged release after the last checkpoint.
rm -rf "$T/state" && mv "$T/state.orig" "$T/state"
expect_exit 0 L journal verify >/dev/null
last=$(tail -1 "$J")
prev=${last##* }
text="$((${last%% *} + 1)) $(date -u +%FT%TZ) release id=H-0001 agreement=acme by=root"
printf '%s %s\n' "$text" "$(printf '%s %s' "$prev" "$text" | sha256sum | cut -d' ' -f1)" >>"$J"
expect_exit 1 L journal verify >"$T/v" 2>&1
grep -q 'FORGED OR MISMATCHED: .*line 3 (release) comes after the signed checkpoint' "$T/v" || die "verify: $(cat "$T/v")"
expect_exit 1 L run >"$T/run" 2>&1
grep -q 'never sealed' "$T/run" || die "run: $(cat "$T/run")"
[[ -f $T/srv/acme/a.csv ]] || die "held data destroyed through a forged release"
# A run's own lines and a hold may stand after the checkpoint (a killed
# run, a hold recorded during one): the gate passes them.
# The way out leaves evidence, and needs the key.
L journal accept --reason "restored by the admin" >"$T/acc" 2>&1 || die "accept: $(cat "$T/acc")"
expect_exit 0 L journal verify >/dev/null
L run >"$T/run" 2>&1 || die "run after accept: $(cat "$T/run")"
[[ ! -f $T/srv/acme/a.csv ]] || die "not destroyed once the release was accepted"
c=$(ls "$T"/state/certificates/acme-*.cert) || die "no certificate"
grep -q 'restored by the admin' "$c" || die "the acceptance is not on the certificate: $(cat "$c")"

# A record that cannot be sealed (here the checkpoint cannot be written) is
# a failure when it is made, and says the way out.
mkdir "$T/state/checkpoint.next" && touch "$T/state/checkpoint.next/x"
rc=0; L terminate acme "$(days_ago 3)" >"$T/out" 2>"$T/err" || rc=$?
((rc == 1)) || die "terminate exited $rc: $(cat "$T/err")"
grep -q 'terminated on' "$T/out" || die "terminate: $(cat "$T/out")"
grep -q 'could not be sealed .*journal accept --reason TEXT' "$T/err" || die "terminate: $(cat "$T/err")"
echo ok
