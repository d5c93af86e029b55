#!/usr/bin/env bash
# Issue 10, item 8 (and issue 14, item 9): with an unfinished Exhibit D
# transfer and an overdue termination of the same data, `plan` showed the
# termination "overdue" with no reason while `run --dry-run` said it waited
# for the transfer.  The wait is decided in the scheduler now: plan, the
# dry run and the run say the same, and the run honours it.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
for n in 1 2 3; do mkdata "$T/srv/acme/work/e$n.txt" "MARK-$n" 1; done
mkpolicy acme 'method = overwrite' 'dispose_after_termination = 30d' <<P
[dataset "work"]
path = $T/srv/acme/work/*.txt
categories = Student work
P
cat >"$T/d.ini" <<D
[directive]
agreement = acme
received = $(days_ago 1)
extent = complete
nature = transfer
transfer_to = $T/srv/handoff/acme
schedule = $(days_ahead 10)
requested_by = J. Smith, Data Privacy Officer
D
L directive add "$T/d.ini" >/dev/null
L terminate acme "$(days_ago 45)" >/dev/null
expect_exit 3 L plan --tsv >"$T/plan"
row=$(awk -F'\t' '$2 == "termination"' "$T/plan")
[[ $(cut -f6 <<<"$row") == overdue ]] || die "plan state: $row"
grep -q '1 dataset waits for the transfer of directive D-0001 first' <<<"$row" || die "plan gives no reason: $row"
L run --dry-run >"$T/dry" 2>&1 || true
grep -q 'termination: .*1 dataset waits for the transfer of directive D-0001 first' "$T/dry" ||
	die "dry run: $(cat "$T/dry")"
grep -q 'directive D-0001: would destroy 3 files' "$T/dry" || die "dry run: $(cat "$T/dry")"
! grep -q 'termination: would destroy' "$T/dry" || die "dry run would destroy under the termination"
L run >"$T/run" 2>&1 || true
[[ -f $T/srv/handoff/acme/$(ls "$T/srv/handoff/acme" | head -n 1) ]] || die "no transfer archive"
[[ -z $(find "$T/srv/acme" -type f 2>/dev/null) ]] || die "data left after the transfer"
! grep -q 'trigger=termination' "$T/state/journal" || die "the termination started before the transfer finished"
echo ok
