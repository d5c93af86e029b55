#!/usr/bin/env bash
# lethe plan: the SPEC §5 deadlines, states and exit codes, --tsv, and that
# plan writes nothing at all (not even a lock file or the state directory).
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/srv/exports" "$T/srv/attendance" "$T/srv/research" "$T/policies.d"
mkconf --bare
policy() {	# policy ID TERMINATED AFTER_TERMINATION [NOTICE]
	mkpolicy "$1" 'lea = Oklahoma State Department of Education' \
		'contact = privacy@sde.example' "${2:+terminated = $2}" \
		"dispose_after_termination = $3" \
		'dispose_after_request = 60d' 'certify_within = 10d' \
		"notice_before = ${4:-0d}" 'timezone = America/Chicago' <<POL
[dataset "exports"]
path = $T/srv/exports/$1/**/*.csv
categories = Assessment, Student Identifiers

[dataset "attendance"]
path = $T/srv/attendance/$1/*.csv
categories = Attendance

[dataset "research"]
path = $T/srv/research/$1/**
deidentified = yes
POL
}
# field ROW-PATTERN COLUMN: a column of the --tsv plan row matching pattern
field() { awk -F'\t' -v p="$2" -v c="$3" '$0 ~ p { print $c }' "$1"; }

# 1. Terminated 2026-10-15 + 30d: deadline 2026-11-14, overdue on 11-22.
policy osde 2026-10-15 30d
expect_exit 3 L plan --now 2026-11-22 >"$T/out"
grep -E '^osde +termination +2026-10-15 +2026-10-15 +2026-11-14 +overdue' "$T/out" \
	|| die "overdue row missing: $(cat "$T/out")"
expect_exit 0 L plan --now 2026-11-14 >"$T/out"
grep -qE '^osde +termination .* due ' "$T/out" || die "not due on the deadline day"
expect_exit 0 L plan --now 2026-10-14 >"$T/out"
grep -qE '^osde +termination .* waiting ' "$T/out" || die "not waiting before termination"
# plan changed nothing: no state directory, no lock, no journal.
[[ ! -e $T/state ]] || die "plan created $T/state"

# --tsv: one header line, then tab-separated rows of 7 fields.
expect_exit 3 L plan --now 2026-11-22 --tsv >"$T/tsv"
[[ $(head -n1 "$T/tsv") == $'agreement\ttrigger\tstart\tdue_from\tdeadline\tstate\tnote' ]] \
	|| die "bad tsv header: $(head -n1 "$T/tsv")"
awk -F'\t' 'NF != 7 { exit 1 }' "$T/tsv" || die "a tsv row has not 7 fields"
[[ $(field "$T/tsv" '^osde\ttermination' 5) == 2026-11-14 ]] || die "tsv deadline"
[[ $(field "$T/tsv" '^osde\ttermination' 6) == overdue ]] || die "tsv state"

# 2. A directive received 2026-11-02 with 60d: deadline 2027-01-01, asap
#    means due at once (2026-11-03 is due, not waiting).
rm "$T/policies.d/osde.ini"
policy osde "" 30d
cat >"$T/d1.ini" <<DIR
[directive]
agreement = osde
received = 2026-11-02
extent = partial
categories = Assessment
nature = destroy
schedule = asap
requested_by = J. Smith, Data Privacy Officer
DIR
L directive add "$T/d1.ini" >"$T/out" || die "directive add failed"
grep -q '^D-0001: ' "$T/out" || die "no id: $(cat "$T/out")"
expect_exit 0 L plan --now 2026-11-03 --tsv >"$T/tsv"
[[ $(field "$T/tsv" 'directive D-0001' 5) == 2027-01-01 ]] || die "directive deadline"
[[ $(field "$T/tsv" 'directive D-0001' 6) == due ]] || die "directive not due"
[[ $(field "$T/tsv" '^osde\ttermination' 6) == waiting ]] || die "no termination: waiting"
expect_exit 3 L plan --now 2027-01-02 >/dev/null

# 3. A schedule date earlier than received + 60d is the deadline.
sed -e 's/^schedule = asap/schedule = 2026-11-20/' -e 's/J. Smith/K. Jones/' \
	"$T/d1.ini" >"$T/d2.ini"
L directive add "$T/d2.ini" >/dev/null || die "second directive add failed"
expect_exit 3 L plan --now 2026-11-21 --tsv >"$T/tsv"
[[ $(field "$T/tsv" 'directive D-0002' 5) == 2026-11-20 ]] || die "schedule is not the deadline"
[[ $(field "$T/tsv" 'directive D-0002' 6) == overdue ]] || die "scheduled directive not overdue"
[[ $(field "$T/tsv" 'directive D-0001' 6) == due ]] || die "D-0001 should still be due"

# Cancelled directives leave the plan.
L directive cancel D-0001 --reason "superseded" >/dev/null || die "cancel D-0001"
L directive cancel D-0002 --reason "superseded" >/dev/null || die "cancel D-0002"
expect_exit 0 L plan --now 2027-06-01 >"$T/out"
! grep -q 'directive D-000' "$T/out" || die "cancelled directive still planned"

# 4. Calendar months: 2028-01-31 + 1m = 2028-02-29 (leap year).
policy leap 2028-01-31 1m
expect_exit 0 L plan --now 2028-02-29 --tsv >"$T/tsv"
[[ $(field "$T/tsv" '^leap\ttermination' 5) == 2028-02-29 ]] || die "leap deadline"
expect_exit 3 L plan --now 2028-03-01 >/dev/null

# A legal hold: held, never overdue, exit 0; released: overdue again.
L hold leap --reason "litigation hold 24-cv-123" >/dev/null || die "hold failed"
expect_exit 0 L plan --now 2028-06-01 --tsv >"$T/tsv"
[[ $(field "$T/tsv" '^leap\ttermination' 6) == held ]] || die "not held"
field "$T/tsv" '^leap\ttermination' 7 | qgrep 'held by H-0001: litigation hold' || die "hold note"
L release leap >/dev/null || die "release failed"
expect_exit 3 L plan --now 2028-06-01 --tsv >"$T/tsv"
[[ $(field "$T/tsv" '^leap\ttermination' 6) == overdue ]] || die "release did not restore"

# Prior notice: notice-due until the notice is sent.
policy notice 2026-10-15 30d 14d
expect_exit 0 L plan --now 2026-10-20 --tsv >"$T/tsv"
[[ $(field "$T/tsv" '^notice\ttermination' 6) == notice-due ]] || die "not notice-due"

# Usage errors: exit 2.
expect_exit 2 L plan --now 2026-02-30
expect_exit 2 L plan --bogus
echo ok
