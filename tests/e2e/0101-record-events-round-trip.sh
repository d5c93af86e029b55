#!/usr/bin/env bash
# terminate, directive add/list/show/cancel, hold and release: what is
# recorded reads back, bad input exits 2 naming the thing and records
# nothing, and the state files are private (0600).
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/srv/handoff" "$T/policies.d"
mkconf --bare
mkpolicy osde-2024 'lea = Oklahoma State Department of Education' \
	'contact = privacy@sde.example' 'timezone = America/Chicago' <<POL
[dataset "exports"]
path = $T/srv/exports/**/*.csv
categories = Assessment, Student Identifiers

[dataset "attendance"]
path = $T/srv/attendance/*.csv
categories = Attendance
POL
lines() { if [[ -e $T/state/journal ]]; then wc -l <"$T/state/journal"; else echo 0; fi; }

# terminate: validated first, then recorded once.
expect_exit 2 L terminate osde-2042 2026-10-15 2>"$T/err"
grep -q "unknown agreement 'osde-2042'; did you mean 'osde-2024'?" "$T/err" || die "$(cat "$T/err")"
expect_exit 2 L terminate osde-2024 2026-13-01 2>"$T/err"
grep -q "'2026-13-01' is not a date" "$T/err" || die "$(cat "$T/err")"
[[ $(lines) == 0 ]] || die "a refused terminate wrote the journal"
L terminate osde-2024 2026-10-15 >"$T/out" || die "terminate failed"
grep -q 'osde-2024: terminated on 2026-10-15; disposal deadline 2026-11-14' "$T/out" || die "$(cat "$T/out")"
L terminate osde-2024 2026-10-15 >"$T/out"
grep -q 'already recorded' "$T/out" || die "repeat terminate: $(cat "$T/out")"
[[ $(lines) == 1 ]] || die "repeat terminate wrote again"
[[ $(stat -c %a "$T/state/journal") == 600 ]] || die "journal mode"
grep -q ' terminate agreement=osde-2024 date=2026-10-15 by=' "$T/state/journal" || die "journal line"

# directive add: a transfer, kept as a private copy, listed and shown.
cat >"$T/d.ini" <<DIR
[directive]
agreement = osde-2024
received = 2026-11-02
extent = partial
categories = attendance
nature = transfer
transfer_to = $T/srv/handoff
schedule = 2026-11-20
requested_by = J. Smith, Data Privacy Officer
DIR
L directive add "$T/d.ini" >"$T/out" || die "directive add"
grep -q '^D-0001: directive for osde-2024 recorded (received 2026-11-02, partial transfer, deadline 2026-11-20)' "$T/out" \
	|| die "$(cat "$T/out")"
cmp -s "$T/d.ini" "$T/state/directives/D-0001.ini" || die "directive copy differs"
[[ $(stat -c %a "$T/state/directives/D-0001.ini") == 600 ]] || die "directive copy mode"
expect_exit 2 L directive add "$T/d.ini" 2>"$T/err"
grep -q 'already recorded as D-0001' "$T/err" || die "duplicate: $(cat "$T/err")"
L directive list >"$T/out"
grep -qE '^ID +AGREEMENT +RECEIVED +EXTENT +NATURE +SCHEDULE +DEADLINE +STATUS' "$T/out" || die "list header"
grep -qE '^D-0001 +osde-2024 +2026-11-02 +partial +transfer +2026-11-20 +2026-11-20 +(due|overdue|waiting)' "$T/out" \
	|| die "list row: $(cat "$T/out")"
L directive list --tsv | qgrep $'^D-0001\tosde-2024\t2026-11-02\tpartial\ttransfer\t2026-11-20\t2026-11-20\t' \
	|| die "list --tsv"
L directive show D-0001 >"$T/out" || die "show"
grep -q '^categories    Attendance$' "$T/out" || die "show categories: $(cat "$T/out")"
grep -q "^transfer_to   $T/srv/handoff\$" "$T/out" || die "show transfer_to"
grep -q '^requested_by  J. Smith, Data Privacy Officer$' "$T/out" || die "show requested_by"
grep -q '^requested_by = J. Smith' "$T/out" || die "show lacks the file"
expect_exit 2 L directive show D-0009 2>"$T/err"
grep -q "unknown directive 'D-0009'" "$T/err" || die "show missing: $(cat "$T/err")"

# Bad directives: every problem at FILE:LINE, nothing recorded.
n=$(lines)
cat >"$T/bad.ini" <<DIR
[directive]
agreement = osde-2024
received = 2026-11-02
extent = partial
categories = Atendance
nature = transfer
transfer_to = /elsewhere
requested_by = X
DIR
expect_exit 2 L directive add "$T/bad.ini" 2>"$T/err"
grep -q "bad.ini:5: unknown category 'Atendance'; did you mean 'Attendance'?" "$T/err" || die "$(cat "$T/err")"
grep -q "bad.ini:7: transfer_to '/elsewhere' is not inside allowed_roots" "$T/err" || die "$(cat "$T/err")"
[[ $(lines) == "$n" ]] || die "a bad directive was recorded"
[[ ! -e $T/state/directives/D-0002.ini ]] || die "a bad directive was kept"

# cancel: needs a reason; recorded once.
expect_exit 2 L directive cancel D-0001 2>/dev/null
L directive cancel D-0001 --reason "sent in error" >"$T/out" || die "cancel"
expect_exit 2 L directive cancel D-0001 --reason again 2>"$T/err"
grep -q 'already cancelled' "$T/err" || die "double cancel"
L directive list | qgrep -E '^D-0001 .* cancelled$' || die "not listed as cancelled"
L directive show D-0001 | qgrep '^cancelled .*: sent in error$' || die "show cancelled"

# hold and release: scoped holds, ids, and refusals.
expect_exit 2 L hold osde-2024 2>/dev/null			# no --reason
expect_exit 2 L hold osde-2024 --reason x --dataset nope 2>"$T/err"
grep -q "agreement osde-2024 has no dataset 'nope'" "$T/err" || die "$(cat "$T/err")"
expect_exit 2 L hold osde-2024 --reason x --category Atendance 2>"$T/err"
grep -q "did you mean 'Attendance'" "$T/err" || die "$(cat "$T/err")"
L hold osde-2024 --reason "litigation: Doe v. District" --dataset exports >"$T/out" || die "hold"
grep -q '^H-0001: legal hold on osde-2024 (datasets exports)' "$T/out" || die "$(cat "$T/out")"
L hold osde-2024 --reason "audit" --category Attendance >"$T/out" || die "hold 2"
grep -q '^H-0002: ' "$T/out" || die "second hold id"
grep -q ' hold id=H-0001 agreement=osde-2024 reason=litigation:%20Doe%20v.%20District datasets=exports by=' \
	"$T/state/journal" || die "hold journal line"
L plan --now 2026-11-10 --tsv | qgrep $'^osde-2024\ttermination\t.*\theld\t' || die "both datasets held"
L release osde-2024 --id H-0002 >"$T/out" || die "release one"
grep -q '^H-0002: hold on osde-2024 released' "$T/out" || die "$(cat "$T/out")"
L plan --now 2026-11-10 --tsv | qgrep $'^osde-2024\ttermination\t.*\tdue\tpartly held' || die "partly held"
expect_exit 2 L release osde-2024 --id H-0002 2>/dev/null
L release osde-2024 >"$T/out" || die "release all"
grep -q '^H-0001: hold on osde-2024 released' "$T/out" || die "$(cat "$T/out")"
expect_exit 2 L release osde-2024 2>"$T/err"
grep -q 'no active hold on osde-2024' "$T/err" || die "$(cat "$T/err")"

L journal verify >"$T/out" || die "journal does not verify"
grep -qE '^journal: [0-9]+ lines, chain intact, head [0-9a-f]{64}$' "$T/out" || die "$(cat "$T/out")"
echo ok
