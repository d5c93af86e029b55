#!/usr/bin/env bash
# A run killed after the keystore was rewritten without the destroyed keys,
# but before their key-destroyed lines reached the journal (review of
# issue 14): the resumed run must still journal every key this
# disposition destroyed (its tombstone names the disposition) and certify
# them: a crypto-erase, N keys destroyed; not an "overwrite" of nothing.
# The kill is placed exactly by gdb, at the first key-destroyed append.
. "$(dirname "$0")/lib.sh"
command -v gdb >/dev/null || skip "gdb is needed to kill the run at the exact step"
mkhost
mkpolicy osde 'method = crypto-shred' "terminated = $(days_ago 40)" \
	'dispose_after_termination = 30d' <<POL
[dataset "dumps"]
path = $T/srv/osde/*.lethe
categories = Assessment
POL
mkdir -p "$T/srv/osde"
seq 1 5000 | sed 's/^/osde-row-/' | L seal -a osde >"$T/srv/osde/nightly.sql.lethe"
cp "$T/srv/osde/nightly.sql.lethe" "$T/copy.lethe"

# Stop the run where it counts its first destroyed key, before it journals
# it, and kill it there.
ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 timeout 120 gdb -q -batch -nx \
	-ex 'set breakpoint pending on' -ex 'break key_told' \
	-ex run -ex kill \
	--args "$LETHE" -c "$T/lethe.conf" run >"$T/gdb.out" 2>&1 </dev/null || true
qgrep "Breakpoint 1, .*key_told" <"$T/gdb.out" || die "the run never reached key_told: $(tail -n 30 "$T/gdb.out")"
qgrep -P '^tomb\tosde/' <"$T/state/keys/keystore" || die "no tombstone after the kill"
! qgrep 'key-destroyed' <"$T/state/journal" || die "the kill came after the journal line: the test proves nothing"
[[ -z $(ls "$T/state/certificates" 2>/dev/null) ]] || die "certified before the kill"

rc=0
L run >"$T/run.out" 2>&1 || rc=$?
[[ $rc == 0 ]] || die "resumed run exit $rc: $(cat "$T/run.out")"
[[ $(grep -c 'key-destroyed' "$T/state/journal") == 1 ]] || die "key-destroyed lines: $(grep -c 'key-destroyed' "$T/state/journal"), want 1"
cert=$(ls "$T"/state/certificates/osde-*.cert)
qgrep 'crypto-erase' <"$cert" || die "the certificate does not say crypto-erase: $(cat "$cert")"
qgrep '1 data-encryption keys' <"$cert" || die "the certificate does not count the key: $(cat "$cert")"
expect_exit 1 L unseal "$T/copy.lethe" "$T/out.sql" 2>"$T/err"
qgrep "destroyed on" <"$T/err" || die "the copy still unseals? $(cat "$T/err")"
echo ok
