#!/usr/bin/env bash
# A directive whose disposition destroyed something cannot be cancelled
# until that destruction is on a certificate (SPEC §5).  A partial
# directive fails after destroying 3 of its 4 files (the fourth is
# immutable), and the run is killed (SIGKILL, under gdb) before the
# failed disposition's partial certificate is issued: `directive cancel`
# exits 2 naming the disposition, the count and what is missing, journals
# nothing, and the plan row stays.  Once the next run has issued the
# partial certificate (files = 3), the cancel is accepted; the fourth file,
# never destroyed, stays.  The same holds for a disposition killed in the
# middle of its destruction, and for one killed after it completed but
# before its certificate.
. "$(dirname "$0")/lib.sh"
command -v chattr >/dev/null || skip "chattr not installed"
command -v gdb >/dev/null || skip "gdb is not installed"
mkhost "$T/srv"
mkpolicy -f nh ndpa-nh 'lea = Nashua School District' \
	'contact = privacy@nashua.example' 'dispose_after_request = 60d' \
	'certify_within = 10d' 'timezone = America/New_York' \
	'method = overwrite' <<POL
[dataset "assessments"]
path = $T/srv/nh/assessments/**
categories = Assessment
[dataset "attendance"]
path = $T/srv/nh/attendance/**
categories = Attendance
POL
for n in a1 a2 a3 a4; do mkdata "$T/srv/nh/assessments/$n.csv" "MARK-$n" 2; done
mkdata "$T/srv/nh/attendance/keep.csv" KEEP 2
locked=$T/srv/nh/assessments/a4.csv
chattr +i "$locked" 2>/dev/null || skip "cannot set the immutable flag on $(df --output=fstype "$T" | tail -1)"
cleanup_hooks=("chattr -i '$locked' 2>/dev/null" "${cleanup_hooks[@]}")
cat >"$T/d1.ini" <<DIR
[directive]
agreement = ndpa-nh
received = $(days_ago 2)
extent = partial
categories = Assessment
nature = destroy
schedule = asap
requested_by = R. Ortiz, Data Privacy Officer
DIR
L directive add "$T/d1.ini" >/dev/null || die "directive add"
drow() { L plan --tsv | awk -F'\t' '$2 == "directive D-0001" { print $6 }'; }

# The run fails on the immutable file and is killed before it certifies.
gdb -q -batch -ex 'break certify' -ex run -ex 'signal SIGKILL' \
	--args "$LETHE" -c "$T/lethe.conf" run >"$T/gdb.out" 2>&1 || true
grep -q 'Breakpoint 1, .*certify' "$T/gdb.out" || die "certify not reached: $(tail -5 "$T/gdb.out")"
grep -q 'terminated with signal SIGKILL' "$T/gdb.out" || die "not killed: $(tail -5 "$T/gdb.out")"
left=$(find "$T/srv/nh/assessments" -type f | wc -l)
((left == 1)) || die "expected 3 of 4 destroyed, $left left"
shopt -s nullglob
certs=("$T"/state/certificates/*.cert)
((${#certs[@]} == 0)) || die "certified before the kill"
disp=$(grep -o ' disposition-fail id=[^ ]*' "$T/state/journal" | head -1 | cut -d= -f2)
[[ -n $disp ]] || die "no failed disposition: $(tail -5 "$T/state/journal")"
grep -q " disposition-fail id=$disp .*partial=yes files=3" "$T/state/journal" ||
	die "not journaled as partial, 3 files: $(grep ' disposition-fail ' "$T/state/journal")"

# The cancel is refused: exit 2, nothing journaled, the row stays.
n=$(wc -l <"$T/state/journal")
expect_exit 2 L directive cancel D-0001 --reason "withdrawn by the LEA" >"$T/out" 2>"$T/err"
grep -q "directive D-0001 cannot be cancelled: its disposition $disp destroyed 3 files that no certificate covers yet (it failed and its partial certificate is not issued yet: " "$T/err" ||
	die "message: $(cat "$T/err")"
grep -q 'once the next `lethe run` has issued its certificate, the directive can be cancelled' "$T/err" ||
	die "message: $(cat "$T/err")"
[[ ! -s $T/out ]] || die "stdout: $(cat "$T/out")"
(($(wc -l <"$T/state/journal") == n)) || die "a refused cancel wrote the journal"
! grep -q ' directive-cancel ' "$T/state/journal" || die "cancel journaled"
[[ $(drow) =~ ^(due|overdue)$ ]] || die "the directive left the plan: $(L plan)"
L directive list --tsv | awk -F'\t' '$1 == "D-0001" { print $8 }' | qgrep -vx cancelled ||
	die "listed as cancelled"

# The next run issues the partial certificate; then the cancel is accepted.
L run >"$T/run2" 2>&1 || true
certs=("$T"/state/certificates/*.cert)
c=$(grep -lx 'trigger = directive D-0001' "${certs[@]}") || die "no certificate: $(cat "$T/run2")"
grep -qx 'files = 3' "$c" || die "the certificate says $(grep '^files' "$c")"
L directive cancel D-0001 --reason "withdrawn by the LEA" >"$T/out" 2>"$T/err" ||
	die "cancel after the certificate: $(cat "$T/err")"
grep -q '^D-0001: cancelled' "$T/out" || die "$(cat "$T/out")"
L directive list --tsv | awk -F'\t' '$1 == "D-0001" { print $8 }' | qgrep -x cancelled ||
	die "not cancelled: $(L directive list)"
[[ -f $locked && -f $T/srv/nh/attendance/keep.csv ]] || die "a file that was never due went"

# A disposition killed in the middle (its files are recorded in work/, not
# in the journal), or after it completed but before its certificate: the
# cancel is refused too, until the next run has finished and certified it.
chattr -i "$locked"
k=1
for kill in "ow_batch_remove:it was interrupted" "certify:it completed; its certificate is not issued yet"; do
	fn=${kill%%:*} state=${kill#*:}
	k=$((k + 1))
	mkdata "$T/srv/nh/attendance/more$k.csv" "MARK-more$k" 2
	cat >"$T/d$k.ini" <<DIR
[directive]
agreement = ndpa-nh
received = $(days_ago 1)
extent = partial
categories = Attendance
nature = destroy
schedule = asap
requested_by = R. Ortiz, Data Privacy Officer $k
DIR
	L directive add "$T/d$k.ini" >/dev/null || die "directive add $k"
	gdb -q -batch -ex "break $fn" -ex run -ex 'signal SIGKILL' \
		--args "$LETHE" -c "$T/lethe.conf" run >"$T/gdb$k.out" 2>&1 || true
	grep -q 'terminated with signal SIGKILL' "$T/gdb$k.out" || die "$fn: not killed: $(tail -5 "$T/gdb$k.out")"
	expect_exit 2 L directive cancel D-000$k --reason "late" 2>"$T/err"
	grep -q "directive D-000$k cannot be cancelled: its disposition .* no certificate covers yet ($state)" "$T/err" ||
		die "$fn: $(cat "$T/err")"
	L run >"$T/run$k" 2>&1 || die "run after $fn: $(cat "$T/run$k")"
	L directive cancel D-000$k --reason "late" >/dev/null 2>"$T/err" || die "cancel after $fn: $(cat "$T/err")"
done
L journal verify >/dev/null || die "journal verify"
echo ok
