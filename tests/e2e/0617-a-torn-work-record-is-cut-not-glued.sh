#!/usr/bin/env bash
# A kill in the middle of a write (or a full state disk) can leave the last
# line of a disposition's per-file record (work/ID/intents, names, dirs)
# torn.  The next run cuts that line before it appends: otherwise the next
# line is glued to it, the file it announces is lost from the record, and
# a later resume destroys that file a second time under its random name
# and certifies one file too many.  Here: run 1 is killed with its intents
# durable; a torn line is left at the end of the intents; a new file
# appears; run 2 is killed with its batch renamed but not removed; run 3
# finishes.  The certificate counts each file once (files = 4) and
# nothing is left.
. "$(dirname "$0")/lib.sh"
command -v gdb >/dev/null || skip "gdb is not installed"
mkhost "$T/srv"
mkpolicy dsa-a <<POL
[dataset "records"]
path = $T/srv/a/**
categories = Enrollment
POL
for n in 1 2 3; do mkdata "$T/srv/a/class/r$n.csv" "MARK-$n" 2; done
expect_exit 0 L terminate dsa-a "$(days_ago 2)" >/dev/null
kill_at() {
	gdb -q -batch -ex "break $1" -ex run -ex 'signal SIGKILL' \
		--args "$LETHE" -c "$T/lethe.conf" run >"$T/gdb.out" 2>&1 || true
	grep -q 'terminated with signal SIGKILL' "$T/gdb.out" || die "$1: not killed: $(tail -5 "$T/gdb.out")"
}
kill_at ow_batch_write
shopt -s nullglob
w=("$T"/state/work/*/intents)
((${#w[@]} == 1)) || die "no intents file: $(find "$T/state/work")"
# A torn line: what a write cut short by a kill leaves.
printf '99\t2' >>"${w[0]}"
mkdata "$T/srv/a/class/r4.csv" "MARK-4" 2
kill_at ow_batch_remove
L run >"$T/run.out" 2>&1 || die "run 3: $(cat "$T/run.out")"
[[ -z $(find "$T/srv/a" -type f) ]] || die "left: $(find "$T/srv/a" -type f)"
c=$(certs_files dsa-a)
[[ $c == 4 ]] || die "the certificate counts $c files for 4: $(cat "${w[0]}")"
L journal verify >/dev/null || die "journal verify"
echo ok
