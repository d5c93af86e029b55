#!/usr/bin/env bash
# `lethe unseal` of a file that is not sealed says so, naming the file,
# whether or not this host has a keystore (before the fix, a host that had
# never sealed anything answered "no keystore"), from a file or a pipe,
# and writes no OUT.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/srv/dumps" "$T/policies.d"
mkconf --bare
mkpolicy -f a district-a 'lea = District A' 'contact = privacy@a.example' <<POL
[dataset "dumps"]
path = $T/srv/dumps/*
categories = Assessment
POL
printf 'student,score\nAva,91\n' >"$T/plain.csv"
: >"$T/empty"

check() {	# WHAT: every way of unsealing a plain file says so
	local rc=0
	L unseal "$T/plain.csv" "$T/out.csv" 2>"$T/err" || rc=$?
	[[ $rc == 1 ]] || die "$1: exit $rc"
	grep -qF "$T/plain.csv: not a lethe sealed file (bad magic" "$T/err" || die "$1: $(cat "$T/err")"
	! grep -q 'keystore' "$T/err" || die "$1: talks of the keystore: $(cat "$T/err")"
	[[ ! -e $T/out.csv ]] || die "$1: OUT written"
	rc=0
	L unseal <"$T/plain.csv" >"$T/out2" 2>"$T/err" || rc=$?
	[[ $rc == 1 ]] || die "$1 (pipe): exit $rc"
	grep -q 'stdin: not a lethe sealed file (bad magic' "$T/err" || die "$1 (pipe): $(cat "$T/err")"
	[[ ! -s $T/out2 ]] || die "$1 (pipe): wrote plaintext"
	rc=0
	L unseal "$T/empty" "$T/out.csv" 2>"$T/err" || rc=$?
	[[ $rc == 1 ]] && grep -q 'not a lethe sealed file' "$T/err" || die "$1 (empty file): $(cat "$T/err")"
}

check "no keystore"
[[ ! -e $T/state/keys ]] || die "unseal created a keystore"
# With a keystore: the same answer, and sealed data still unseals.
printf 'Ava,91\n' | L seal -a district-a >"$T/srv/dumps/s.lethe" || die "seal"
check "with a keystore"
L unseal "$T/srv/dumps/s.lethe" | qgrep -x 'Ava,91' || die "sealed data does not unseal"
# A sealed file on a host whose keystore is gone still talks of the keystore.
mv "$T/state/keys" "$T/keys.away"
expect_exit 1 L unseal "$T/srv/dumps/s.lethe" "$T/out.csv" 2>"$T/err"
grep -q 'no keystore' "$T/err" || die "sealed file without keystore: $(cat "$T/err")"
echo ok
