#!/usr/bin/env bash
# A legal hold freezes an overdue termination disposal: plan says held (and
# exits 0, a hold is not a missed deadline), run destroys nothing and exits
# 0.  Once released, plan says overdue again (exit 3), run destroys, and the
# certificate lists the hold with when it was placed and released.  A hold
# scoped to one dataset freezes only that dataset: the rest is destroyed
# and certified, the held one survives byte-identical until its release.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
pol() {	# ID DIR
	mkpolicy "$1" "lea = District $1" "contact = privacy@$1.example" \
		'dispose_after_termination = 30d' 'certify_within = 10d' \
		'timezone = America/Chicago' 'method = overwrite' <<POL
[dataset "grades"]
path = $T/srv/$2/grades/**
categories = Assessment, Transcript

[dataset "attendance"]
path = $T/srv/$2/attendance/**
categories = Attendance
POL
	mkdata "$T/srv/$2/grades/g1.csv" "MARK-$2-g1" 4
	mkdata "$T/srv/$2/grades/term2/g2.csv" "MARK-$2-g2" 4
	mkdata "$T/srv/$2/attendance/a1.csv" "MARK-$2-a1" 4
}
state_of() {	# AGREEMENT TRIGGER (from `plan --tsv` in $T/plan)
	awk -F'\t' -v a="$1" -v t="$2" '$1 == a && $2 == t { print $6 }' "$T/plan"
}
pol whole w
pol scoped s
L check >/dev/null || die "lethe check: $(L check 2>&1)"
expect_exit 0 L terminate whole "$(days_ago 90)" >/dev/null
expect_exit 3 L plan --tsv >"$T/plan"
[[ $(state_of whole termination) == overdue ]] || die "not overdue: $(cat "$T/plan")"

# --- a whole-agreement hold -------------------------------------------------
L hold whole --reason "litigation: Doe v. District, case no. 26-114; counsel notified" >"$T/hold.out" ||
	die "hold: $(cat "$T/hold.out")"
grep -q '^H-0001: legal hold on whole' "$T/hold.out" || die "hold: $(cat "$T/hold.out")"
expect_exit 2 L hold whole 2>/dev/null                      # a hold needs a reason
expect_exit 0 L plan --tsv >"$T/plan"
[[ $(state_of whole termination) == held ]] || die "plan: not held: $(cat "$T/plan")"
grep -q 'held by H-0001: litigation' "$T/plan" || die "plan note: $(cat "$T/plan")"

before=$(snapshot "$T/srv/w")
expect_exit 0 L run --dry-run >"$T/dry"
! grep -q 'would destroy' "$T/dry" || die "dry run would destroy held data: $(cat "$T/dry")"
L run >"$T/run1" 2>&1 || die "run under a hold failed: $(cat "$T/run1")"
[[ $(snapshot "$T/srv/w") == "$before" ]] || die "held data changed"
! grep -q 'disposition-start' "$T/state/journal" || die "a disposition started under the hold"
shopt -s nullglob
certs=("$T"/state/certificates/*.cert)
((${#certs[@]} == 0)) || die "certificate issued under a hold"

expect_exit 0 L release whole >"$T/rel.out"
grep -q '^H-0001: hold on whole released' "$T/rel.out" || die "release: $(cat "$T/rel.out")"
expect_exit 2 L release whole 2>/dev/null                   # nothing left to release
expect_exit 3 L plan --tsv >"$T/plan"
[[ $(state_of whole termination) == overdue ]] || die "not overdue after release: $(cat "$T/plan")"

expect_exit 0 L run >"$T/run2" 2>&1
(($(find "$T/srv/w" -type f | wc -l) == 0)) || die "files left: $(find "$T/srv/w" -type f)"
certs=("$T"/state/certificates/*.cert)
((${#certs[@]} == 1)) || die "expected 1 certificate, found ${#certs[@]}"
c=${certs[0]}
grep -qx 'trigger = termination' "$c" || die "trigger: $(grep trigger "$c")"
grep -qx 'deadline_met = no' "$c" || die "deadline_met: $(grep deadline "$c")"
grep -qE '^holds = H-0001 \(litigation: Doe v. District, case no. 26-114; counsel notified\) placed [0-9T:-]+Z, released [0-9T:-]+Z$' "$c" ||
	die "holds on the certificate: $(grep holds "$c")"
openssl cms -verify -binary -inform PEM -in "$c.p7s" -content "$c" \
	-CAfile "$T/certs/ca.pem" -out /dev/null 2>"$T/ossl" || die "stock openssl: $(cat "$T/ossl")"
expect_exit 0 L plan --tsv >"$T/plan"
[[ $(state_of whole termination) == delivered ]] || die "plan after: $(cat "$T/plan")"

# --- a hold on one dataset ------------------------------------------------------
expect_exit 0 L terminate scoped "$(days_ago 40)" >/dev/null
expect_exit 2 L hold scoped --reason "subpoena" --dataset gradez 2>/dev/null
L hold scoped --reason "subpoena 26-114" --dataset attendance >"$T/hold2.out" ||
	die "hold --dataset: $(cat "$T/hold2.out")"
grep -q '^H-0002: ' "$T/hold2.out" || die "hold id: $(cat "$T/hold2.out")"
expect_exit 3 L plan --tsv >"$T/plan"
[[ $(state_of scoped termination) == overdue ]] || die "plan: $(cat "$T/plan")"
grep -q 'partly held: 1 of 2 datasets by H-0002' "$T/plan" || die "plan note: $(cat "$T/plan")"
held_before=$(snapshot "$T/srv/s/attendance")
expect_exit 0 L run >"$T/run3" 2>&1
(($(find "$T/srv/s/grades" -type f | wc -l) == 0)) || die "grades not destroyed"
[[ $(snapshot "$T/srv/s/attendance") == "$held_before" ]] || die "held dataset changed"
expect_exit 0 L plan --tsv >"$T/plan"
[[ $(state_of scoped termination) == held ]] || die "plan: $(cat "$T/plan")"
c2=$(grep -l '^id = scoped$' "$T"/state/certificates/*.cert)
[[ $(echo "$c2" | wc -w) == 1 ]] || die "certificates of scoped: $c2"
grep -qx 'files = 2' "$c2" || die "files: $(grep '^files' "$c2")"
grep -qx 'categories = Assessment, Transcript' "$c2" || die "categories: $(grep '^categories' "$c2")"
grep -qE '^holds = H-0002 \(subpoena 26-114\) placed [0-9T:-]+Z, active$' "$c2" || die "holds: $(grep holds "$c2")"
# A second run while the hold stands does nothing more.
n=$(wc -l <"$T/state/journal")
expect_exit 0 L run
(($(grep -c ' disposition-start ' "$T/state/journal") == 2)) || die "another disposition started"

expect_exit 0 L release scoped --id H-0002 >/dev/null
expect_exit 3 L plan --tsv >"$T/plan"
[[ $(state_of scoped termination) == overdue ]] || die "release did not put it back: $(cat "$T/plan")"
expect_exit 0 L run >"$T/run4" 2>&1
(($(find "$T/srv/s" -type f | wc -l) == 0)) || die "held dataset not destroyed after release"
c3=$(grep -l '^id = scoped$' "$T"/state/certificates/*.cert | grep -v "$c2")
[[ $(echo "$c3" | wc -w) == 1 ]] || die "certificates after release: $c3"
grep -qx 'files = 1' "$c3" || die "files: $(grep '^files' "$c3")"
grep -qx 'trigger = termination' "$c3" || die "trigger: $(grep trigger "$c3")"
grep -qE '^holds = H-0002 \(subpoena 26-114\) placed [0-9T:-]+Z, released [0-9T:-]+Z$' "$c3" || die "holds: $(grep holds "$c3")"
expect_exit 0 L plan --tsv >"$T/plan"
[[ $(state_of scoped termination) == delivered ]] || die "plan at the end: $(cat "$T/plan")"
L journal verify >/dev/null || die "journal verify: $(L journal verify)"
echo "ok"
