#!/usr/bin/env bash
# Every command given an id that does not exist (a certificate, directive,
# hold or agreement) exits 2, as SPEC §4 wants for a usage error with
# nothing done, and names the unknown id as "unknown KIND 'ID'".  Nothing
# is written to the journal or the outbox.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
mkpolicy -f a district-a 'lea = District A' 'contact = privacy@a.example' <<POL
[dataset "records"]
path = $T/srv/a/**
categories = Enrollment
POL
mkdata "$T/srv/a/r1.csv" MARK-A 1
L hold district-a --reason "audit" >/dev/null || die "hold"
before=$(sha256sum "$T/state/journal")

# expect_unknown KIND ID CMD...: exit 2 and the message names the id.
expect_unknown() {
	local kind=$1 id=$2 rc=0
	shift 2
	L "$@" >"$T/out" 2>"$T/err" || rc=$?
	[[ $rc == 2 ]] || die "$*: exit $rc, want 2: $(cat "$T/err")"
	grep -qF "unknown $kind '$id'" "$T/err" || die "$*: $(cat "$T/err")"
	[[ ! -s $T/out ]] || die "$*: printed on stdout: $(cat "$T/out")"
}
expect_unknown certificate nosuch cert show nosuch
expect_unknown certificate nosuch cert resend nosuch
expect_unknown directive nosuch directive show nosuch
expect_unknown directive D-0042 directive show D-0042
expect_unknown directive nosuch directive cancel nosuch --reason "typo"
expect_unknown hold H-9999 release district-a --id H-9999
expect_unknown agreement nosuch release nosuch
expect_unknown agreement nosuch terminate nosuch 2026-01-01
expect_unknown agreement nosuch hold nosuch --reason x
expect_unknown agreement nosuch seal -a nosuch </dev/null
# An id that could be a path is refused the same way.
expect_exit 2 L cert show ../journal 2>"$T/err"
grep -q "'../journal' is not a certificate id" "$T/err" || die "$(cat "$T/err")"

# A known hold of another agreement, or one already released: exit 2 too.
mkpolicy -f b district-b 'lea = District B' 'contact = privacy@b.example' <<POL
[dataset "records"]
path = $T/srv/b/**
categories = Enrollment
POL
expect_exit 2 L release district-b --id H-0001 2>"$T/err"
grep -q 'hold H-0001 is on agreement district-a, not district-b' "$T/err" || die "$(cat "$T/err")"
[[ $(sha256sum "$T/state/journal") == "$before" ]] || die "a refused command wrote the journal"
L release district-a --id H-0001 >/dev/null || die "release"
expect_exit 2 L release district-a --id H-0001 2>"$T/err"
grep -q 'hold H-0001 on district-a was already released' "$T/err" || die "$(cat "$T/err")"
[[ ! -e $T/state/outbox ]] || die "outbox touched: $(ls "$T/state/outbox")"
echo ok
