#!/usr/bin/env bash
# Prior notice before a termination disposal (NDPA IV.6, notice_before =
# 14d): the first run after termination mails exactly one notice naming the
# planned disposal date and destroys nothing; a second run sends nothing new
# and destroys nothing; plan shows the row waiting, due from 14 days after
# the notice, and (--now) due on that day, not a day before.  When the
# notice period would end after the deadline, the deadline wins and plan
# says so.  On the deadline day itself a pending notice does not delay the
# disposal past the deadline.  A notice the mail system refused does not
# start the notice period.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
pol() {	# ID NOTICE_BEFORE
	mkpolicy "$1" "lea = District $1" "contact = privacy@$1.example" \
		'dispose_after_termination = 30d' 'certify_within = 10d' \
		"notice_before = $2" 'method = overwrite' <<POL
[dataset "records"]
path = $T/srv/$1/**
categories = Enrollment, Student Name
POL
	mkdata "$T/srv/$1/r1.csv" "MARK-$1-1" 2
	mkdata "$T/srv/$1/sub/r2.csv" "MARK-$1-2" 2
}
row() {	# AGREEMENT FIELD(4=due_from 5=deadline 6=state 7=note) [plan args]
	local a=$1 f=$2
	shift 2
	L plan --tsv "$@" | awk -F'\t' -v a="$a" -v f="$f" '$1 == a && $2 == "termination" { print $f }'
}
mails() { ls "$T/mail" | wc -l; }
# A mail's decoded text (the body may be quoted-printable or base64).
mailtext() {
	python3 - "$1" <<'PY'
import email, sys, email.policy
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
print('Subject:', m['Subject']); print('To:', m['To'])
for p in m.walk():
    if p.get_content_maintype() == 'text':
        print(p.get_content())
PY
}
today=$(date -u +%F)
d() { date -u -d "$today $1 days" +%F; }	# today +/- N days

# --- notice_before = 14d, terminated two days ago --------------------------
pol short 14d
L check >/dev/null || die "lethe check: $(L check 2>&1)"
expect_exit 0 L terminate short "$(d -2)" >/dev/null
[[ $(row short 6) == notice-due ]] || die "before the run: $(L plan)"
before=$(snapshot "$T/srv")
expect_exit 0 L run --dry-run >"$T/dry"
grep -q "would send the prior notice to privacy@short.example (disposal planned $(d 14))" "$T/dry" ||
	die "dry run: $(cat "$T/dry")"
! grep -q 'would destroy' "$T/dry" || die "dry run would destroy before the notice: $(cat "$T/dry")"
(($(mails) == 0)) || die "dry run mailed"

expect_exit 0 L run >"$T/run1" 2>&1
(($(mails) == 1)) || die "first run: expected 1 mail, got $(mails)"
mailtext "$T/mail/1.eml" >"$T/notice.txt"
grep -q '^To: privacy@short.example' "$T/notice.txt" || die "notice: $(cat "$T/notice.txt")"
grep -q "Planned disposal: *$(d 14)" "$T/notice.txt" || die "notice date: $(cat "$T/notice.txt")"
grep -q "^Subject: .*$(d 14)" "$T/notice.txt" || die "notice subject: $(cat "$T/notice.txt")"
grep -q "Service ended: *$(d -2)" "$T/notice.txt" || die "notice: $(cat "$T/notice.txt")"
[[ $(snapshot "$T/srv") == "$before" ]] || die "first run destroyed data before the notice period"
(($(grep -c ' notice-sent ' "$T/state/journal") == 1)) || die "notice-sent not journaled once"
grep -q " notice-sent agreement=short trigger=termination terminated=$(d -2) planned=$(d 14) " "$T/state/journal" ||
	die "notice-sent: $(grep notice-sent "$T/state/journal")"

expect_exit 0 L run >"$T/run2" 2>&1
(($(mails) == 1)) || die "second run mailed again"
(($(grep -c ' notice-sent ' "$T/state/journal") == 1)) || die "second notice-sent"
[[ $(snapshot "$T/srv") == "$before" ]] || die "second run destroyed data"
! grep -q ' disposition-start ' "$T/state/journal" || die "a disposition started"

expect_exit 0 L plan >/dev/null
[[ $(row short 6) == waiting ]] || die "plan: $(L plan)"
[[ $(row short 4) == "$(d 14)" ]] || die "due-from: $(row short 4), want $(d 14)"
[[ $(row short 5) == "$(d 28)" ]] || die "deadline: $(row short 5), want $(d 28)"
row short 7 | qgrep "notice sent $today" || die "note: $(row short 7)"
[[ $(row short 6 --now "$(d 13)") == waiting ]] || die "due a day early: $(L plan --now "$(d 13)")"
[[ $(row short 6 --now "$(d 14)") == due ]] || die "not due on $(d 14): $(L plan --now "$(d 14)")"
expect_exit 3 L plan --now "$(d 29)" >/dev/null
expect_exit 0 L run --dry-run --now "$(d 13)" >"$T/dry13"
! grep -q 'would destroy' "$T/dry13" || die "dry run on $(d 13): $(cat "$T/dry13")"
expect_exit 0 L run --dry-run --now "$(d 14)" >"$T/dry14"
grep -q 'termination: would destroy 2 files' "$T/dry14" || die "dry run on $(d 14): $(cat "$T/dry14")"
! grep -q 'prior notice' "$T/dry14" || die "dry run would notify again: $(cat "$T/dry14")"
expect_exit 2 L run --now "$(d 14)" 2>/dev/null               # a real run takes the clock

# --- notice period longer than the time left: the deadline wins -------------
pol long 60d
expect_exit 0 L terminate long "$(d -2)" >/dev/null
[[ $(row long 6) == notice-due ]] || die "long: $(L plan)"
row long 7 | qgrep "after the deadline $(d 28): the deadline wins" || die "note: $(row long 7)"
before=$(snapshot "$T/srv/long")
expect_exit 0 L run >"$T/run3" 2>&1
(($(mails) == 2)) || die "long: expected a second mail, got $(mails)"
mailtext "$T/mail/2.eml" >"$T/notice2.txt"
grep -q '^To: privacy@long.example' "$T/notice2.txt" || die "notice: $(cat "$T/notice2.txt")"
grep -q "Planned disposal: *$(d 28)" "$T/notice2.txt" || die "notice date: $(cat "$T/notice2.txt")"
[[ $(snapshot "$T/srv/long") == "$before" ]] || die "long: destroyed at once"
[[ $(row long 6) == waiting ]] || die "long: $(L plan)"
[[ $(row long 4) == "$(d 28)" ]] || die "long due-from: $(row long 4), want the deadline $(d 28)"
row long 7 | qgrep "the deadline wins" || die "long note: $(row long 7)"
[[ $(row long 6 --now "$(d 28)") == due ]] || die "long: not due on the deadline"
[[ $(row long 6 --now "$(d 27)") == waiting ]] || die "long: due before the deadline"

# --- the notice is still unsent on the deadline day --------------------------
pol lastday 14d
expect_exit 0 L terminate lastday "$(d -30)" >/dev/null
[[ $(row lastday 5) == "$today" ]] || die "lastday deadline: $(row lastday 5)"
[[ $(row lastday 6) == due ]] || die "lastday: not due on the deadline day: $(L plan)"
row lastday 7 | qgrep 'the deadline is today' || die "lastday note: $(row lastday 7)"
expect_exit 0 L run --dry-run >"$T/drylast"
grep -q "lastday: termination: would send the prior notice to privacy@lastday.example (disposal planned $today)" "$T/drylast" &&
	grep -q 'lastday: termination: would destroy 2 files' "$T/drylast" || die "dry run: $(cat "$T/drylast")"
expect_exit 0 L run >"$T/run4" 2>&1
(($(find "$T/srv/lastday" -type f | wc -l) == 0)) ||
	die "the notice delayed the disposal past the deadline ($today): $(cat "$T/run4"); plan: $(L plan)"
c=$(grep -l '^id = lastday$' "$T"/state/certificates/*.cert) || die "lastday: no certificate"
grep -qx 'deadline_met = yes' "$c" || die "lastday: $(grep deadline "$c")"
for m in "$T"/mail/*.eml; do mailtext "$m"; done >"$T/all.txt"
grep -q "^Subject: Notice of planned disposal of student data on $today — District lastday" "$T/all.txt" ||
	die "lastday: the LEA was not told: $(grep '^Subject' "$T/all.txt")"

# --- a run killed after the mail system accepted the notice, before
# notice-sent reached the journal: the next run records it, sends no
# second notice, and the row does not wait forever for a notice.
pol killed 14d
expect_exit 0 L terminate killed "$(d -1)" >/dev/null
cp "$T/state/checkpoint" "$T/ckpt"; cp "$T/state/checkpoint.p7s" "$T/ckpt.p7s"
expect_exit 0 L run >"$T/run5" 2>&1
n=$(mails)
grep -q ' notice-sent agreement=killed ' "$T/state/journal" || die "killed: no notice-sent"
# The journal as such a kill leaves it: up to the accepted delivery.
k=$(grep -n ' delivery-attempt notice=NOTICE-killed-' "$T/state/journal" | cut -d: -f1)
head -n "$k" "$T/state/journal" >"$T/j" && cat "$T/j" >"$T/state/journal"
cp "$T/ckpt" "$T/state/checkpoint"; cp "$T/ckpt.p7s" "$T/state/checkpoint.p7s"
[[ $(row killed 6) == notice-due ]] || die "killed: simulation: $(L plan)"
expect_exit 0 L run >"$T/run6" 2>&1
(($(mails) == n)) || die "killed: the notice was mailed again"
(($(grep -c ' notice-sent agreement=killed ' "$T/state/journal") == 1)) ||
	die "killed: notice-sent not recorded once: $(grep notice-sent "$T/state/journal")"
[[ $(row killed 6) == waiting ]] || die "killed: still waiting for a notice: $(L plan)"
[[ $(row killed 4) == "$(d 14)" ]] || die "killed: due-from $(row killed 4)"
L journal verify >/dev/null || die "journal verify: $(L journal verify)"

# --- a refused notice does not start the period ----------------------------
pol refused 14d
expect_exit 0 L terminate refused "$(d -1)" >/dev/null
n=$(mails)
printf '#!/bin/sh\ncat >/dev/null\nexit 75\n' >"$T/bin/sendmail"
expect_exit 1 L run >"$T/run7" 2>&1
grep -q 'kept in the outbox' "$T/run7" || die "refused: $(cat "$T/run7")"
! grep -q ' notice-sent agreement=refused ' "$T/state/journal" || die "refused notice journaled as sent"
[[ $(row refused 6) == notice-due ]] || die "refused: $(L plan)"
expect_exit 1 L run >"$T/run8" 2>&1          # retried, still refused, not queued twice
(($(ls "$T/state/outbox" | grep -c '^NOTICE-refused-') == 1)) || die "outbox: $(ls "$T/state/outbox")"
! grep -q ' notice-sent agreement=refused ' "$T/state/journal" || die "refused notice journaled as sent"
L journal verify >/dev/null || die "journal verify: $(L journal verify)"
echo "ok"
