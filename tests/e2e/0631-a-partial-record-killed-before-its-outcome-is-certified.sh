#!/usr/bin/env bash
# A disposition that fails after destroying some files writes its record as
# partial, then journals disposition-fail with partial=yes and its counts.
# Killed between the two (SIGKILL under gdb, after record_write), the next
# run journals it from the record as partial again, and its partial
# certificate covers every file it destroyed: none is on no certificate.
. "$(dirname "$0")/lib.sh"
command -v chattr >/dev/null || skip "chattr not installed"
command -v gdb >/dev/null || skip "gdb is not installed"
mkhost "$T/srv"
mkpolicy acme 'method = overwrite' <<P
[dataset "all"]
path = $T/srv/acme/**
categories = Other
P
for n in 1 2 3 4; do mkdata "$T/srv/acme/f$n.csv" "MARK-$n" 2; done
locked=$T/srv/acme/f4.csv
chattr +i "$locked" 2>/dev/null || skip "cannot set the immutable flag here"
cleanup_hooks=("chattr -i '$locked' 2>/dev/null" "${cleanup_hooks[@]}")
expect_exit 0 L terminate acme "$(days_ago 1)" >/dev/null
gdb -q -batch -ex 'break record_write' -ex run -ex finish -ex 'signal SIGKILL' \
	--args "$LETHE" -c "$T/lethe.conf" run >"$T/gdb.out" 2>&1 || true
grep -q 'terminated with signal SIGKILL' "$T/gdb.out" || die "not killed: $(tail -5 "$T/gdb.out")"
(($(find "$T/srv/acme" -type f | wc -l) == 1)) || die "expected 3 of 4 destroyed"
! grep -q ' disposition-fail ' "$T/state/journal" || die "killed too late"
L run >"$T/run" 2>&1 || true
grep -q ' disposition-fail .*partial=yes files=3' "$T/state/journal" ||
	die "not journaled as partial: $(grep ' disposition-' "$T/state/journal")"
(($(certs_files acme) == 3)) || die "certificates cover $(certs_files acme) files of the 3 destroyed"
c=$(grep -l 'result = partial' "$T"/state/certificates/acme-*.cert) || die "no partial certificate"
L verify "$c" >/dev/null || die "the partial certificate does not verify"
echo ok
