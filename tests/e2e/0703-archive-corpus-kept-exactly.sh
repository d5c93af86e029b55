#!/usr/bin/env bash
# The archive corpus (tests/data/archives/good: backups made by GNU tar,
# bsdtar, GNU cpio, Info-ZIP and python in their formats and variants,
# compressed every way libarchive writes back, concatenated, sparse, with
# xattrs, pre-1970 and far-future times, hard links, zip comments and a
# self-extractor stub) goes through one real `lethe run` that removes
# osde's members from each.  Then an independent reader
# (tests/data/archives/check-rewrite.py: python's tarfile and zipfile, a
# cpio reader of its own, GNU cpio) compares every archive with its
# original: every kept member's bytes and metadata the same, header bytes
# identical, the removed members and their content gone.  The certificate
# counts exactly the members removed, and says how many bytes of the old
# archives were read back (issue 15, item 11); the manifest gives "-" for
# members with no content of their own (issue 14, item 8).
. "$(dirname "$0")/lib.sh"
for t in python3 cpio zstd lz4; do
	command -v $t >/dev/null || skip "$t not installed"
done
corpus=$LETHE_TOP/tests/data/archives
mkhost "$T/srv"
mkdir -p "$T/srv/backups"
cp "$corpus"/good/* "$T/srv/backups/"
mkpolicy -f osde osde-2024 'lea = Oklahoma State Department of Education' \
	'contact = privacy@sde.example' 'dispose_after_termination = 30d' \
	'certify_within = 10d' 'method = overwrite' <<POL
[dataset "nightly-backups"]
archive = $T/srv/backups/*
members = osde/**
categories = Student Identifiers
POL
L check >/dev/null || die "lethe check: $(L check 2>&1)"
expect_exit 0 L terminate osde-2024 "$(days_ago 90)"
start=$(date +%s)
rc=0
L run >"$T/run.out" 2>"$T/run.err" || rc=$?
[[ $rc == 0 || $rc == 3 ]] || die "run exit $rc: $(cat "$T/run.out" "$T/run.err")"
took=$(($(date +%s) - start))
((took < 45)) || die "the corpus took ${took}s"

total=0 n=0
while IFS=$'\t' read -r kind name want; do
	[[ $kind == good ]] || continue
	python3 "$corpus/check-rewrite.py" "$corpus/good/$name" "$T/srv/backups/$name" \
		osde "$want" >>"$T/check.out" || die "$(tail -n 20 "$T/check.out")"
	total=$((total + want)) n=$((n + 1))
done <"$corpus/expect.tsv"
((n >= 40)) || die "only $n archives in the corpus"
[[ -z $(ls -A "$T/srv/backups" | grep lethe) ]] || die "leftovers beside the archives"

# The certificate: exactly the members removed, in every archive, and the
# old archives' blocks read back (not "0 bytes").
certs=("$T"/state/certificates/*.cert)
((${#certs[@]} == 1)) || die "expected 1 certificate, found ${#certs[@]}: $(cat "$T/run.err")"
c=${certs[0]}
# A value, its wrapped pieces (KEY_2, KEY_3 ...) joined back.
value() {
	python3 - "$c" "$1" <<'PY'
import re, sys
v = {}
for line in open(sys.argv[1]):
    m = re.match(r'(\w+?)(?:_(\d+))? = (.*)', line.rstrip('\n'))
    if m and m.group(1) == sys.argv[2]:
        v[int(m.group(2) or 1)] = m.group(3)
print(' '.join(v[k] for k in sorted(v)))
PY
}
details=$(value method_details)
[[ $details == *"$total members removed from $n archives,"* ]] ||
	die "certificate does not count $total members in $n archives: $details"
[[ $details == *"2 removed members' content kept: hard links to them outside"* ]] ||
	die "certificate does not say which removed members' content stays: $details"
v=$(value verification | sed -n 's/^full: \([0-9]*\) bytes read back.*/\1/p')
sizes=$(cd "$corpus/good" && cat * | wc -c)
[[ -n $v ]] && ((v >= sizes)) || die "verification says $v bytes read back, the old archives held $sizes: $(grep ^verification "$c")"
L verify --ca "$T/certs/ca.pem" "$c" >/dev/null || die "lethe verify rejects the certificate"

# The manifest (delivered to the LEA): one row per removed member; "-"
# for directories and link entries, a digest for content.
msg=$(ls "$T"/mail/*.eml | head -n1)
python3 - "$msg" "$total" <<'PY' || die "manifest rows are wrong"
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
body = next(p.get_content() for p in m.iter_attachments()
            if p.get_filename().endswith('.manifest'))
body = body.decode() if isinstance(body, bytes) else body
rows = [r.split('\t') for r in body.splitlines()[1:] if '//' in r]
assert len(rows) == int(sys.argv[2]), (len(rows), sys.argv[2])
own = {}
for path, size, sha in rows:
    archive, member = path.split('//', 1)
    name = member.rstrip('/')
    if name in ('osde', 'osde/scores'):
        assert sha == '-', (path, sha)	# directories
    elif name.endswith('roster.csv') or name.endswith('blob.bin'):
        assert len(sha) == 64, (path, sha)
    elif name.endswith('shared.csv'):	# its content stays under tulsa's link
        assert sha == '-', (path, sha)
    elif name.startswith('osde/own'):	# one content row, one link row
        own.setdefault(archive, []).append((size, sha))
for archive, r in own.items():
    assert sorted(x[1] == '-' for x in r) == [False, True], (archive, r)
    assert [x for x in r if x[1] == '-'][0][0] == '0', (archive, r)
PY
echo "ok: $n archives, $total members removed, every kept member kept exactly (${took}s)"
