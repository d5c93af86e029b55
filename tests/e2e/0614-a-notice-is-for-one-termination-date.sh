#!/usr/bin/env bash
# A prior notice announces one termination date (NDPA IV.6).  After the
# notice for the first date went out, `lethe terminate` with another date
# puts the agreement back to notice-due: nothing is destroyed on the
# strength of the old notice, a second notice states the new date, the
# journal records which date each notice was for, and the notice period
# runs from the second one.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
mkpolicy -f a district-a 'lea = District A' 'contact = privacy@a.example' \
	'dispose_after_termination = 30d' 'certify_within = 10d' \
	'notice_before = 14d' 'timezone = UTC' 'method = overwrite' <<POL
[dataset "records"]
path = $T/srv/a/**
categories = Enrollment
POL
mkdata "$T/srv/a/r1.csv" MARK-A-1 2
today=$(date -u +%F)
d() { date -u -d "$today $1 days" +%F; }
row() {	# FIELD [plan args]: 4 due_from, 5 deadline, 6 state, 7 note
	local f=$1; shift
	L plan --tsv "$@" | awk -F'\t' -v f="$f" '$2 == "termination" { print $f }'
}
mailtext() {
	python3 - "$1" <<'PY'
import email, sys, email.policy
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
print('Subject:', m['Subject'])
for p in m.walk():
    if p.get_content_maintype() == 'text':
        print(p.get_content())
PY
}
before=$(snapshot "$T/srv")

first=$(d -3)
L terminate district-a "$first" >/dev/null
expect_exit 0 L run >"$T/run1" 2>&1
(($(ls "$T/mail" | wc -l) == 1)) || die "no first notice: $(cat "$T/run1")"
mailtext "$T/mail/1.eml" | tr -s ' \n' '  ' >"$T/n1"
grep -q "the service agreement ended on $first" "$T/n1" || die "notice 1: $(cat "$T/n1")"
grep -q "This notice is for the termination on $first only" "$T/n1" || die "notice 1: $(cat "$T/n1")"
grep -q " notice-sent agreement=district-a trigger=termination terminated=$first " "$T/state/journal" ||
	die "notice-sent: $(grep notice-sent "$T/state/journal")"
[[ $(row 6) == waiting ]] || die "after notice 1: $(L plan)"
[[ $(row 6 --now "$(d 14)") == due ]] || die "first notice period: $(L plan --now "$(d 14)")"

# The termination date is corrected: the first notice no longer counts.
second=$(d -1)
L terminate district-a "$second" >/dev/null
[[ $(row 6) == notice-due ]] || die "new date, old notice counted: $(L plan)"
row 7 | qgrep 'prior notice (14d) not yet sent' || die "note: $(row 7)"
expect_exit 0 L run --dry-run --now "$(d 14)" >"$T/dry"
! grep -q 'would destroy' "$T/dry" || die "would destroy on the old notice: $(cat "$T/dry")"
expect_exit 0 L run >"$T/run2" 2>&1
[[ $(snapshot "$T/srv") == "$before" ]] || die "data destroyed before the new notice period"
(($(ls "$T/mail" | wc -l) == 2)) || die "no second notice: $(cat "$T/run2")"
mailtext "$T/mail/2.eml" | tr -s ' \n' '  ' >"$T/n2"
grep -q "the service agreement ended on $second" "$T/n2" || die "notice 2: $(cat "$T/n2")"
grep -q "This notice is for the termination on $second only" "$T/n2" || die "notice 2: $(cat "$T/n2")"
grep -q "Planned disposal: $(d 14)" "$T/n2" || die "notice 2 date: $(cat "$T/n2")"
grep -q " notice-sent agreement=district-a trigger=termination terminated=$second " "$T/state/journal" ||
	die "notice-sent 2: $(grep notice-sent "$T/state/journal")"
[[ $(row 6) == waiting ]] || die "after notice 2: $(L plan)"
[[ $(row 4) == "$(d 14)" ]] || die "due from $(row 4), want $(d 14)"
[[ $(row 5) == "$(d 29)" ]] || die "deadline $(row 5), want $(d 29) (30d after $second)"

# Back to the first date: its notice did announce that date, so it counts.
L terminate district-a "$first" >/dev/null
[[ $(row 6) == waiting ]] || die "back to $first: $(L plan)"
expect_exit 0 L run >"$T/run3" 2>&1
(($(ls "$T/mail" | wc -l) == 2)) || die "a third notice for a date already announced"
L journal verify >/dev/null || die "journal verify: $(L journal verify)"
echo ok
