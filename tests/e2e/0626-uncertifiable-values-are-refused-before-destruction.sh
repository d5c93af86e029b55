#!/usr/bin/env bash
# Issue 10, item 7: values a certificate or its mail cannot carry used to
# pass `check`, and `run` destroyed the data and then failed to certify it,
# every day.  Now `check` refuses them, naming file, line and why (exit 2),
# so nothing acts under them; and a signing certificate that cannot sign
# today blocks every disposition in the preflight: plan says so, run exits
# 1, and nothing is destroyed.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
mkdata "$T/srv/acme/a.csv" MARK-A 2
policy() {	# LEA CONTACT
	mkpolicy acme "lea = $1" "contact = $2" 'method = overwrite' <<P
[dataset "all"]
path = $T/srv/acme/**
categories = Other
P
}
policy $'Acme \xff\xfe District' dpo@acme.example
expect_exit 2 L check >"$T/out" 2>&1
grep -q 'acme.ini:3: lea: it is not valid UTF-8' "$T/out" || die "bad UTF-8: $(cat "$T/out")"
expect_exit 2 L run >/dev/null 2>&1
policy 'Acme District' '-oQ/tmp/x@a.test'
expect_exit 2 L check >"$T/out" 2>&1
grep -q "acme.ini:4: contact '-oQ/tmp/x@a.test' starts with '-'" "$T/out" || die "option: $(cat "$T/out")"
policy $'Acme \e[31m District' dpo@acme.example
expect_exit 2 L check >"$T/out" 2>&1
grep -q "lea: it holds a control character" "$T/out" || die "escape: $(cat "$T/out")"
policy 'Acme District' dpo@acme.example
L check >/dev/null 2>&1 || die "a good policy fails check"
# Recorded (and sealed) while the signing certificate is good.
L terminate acme "$(days_ago 2)" >/dev/null
# An agent certificate the CA signed without the key usages lethe needs.
openssl req -new -key "$T/certs/agent.key" -subj /CN=bad-agent -out "$T/bad.csr" 2>/dev/null
openssl x509 -req -in "$T/bad.csr" -CA "$T/certs/ca.pem" -CAkey "$T/certs/ca.key" \
	-CAcreateserial -days 30 -out "$T/bad.pem" 2>/dev/null
confset signing cert "$T/bad.pem"
L plan --tsv >"$T/plan" || true
grep -q 'blocked: preflight: the certificate could not be signed' "$T/plan" || die "plan: $(cat "$T/plan")"
expect_exit 1 L run --dry-run >"$T/dry" 2>&1
grep -q 'not started: blocked: preflight' "$T/dry" || die "dry run: $(cat "$T/dry")"
expect_exit 1 L run >"$T/run" 2>&1
grep -q 'not started: blocked: preflight' "$T/run" || die "run: $(cat "$T/run")"
[[ -f $T/srv/acme/a.csv ]] || die "data destroyed although the certificate cannot be signed"
! grep -q ' disposition-start ' "$T/state/journal" || die "a disposition was started"
echo ok
