#!/usr/bin/env bash
# bench/locate.sh [NFILES]: SPEC §10 "locating the matches among 200,000
# files: no slower than find with the same patterns".  Builds a tree of
# NFILES (default 200000) files — 20 districts x 50 students x N files, half
# .csv — then times lethe's locator (locate.c through tests/forensic/owtool.c,
# printing every match) against GNU find printing the same matches (-P, the
# default: no symlink followed; -xdev: no mount crossed), for three globs.
# Each is run once to warm the cache, then RUNS (default 5) times; the
# median is printed with the ratio lethe/find (target <= 1.0).  The match
# counts must agree, or the benchmark fails.
# Scratch: $LETHE_BENCH_DIR (default a temp dir under /var/tmp).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
nfiles=${1:-200000}
runs=${RUNS:-5}
command -v python3 >/dev/null || { echo "SKIPPED: python3 not installed"; exit 77; }

objs=(err glob resolve locate media overwrite aesctr)
(cd "$top" && make -s $(printf 'build/obj/%s.o ' "${objs[@]}"))
mkdir -p "$top/build/bench"
ow=$top/build/bench/owtool
cc -std=c17 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -O2 -iquote "$top/agent" \
	-o "$ow" "$top/tests/forensic/owtool.c" \
	$(printf "$top/build/obj/%s.o " "${objs[@]}") -lcrypto -lpthread

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
ratio() { echo "scale=2; $1 / $2" | bc; }
fail=0
bench() {	# NAME GLOB FIND-ARGS...
	local name=$1 glob=$2; shift 2
	local nl nf tl=() tf=() a i
	nl=$("$ow" locate "$root" "$glob" | wc -l)
	nf=$(find "$@" | wc -l)
	if [[ $nl != "$nf" ]]; then
		echo "  $name: lethe found $nl, find found $nf: the patterns disagree" >&2
		fail=1
	fi
	for ((i = 0; i < runs; i++)); do
		a=$(now); "$ow" locate "$root" "$glob" >/dev/null; tl+=("$(echo "$(now) - $a" | bc)")
		a=$(now); find "$@" >/dev/null; tf+=("$(echo "$(now) - $a" | bc)")
	done
	local ml mf
	ml=$(printf '%s\n' "${tl[@]}" | median)
	mf=$(printf '%s\n' "${tf[@]}" | median)
	printf '  %-34s %7s matches  lethe %6.3f s  find %6.3f s  lethe/find %sx (target <= 1.0)\n' \
		"$name" "$nl" "$ml" "$mf" "$(ratio "$ml" "$mf")"
}
echo "locating among $nfiles files (median of $runs warm runs)"
bench '**/*.csv' "$root/exports/**/*.csv" \
	"$root/exports" -xdev ! -type d -name '*.csv'
bench 'district-0*/students/*/*.csv' "$root/exports/district-0*/students/*/*.csv" \
	"$root/exports" -xdev -mindepth 4 -maxdepth 4 ! -type d \
	-path "$root/exports/district-0*/students/*/*.csv"
bench 'district-07/students/** (literal)' "$root/exports/district-07/students/**" \
	"$root/exports/district-07/students" -xdev ! -type d
exit $fail
