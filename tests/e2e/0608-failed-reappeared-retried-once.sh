#!/usr/bin/env bash
# A supplementary (reappeared) disposition that fails is retried by the
# next run, and only until it succeeds: once the reappeared data is
# destroyed and certified, later runs issue no further certificate (no
# daily stream of empty supplementary certificates to the LEA) and plan
# shows nothing due or overdue.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
mkpolicy -f a dsa-a 'lea = District A' 'contact = privacy@a.example' \
	'dispose_after_termination = 30d' 'certify_within = 10d' \
	'method = overwrite' <<POL
[dataset "records"]
path = $T/srv/a/**/*.csv
categories = Enrollment
POL
mkdata "$T/srv/a/r1.csv" MARK-1 2
mkdata "$T/srv/a/r2.csv" MARK-2 2
cp "$T/srv/a/r1.csv" "$T/r1.backup"
expect_exit 0 L terminate dsa-a "$(days_ago 2)" >/dev/null
expect_exit 0 L run
ncerts() { ls "$T/state/certificates" | grep -c '\.cert$'; }
(($(ncerts) == 1)) || die "first run: $(ncerts) certificates"

# Restored, with a second hard link outside the dataset: refused.
cp "$T/r1.backup" "$T/srv/a/r1.csv"
ln "$T/srv/a/r1.csv" "$T/srv/a/r1.keep"
expect_exit 1 L run >"$T/run2" 2>&1
grep -Eq 'reappeared.*(failed|refused)' "$T/run2" || die "run 2: $(cat "$T/run2")"
[[ -e $T/srv/a/r1.csv ]] || die "refused file was removed"
(($(ncerts) == 1)) || die "a failed disposition was certified"

# The admin removes the extra link; the next run finishes the job, once.
rm "$T/srv/a/r1.keep"
L run >"$T/run3" 2>&1 || die "run 3: $(cat "$T/run3")"
[[ ! -e $T/srv/a/r1.csv ]] || die "reappeared file not destroyed"
(($(ncerts) == 2)) || die "run 3: expected 2 certificates, found $(ncerts)"
grep -h '^files = ' "$T"/state/certificates/*.cert | qgrep -x 'files = 0' &&
	die "an empty supplementary certificate was issued"
starts=$(grep -c ' disposition-start ' "$T/state/journal")
nmail=$(ls "$T/mail" | wc -l)
expect_exit 0 L run >"$T/run4" 2>&1
(($(ncerts) == 2)) || die "run 4 issued another certificate ($(ncerts))"
(($(grep -c ' disposition-start ' "$T/state/journal") == starts)) || die "run 4 started a disposition"
(($(ls "$T/mail" | wc -l) == nmail)) || die "run 4 mailed"
expect_exit 0 L plan --tsv >"$T/plan"
! awk -F'\t' 'NR > 1 && ($6 == "due" || $6 == "overdue")' "$T/plan" | qgrep . ||
	die "plan still shows work: $(cat "$T/plan")"
expect_exit 0 L plan --tsv --now "$(days_ahead 2)" >/dev/null
L journal verify >/dev/null || die "journal verify: $(L journal verify)"
echo "ok"
