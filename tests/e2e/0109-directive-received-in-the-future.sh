#!/usr/bin/env bash
# A directive whose `received` date is in the future (a typo: a year
# ahead) is refused with exit 2 at FILE:LINE and nothing is recorded;
# today is allowed, "today" being the agreement's calendar day (its
# time zone, not the host's); --force records a future date anyway, says
# so, and journals that it was forced.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
pol() {	# ID TZ
	mkpolicy "$1" "lea = District $1" "contact = privacy@$1.example" \
		"timezone = $2" <<POL
[dataset "records"]
path = $T/srv/$1/**
categories = Assessment
POL
}
dir() {	# FILE AGREEMENT RECEIVED
	cat >"$1" <<DIR
[directive]
agreement = $2
received = $3
extent = complete
nature = destroy
requested_by = R. Ortiz
DIR
}
lines() { if [[ -e $T/state/journal ]]; then wc -l <"$T/state/journal"; else echo 0; fi; }
pol east Pacific/Kiritimati      # UTC+14: often a day ahead of UTC
pol west Pacific/Pago_Pago       # UTC-11: often a day behind
east_today=$(TZ=Pacific/Kiritimati date +%F)
west_today=$(TZ=Pacific/Pago_Pago date +%F)
plus() { date -u -d "$1 $2 days" +%F; }

# A year ahead: refused, exit 2, at the file's line, nothing recorded.
n=$(lines)
dir "$T/typo.ini" east "$(plus "$east_today" 365)"
expect_exit 2 L directive add "$T/typo.ini" >"$T/out" 2>"$T/err"
grep -q "typo.ini:3: received $(plus "$east_today" 365) is in the future (today is $east_today in Pacific/Kiritimati" "$T/err" ||
	die "message: $(cat "$T/err")"
grep -q -- '--force' "$T/err" || die "no hint of --force: $(cat "$T/err")"
[[ $(lines) == "$n" && ! -e $T/state/directives/D-0001.ini ]] || die "a future directive was recorded"

# Tomorrow in the agreement's zone: refused; today there: recorded.
for a in east west; do
	t=${a}_today
	dir "$T/$a-tomorrow.ini" "$a" "$(plus "${!t}" 1)"
	expect_exit 2 L directive add "$T/$a-tomorrow.ini" 2>"$T/err"
	grep -q "is in the future (today is ${!t} in " "$T/err" || die "$a tomorrow: $(cat "$T/err")"
	dir "$T/$a-today.ini" "$a" "${!t}"
	L directive add "$T/$a-today.ini" >"$T/out" 2>"$T/err" || die "$a today (${!t}) refused: $(cat "$T/err")"
done
[[ $(lines) == $((n + 2)) ]] || die "expected two directives recorded"

# --force: recorded as given, said, and journaled as forced.
L directive add --force "$T/typo.ini" >"$T/out" 2>"$T/err" || die "--force: $(cat "$T/err")"
grep -q "received $(plus "$east_today" 365) is in the future; recorded as given (--force)" "$T/err" ||
	die "--force warning: $(cat "$T/err")"
grep -q '^D-0003: directive for east recorded' "$T/out" || die "$(cat "$T/out")"
grep ' directive-add id=D-0003 ' "$T/state/journal" | qgrep ' forced=received-in-future ' ||
	die "forced not journaled: $(grep directive-add "$T/state/journal")"
! grep ' directive-add id=D-0001 ' "$T/state/journal" | qgrep 'forced=' || die "D-0001 journaled as forced"
L plan --tsv | awk -F'\t' '$2 == "directive D-0003" { print $6 }' | qgrep -x waiting ||
	die "the forced directive: $(L plan)"
expect_exit 2 L directive add --force 2>/dev/null
L journal verify >/dev/null || die "journal verify"
echo ok
