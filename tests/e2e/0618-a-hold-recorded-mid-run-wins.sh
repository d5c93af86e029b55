#!/usr/bin/env bash
# A hold recorded while a run is destroying wins before the next file of
# its scope (SPEC §5; issue 11).  The run is stopped (under gdb) as it
# writes its first batch of 256 files; `lethe hold` is recorded then, and
# the run goes on: the first batch is destroyed, nothing after it.  The
# other 44 files are intact, byte for byte; the disposition is certified as
# partial (files = 256), its exceptions name the hold, and the journal
# verifies.  After `lethe release`, the next run destroys the rest.
. "$(dirname "$0")/lib.sh"
command -v gdb >/dev/null || skip "gdb is not installed"
mkhost "$T/srv"
mkpolicy dsa-a <<POL
[dataset "records"]
path = $T/srv/a/**
categories = Enrollment
POL
mkdir -p "$T/srv/a"
for ((n = 0; n < 300; n++)); do printf 'MARK-%03d\n' $n >"$T/srv/a/r$n.csv"; done
cp -a "$T/srv/a" "$T/orig"
expect_exit 0 L terminate dsa-a "$(days_ago 2)" >/dev/null
gdb -q -batch -ex 'break ow_batch_write' -ex run -ex delete \
	-ex "shell \"$LETHE\" -c \"$T/lethe.conf\" hold dsa-a --reason 'litigation: Doe v. District' >\"$T/hold.out\" 2>&1" \
	-ex continue --args "$LETHE" -c "$T/lethe.conf" run >"$T/gdb.out" 2>&1 || true
grep -q 'Breakpoint 1, .*ow_batch_write' "$T/gdb.out" || die "breakpoint not reached: $(tail -5 "$T/gdb.out")"
grep -q 'H-0001: legal hold on dsa-a' "$T/hold.out" || die "hold: $(cat "$T/hold.out")"
grep -q 'exited with code 01' "$T/gdb.out" || die "the run should fail (partial): $(tail -20 "$T/gdb.out")"
left=$(find "$T/srv/a" -type f | wc -l)
((left == 44)) || die "$left files left; the hold should keep 44 (the first batch of 256 went before it)"
for f in "$T"/srv/a/*; do
	cmp -s "$f" "$T/orig/${f##*/}" || die "${f##*/} changed under the hold"
done
shopt -s nullglob
certs=("$T"/state/certificates/dsa-a-*.cert)
((${#certs[@]} == 1)) || die "certificates: ${certs[*]}"
c=${certs[0]}
grep -qx 'result = partial' "$c" || die "not partial: $(cat "$c")"
grep -qx 'files = 256' "$c" || die "$(grep '^files' "$c")"
grep -q 'held by H-0001 during the run' "$c" || die "the exception does not name the hold: $(cat "$c")"
grep -q 'H-0001 (litigation: Doe v. District' "$c" || die "the hold is not listed: $(grep -i hold "$c")"
grep -q 'kept: held by H-0001, recorded while this run went on' "$T/gdb.out" || die "the admin is not told: $(tail -20 "$T/gdb.out")"
L journal verify >/dev/null || die "journal verify"
# Released, the rest goes.
L release dsa-a >/dev/null || die "release"
L run >"$T/run2" 2>&1 || die "run after release: $(cat "$T/run2")"
[[ -z $(find "$T/srv/a" -type f) ]] || die "left after release: $(find "$T/srv/a" -type f | head)"
(($(certs_files dsa-a) == 300)) || die "certified $(certs_files dsa-a) files of 300"
echo ok
