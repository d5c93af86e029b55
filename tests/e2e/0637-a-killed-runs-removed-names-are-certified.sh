#!/usr/bin/env bash
# What a killed run removed without overwriting (a sealed file's name once
# its key was gone, a symlink) is certified by the run that finishes the
# disposition: the resumed certificate used to say "0 ciphertext files
# unlinked" and no crypto-erase for sealed data the killed run had erased.
# Each removed name's kind is recorded in work/ID/removed as it goes.  The
# kill is placed by gdb, after the names and keys, before the archives.
. "$(dirname "$0")/lib.sh"
command -v gdb >/dev/null || skip "gdb is needed to kill the run at the exact step"
mkhost "$T/srv"
mkpolicy osde 'method = auto' "terminated = $(days_ago 40)" \
	'dispose_after_termination = 30d' <<POL
[dataset "all"]
path = $T/srv/osde/**
categories = Assessment
POL
mkdir -p "$T/srv/osde"
seq 1 5000 | sed 's/^/osde-row-/' | L seal -a osde --category Assessment >"$T/srv/osde/dump.sql.lethe"
mkdata "$T/srv/osde/plain.csv" MARK-P 2
ln -s plain.csv "$T/srv/osde/latest.csv"

ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 timeout 300 gdb -q -batch -nx \
	-ex 'set breakpoint pending on' -ex 'break dispose_archives' -ex run -ex kill \
	--args "$LETHE" -c "$T/lethe.conf" run >"$T/gdb.out" 2>&1 </dev/null || true
qgrep "Breakpoint 1, .*dispose_archives" <"$T/gdb.out" || die "the run never reached dispose_archives: $(tail -n 30 "$T/gdb.out")"
[[ ! -e $T/srv/osde/dump.sql.lethe && ! -e $T/srv/osde/latest.csv ]] || die "the killed run had not removed the names: the test proves nothing"
[[ -z $(ls "$T/state/certificates" 2>/dev/null) ]] || die "certified before the kill"

rc=0
L run >"$T/run.out" 2>&1 || rc=$?
[[ $rc == 0 ]] || die "resumed run exit $rc: $(cat "$T/run.out")"
cert=$(ls "$T"/state/certificates/osde-*.cert)
tr -d '\n' <"$cert" | sed 's/[a-z_]*_[0-9]* = //g' >"$T/flat"
qgrep '1 ciphertext files unlinked' <"$T/flat" || die "the sealed name is not certified: $(cat "$cert")"
qgrep 'Purge (crypto-erase)' <"$T/flat" || die "no crypto-erase claimed: $(cat "$cert")"
qgrep -x 'files = 3' <"$cert" || die "$(grep -x 'files = .*' "$cert"), want 3"
echo ok
