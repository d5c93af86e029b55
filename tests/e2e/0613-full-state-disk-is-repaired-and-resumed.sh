#!/usr/bin/env bash
# A full state disk never stops the agent for good (SPEC §9).  state_dir is
# a small tmpfs; while a run destroys 1200 files, a filler takes all but a
# few KB of it, so a record cannot be written and the run stops; then, the
# disk quite full, a journal write comes up short (a torn last line).  Once
# the space is freed, the next run removes the torn line (journaling the
# repair), finishes the disposition, and every destroyed file is
# certified: the certificates' `files` add up to the files destroyed.  A
# run that starts with too little room refuses before destroying anything.
. "$(dirname "$0")/lib.sh"
[[ $(id -u) == 0 ]] || skip "needs root to mount a tmpfs"
mkhost "$T/srv"
fs=$T/statefs
mkdir -p "$fs"
mount -t tmpfs -o size=6m,mode=0700 tmpfs "$fs" 2>/dev/null || skip "cannot mount a tmpfs"
cleanup_hooks+=("umount -l '$fs'")
confset agent state_dir "$fs/state"
J=$fs/state/journal
mkpolicy b 'lea = District B' 'contact = privacy@b.example' \
	'dispose_after_termination = 30d' 'method = overwrite' <<POL
[dataset "files"]
path = $T/srv/b/**
categories = Enrollment
POL
mkpolicy a 'lea = District A' 'contact = privacy@a.example' \
	'dispose_after_termination = 30d' 'certify_within = 10d' \
	'method = overwrite' 'verify = full' <<POL
[dataset "files"]
path = $T/srv/a/**
categories = Enrollment
POL
N=1200
mkdir -p "$T/srv/a"
for ((i = 0; i < N; i++)); do
	d=$T/srv/a/d$((i % 20))
	[[ -d $d ]] || mkdir -p "$d"
	printf 'MARK-%05d %0500d\n' "$i" 0 >"$d/f$i.csv"
done
expect_exit 0 L terminate a "$(days_ago 60)" >/dev/null

# Too little room at the start: refused before anything is destroyed.
dd if=/dev/zero of="$fs/filler" bs=64k status=none 2>/dev/null || true
truncate -s -512K "$fs/filler"
expect_exit 1 L run >"$T/run0" 2>&1
grep -q "KiB free, and a disposition needs at least 1024 KiB" "$T/run0" || die "not refused: $(cat "$T/run0")"
(($(find "$T/srv/a" -type f | wc -l) == N)) || die "files destroyed without room"
rm "$fs/filler"

# The filler: once the run is destroying, take all but a few KB.
L run >"$T/run1" 2>&1 &
run=$!
cleanup_hooks+=("kill $run 2>/dev/null")
for _ in $(seq 3000); do
	(($(find "$T/srv/a" -type f | wc -l) < N)) && break
	kill -0 "$run" 2>/dev/null || break
	sleep 0.01
done
dd if=/dev/zero of="$fs/filler" bs=4k status=none 2>/dev/null || true
truncate -s -8K "$fs/filler"
rc=0
wait "$run" || rc=$?
left=$(find "$T/srv/a" -type f | wc -l)
((left > 0 && left < N)) || die "the filler came too late or too early: $left of $N files left (run exit $rc): $(tail -3 "$T/run1")"
((rc != 0)) || die "the run on a full disk exited 0: $(cat "$T/run1")"
# It stops at the first record it cannot write, and says so once per
# batch: not a line for every file left (it used to print hundreds).
lines=$(wc -l <"$T/run1")
((lines < 40)) || die "the full disk was reported in $lines lines: $(head -n 20 "$T/run1")"
echo "first run: exit $rc, $((N - left)) of $N destroyed before the disk filled"

# Now quite full: a command that records state tears the journal's last
# line (a short write) once a line no longer fits in its last page.  (A
# hold: it is recorded whatever the journal's seal; a terminate that could
# not be sealed would stop every later command until `journal accept`.)
dd if=/dev/zero of="$fs/filler2" bs=1k status=none 2>/dev/null || true
torn=0
for i in $(seq 60); do
	if ! L hold b --reason "filler $i" >/dev/null 2>"$T/term"; then
		grep -q 'short write appending hold' "$T/term" && torn=1 && break
	fi
done
((torn)) || die "no short write after 60 records on a full disk: $(cat "$T/term")"
[[ $(tail -c 1 "$J" | od -An -c | tr -d ' ') != '\n' ]] || die "the short write left no torn line"
echo "journal torn after $i records"
# Still full: plan reads past the torn line; run does nothing more, loses
# nothing.
L plan >/dev/null 2>"$T/plan.err" || true
grep -q 'torn last line' "$T/plan.err" || die "plan does not say: $(cat "$T/plan.err")"
expect_exit 1 L run --verbose >"$T/run2" 2>&1
(($(find "$T/srv/a" -type f | wc -l) == left)) || die "a run on a full disk destroyed more"
rm "$fs/filler" "$fs/filler2"
L run --verbose >"$T/run3" 2>&1 || die "the run after freeing space: $(cat "$T/run3")"
(($(find "$T/srv/a" -type f | wc -l) == 0)) || die "files left after the resumed run"
grep -q ' journal-repair line=[0-9]* bytes=[0-9]* ' "$J" || die "torn line not repaired"
grep -q "removed a torn last line ([0-9]* bytes" "$T/run2" "$T/run3" || die "the repair was not said"
L journal verify >"$T/jv" || die "journal verify: $(cat "$T/jv")"
sum=0
for c in $(grep -l '^id = a$' "$fs"/state/certificates/*.cert); do
	f=$(sed -n 's/^files = //p' "$c")
	sum=$((sum + f))
	L verify "$c" >/dev/null || die "$c does not verify"
done
((sum == N)) || die "certificates cover $sum files, $N were destroyed: $(grep -h '^files\|^exceptions' "$fs"/state/certificates/*.cert)"
echo ok
