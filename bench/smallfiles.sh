#!/usr/bin/env bash
# bench/smallfiles.sh: many small files (SPEC §10, issue 13).  N files of
# 4 KiB (default 10,000) in 100 directories, on a real disk, page cache
# dropped before each contender, all on the same disk in one run:
#   lethe   a whole `lethe run` destroying them (overwrite, verify = full,
#           names removed, certificate issued)
#   rm      rm -rf of the tree, then sync
#   shred   find -type f -exec shred -n1 -z -u {} +
# Targets: lethe at most 2.5x rm + sync, and at least 4x faster than shred.
#   bench/smallfiles.sh [N] [ROUNDS]
set -euo pipefail
. "$(dirname "$0")/lib.bash"
n=${1:-10000}
rounds=${2:-1}
bench_workdir small
bench_conf "$W"
cat >"$W/pol/a.ini" <<POL
[agreement]
id = bench
lea = Bench District
contact = dpo@district.example
method = overwrite
verify = full
[dataset "uploads"]
path = $W/srv/data/**
categories = Student work
POL

make_tree() {
	python3 - "$W/srv/data" "$n" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for d in range(100):
    os.makedirs(os.path.join(root, "d%03d" % d), exist_ok=True)
blob = os.urandom(4096 * 16)
for i in range(n):
    with open(os.path.join(root, "d%03d" % (i % 100), "f%06d.csv" % i), "wb") as f:
        off = (i * 4096) % (len(blob) - 4096)
        f.write(blob[off:off + 4096])
PY
	sync
}
cold() {
	sync
	if [[ -w /proc/sys/vm/drop_caches ]]; then echo 3 >/proc/sys/vm/drop_caches; fi
}
now() { date +%s.%N; }
lethe_round() {
	rm -rf "$W/state"
	make_tree
	"$LETHE" -c "$W/lethe.conf" terminate bench "$(date -u -d '-1 day' +%F)" >/dev/null
	cold
	local s e
	s=$(now)
	"$LETHE" -c "$W/lethe.conf" run >/dev/null 2>"$W/err" || { cat "$W/err" >&2; exit 1; }
	e=$(now)
	[[ -z $(find "$W/srv/data" -type f) ]] || { echo "lethe left files" >&2; exit 1; }
	echo "$e - $s" | bc
}
rm_round() {
	make_tree
	cold
	local s e
	s=$(now)
	rm -rf "$W/srv/data"
	sync
	e=$(now)
	echo "$e - $s" | bc
}
shred_round() {
	make_tree
	cold
	local s e
	s=$(now)
	find "$W/srv/data" -type f -exec shred -n1 -z -u {} +
	sync
	e=$(now)
	rm -rf "$W/srv/data"
	echo "$e - $s" | bc
}
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
lt=() rt=() st=()
for ((r = 0; r < rounds; r++)); do
	lt+=("$(lethe_round)")
	rt+=("$(rm_round)")
	st+=("$(shred_round)")
done
L=$(printf '%s\n' "${lt[@]}" | median)
R=$(printf '%s\n' "${rt[@]}" | median)
S=$(printf '%s\n' "${st[@]}" | median)
echo "$n files of 4 KiB in 100 directories, page cache dropped: $([[ -w /proc/sys/vm/drop_caches ]] && echo yes || echo no)"
printf '  lethe run        %7.2f s  (%.0f files/s)\n' "$L" "$(echo "$n / $L" | bc -l)"
printf '  rm -rf + sync    %7.2f s\n' "$R"
printf '  shred -n1 -z -u  %7.2f s\n' "$S"
printf '  lethe / (rm + sync) = %.2fx   (target <= 2.5x)\n' "$(echo "$L / $R" | bc -l)"
printf '  shred / lethe       = %.2fx   (target >= 4x)\n' "$(echo "$S / $L" | bc -l)"
