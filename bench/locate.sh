#!/usr/bin/env bash
# bench/locate.sh [NFILES]: SPEC §10 "locating the matches among 200,000
# files: no slower than find with the same patterns".  Builds a tree of
# NFILES (default 200000) files — 20 districts x 50 students x N files, half
# .csv — then times lethe's locator (locate.c through tests/forensic/owtool.c,
# printing every match) against GNU find printing the same matches (-P, the
# default: no symlink followed; -xdev: no mount crossed), for three globs,
# like for like: locate() learns dev, inode, link count and size of every
# match (what a disposition needs), so it is timed against find -printf of
# the same facts; locate_ex(LOCATE_NOSTAT) learns only names and types (the
# SPEC §6.6 re-scan), so it is timed against find listing names.  Each is
# run once to warm the cache, then RUNS (default 5) times, interleaved; the
# medians are printed with the ratio lethe/find (target <= 1.0).  The match
# counts must agree, or the benchmark fails.
# Scratch: $LETHE_BENCH_DIR (default a temp dir under /var/tmp).
set -euo pipefail
. "$(dirname "$0")/lib.bash"
nfiles=${1:-200000}
runs=${RUNS:-5}
command -v python3 >/dev/null || { echo "SKIPPED: python3 not installed"; exit 77; }

bench_owtool

dir=${LETHE_BENCH_DIR:-}
if [[ -z $dir ]]; then
	dir=$(mktemp -d /var/tmp/lethe-bench-locate.XXXXXX)
	trap 'rm -rf "$dir"' EXIT
fi
root=$dir/srv
echo "making $nfiles files under $root ..." >&2
python3 - "$root" "$nfiles" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
per = max(1, n // 1000)
made = 0
for d in range(20):
    for s in range(50):
        p = os.path.join(root, "exports", "district-%02d" % d, "students", "s%03d" % s)
        os.makedirs(p, exist_ok=True)
        for f in range(per):
            if made == n:
                break
            ext = "csv" if f % 2 == 0 else "txt"
            with open(os.path.join(p, "f%04d.%s" % (f, ext)), "w") as fh:
                fh.write("x\n")
            made += 1
PY

now() { date +%s.%N; }
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
fail=0
bench() {	# NAME GLOB FIND-ARGS...
	local name=$1 glob=$2; shift 2
	local nl nf i a
	local -a tl=() tn=() tf=() tp=()
	nl=$("$ow" locate "$root" "$glob" | wc -l)
	nf=$(find "$@" | wc -l)
	if [[ $nl != "$nf" ]]; then
		echo "  $name: lethe found $nl, find found $nf: the patterns disagree" >&2
		fail=1
	fi
	"$ow" locate "$root" "$glob" >/dev/null; find "$@" >/dev/null	# warm
	for ((i = 0; i < runs; i++)); do
		a=$(now); "$ow" locate "$root" "$glob" >/dev/null; tl+=("$(echo "$(now) - $a" | bc)")
		a=$(now); find "$@" -printf '%D %i %n %s %y %p\n' >/dev/null; tp+=("$(echo "$(now) - $a" | bc)")
		a=$(now); "$ow" locate -n "$root" "$glob" >/dev/null; tn+=("$(echo "$(now) - $a" | bc)")
		a=$(now); find "$@" >/dev/null; tf+=("$(echo "$(now) - $a" | bc)")
	done
	local ml mp mn mf
	ml=$(printf '%s\n' "${tl[@]}" | median)
	mp=$(printf '%s\n' "${tp[@]}" | median)
	mn=$(printf '%s\n' "${tn[@]}" | median)
	mf=$(printf '%s\n' "${tf[@]}" | median)
	printf '  %s: %s matches\n' "$name" "$nl"
	printf '    %-52s %6.3f s  %6.3f s  %5sx\n' \
		"locate (dev, ino, links, size) vs find -printf same" "$ml" "$mp" "$(ratio "$ml" "$mp")" \
		"locate_ex(LOCATE_NOSTAT) (names) vs find (names)" "$mn" "$mf" "$(ratio "$mn" "$mf")"
}
echo "locating among $nfiles files, median of $runs warm runs (lethe, find, lethe/find; target <= 1.0)"
bench '**/*.csv' "$root/exports/**/*.csv" \
	"$root/exports" -xdev ! -type d -name '*.csv'
bench 'district-0*/students/*/*.csv' "$root/exports/district-0*/students/*/*.csv" \
	"$root/exports" -xdev -mindepth 4 -maxdepth 4 ! -type d \
	-path "$root/exports/district-0*/students/*/*.csv"
bench 'district-07/students/** (literal prefix)' "$root/exports/district-07/students/**" \
	"$root/exports/district-07/students" -xdev ! -type d
exit $fail
