#!/usr/bin/env bash
# bench/overwrite.sh [MIB]: SPEC §10 overwrite targets, on one 1 GiB file
# (MIB, default 1024) on the same filesystem, in one run:
#   dd      dd if=/dev/zero of=F bs=4M conv=notrunc,fdatasync   (the floor)
#           (and, for reference, the same with oflag=direct)
#   lethe   lethe's engine (tests/forensic/owtool.c over overwrite.c):
#           one pass of zeros + SHA-256 of the old content in the same pass,
#           fdatasync, page cache dropped, full O_DIRECT read-back, xattrs,
#           truncate, same-length rename, unlink, directory fsyncs
#   sample  the same with verify = sample
#   shred   shred -n1 -z -u F   (a random pass, then zeros, no read-back)
# Every tool starts from the same state: a fresh file of random bytes,
# synced, page cache dropped (when root).  ROUNDS (default 3) rounds,
# interleaved; medians and their ratios are printed next to the targets:
#   lethe written (pass + fdatasync) <= 1.1 x dd; lethe total <= 2.2 x dd;
#   shred >= 2 x lethe.
# Scratch: $LETHE_BENCH_DIR (default a temp dir under /var/tmp: a real disk).
set -euo pipefail
. "$(dirname "$0")/lib.bash"
mib=${1:-1024}
rounds=${ROUNDS:-3}
command -v shred >/dev/null || { echo "SKIPPED: GNU shred not installed"; exit 77; }
command -v openssl >/dev/null || { echo "SKIPPED: openssl not installed"; exit 77; }

bench_owtool

dir=${LETHE_BENCH_DIR:-}
if [[ -z $dir ]]; then
	dir=$(mktemp -d /var/tmp/lethe-bench-ow.XXXXXX)
	trap 'rm -rf "$dir"' EXIT
fi
refusal=$("$ow" probe "$dir" | sed -n 's/^refusal //p')
[[ $refusal == none ]] || { echo "SKIPPED: $dir: $refusal"; exit 77; }
fstype=$("$ow" probe "$dir" | sed -n 's/^type //p')
avail=$(df --output=avail -BM "$dir" | tail -n 1 | tr -dc 0-9)
((avail > mib + 64)) || { echo "SKIPPED: $dir has ${avail} MiB free, needs $((mib + 64))"; exit 77; }

dropped=yes
fresh() {	# a new file of random bytes, on the device, out of the cache
	rm -f "$dir/f"
	{ openssl enc -aes-128-ctr -pass pass:lethe-bench -nosalt -pbkdf2 \
		-in /dev/zero 2>/dev/null || true; } | head -c $((mib << 20)) >"$dir/f"
	sync
	if [[ -w /proc/sys/vm/drop_caches ]]; then
		echo 3 >/proc/sys/vm/drop_caches
	else
		dropped="no (not root: the file may be partly cached)"
	fi
}
now() { date +%s.%N; }
declare -A t
for ((r = 1; r <= rounds; r++)); do
	fresh; a=$(now)
	dd if=/dev/zero of="$dir/f" bs=4M count=$((mib / 4)) conv=notrunc,fdatasync status=none
	t[dd]+=" $(echo "$(now) - $a" | bc)"

	fresh; a=$(now)
	dd if=/dev/zero of="$dir/f" bs=4M count=$((mib / 4)) oflag=direct conv=notrunc,fdatasync status=none
	t[dddirect]+=" $(echo "$(now) - $a" | bc)"

	fresh; a=$(now)
	"$ow" file -t "$dir" f >/dev/null 2>"$dir/times"
	t[lethe]+=" $(echo "$(now) - $a" | bc)"
	t[written]+=" $(sed -n 's/^written //p' "$dir/times")"
	t[verify]+=" $(awk '/^written/{w=$2} /^verified/{print $2 - w}' "$dir/times")"

	fresh; a=$(now)
	"$ow" file -s "$dir" f >/dev/null
	t[sample]+=" $(echo "$(now) - $a" | bc)"

	fresh; a=$(now)
	shred -n1 -z -u "$dir/f"
	t[shred]+=" $(echo "$(now) - $a" | bc)"
	echo "round $r: dd${t[dd]##* } lethe${t[lethe]##* } (written${t[written]##* }) sample${t[sample]##* } shred${t[shred]##* }" >&2
done
rm -f "$dir/f" "$dir/times"

median() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
declare -A m
for k in dd dddirect lethe written verify sample shred; do m[$k]=$(median "${t[$k]}"); done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
echo "overwrite of $mib MiB on $fstype ($dir), median of $rounds rounds; page cache dropped: $dropped"
printf '  %-46s %7.2f s\n' "dd conv=notrunc,fdatasync" "${m[dd]}"
printf '  %-46s %7.2f s   (reference: the pass writes with O_DIRECT too)\n' "dd oflag=direct conv=notrunc,fdatasync" "${m[dddirect]}"
printf '  %-46s %7.2f s   %5sx dd   (target <= 1.1)\n' "lethe pass + fdatasync (written)" "${m[written]}" "$(ratio "${m[written]}" "${m[dd]}")"
printf '  %-46s %7.2f s\n' "lethe read-back (verify = full)" "${m[verify]}"
printf '  %-46s %7.2f s   %5sx dd   (target <= 2.2)\n' "lethe total, verify = full, name removed" "${m[lethe]}" "$(ratio "${m[lethe]}" "${m[dd]}")"
printf '  %-46s %7.2f s   %5sx dd\n' "lethe total, verify = sample" "${m[sample]}" "$(ratio "${m[sample]}" "${m[dd]}")"
printf '  %-46s %7.2f s   shred/lethe = %sx (full), %sx (sample)   (target >= 2)\n' "shred -n1 -z -u" "${m[shred]}" "$(ratio "${m[shred]}" "${m[lethe]}")" "$(ratio "${m[shred]}" "${m[sample]}")"
