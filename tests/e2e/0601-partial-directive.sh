#!/usr/bin/env bash
# A partial Exhibit D directive (Assessment only, as soon as practicable)
# destroys exactly the Assessment dataset: the Attendance files and the
# de-identified research files are byte-identical afterwards.  The
# certificate names the directive as its trigger, lists the research data
# as retained with its reason, and verifies with stock openssl; plan shows
# the directive delivered while the (unrecorded) termination still waits.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
mkpolicy -f nh ndpa-nh 'lea = Nashua School District' \
	'contact = privacy@nashua.example' 'dispose_after_request = 60d' \
	'dispose_after_termination = 30d' 'certify_within = 10d' \
	'timezone = America/New_York' 'method = overwrite' <<POL
[dataset "assessments"]
path = $T/srv/nh/assessments/**
categories = Assessment

[dataset "attendance"]
path = $T/srv/nh/attendance/**
categories = Attendance

[dataset "research"]
path = $T/srv/nh/research/**
deidentified = yes
POL
for n in Ava_Lindqvist Noah_Petrakis; do
	mkdata "$T/srv/nh/assessments/2026/$n.csv" "MARK-ASSESS-$n" 8
	mkdata "$T/srv/nh/attendance/2026/$n.csv" "KEEP-ATTEND-$n" 4
done
mkdata "$T/srv/nh/assessments/spring.csv" MARK-ASSESS-spring 2
mkdata "$T/srv/nh/research/aggregate.csv" KEEP-research 2
keep_before=$(snapshot "$T/srv/nh/attendance"; snapshot "$T/srv/nh/research")

L check >/dev/null || die "lethe check: $(L check 2>&1)"
received=$(days_ago 3)
cat >"$T/d1.ini" <<DIR
[directive]
agreement = ndpa-nh
received = $received
extent = partial
categories = Assessment
nature = destroy
schedule = asap
requested_by = R. Ortiz, Data Privacy Officer
DIR
L directive add "$T/d1.ini" >"$T/add.out" || die "directive add: $(cat "$T/add.out")"
grep -q '^D-0001: ' "$T/add.out" || die "directive id: $(cat "$T/add.out")"
# The same form recorded twice is refused, not a second directive.
expect_exit 2 L directive add "$T/d1.ini" 2>/dev/null

# Before the run: the directive is due (overdue would be wrong: 3 of 60 days).
expect_exit 0 L plan --tsv >"$T/plan0"
awk -F'\t' '$2 == "directive D-0001" { print $6 }' "$T/plan0" | qgrep -x due ||
	die "directive not due before the run: $(cat "$T/plan0")"

L run >"$T/run.out" 2>"$T/run.err" || die "run failed: $(cat "$T/run.out" "$T/run.err")"

# Only the Assessment dataset went.
left=$(find "$T/srv/nh/assessments" -type f | wc -l)
((left == 0)) || die "$left Assessment files left: $(find "$T/srv/nh/assessments" -type f)"
keep_after=$(snapshot "$T/srv/nh/attendance"; snapshot "$T/srv/nh/research")
[[ $keep_before == "$keep_after" ]] || die "Attendance or research data changed"
(($(find "$T/srv/nh/attendance" -type f | wc -l) == 2)) || die "attendance files missing"

# One certificate, for the directive.
shopt -s nullglob
certs=("$T"/state/certificates/*.cert)
((${#certs[@]} == 1)) || die "expected 1 certificate, found ${#certs[@]}"
c=${certs[0]}
grep -qx 'trigger = directive D-0001' "$c" || die "trigger: $(grep -i trigger "$c")"
grep -qx "trigger_date = $received" "$c" || die "trigger_date: $(grep trigger_date "$c")"
grep -qx 'files = 3' "$c" || die "files: $(grep '^files' "$c")"
grep -qx 'deadline_met = yes' "$c" || die "deadline_met: $(grep deadline "$c")"
grep -qx 'remaining_matches = 0' "$c" || die "remaining_matches: $(grep remaining "$c")"
grep -E '^categories = ' "$c" | qgrep 'Assessment' || die "categories: $(grep '^categories' "$c")"
! grep -E '^categories = ' "$c" | qgrep 'Attendance' || die "certificate claims Attendance was destroyed"
grep -E '^retained = ' "$c" | qgrep 'research (de-identified' ||
	die "retained: $(grep '^retained' "$c")"
openssl cms -verify -binary -inform PEM -in "$c.p7s" -content "$c" \
	-CAfile "$T/certs/ca.pem" -out /dev/null 2>"$T/ossl" || die "stock openssl rejects: $(cat "$T/ossl")"
L verify --ca "$T/certs/ca.pem" "$c" >"$T/verify" || die "lethe verify: $(cat "$T/verify")"
for n in Ava_Lindqvist Noah_Petrakis spring MARK-; do
	! grep -q "$n" "$c" || die "certificate names $n"
	! grep -q "$n" "$T/state/journal" || die "journal names $n"
done

# Mailed to the LEA; plan shows the directive delivered, termination waiting.
(($(ls "$T/mail" | wc -l) == 1)) || die "expected 1 mail, got $(ls "$T/mail")"
grep -q '^To: privacy@nashua.example' "$T"/mail/1.eml || die "mail not to the LEA"
expect_exit 0 L plan --tsv >"$T/plan"
awk -F'\t' '$2 == "directive D-0001" { print $6 }' "$T/plan" | qgrep -x delivered ||
	die "directive row not delivered: $(cat "$T/plan")"
awk -F'\t' '$2 == "termination" { print $6 }' "$T/plan" | qgrep -x waiting ||
	die "termination row not waiting: $(cat "$T/plan")"
L directive list --tsv | awk -F'\t' '$1 == "D-0001" { print $8 }' | qgrep -x delivered ||
	die "directive list: $(L directive list)"
L journal verify >/dev/null || die "journal verify: $(L journal verify)"
echo "ok"
