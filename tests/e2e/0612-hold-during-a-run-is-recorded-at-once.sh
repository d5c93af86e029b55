#!/usr/bin/env bash
# A legal hold is never refused because a run is going on (SPEC §5): while
# `lethe run` waits on a slow sendmail, `lethe hold` records its hold at
# once (exit 0, within seconds), the run's later lines chain after it, the
# run finishes cleanly, and the journal verifies with every line sealed by
# the run's final checkpoint.  Other state writers still wait their turn.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
J=$T/state/journal
# A sendmail that takes its time, and says when it has started.
cat >"$T/bin/sendmail" <<SM
#!/bin/sh
touch "$T/sendmail-started"
sleep 6
n=\$(ls "$T/mail" | wc -l)
cat > "$T/mail/\$((n + 1)).eml"
SM
pol() {
	mkpolicy "$1" "lea = District $1" "contact = privacy@$1.example" \
		'dispose_after_termination = 30d' 'certify_within = 10d' \
		'method = overwrite' <<POL
[dataset "files"]
path = $T/srv/$1/**
categories = Enrollment
POL
	mkdata "$T/srv/$1/f1.csv" "MARK-$1" 2
}
pol a
pol b
expect_exit 0 L terminate a "$(days_ago 60)" >/dev/null
L run >"$T/run.out" 2>&1 &
run=$!
cleanup_hooks+=("kill $run 2>/dev/null")
for _ in $(seq 300); do [[ -e $T/sendmail-started ]] && break; sleep 0.1; done
[[ -e $T/sendmail-started ]] || die "the run never reached sendmail: $(cat "$T/run.out")"
kill -0 "$run" 2>/dev/null || die "the run is not running"
start=$(date +%s%N)
timeout 20 "$LETHE" -c "$T/lethe.conf" hold b --reason "urgent: preservation letter" \
	>"$T/hold.out" 2>"$T/hold.err" || die "hold during the run failed: $(cat "$T/hold.err")"
ms=$((($(date +%s%N) - start) / 1000000))
((ms < 3000)) || die "hold took $ms ms"
echo "hold during the run: $ms ms"
kill -0 "$run" 2>/dev/null || die "the run finished before the hold was recorded: not a test"
grep -q '^H-0001: legal hold on b recorded' "$T/hold.out" || die "$(cat "$T/hold.out")"
[[ ! -s $T/hold.err ]] || die "hold said: $(cat "$T/hold.err")"
grep -q ' hold id=H-0001 agreement=b ' "$J" || die "the hold is not in the journal"
# Others still wait for the run.
expect_exit 1 L terminate b "$(days_ago 3)" 2>"$T/err"
grep -q 'another lethe (pid [0-9]*) holds' "$T/err" || die "$(cat "$T/err")"
rc=0
wait "$run" || rc=$?
((rc == 0)) || die "the run exited $rc: $(cat "$T/run.out")"
L journal verify >"$T/jv" || die "journal verify: $(cat "$T/jv")"
lines=$(wc -l <"$J")
grep -q "^checkpoint: signed by .* seals lines 1-$lines\$" "$T/jv" || die "not all sealed: $(cat "$T/jv")"
hl=$(grep -n ' hold id=H-0001 ' "$J" | cut -d: -f1)
((hl < lines)) || die "nothing of the run after the hold (line $hl of $lines)"
grep -q ' delivery-attempt ' <(tail -n +"$hl" "$J") || die "the run's delivery is not after the hold"
[[ ! -e $T/srv/a/f1.csv ]] || die "a's due data not destroyed"
(($(ls "$T/mail" | wc -l) == 1)) || die "$(ls "$T/mail" | wc -l) mails"
[[ -e $T/srv/b/f1.csv ]] || die "b's data is gone"
# Terminated now, b is held: the hold recorded mid-run counts.
expect_exit 0 L terminate b "$(days_ago 60)" >/dev/null
L plan --tsv >"$T/plan" || true
awk -F'\t' '$1 == "b" && $2 == "termination"' "$T/plan" | qgrep 'held by H-0001' ||
	die "plan does not show the hold: $(cat "$T/plan")"
expect_exit 0 L run >/dev/null 2>&1
[[ -e $T/srv/b/f1.csv ]] || die "b's held data destroyed"
echo ok
