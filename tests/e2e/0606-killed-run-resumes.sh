#!/usr/bin/env bash
# A run killed at any instant is finished by the next (SPEC §5): 300 files
# of 64 KiB, `lethe run` started and killed with SIGKILL after a random
# short time, again and again until a run gets to the end; then one more
# run.  Every file is gone, the trigger has exactly one
# disposition-complete and one certificate, the journal verifies, the
# certificate verifies with stock openssl, and the manifest lists every
# file exactly once, with its original digest where the run knew it.  The
# sendmail stand-in refuses mail (exit 75), so the vendor's manifest copy
# stays in state/certificates/ for this check.
# LETHE may point at the non-sanitized build/lethe for speed.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
mkpolicy -f osde osde-2024 'lea = Oklahoma State Department of Education' \
	'contact = privacy@sde.example' 'dispose_after_termination = 30d' \
	'certify_within = 10d' 'method = overwrite' <<POL
[dataset "exports"]
path = $T/srv/exports/**
categories = Assessment
POL
NFILES=${NFILES:-300}
python3 - "$T/srv/exports" "$NFILES" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, 'class%02d' % (i % 12))
    os.makedirs(d, exist_ok=True)
    line = ('MARK-student-%04d ' % i).encode()
    with open(os.path.join(d, 'student%04d.csv' % i), 'wb') as f:
        f.write((line * (65536 // len(line) + 1))[:65536])
PY
(cd "$T/srv" && find exports -type f -exec sha256sum {} + | sort -k2) >"$T/before.sha"
(($(wc -l <"$T/before.sha") == NFILES)) || die "setup"
printf '#!/bin/sh\ncat >/dev/null\nexit 75\n' >"$T/bin/sendmail"
expect_exit 0 L terminate osde-2024 "$(days_ago 3)" >/dev/null

kills=0 tries=0
while :; do
	tries=$((tries + 1))
	((tries <= 200)) || die "no run completed in 200 tries"
	"$LETHE" -c "$T/lethe.conf" run >"$T/run.out" 2>"$T/run.err" &
	pid=$!
	# 0 to 0.4 s, and more often very early (between intent and outcome).
	sleep "0.$(printf '%03d' $((RANDOM % (tries < 4 ? 60 : 400))))"
	if kill -9 "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null || true
		kills=$((kills + 1))
		continue
	fi
	rc=0
	wait "$pid" || rc=$?
	# Exit 1: the refused delivery (and nothing else) failed.
	((rc == 1)) || die "a run exited $rc: $(cat "$T/run.err")"
	grep -qv 'not accepted by .*sendmail' "$T/run.err" &&
		die "a run failed: $(grep -v 'not accepted' "$T/run.err")"
	break
done
((kills > 0)) || die "no run was killed (the machine is too fast for this test; raise NFILES)"
expect_exit 1 L run >"$T/final.out" 2>"$T/final.err"
! grep -v 'not accepted by .*sendmail' "$T/final.err" | qgrep . ||
	die "final run: $(cat "$T/final.err")"

left=$(find "$T/srv/exports" -type f | wc -l)
((left == 0)) || die "$left files left after $kills kills"
J=$T/state/journal
(($(grep -c ' disposition-complete ' "$J") == 1)) ||
	die "disposition-complete lines: $(grep -c ' disposition-complete ' "$J") after $kills kills"
(($(grep -c ' disposition-fail ' "$J") == 0)) || die "a disposition failed: $(grep ' disposition-fail ' "$J")"
(($(grep -c ' certificate-issued ' "$J") == 1)) || die "certificate-issued lines: $(grep -c ' certificate-issued ' "$J")"
shopt -s nullglob
certs=("$T"/state/certificates/*.cert)
((${#certs[@]} == 1)) || die "${#certs[@]} certificates after $kills kills"
c=${certs[0]}
grep -qx 'trigger = termination' "$c" || die "trigger: $(grep trigger "$c")"
grep -qx "files = $NFILES" "$c" || die "files: $(grep '^files' "$c") after $kills kills"
grep -qx "bytes = $((NFILES * 65536))" "$c" || die "bytes: $(grep '^bytes' "$c") after $kills kills"
# Emptied directories go too (SPEC §6.5), whichever run emptied them.
[[ -z $(find "$T/srv/exports" -mindepth 1) ]] ||
	die "left after $kills kills: $(find "$T/srv/exports" -mindepth 1 | head -5)"
grep -qx 'remaining_matches = 0' "$c" || die "remaining: $(grep remaining "$c")"
L journal verify >"$T/jv" || die "journal verify after $kills kills: $(cat "$T/jv")"
openssl cms -verify -binary -inform PEM -in "$c.p7s" -content "$c" \
	-CAfile "$T/certs/ca.pem" -out /dev/null 2>"$T/ossl" || die "stock openssl: $(cat "$T/ossl")"
m=${c%.cert}.manifest
[[ -f $m ]] || die "no manifest at $m"
L verify --ca "$T/certs/ca.pem" --manifest "$m" "$c" >"$T/v" || die "lethe verify: $(cat "$T/v")"
# Every file exactly once; each digest the original one, unless the run
# that destroyed it was killed before it could record it (then the
# certificate says how many were lost, and the row says so).
python3 - "$m" "$T/before.sha" "$T/srv/" "$c" "$NFILES" <<'PY' || die "manifest (after $kills kills)"
import sys, collections
man, before, prefix, cert, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
orig = {}
for l in open(before):
    h, p = l.rstrip('\n').split('  ', 1)
    orig[prefix + p] = h
lines = open(man).read().splitlines()
assert lines[0].split('\t') == ['path', 'size', 'sha256'], lines[0]
rows = [l.split('\t') for l in lines[1:] if l]
paths = collections.Counter(r[0] for r in rows)
dup = [p for p, k in paths.items() if k > 1]
assert not dup, 'listed more than once: %s' % dup[:5]
assert set(paths) == set(orig), 'missing %s extra %s' % (sorted(set(orig) - set(paths))[:5], sorted(set(paths) - set(orig))[:5])
lost = 0
for p, size, h in rows:
    assert size == '65536', (p, size)
    if h != orig[p]:
        assert len(h) != 64 or h == '0' * 64 or not all(c in '0123456789abcdef' for c in h), (p, h)
        lost += 1
text = open(cert).read()
if lost:
    import re
    m = re.search(r'(\d+) pre-destruction digests? unavailable', text)
    assert m and int(m.group(1)) == lost, 'the certificate says %s, the manifest has %d rows without a digest' % (m and m.group(0), lost)
PY
echo "ok ($kills kills, $tries runs)"
