#!/usr/bin/env bash
# A hold recorded while a run goes on protects everything of its scope that
# the run has not begun (SPEC §5), whichever way the run would reach it:
#  1. a sealed file the hold covers keeps its key (a crypto-shred would
#     erase it as surely as an overwrite): it still unseals after the run,
#     and so does every other file sealed under that key;
#  2. a hold on agreement b protects b's data from agreement a's
#     disposition (data of another agreement held there is kept), and b's
#     own termination, due when the run began, is not begun: the plan is
#     decided again before the next row.
# Each hold is recorded (under gdb) while the run writes its first batch.
. "$(dirname "$0")/lib.sh"
command -v gdb >/dev/null || skip "gdb is not installed"
hold_during_run() {	# ARGS of lethe hold
	local args
	printf -v args '%q ' "$@"
	gdb -q -batch -ex 'break ow_batch_write' -ex run -ex delete \
		-ex "shell \"$LETHE\" -c \"$T/lethe.conf\" hold $args >\"$T/hold.out\" 2>&1" \
		-ex continue --args "$LETHE" -c "$T/lethe.conf" run >"$T/gdb.out" 2>&1 || true
	grep -q 'Breakpoint 1, .*ow_batch_write' "$T/gdb.out" || die "breakpoint not reached: $(tail -5 "$T/gdb.out")"
	grep -q ': legal hold on' "$T/hold.out" || die "hold: $(cat "$T/hold.out")"
}
T0=$T

# 1. The key of a held sealed file survives.
T=$T0/keys
mkhost "$T/srv"
mkpolicy acme 'method = auto' <<P
[dataset "main"]
path = $T/srv/acme/main/**
categories = Other
[dataset "legal"]
path = $T/srv/acme/zlegal/**
categories = Other
P
mkdir -p "$T/srv/acme/main" "$T/srv/acme/zlegal"
echo "sealed record" | L seal -a acme >"$T/srv/acme/main/0.sealed" || die "seal"
echo "LEGAL EVIDENCE" | L seal -a acme >"$T/srv/acme/zlegal/evidence.sealed" || die "seal"
for ((i = 0; i < 300; i++)); do printf 'MARK-%03d\n' $i >"$T/srv/acme/main/f$i.csv"; done
expect_exit 0 L terminate acme "$(days_ago 1)" >/dev/null
hold_during_run acme --dataset legal --reason "subpoena 77"
[[ -f $T/srv/acme/zlegal/evidence.sealed ]] || die "the held file went"
out=$(L unseal "$T/srv/acme/zlegal/evidence.sealed" 2>&1) || die "the held file no longer unseals: $out"
[[ $out == "LEGAL EVIDENCE" ]] || die "unsealed: $out"
if [[ -f $T/srv/acme/main/0.sealed ]]; then
	L unseal "$T/srv/acme/main/0.sealed" >/dev/null 2>&1 || die "a sealed file kept, its key destroyed"
fi
if grep -q ' key-destroyed ' "$T/state/journal"; then die "a key was destroyed: $(grep ' key-destroyed ' "$T/state/journal")"; fi
c=$(ls "$T"/state/certificates/acme-*.cert) || die "no certificate"
grep -qx 'result = partial' "$c" || die "not partial: $(cat "$c")"
grep -q 'Purge' "$c" && die "a Purge claimed: $(grep method_type "$c")"
L journal verify >/dev/null || die "journal verify"

# 2. Another agreement's hold, mid-run.
T=$T0/other
mkhost "$T/srv"
mkdir -p "$T/srv/a" "$T/srv/b" "$T/srv/shared"
for ((i = 0; i < 300; i++)); do printf 'A-%03d\n' $i >"$T/srv/a/f$i.csv"; done
mkdata "$T/srv/b/evidence.csv" B-EVIDENCE
mkdata "$T/srv/shared/zz.csv" SHARED
for x in a b; do
	mkpolicy $x 'method = overwrite' <<P
[dataset "own"]
path = $T/srv/$x/**
categories = Other
[dataset "shared"]
path = $T/srv/shared/**
categories = Other
P
	expect_exit 0 L terminate $x "$(days_ago 1)" >/dev/null
done
hold_during_run b --reason "subpoena"
[[ -f $T/srv/shared/zz.csv ]] || die "a destroyed data b's hold covers"
qgrep -a SHARED "$T/srv/shared/zz.csv" || die "zz.csv changed"
[[ -f $T/srv/b/evidence.csv ]] || die "b's own data went under its hold"
if grep -q ' disposition-start .*agreement=b ' "$T/state/journal"; then
	die "b's disposition began after its hold: $(grep ' disposition-start ' "$T/state/journal")"
fi
shopt -s nullglob
bc=("$T"/state/certificates/b-*.cert)
((${#bc[@]} == 0)) || die "b certified while held: $(cat "${bc[@]}")"
st=$(L plan --tsv | awk -F'\t' '$1 == "b" { print $6 }')
[[ $st == held ]] || die "b is '$st' in the plan: $(L plan)"
L journal verify >/dev/null || die "journal verify"
echo ok
