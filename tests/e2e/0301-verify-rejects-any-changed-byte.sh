#!/usr/bin/env bash
# lethe verify: exit codes, one line per check, and any changed byte of a
# certificate, its signature or its manifest is rejected; stock openssl
# accepts the same files (SPEC §8).
source "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || skip "openssl command not found"

"$LETHE_TOP/certs/mkca" --vendor "Example Learning, Inc." --host test-host \
	"$T/pki" 2>/dev/null || die "certs/mkca failed"
"$LETHE_TOP/certs/mkca" --host elsewhere "$T/other" 2>/dev/null || die "mkca 2"
CA=$T/pki/ca.pem

# A certificate as lethe writes it, dated relative to now.
mkcert() {	# DIR ID [DEADLINE_MET]
	local dir=$1 id=$2 met=${3:-yes} now started completed today
	mkdir -p "$dir"
	printf 'path\tsize\tsha256\n/srv/edtech/exports/osde/a.csv\t120\t%s\n/srv/edtech/exports/osde/b.csv\t80\t%s\n' \
		"$(printf a | sha256sum | cut -c1-64)" "$(printf b | sha256sum | cut -c1-64)" \
		>"$dir/$id.manifest"
	now=$(date -u +%s)
	started=$(date -u -d "@$((now - 600))" +%FT%TZ)
	completed=$(date -u -d "@$((now - 60))" +%FT%TZ)
	today=$(TZ=America/Chicago date -d "@$((now - 60))" +%F)
	cat >"$dir/$id.cert" <<CERT
; Certificate of sanitization, written by lethe.  See lethe-certificate(5).

[certificate]
id = $id
issued = $(date -u -d "@$now" +%FT%TZ)
standard = NIST SP 800-88 Rev. 2
tool = lethe 0.1.0 (OpenSSL 3.0)
host = test-host
journal_seq = 12
journal_head = $(printf x | sha256sum | cut -c1-64)

[agreement]
id = osde-2024
lea = Oklahoma State Department of Education
vendor = Example Learning, Inc.
trigger = directive D-0001
trigger_date = $(date -d "$today -5 days" +%F)
deadline = $(date -d "$today +55 days" +%F)
deadline_met = $met
timezone = America/Chicago

[media]
type = ext4
uuid = 2f1c3a52-5a7e-4d7e-9c1f-0c9d1f8e7a11
device = /dev/vda1
model = unknown
serial = unknown
rotational = no
source = screener-exports

[sanitization]
performed_by = lethe on test-host
method_type = Clear (file-level): flash wear-levelling may keep copies
technique = overwrite
method_details = 1 pass of zeros, names overwritten
verification = full: read back, all zero
started = $started
completed = $completed
remaining_matches = 0
post_sanitization_destination = none
exceptions = none

[data]
categories = Assessment
files = 2
bytes = 200
bytes_overwritten = 200
manifest_sha256 = $(sha256sum <"$dir/$id.manifest" | cut -c1-64)
retained = none
holds = none

[delivery]
certify_by = $(date -d "$today +10 days" +%F)
CERT
	openssl cms -sign -binary -md sha256 -nosmimecap -in "$dir/$id.cert" \
		-signer "$T/pki/agent.pem" -inkey "$T/pki/agent.key" \
		-certfile "$CA" -outform PEM -out "$dir/$id.cert.p7s" ||
		die "openssl cms -sign"
}

mkcert "$T/good" C-1
out=$(L verify --ca "$CA" "$T/good/C-1.cert") || die "a good certificate failed: $out"
echo "$out"
for want in "ok   signature and chain" "ok   every field present" \
	"ok   dates consistent" "ok   deadline_met = yes" "ok   manifest" "VALID"; do
	grep -qF "$want" <<<"$out" || die "missing line '$want'"
done
openssl cms -verify -binary -inform PEM -in "$T/good/C-1.cert.p7s" \
	-content "$T/good/C-1.cert" -CAfile "$CA" -out /dev/null 2>/dev/null ||
	die "stock openssl rejects the good certificate"

# Exit codes.
expect_exit 2 L verify
expect_exit 2 env LETHE_CONF=/nonexistent "$LETHE" verify "$T/good/C-1.cert"
expect_exit 2 L verify --bogus "$T/good/C-1.cert"
expect_exit 0 L verify --ca "$CA" --manifest "$T/good/C-1.manifest" "$T/good/C-1.cert"
expect_exit 1 L verify --ca "$T/other/ca.pem" "$T/good/C-1.cert"
printf 'path\tsize\tsha256\n' >"$T/empty.manifest"
expect_exit 1 L verify --ca "$CA" --manifest "$T/empty.manifest" "$T/good/C-1.cert"
mkdir "$T/nosig" && cp "$T/good/C-1.cert" "$T/nosig/"
expect_exit 1 L verify --ca "$CA" "$T/nosig/C-1.cert"
# The config's [signing] chain is the default CA.
mkhost
cp "$CA" "$T/certs/ca.pem"
expect_exit 0 L verify "$T/good/C-1.cert"

# deadline_met that contradicts the dates is caught even though signed.
mkcert "$T/liar" C-2 no
out=$(L verify --ca "$CA" "$T/liar/C-2.cert") && die "a false deadline_met passed"
grep -q "^FAIL deadline_met" <<<"$out" || die "no deadline_met failure: $out"
grep -q "^ok   signature" <<<"$out" || die "signature should still be ok"

# Every byte of each of the three files, flipped one at a time (lowest bit),
# each altered copy beside unaltered copies of the other two: $T/t/N/.
# Written by one python3 process: a shell loop forks six per byte.
n=$(python3 - "$T/good" "$T/t" <<'PY'
import os, sys
src, dst = sys.argv[1:3]
names = ["C-1.cert", "C-1.cert.p7s", "C-1.manifest"]
data = {f: open(os.path.join(src, f), "rb").read() for f in names}
n = 0
for f in names:
    for i in range(len(data[f])):
        d = os.path.join(dst, str(n))
        os.makedirs(d)
        for g in names:
            b = bytearray(data[g])
            if g == f:
                b[i] ^= 1
            with open(os.path.join(d, g), "wb") as o:
                o.write(b)
        n += 1
print(n)
PY
) || die "cannot write the altered copies"
echo "verifying $n altered copies"
set +e
out=$(cd "$T/t" && L verify --ca "$CA" -q $(seq -f '%g/C-1.cert' 0 $((n - 1))))
rc=$?
set -e
[[ $rc == 1 ]] || die "expected exit 1 for altered copies, got $rc"
tail -n 1 <<<"$out"
grep -qx "$n certificates: 0 valid, $n invalid" <<<"$out" ||
	die "some altered copy was accepted: $(tail -n 1 <<<"$out")"
echo "all $n altered copies rejected"
