#!/usr/bin/env bash
# A complete Exhibit D directive by transfer: run packs the data into a
# tar.gz at transfer_to (listed by GNU tar and by bsdtar, with a SHA-256
# manifest member; extracted files byte-identical to the originals), and
# only then destroys the originals; the exempt research data stays; the
# certificate's technique is transfer-then-overwrite and gives the
# archive's digest.  A transfer_to outside allowed_roots is refused.
. "$(dirname "$0")/lib.sh"
command -v bsdtar >/dev/null || skip "bsdtar is not installed"
mkhost "$T/srv"
mkpolicy -f nh ndpa-nh 'lea = Nashua School District' \
	'contact = privacy@nashua.example' 'dispose_after_request = 60d' \
	'certify_within = 10d' 'method = overwrite' <<POL
[dataset "assessments"]
path = $T/srv/nh/assessments/**
categories = Assessment

[dataset "attendance"]
path = $T/srv/nh/attendance/**/*.csv
categories = Attendance

[dataset "research"]
path = $T/srv/nh/research/**
deidentified = yes
POL
for n in Ava_Lindqvist Noah_Petrakis; do
	mkdata "$T/srv/nh/assessments/2026/$n.csv" "MARK-ASSESS-$n" 8
	mkdata "$T/srv/nh/attendance/fall/$n.csv" "MARK-ATTEND-$n" 3
done
head -c 70000 /dev/urandom >"$T/srv/nh/assessments/2026/scan.pdf"
mkdata "$T/srv/nh/research/agg.csv" KEEP-research 1
mkdir -p "$T/orig" && cp -a "$T/srv/nh" "$T/orig/"
(cd "$T/srv" && find nh/assessments nh/attendance -type f | sort) >"$T/want.list"
keep=$(snapshot "$T/srv/nh/research")

# A transfer outside the allowed roots is refused at intake.
cat >"$T/bad.ini" <<DIR
[directive]
agreement = ndpa-nh
received = $(days_ago 2)
extent = complete
nature = transfer
transfer_to = $T/outside/handoff
schedule = asap
requested_by = R. Ortiz
DIR
expect_exit 2 L directive add "$T/bad.ini" 2>"$T/bad.err"
grep -q 'allowed_roots' "$T/bad.err" || die "bad transfer_to: $(cat "$T/bad.err")"

to=$T/srv/handoff/nh
cat >"$T/d.ini" <<DIR
[directive]
agreement = ndpa-nh
received = $(days_ago 2)
extent = complete
nature = transfer
transfer_to = $to
schedule = asap
requested_by = R. Ortiz, Data Privacy Officer
DIR
expect_exit 0 L directive add "$T/d.ini" >/dev/null
expect_exit 0 L run --dry-run >"$T/dry"
grep -q "would destroy 5 files .* after transfer to $to" "$T/dry" || die "dry run: $(cat "$T/dry")"
[[ ! -e $to ]] || die "dry run created transfer_to"

L run >"$T/run.out" 2>"$T/run.err" || die "run failed: $(cat "$T/run.out" "$T/run.err")"

shopt -s nullglob
tars=("$to"/*.tar.gz)
((${#tars[@]} == 1)) || die "expected one archive in $to: $(ls -la "$to" 2>&1)"
tgz=${tars[0]}
tar -tzf "$tgz" | sort >"$T/gnu.list" || die "GNU tar cannot list $tgz"
bsdtar -tf "$tgz" | sort >"$T/bsd.list" || die "bsdtar cannot list $tgz"
cmp -s "$T/gnu.list" "$T/bsd.list" || die "GNU tar and bsdtar disagree: $(diff "$T/gnu.list" "$T/bsd.list")"
grep -vx 'MANIFEST.sha256' "$T/gnu.list" | sed 's|^\./||' | sort >"$T/got.list"
cmp -s "$T/got.list" "$T/want.list" || die "archive members: $(diff "$T/want.list" "$T/got.list")"
grep -qx 'MANIFEST.sha256' "$T/gnu.list" || die "no MANIFEST.sha256 member: $(cat "$T/gnu.list")"
mkdir "$T/x1" "$T/x2"
tar -xzf "$tgz" -C "$T/x1" || die "GNU tar cannot extract"
bsdtar -xf "$tgz" -C "$T/x2" || die "bsdtar cannot extract"
while read -r f; do
	cmp -s "$T/orig/$f" "$T/x1/$f" || die "GNU tar: $f differs from the original"
	cmp -s "$T/orig/$f" "$T/x2/$f" || die "bsdtar: $f differs from the original"
done <"$T/want.list"
(cd "$T/x1" && sha256sum -c --quiet MANIFEST.sha256) || die "MANIFEST.sha256 does not check"
[[ $(stat -c %a "$tgz") == 600 ]] || die "archive mode $(stat -c %a "$tgz")"

# The originals are gone; the exempt data is not.
(($(find "$T/srv/nh/assessments" "$T/srv/nh/attendance" -type f | wc -l) == 0)) ||
	die "originals left: $(find "$T/srv/nh/assessments" "$T/srv/nh/attendance" -type f)"
[[ $(snapshot "$T/srv/nh/research") == "$keep" ]] || die "research data changed"

certs=("$T"/state/certificates/*.cert)
((${#certs[@]} == 1)) || die "expected 1 certificate, found ${#certs[@]}"
c=${certs[0]}
grep -qx 'trigger = directive D-0001' "$c" || die "trigger: $(grep trigger "$c")"
grep -qx 'technique = transfer-then-overwrite' "$c" || die "technique: $(grep technique "$c")"
grep -qx 'files = 5' "$c" || die "files: $(grep '^files' "$c")"
grep -q "$(sha256sum "$tgz" | cut -c1-64)" "$c" || die "the archive's SHA-256 is not on the certificate"
grep -q '^retained = research' "$c" || die "retained: $(grep retained "$c")"
openssl cms -verify -binary -inform PEM -in "$c.p7s" -content "$c" \
	-CAfile "$T/certs/ca.pem" -out /dev/null 2>"$T/ossl" || die "stock openssl: $(cat "$T/ossl")"
L verify --ca "$T/certs/ca.pem" "$c" >"$T/v" || die "lethe verify: $(cat "$T/v")"
expect_exit 0 L plan --tsv >"$T/plan"
awk -F'\t' '$2 == "directive D-0001" { print $6 }' "$T/plan" | qgrep -x delivered || die "plan: $(cat "$T/plan")"
# A second run neither packs nor destroys again.
sum=$(sha256sum "$tgz")
expect_exit 0 L run
[[ $(sha256sum "$tgz") == "$sum" ]] || die "second run changed the archive"
(($(ls "$to" | wc -l) == 1)) || die "second run wrote to transfer_to: $(ls "$to")"
echo "ok"
