#!/usr/bin/env bash
# Data that reappears after its disposition was completed and certified (a
# restore from backup) is found by the next run, destroyed again and
# reported on a supplementary certificate whose trigger is `reappeared`;
# the run after that finds nothing and issues nothing.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
mkpolicy -f osde osde-2024 'lea = Oklahoma State Department of Education' \
	'contact = privacy@sde.example' 'dispose_after_termination = 30d' \
	'certify_within = 10d' 'timezone = America/Chicago' \
	'method = overwrite' <<POL
[dataset "exports"]
path = $T/srv/exports/osde/**/*.csv
categories = Assessment

[dataset "research"]
path = $T/srv/research/osde/**
deidentified = yes
POL
for n in Jordan_Alvarez Amara_Okafor Luis_Nguyen; do
	mkdata "$T/srv/exports/osde/2026/$n.csv" "MARK-$n" 4
done
mkdata "$T/srv/research/osde/agg.csv" KEEP-research 1
mkdir -p "$T/backup" && cp -a "$T/srv/exports/osde/2026/Amara_Okafor.csv" "$T/backup/"
expect_exit 0 L terminate osde-2024 "$(days_ago 5)" >/dev/null
L run >"$T/run1" 2>&1 || die "first run: $(cat "$T/run1")"
shopt -s nullglob
certs=("$T"/state/certificates/*.cert)
((${#certs[@]} == 1)) || die "first run: ${#certs[@]} certificates"
first=${certs[0]}
grep -qx 'trigger = termination' "$first" || die "first: $(grep trigger "$first")"
(($(find "$T/srv/exports" -type f | wc -l) == 0)) || die "first run left files"
expect_exit 0 L plan --tsv >"$T/plan"
grep -qP '^osde-2024\ttermination\t.*\tdelivered\t' "$T/plan" || die "plan: $(cat "$T/plan")"

# Restored from the backup, as an admin's restore would do.
mkdir -p "$T/srv/exports/osde/2026"
cp -a "$T/backup/Amara_Okafor.csv" "$T/srv/exports/osde/2026/"
keep=$(snapshot "$T/srv/research")
st=$(snapshot "$T/state")
expect_exit 0 L run --dry-run >"$T/dry"
grep -q 'termination: 1 files reappeared after disposition' "$T/dry" || die "dry run: $(cat "$T/dry")"
[[ $(snapshot "$T/state") == "$st" ]] || die "dry run wrote to state_dir"
[[ -e $T/srv/exports/osde/2026/Amara_Okafor.csv ]] || die "dry run removed the file"

L run >"$T/run2" 2>&1 || die "second run: $(cat "$T/run2")"
[[ ! -e $T/srv/exports/osde/2026/Amara_Okafor.csv ]] || die "reappeared file not destroyed"
[[ $(snapshot "$T/srv/research") == "$keep" ]] || die "research data changed"
certs=("$T"/state/certificates/*.cert)
((${#certs[@]} == 2)) || die "expected a supplementary certificate, found ${#certs[@]}"
supp=$(printf '%s\n' "${certs[@]}" | grep -vx "$first")
grep -qx 'trigger = reappeared' "$supp" || die "supplementary: $(grep trigger "$supp")"
grep -qx 'files = 1' "$supp" || die "supplementary files: $(grep '^files' "$supp")"
grep -qx "bytes = $(stat -c %s "$T/backup/Amara_Okafor.csv")" "$supp" || die "bytes: $(grep '^bytes' "$supp")"
grep -qx 'remaining_matches = 0' "$supp" || die "remaining: $(grep remaining "$supp")"
grep -qx 'deadline_met = yes' "$supp" || die "deadline_met: $(grep deadline_met "$supp")"
grep -q '^retained = research' "$supp" || die "retained: $(grep retained "$supp")"
! grep -q 'Amara' "$supp" || die "the certificate names a student"
openssl cms -verify -binary -inform PEM -in "$supp.p7s" -content "$supp" \
	-CAfile "$T/certs/ca.pem" -out /dev/null 2>"$T/ossl" || die "stock openssl: $(cat "$T/ossl")"
L verify --ca "$T/certs/ca.pem" "$supp" >"$T/v" || die "lethe verify: $(cat "$T/v")"
# It went to the LEA with a manifest naming exactly the restored file.
(($(ls "$T/mail" | wc -l) == 2)) || die "mails: $(ls "$T/mail")"
python3 - "$T/mail/2.eml" "$T/backup/Amara_Okafor.csv" <<'PY' || die "supplementary mail is wrong"
import email, sys, email.policy, hashlib
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
assert m['To'] == 'privacy@sde.example', m['To']
man = [p for p in m.iter_attachments() if p.get_filename().endswith('.manifest')]
assert len(man) == 1
body = man[0].get_content()
body = body.decode() if isinstance(body, bytes) else body
rows = [l for l in body.splitlines()[1:] if l]
assert body.splitlines()[0] == 'path\tsize\tsha256', body
digest = hashlib.sha256(open(sys.argv[2], 'rb').read()).hexdigest()
assert len(rows) == 1 and 'Amara_Okafor.csv' in rows[0] and digest in rows[0], body
PY
expect_exit 0 L plan --tsv >"$T/plan"
grep -qP '^osde-2024\treappeared\t.*\tdelivered\t' "$T/plan" || die "plan: $(cat "$T/plan")"

# The third run finds nothing.
n=$(grep -c ' disposition-start ' "$T/state/journal")
expect_exit 0 L run --dry-run >"$T/dry3"
! grep -q 'reappeared' "$T/dry3" || die "dry run 3: $(cat "$T/dry3")"
expect_exit 0 L run >"$T/run3" 2>&1
(($(grep -c ' disposition-start ' "$T/state/journal") == n)) || die "third run started a disposition"
certs=("$T"/state/certificates/*.cert)
((${#certs[@]} == 2)) || die "third run issued a certificate"
(($(ls "$T/mail" | wc -l) == 2)) || die "third run mailed"
L journal verify >/dev/null || die "journal verify: $(L journal verify)"

# Restored again, under a legal hold: kept, and said, not invisible; the
# release makes it due, and the next run destroys it.
mkdir -p "$T/srv/exports/osde/2026"
cp -a "$T/backup/Amara_Okafor.csv" "$T/srv/exports/osde/2026/"
L hold osde-2024 --reason "litigation" >/dev/null
rc=0
L run --dry-run >"$T/dry4" 2>&1 || rc=$?
grep -q 'termination: 1 files reappeared after disposition and are kept while a hold' "$T/dry4" ||
	die "dry run under a hold (exit $rc): $(cat "$T/dry4")"
L run >"$T/run4" 2>&1 || die "run under a hold: $(cat "$T/run4")"
[[ -e $T/srv/exports/osde/2026/Amara_Okafor.csv ]] || die "held reappeared data destroyed"
L release osde-2024 >/dev/null 2>&1 || die "release"
L run >"$T/run5" 2>&1 || die "run after release: $(cat "$T/run5")"
[[ ! -e $T/srv/exports/osde/2026/Amara_Okafor.csv ]] || die "released reappeared data not destroyed"
echo "ok"
