#!/usr/bin/env bash
# An Exhibit D transfer not yet done comes before any destruction of the
# same data: when the transfer fails (here its site cannot be created) and
# the termination is due too, the run destroys nothing the LEA asked to be
# handed over, says why, and fails; once the site is fixed, the transfer
# runs first, then the data goes.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
mkpolicy ndpa 'lea = Example District' 'contact = dpo@district.example' \
	'dispose_after_termination = 30d' 'method = overwrite' <<POL
[dataset "work"]
path = $T/srv/work/*.txt
categories = Student work
POL
for n in essay1 essay2; do mkdata "$T/srv/work/$n.txt" "MARK-$n" 2; done
before=$(snapshot "$T/srv/work")
cat >"$T/d.ini" <<D
[directive]
agreement = ndpa
received = $(days_ago 2)
extent = complete
nature = transfer
transfer_to = $T/srv/handoff/district
schedule = asap
requested_by = J. Smith, Data Privacy Officer
D
L directive add "$T/d.ini" >/dev/null
touch "$T/srv/handoff"		# then a file where the transfer site should be
L terminate ndpa "$(days_ago 1)" >/dev/null
expect_exit 1 L run --verbose >"$T/out" 2>"$T/err"
grep -q 'waits for the transfer of directive D-0001' "$T/out" || die "no word of the wait: $(cat "$T/out" "$T/err")"
[[ $(snapshot "$T/srv/work") == "$before" ]] || die "data destroyed before its transfer"
rm "$T/srv/handoff"
L run >/dev/null 2>&1 || die "second run failed"
a=$(ls "$T"/srv/handoff/district/*.tar.gz)
tar -tzf "$a" | qgrep 'work/essay1.txt' || die "transfer archive: $(tar -tzf "$a")"
[[ -z $(find "$T/srv/work" -type f) ]] || die "originals left after the transfer"
echo ok
