#!/usr/bin/env bash
# `lethe run` is idempotent (SPEC §5): with a directive and a termination
# both due, the first run carries out both and issues one certificate for
# each trigger; a second run the same day starts no disposition, issues no
# certificate, sends no mail and changes no data.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
mkpolicy -f nh ndpa-nh 'lea = Nashua School District' \
	'contact = privacy@nashua.example' 'dispose_after_request = 60d' \
	'dispose_after_termination = 30d' 'certify_within = 10d' \
	'method = overwrite' <<POL
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
for i in 1 2 3; do
	mkdata "$T/srv/nh/assessments/a$i.csv" "MARK-A$i" 2
	mkdata "$T/srv/nh/attendance/t$i.csv" "MARK-T$i" 2
done
mkdata "$T/srv/nh/research/r.csv" KEEP-R 1
cat >"$T/d.ini" <<DIR
[directive]
agreement = ndpa-nh
received = $(days_ago 4)
extent = partial
categories = Assessment
nature = destroy
schedule = asap
requested_by = R. Ortiz
DIR
expect_exit 0 L directive add "$T/d.ini" >/dev/null
expect_exit 0 L terminate ndpa-nh "$(days_ago 2)" >/dev/null
L plan --tsv >"$T/plan0"
(($(awk -F'\t' '$6 == "due"' "$T/plan0" | wc -l) == 2)) || die "both not due: $(cat "$T/plan0")"

count() { grep -c " $1 " "$T/state/journal" || true; }
L run >"$T/run1" 2>&1 || die "first run: $(cat "$T/run1")"
shopt -s nullglob
certs=("$T"/state/certificates/*.cert)
((${#certs[@]} == 2)) || die "first run: ${#certs[@]} certificates"
cd_=$(grep -lx 'trigger = directive D-0001' "${certs[@]}") || die "no directive certificate"
ct_=$(grep -lx 'trigger = termination' "${certs[@]}") || die "no termination certificate"
# The directive (the LEA's own request, received first) is carried out
# first: its certificate shows the Assessment files it destroyed, not zero.
grep -qx 'files = 3' "$cd_" || die "directive certificate: $(grep '^files' "$cd_")"
grep -qx 'categories = Assessment' "$cd_" || die "directive certificate: $(grep '^categories' "$cd_")"
grep -qx 'files = 3' "$ct_" || die "termination certificate: $(grep '^files' "$ct_")"
(($(find "$T/srv/nh/assessments" "$T/srv/nh/attendance" -type f | wc -l) == 0)) || die "files left"
# Each file destroyed once, across both dispositions, recorded in the
# dispositions' own records (the journal grows with dispositions).
(($(intents) == 6)) || die "files set out to destroy: $(intents)"
(($(count file-destroyed) == 0)) || die "per-file lines in the journal: $(count file-destroyed)"
L plan --tsv >"$T/plan1"
(($(awk -F'\t' '$6 == "delivered"' "$T/plan1" | wc -l) == 2)) || die "plan: $(cat "$T/plan1")"

starts=$(count disposition-start) completes=$(count disposition-complete)
issued=$(count certificate-issued) attempts=$(count delivery-attempt)
destroyed=$(intents) notices=$(count notice-sent)
nmail=$(ls "$T/mail" | wc -l)
ncert=$(ls "$T/state/certificates" | wc -l)
data=$(snapshot "$T/srv")
expect_exit 0 L run --dry-run >"$T/dry"
grep -qx 'nothing to do' "$T/dry" || die "dry run after the run: $(cat "$T/dry")"
L run >"$T/run2" 2>&1 || die "second run: $(cat "$T/run2")"
[[ -z $(cat "$T/run2") ]] || die "second run said something under cron: $(cat "$T/run2")"
(($(count disposition-start) == starts)) || die "second run started a disposition"
(($(count disposition-complete) == completes)) || die "second run completed a disposition"
(($(count certificate-issued) == issued)) || die "second run issued a certificate"
(($(count delivery-attempt) == attempts)) || die "second run attempted a delivery"
(($(intents) == destroyed)) || die "second run destroyed files"
(($(count notice-sent) == notices)) || die "second run sent a notice"
(($(ls "$T/mail" | wc -l) == nmail)) || die "second run mailed"
(($(ls "$T/state/certificates" | wc -l) == ncert)) || die "second run wrote certificates"
[[ $(snapshot "$T/srv") == "$data" ]] || die "second run changed data"
L journal verify >/dev/null || die "journal verify: $(L journal verify)"
echo "ok"
