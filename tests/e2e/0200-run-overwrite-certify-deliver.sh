#!/usr/bin/env bash
# lethe run, end to end on the host filesystem: a terminated agreement's
# files are overwritten and removed, the exempt dataset and everything
# outside the disposition stay byte-identical, a dry run writes nothing, the
# certificate verifies with stock openssl and with lethe verify, it reaches
# the LEA through sendmail with the manifest attached, the vendor's manifest
# copy is sanitized after delivery, and a second run does nothing.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
term=$(days_ago 10)
mkpolicy -f osde osde-2024 'lea = Oklahoma State Department of Education' \
	'contact = privacy@sde.example' 'dispose_after_termination = 30d' \
	'certify_within = 10d' 'timezone = America/Chicago' \
	'method = overwrite' <<POL
[dataset "exports"]
path = $T/srv/exports/osde/**/*.csv
categories = Assessment, Student Identifiers

[dataset "research"]
path = $T/srv/research/osde/**
deidentified = yes
POL
for n in Jordan_Alvarez Amara_Okafor Luis_Nguyen; do
	mkdata "$T/srv/exports/osde/2026/grade4/$n.csv" "MARK-$n" 8
done
mkdata "$T/srv/exports/osde/top.csv" MARK-top 1
mkdata "$T/srv/exports/osde/notes.txt" KEEP-notes 1        # not *.csv: kept
mkdata "$T/srv/exports/tulsa/a.csv" KEEP-tulsa 1           # other district
mkdata "$T/srv/research/osde/agg.csv" KEEP-research 1      # de-identified
mkdata "$T/outside/secret.csv" KEEP-outside 1              # outside the root
ln -s "$T/outside/secret.csv" "$T/srv/exports/osde/link.csv"
before_keep=$(snapshot "$T/outside"; snapshot "$T/srv/research"; snapshot "$T/srv/exports/tulsa")

L check >/dev/null || die "lethe check failed"
expect_exit 0 L terminate osde-2024 "$term"

# A dry run selects what run would, and writes nothing at all.
st_before=$(snapshot "$T/state"); data_before=$(snapshot "$T/srv")
expect_exit 0 L run --dry-run >"$T/dry"
grep -q 'would destroy 4 files' "$T/dry" || die "dry run: $(cat "$T/dry")"
[[ $(snapshot "$T/state") == "$st_before" ]] || die "dry run changed state_dir"
[[ $(snapshot "$T/srv") == "$data_before" ]] || die "dry run changed data"

L run >"$T/run.out" 2>"$T/run.err" || die "run failed: $(cat "$T/run.out" "$T/run.err")"
# What the disposition covered is gone; nothing else changed.
left=$(find "$T/srv/exports/osde" -name '*.csv' | wc -l)
[[ $left == 0 ]] || die "$left csv files left: $(find "$T/srv/exports/osde")"
[[ -e $T/srv/exports/osde/notes.txt ]] || die "notes.txt (not matched) was removed"
[[ ! -e $T/srv/exports/osde/2026 ]] || die "emptied directories were left"
[[ -d $T/srv/exports/osde ]] || die "the dataset's own fixed directory was removed"
[[ -e $T/outside/secret.csv && ! -L $T/outside/secret.csv ]] || die "symlink target touched"
after_keep=$(snapshot "$T/outside"; snapshot "$T/srv/research"; snapshot "$T/srv/exports/tulsa")
[[ $before_keep == "$after_keep" ]] || die "data outside the disposition changed"

# One certificate, verified by stock openssl and by lethe verify.
shopt -s nullglob
certs=("$T"/state/certificates/*.cert)
((${#certs[@]} == 1)) || die "expected 1 certificate, found ${#certs[@]}"
c=${certs[0]}
openssl cms -verify -binary -inform PEM -in "$c.p7s" -content "$c" \
	-CAfile "$T/certs/ca.pem" -out /dev/null 2>"$T/ossl" || die "stock openssl rejects: $(cat "$T/ossl")"
L verify --ca "$T/certs/ca.pem" "$c" >"$T/verify" || die "lethe verify: $(cat "$T/verify")"
grep -q '^files = 5$' "$c" || die "files count: $(grep files "$c")"
grep -q '^deadline_met = yes$' "$c" || die "deadline_met: $(grep deadline "$c")"
grep -q '^remaining_matches = 0$' "$c" || die "remaining_matches"
grep -q '^technique = overwrite$' "$c" || die "technique: $(grep technique "$c")"
grep -q '^method_type = Clear (file-level)' "$c" || die "method_type: $(grep method_type "$c")"
grep -q 'research (' "$c" || die "retained dataset not listed"
# No student data on the certificate or in the journal.
for n in Jordan_Alvarez Amara_Okafor Luis_Nguyen grade4 MARK-; do
	! grep -q "$n" "$c" || die "certificate names $n"
	! grep -q "$n" "$T/state/journal" || die "journal names $n"
done

# Delivered: the message has the three attachments; the vendor's copies of
# the manifest (it names students) were sanitized once it was accepted.
msg=$(ls "$T"/mail/*.eml | head -n1)
[[ -n $msg ]] || die "nothing was mailed"
python3 - "$msg" "$c" <<'PY' || die "delivered message is wrong"
import email, sys, email.policy
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
names = {p.get_filename(): p.get_content() for p in m.iter_attachments()}
cert = sys.argv[2].rsplit('/', 1)[1]
assert m['To'] == 'privacy@sde.example', m['To']
for suffix in ('', '.p7s'):
    got = names[cert + suffix]
    got = got if isinstance(got, bytes) else got.encode()
    assert got == open(sys.argv[2] + suffix, 'rb').read(), suffix
man = [n for n in names if n.endswith('.manifest')]
assert man, names.keys()
body = names[man[0]]
body = body.decode() if isinstance(body, bytes) else body
assert 'Jordan_Alvarez.csv' in body, body
PY
[[ ! -e ${c%.cert}.manifest ]] || die "vendor's manifest copy not sanitized after delivery"
id=$(basename "$c" .cert)
for f in manifest manifest.final names; do
	[[ ! -e $T/state/work/$id/$f ]] || die "work/$id/$f (names students) kept after delivery"
done
! grep -rq Jordan_Alvarez "$T/state" || die "a student's file name is still in state_dir: $(grep -rl Jordan_Alvarez "$T/state")"
L plan >"$T/plan"
grep -qE '^osde-2024 +termination .* delivered' "$T/plan" || die "plan: $(cat "$T/plan")"

# A second run the same day does nothing new.
n_lines=$(wc -l <"$T/state/journal")
expect_exit 0 L run
certs=("$T"/state/certificates/*.cert)
((${#certs[@]} == 1)) || die "second run issued another certificate"
(( $(ls "$T/mail" | wc -l) == 1 )) || die "second run mailed again"
grep -c 'disposition-start' "$T/state/journal" | qgrep -x 1 || die "second disposition started"
L journal verify >"$T/jv" || die "journal does not verify: $(cat "$T/jv")"
grep -q '^checkpoint: signed by .* seals lines 1-' "$T/jv" || die "no signed checkpoint: $(cat "$T/jv")"
# A forged checkpoint is caught: change its head, or drop journal lines.
cp "$T/state/checkpoint" "$T/ckpt.good"
sed -i -E 's/^head 0/head X/; s/^head [1-9a-f]/head 0/; s/^head X/head 1/' "$T/state/checkpoint"
cmp -s "$T/state/checkpoint" "$T/ckpt.good" && die "checkpoint not changed"
expect_exit 1 L journal verify >"$T/jv"
grep -q 'FORGED' "$T/jv" || die "forged checkpoint not reported: $(cat "$T/jv")"
cp "$T/ckpt.good" "$T/state/checkpoint"
head -n -1 "$T/state/journal" >"$T/j" && cat "$T/j" >"$T/state/journal"
expect_exit 1 L journal verify >"$T/jv"
echo "ok"
