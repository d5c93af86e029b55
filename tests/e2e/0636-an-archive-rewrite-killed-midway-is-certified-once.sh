#!/usr/bin/env bash
# A member removal killed at its two crash points (review of issue 15):
#  1. after its manifest rows were made durable, before the swap: the old
#     archive is still in place, and the resumed run commits it again;
#     its members used to be listed and counted twice;
#  2. after the swap, before the old blocks were overwritten: the old
#     archive, members and all, lies beside it as .NAME.lethe-swap, which
#     an archive glob such as DIR/** matched as an archive of its own.
# Either way the resumed run finishes: the district's members are gone
# from every file, the other district's are kept byte for byte (GNU tar),
# no lethe temporary is left, and the certificate counts each removed
# member once.  The kills are placed by gdb.
. "$(dirname "$0")/lib.sh"
command -v gdb >/dev/null || skip "gdb is needed to kill the run at the exact step"
mkhost "$T/srv"
src=$T/src
for d in osde nyc chi tulsa; do
	for n in 1 2 3; do mkdata "$src/$d/roster/s$n.csv" "$d-MARK-$n" 4; done
done
mkdir -p "$T/srv/b1" "$T/srv/b2" "$T/srv/b3"
tar --format=gnu -cf "$T/srv/b1/nightly.tar" -C "$src" osde tulsa
tar --format=gnu -cf "$T/srv/b2/nightly.tar" -C "$src" nyc tulsa
# 3. (below) A file named like a leftover with no archive beside it is an
#    archive like any other: naming it so hides nothing.
tar --format=gnu -cf "$T/srv/b3/.dump.tar.lethe-old" -C "$src" chi tulsa
for a in osde:b1 nyc:b2 chi:b3; do
	mkpolicy "${a%%:*}" 'method = overwrite' 'dispose_after_termination = 30d' <<P
[dataset "backups"]
archive = $T/srv/${a#*:}/**
members = ${a%%:*}/**
categories = Other
P
done
L check >"$T/out" 2>&1 || die "check: $(cat "$T/out")"

killed_at() {	# FUNCTION [finish]: runs lethe run under gdb, killed there
	local extra=()
	[[ ${2:-} == finish ]] && extra=(-ex finish)
	ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 timeout 300 gdb -q -batch -nx \
		-ex 'set breakpoint pending on' -ex "break $1" -ex run \
		"${extra[@]}" -ex kill \
		--args "$LETHE" -c "$T/lethe.conf" run >"$T/gdb.out" 2>&1 </dev/null || true
	qgrep "Breakpoint 1, .*$1" <"$T/gdb.out" || die "the run never reached $1: $(tail -n 30 "$T/gdb.out")"
}
finished() {	# AGREEMENT DIR
	local rc=0 cert
	L run >"$T/run.out" 2>&1 || rc=$?
	[[ $rc == 0 ]] || die "$1: resumed run exit $rc: $(cat "$T/run.out")"
	[[ $(ls -A "$T/srv/$2") == nightly.tar ]] || die "$1: left beside the archive: $(ls -A "$T/srv/$2")"
	tar -tf "$T/srv/$2/nightly.tar" >"$T/list" || die "$1: GNU tar cannot read the new archive"
	! qgrep "^$1/" <"$T/list" || die "$1: members left: $(cat "$T/list")"
	for n in 1 2 3; do
		tar -xOf "$T/srv/$2/nightly.tar" "tulsa/roster/s$n.csv" | cmp -s - "$src/tulsa/roster/s$n.csv" ||
			die "$1: kept member tulsa/roster/s$n.csv changed"
		! grep -qa "$1-MARK-$n" "$T/srv/$2/nightly.tar" || die "$1: $1-MARK-$n still in the archive"
	done
	cert=$(ls "$T"/state/certificates/"$1"-*.cert)
	qgrep '5 members removed from 1 archives' <"$cert" || die "$1: members not counted once: $(grep -i member "$cert")"
	qgrep -x 'files = 5' <"$cert" || die "$1: $(grep -x 'files = .*' "$cert"), want 5 (two directories, three files)"
}

# 1. Killed after on_commit, before the swap.
L terminate osde "$(days_ago 40)" >/dev/null 2>&1
killed_at on_commit finish
grep -qa osde-MARK-1 "$T/srv/b1/nightly.tar" || die "the swap happened before the kill: the test proves nothing"
# And its record cut short, as a power loss before the fdatasync could:
# no #end, half a row.  The block was never committed; the resumed run's
# commit is the one that counts.
rows=$(ls "$T"/state/work/osde-*/archives)
size=$(stat -c %s "$rows")
last=$(tail -n 2 "$rows" | wc -c)
truncate -s $((size - last + 20)) "$rows"
finished osde b1

# 2. Killed after the swap, before the old blocks were overwritten.
L terminate nyc "$(days_ago 40)" >/dev/null 2>&1
killed_at rm_sanitize
[[ -e $T/srv/b2/.nightly.tar.lethe-swap ]] || die "no leftover after the kill: the test proves nothing ($(ls -A "$T/srv/b2"))"
finished nyc b2

# 3. The leftover's name, no archive beside it: its members are removed.
L terminate chi "$(days_ago 40)" >/dev/null 2>&1
rc=0
L run >"$T/run.out" 2>&1 || rc=$?
[[ $rc == 0 ]] || die "chi: run exit $rc: $(cat "$T/run.out")"
tar -tf "$T/srv/b3/.dump.tar.lethe-old" >"$T/list" || die "chi: GNU tar cannot read it"
! qgrep "^chi/" <"$T/list" || die "chi: members left in a file named like a leftover"
qgrep "^tulsa/roster/s1.csv" <"$T/list" || die "chi: tulsa's members were not kept"
echo ok
