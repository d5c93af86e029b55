#!/usr/bin/env bash
# SPEC §8: `lethe verify` binds a certificate's file name to its id, and
# its signer to the profile certs/mkca issues.  A certificate lethe issued
# verifies with lethe and with stock `openssl cms -verify -binary`; the
# same three files copied to another id's name (B.cert, B.cert.p7s,
# B.manifest) are INVALID for lethe, though stock openssl, which checks no
# names, still accepts them.  A certificate signed (with stock openssl) by
# a signer under the same CA without keyUsage digitalSignature and
# extendedKeyUsage emailProtection is INVALID, though stock openssl takes
# a certificate without those extensions as fit for any use.
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || skip "openssl command not found"
mkhost "$T/srv"
CA=$T/certs/ca.pem
stock() {	# CERT: stock openssl's verdict on CERT and CERT.p7s
	openssl cms -verify -binary -inform PEM -in "$1.p7s" -content "$1" \
		-CAfile "$CA" -out /dev/null 2>"$T/ossl"
}
# Signers without the profile, made before the certificate is issued (lethe
# verifies as of its issue time).
signer() {	# NAME EXTENSION-LINES
	(cd "$T" && umask 077 &&
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null &&
		openssl req -new -key "$1.key" -subj "/O=Example Learning, Inc./CN=$1" -out "$1.csr" &&
		printf 'basicConstraints=CA:false\n%b' "$2" >"$1.ext" &&
		openssl x509 -req -in "$1.csr" -CA "$CA" -CAkey "$T/certs/ca.key" \
			-set_serial "0x$(openssl rand -hex 8)" -days 30 -extfile "$1.ext" \
			-out "$1.pem" 2>/dev/null) || die "cannot make signer $1"
}
signer bare ''
signer kuonly 'keyUsage=critical,digitalSignature\n'
sleep 1
mkpolicy -f osde osde-2024 'lea = Oklahoma State Department of Education' \
	'contact = privacy@sde.example' "terminated = $(days_ago 10)" \
	'dispose_after_termination = 5d' 'method = overwrite' <<POL
[dataset "exports"]
path = $T/srv/exports/**
categories = Assessment
POL
mkdata "$T/srv/exports/a.csv" MARK-a 4
rc=0
L run >"$T/run.out" 2>&1 || rc=$?
[[ $rc == 0 || $rc == 3 ]] || die "run exit $rc: $(cat "$T/run.out")"
shopt -s nullglob
certs=("$T"/state/certificates/*.cert)
((${#certs[@]} == 1)) || die "expected 1 certificate, found ${#certs[@]}"
A=${certs[0]}
id=$(basename "$A" .cert)

# What lethe issues: valid for lethe and for stock openssl.
stock "$A" || die "stock openssl rejects what lethe issued: $(cat "$T/ossl")"
out=$(L verify --ca "$CA" "$A") || die "lethe verify rejects what lethe issued: $out"
grep -qx "ok   file name is its id ($id.cert)" <<<"$out" || die "no file-name check: $out"
# The same name elsewhere (an auditor's folder) is still the certificate.
mkdir "$T/audit"
cp "$A" "$A.p7s" "$T/audit/"
expect_exit 0 L verify --ca "$CA" "$T/audit/$id.cert"

# Copied under another id: stock openssl cannot tell, lethe can.
B=$T/audit/osde-2024-20200101-1.cert
cp "$A" "$B"
cp "$A.p7s" "$B.p7s"
cp "${A%.cert}.manifest" "${B%.cert}.manifest" 2>/dev/null || true
stock "$B" || die "control: stock openssl should accept the copy (it checks no names)"
rc=0
out=$(L verify --ca "$CA" "$B") || rc=$?
[[ $rc == 1 ]] || die "a renamed certificate: exit $rc: $out"
grep -qx "INVALID" <<<"$out" || die "a renamed certificate is not INVALID: $out"
grep -q "^FAIL file name: osde-2024-20200101-1.cert is not named after its id $id" <<<"$out" ||
	die "no file-name failure: $out"
grep -q "^ok   signature" <<<"$out" || die "the signature itself should still be ok: $out"

# Signed by a certificate without the signing profile.
for s in bare kuonly; do
	d=$T/$s
	mkdir "$d"
	cp "$A" "$d/"
	openssl cms -sign -binary -md sha256 -nosmimecap -in "$d/$id.cert" \
		-signer "$T/$s.pem" -inkey "$T/$s.key" -certfile "$CA" \
		-outform PEM -out "$d/$id.cert.p7s" || die "openssl cms -sign ($s)"
	stock "$d/$id.cert" || die "control: stock openssl should accept the $s signer: $(cat "$T/ossl")"
	rc=0
	out=$(L verify --ca "$CA" "$d/$id.cert") || rc=$?
	[[ $rc == 1 ]] || die "signer $s: exit $rc: $out"
	grep -qx "INVALID" <<<"$out" || die "signer $s is not INVALID: $out"
	case $s in
	bare) want="certificate has no keyUsage extension, so no keyUsage digitalSignature" ;;
	kuonly) want="certificate has no extendedKeyUsage extension, so no extendedKeyUsage emailProtection" ;;
	esac
	grep -q "^FAIL signature and chain.*$want" <<<"$out" || die "signer $s: no reason '$want': $out"
done
echo ok
