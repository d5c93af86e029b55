#!/usr/bin/env bash
# A certificate issued by `lethe run` with a time-stamping authority
# configured, checked by pasting every EXAMPLES block of
# lethe-certificate(5) into a shell in an auditor's directory: each block
# must succeed and print what the page says it prints (SPEC §8, STYLE: man
# pages have EXAMPLES that work when pasted).
source "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || skip "openssl command not found"
command -v python3 >/dev/null || skip "python3 not found (one example uses it)"

mkhost "$T/srv"
"$LETHE_TOP/tests/data/cert_mktsa.sh" "$T/certs" || die "cannot make a TSA"
confset signing tsa_command "$T/certs/tsa-command"
# The LEA's mail system is down: the message stays queued and the vendor's
# manifest copy stays too, so the auditor's directory can have all files.
printf '#!/bin/sh\nexit 75\n' >"$T/bin/sendmail"
mkpolicy -f osde osde-2024 'lea = Oklahoma State Department of Education' \
	'contact = privacy@sde.example' 'dispose_after_termination = 30d' \
	'certify_within = 10d' 'timezone = America/Chicago' \
	'method = overwrite' <<POL
[dataset "exports"]
path = $T/srv/exports/osde/**/*.csv
categories = Assessment
POL
mkdata "$T/srv/exports/osde/a.csv" MARK-a 2
mkdata "$T/srv/exports/osde/b.csv" MARK-b 3
expect_exit 0 L terminate osde-2024 "$(days_ago 3)"
rc=0
L run >"$T/run.out" 2>&1 || rc=$?
[[ $rc == 0 || $rc == 1 ]] || die "run exit $rc: $(cat "$T/run.out")"
shopt -s nullglob
certs=("$T"/state/certificates/*.cert)
((${#certs[@]} == 1)) || die "expected one certificate: $(cat "$T/run.out")"
c=${certs[0]}
id=$(basename "$c" .cert)
for f in "$c.p7s" "$c.tsr" "${c%.cert}.manifest"; do
	[[ -e $f ]] || die "missing $f"
done

# The auditor's directory: the four files and the CA certificates.
A=$T/audit
mkdir -p "$A"
cp "$c" "$c.p7s" "$c.tsr" "${c%.cert}.manifest" "$A/"
cp "$T/certs/ca.pem" "$A/ca.pem"
cp "$T/certs/ca.pem" "$A/tsa-ca.pem"	# the test TSA chains to the same CA
cp "$T/certs/ca.pem" "$T/state/ca.pem"	# for the checkpoint example
mkdir -p "$T/shim"
printf '#!/bin/sh\nexec "%s" -c "%s" "$@"\n' "$LETHE" "$T/lethe.conf" >"$T/shim/lethe"
chmod +x "$T/shim/lethe"

# Every literal block of EXAMPLES, in order, with mdoc's \e unescaped.
blocks=$T/blocks
mkdir -p "$blocks"
awk -v dir="$blocks" '
	/^\.Sh EXAMPLES/ { on = 1; next }
	/^\.Sh / { on = 0 }
	on && /^\.Bd -literal/ { n++; inb = 1; next }
	on && /^\.Ed/ { inb = 0; next }
	on && inb { gsub(/\\e/, "\\"); print > (dir "/" n) }
' "$LETHE_TOP/man/lethe-certificate.5"
nblocks=$(ls "$blocks" | wc -l)
((nblocks >= 10)) || die "found only $nblocks example blocks"
grep -q '^ID=' "$blocks/1" || die "the first example should set ID"

for ((i = 2; i <= nblocks; i++)); do
	b=$blocks/$i
	dir=$A
	grep -q 'certificates/\*\.cert' "$b" && dir=$T/state
	sed -i "s|/var/lib/lethe|$T/state|g" "$b"
	out=$(cd "$dir" && PATH="$T/shim:$PATH" ID=$id bash -eo pipefail "$b" 2>&1) ||
		die "example $i failed:
$(cat "$b")
---
$out"
	echo "example $i: ok"
	case $(cat "$b") in
	*"echo manifest ok"*) grep -q 'manifest ok' <<<"$out" || die "example $i: $out" ;;
	*"openssl ts -verify"*) grep -q 'Verification: OK' <<<"$out" || die "example $i: $out" ;;
	*"deadline_met"*) grep -qx 'yes' <<<"$out" || die "example $i: $out" ;;
	*"lethe verify"*) grep -q -e VALID -e 'valid, 0 invalid' <<<"$out" || die "example $i: $out" ;;
	*"openssl cms -verify"*) grep -q 'Verification successful' <<<"$out" || die "example $i: $out" ;;
	esac
done

# And lethe verify names the time-stamp it checked.
out=$(cd "$A" && L verify --ca ca.pem "$id.cert") || die "lethe verify: $out"
grep -q '^ok   time-stamp (TSA .*test time-stamping authority' <<<"$out" || die "no tsr line: $out"
# A token over another signature is rejected.
cp "$A/$id.cert.tsr" "$T/keep.tsr"
printf 'x' >>"$A/$id.cert.tsr"
expect_exit 1 L verify --ca "$A/ca.pem" "$A/$id.cert"
echo "all $((nblocks - 1)) examples work"
