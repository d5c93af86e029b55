#!/usr/bin/env bash
# A directive whose disposition destroyed something cannot be cancelled
# until that destruction is on a certificate (SPEC §5).  A partial
# directive fails after destroying 3 of its 4 files (the fourth is
# immutable): `directive cancel` exits 2 naming the disposition, the count
# and what is missing, journals nothing, and the plan row stays.  Once a
# later run has finished the directive and issued its certificate, the
# cancel is accepted.
. "$(dirname "$0")/lib.sh"
command -v chattr >/dev/null || skip "chattr not installed"
mkhost "$T/srv"
cat >"$T/policies.d/nh.ini" <<POL
[agreement]
id = ndpa-nh
lea = Nashua School District
contact = privacy@nashua.example
dispose_after_request = 60d
certify_within = 10d
timezone = America/New_York
method = overwrite
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

expect_exit 1 L run >"$T/run1" 2>&1
left=$(find "$T/srv/nh/assessments" -type f | wc -l)
((left == 1)) || die "expected 3 of 4 destroyed, $left left: $(cat "$T/run1")"
shopt -s nullglob
certs=("$T"/state/certificates/*.cert)
((${#certs[@]} == 0)) || die "a failed disposition was certified"
disp=$(grep -o ' disposition-fail id=[^ ]*' "$T/state/journal" | head -1 | cut -d= -f2)
[[ -n $disp ]] || die "no failed disposition: $(cat "$T/run1")"
(($(grep -c " file-destroyed disp=$disp " "$T/state/journal") == 3)) || die "file-destroyed lines"

# The cancel is refused: exit 2, nothing journaled, the row stays.
n=$(wc -l <"$T/state/journal")
expect_exit 2 L directive cancel D-0001 --reason "withdrawn by the LEA" >"$T/out" 2>"$T/err"
grep -q "directive D-0001 cannot be cancelled: its disposition $disp destroyed 3 files that no certificate covers yet (it failed: " "$T/err" ||
	die "message: $(cat "$T/err")"
grep -q 'once the next `lethe run` has finished it and issued its certificate' "$T/err" || die "message: $(cat "$T/err")"
[[ ! -s $T/out ]] || die "stdout: $(cat "$T/out")"
(($(wc -l <"$T/state/journal") == n)) || die "a refused cancel wrote the journal"
! grep -q ' directive-cancel ' "$T/state/journal" || die "cancel journaled"
[[ $(drow) =~ ^(due|overdue)$ ]] || die "the directive left the plan: $(L plan)"
L directive list --tsv | awk -F'\t' '$1 == "D-0001" { print $8 }' | qgrep -vx cancelled ||
	die "listed as cancelled"

# The next run finishes it and certifies; then the cancel is accepted.
chattr -i "$locked"
L run >"$T/run2" 2>&1 || die "second run: $(cat "$T/run2")"
[[ -z $(find "$T/srv/nh/assessments" -type f) ]] || die "second run left files: $(cat "$T/run2")"
certs=("$T"/state/certificates/*.cert)
((${#certs[@]} >= 1)) || die "no certificate after the second run: $(cat "$T/run2")"
grep -qx 'trigger = directive D-0001' "${certs[@]}" || die "certificate trigger"
[[ -f $T/srv/nh/attendance/keep.csv ]] || die "attendance destroyed"
L directive cancel D-0001 --reason "withdrawn by the LEA" >"$T/out" 2>"$T/err" ||
	die "cancel after the certificate: $(cat "$T/err")"
grep -q '^D-0001: cancelled' "$T/out" || die "$(cat "$T/out")"
L directive list --tsv | awk -F'\t' '$1 == "D-0001" { print $8 }' | qgrep -x cancelled ||
	die "not cancelled: $(L directive list)"
L journal verify >/dev/null || die "journal verify"
echo ok
