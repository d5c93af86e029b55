#!/usr/bin/env bash
# Two state writers at once: the second is refused with a message naming
# the holder's pid and the lock file, and writes nothing.  plan is not a
# writer: it runs while the lock is held.  A legal hold is never refused
# for it (SPEC §5): it is recorded at once.
. "$(dirname "$0")/lib.sh"
command -v flock >/dev/null || skip "flock(1) is not installed"

mkdir -p "$T/srv" "$T/policies.d" "$T/state"
mkconf --bare
mkpolicy a 'lea = District A' 'contact = privacy@a.example' <<POL
[dataset "files"]
path = $T/srv/a/*.csv
categories = Attendance
POL

L terminate a 2026-10-15 >/dev/null || die "first terminate"
# Another writer holds the lock (and, like lethe, writes its pid in it).
touch "$T/state/lock"
sh -c 'exec 9>>"$1"; flock 9; echo $$ >"$1"; echo held >"$2"; exec sleep 30' sh \
	"$T/state/lock" "$T/held" &
holder=$!
cleanup_hooks+=("kill $holder 2>/dev/null")
for _ in $(seq 100); do [[ -e $T/held ]] && break; sleep 0.1; done
[[ -e $T/held ]] || die "the holder never got the lock"
pid=$(cat "$T/state/lock")

before=$(wc -l <"$T/state/journal")
expect_exit 1 L terminate a 2026-10-20 2>"$T/err"
grep -q "another lethe (pid $pid) holds $T/state/lock" "$T/err" || die "message: $(cat "$T/err")"
expect_exit 1 L directive cancel D-0001 --reason x 2>/dev/null
expect_exit 1 L release a 2>/dev/null
[[ $(wc -l <"$T/state/journal") == "$before" ]] || die "a refused writer wrote the journal"
start=$SECONDS
timeout 20 "$LETHE" -c "$T/lethe.conf" hold a --reason "urgent" >"$T/out" 2>"$T/err" ||
	die "hold refused while the lock is held: $(cat "$T/err")"
((SECONDS - start < 5)) || die "hold waited $((SECONDS - start)) s for the lock"
grep -q '^H-0001: legal hold on a recorded' "$T/out" || die "$(cat "$T/out")"
[[ $(wc -l <"$T/state/journal") == $((before + 1)) ]] || die "the hold is not in the journal"
grep -q ' hold id=H-0001 agreement=a reason=urgent ' "$T/state/journal" || die "$(tail -1 "$T/state/journal")"
expect_exit 0 L plan --now 2026-11-01 >/dev/null
expect_exit 0 L journal verify >/dev/null

kill "$holder"; wait "$holder" 2>/dev/null || true
L terminate a 2026-10-21 >/dev/null || die "lock not free after the holder left"
echo ok
