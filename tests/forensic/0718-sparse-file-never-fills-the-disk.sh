#!/usr/bin/env bash
# SPEC §6.2: a sparse file is overwritten only where it has data, never in
# its holes.  On a 200 MiB ext4 image: a 1 GiB sparse file with student
# data at both ends, a 40 MiB preallocated file (fallocate) with data in
# the middle, and a file whose data was "zeroed" with fallocate
# --zero-range (ext4 turns the range into unwritten extents and leaves the
# old bytes in the blocks).  After `lethe run`: the filesystem never came
# near full (df sampled throughout), the files are gone, no marker is left
# in the raw image, the manifest's digests are those of the files' logical
# content (holes as zeros; `lethe verify --manifest` agrees), and the
# certificate's bytes are the apparent sizes while bytes_overwritten is
# what the files really held.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/img.sh"
need_image ext4
command -v fallocate >/dev/null || skip "fallocate (util-linux) not installed"
mkimg ext4 200

ds=$mnt/srv/edtech/exports/osde
mkdir -p "$ds"
# marker_block MARKER KIB: exactly KIB KiB of 64-byte marker lines.
marker_block() {
	local i
	for ((i = 0; i < $2 * 16; i++)); do printf '%s %0*d\n' "$1" $((62 - ${#1})) "$i"; done
}
# The sparse file: 1 GiB, 64 KiB of data at each end.
truncate -s 1G "$ds/screener_2026.csv"
marker_block MARK-SPARSE-HEAD 64 | dd of="$ds/screener_2026.csv" conv=notrunc status=none
marker_block MARK-SPARSE-TAIL 64 |
	dd of="$ds/screener_2026.csv" bs=64K seek=$((16384 - 1)) conv=notrunc status=none
# The preallocated file: 40 MiB of unwritten extents, 64 KiB written.
fallocate -l 40M "$ds/roster_prealloc.csv"
marker_block MARK-PREALLOC 64 | dd of="$ds/roster_prealloc.csv" bs=1M seek=20 conv=notrunc status=none
# Zero-range over all of it: the file reads as zeros, yet ext4 only marks
# the extents unwritten and the old bytes stay in its blocks.
marker_block MARK-ZERORANGE 256 >"$ds/iep_zeroed.csv"
sync
fallocate --zero-range --keep-size -o 0 -l 256K "$ds/iep_zeroed.csv" ||
	skip "fallocate --zero-range not supported here"
sync
# It reads as zeros now (SEEK_DATA sees no data); its blocks say otherwise.
cmp -s -n 262144 "$ds/iep_zeroed.csv" /dev/zero || die "setup: zero-range did not zero"
[[ $(stat -c %s "$ds/screener_2026.csv") == 1073741824 ]] || die "setup: not 1 GiB"
[[ $(stat -c %s "$ds/iep_zeroed.csv") == 262144 ]] || die "setup: iep_zeroed.csv is not 256 KiB"
alloc_before=$(($(stat -c %b "$ds/screener_2026.csv") * 512))
((alloc_before < 1048576)) || die "setup: the 1 GiB file is not sparse ($alloc_before bytes allocated)"
declare -A sha size
for f in screener_2026.csv roster_prealloc.csv iep_zeroed.csv; do
	sha[$f]=$(sha256sum <"$ds/$f" | cut -c1-64)
	size[$f]=$(stat -c %s "$ds/$f")
done
blocks_total=0
for f in "${!size[@]}"; do blocks_total=$((blocks_total + $(stat -c %b "$ds/$f") * 512)); done

mkhost "$mnt/srv"
policy_overwrite osde-2024 "$ds/**"
# A sendmail that defers: the vendor's copy of the manifest stays to check.
printf '#!/bin/sh\ncat >/dev/null; exit 75\n' >"$T/bin/sendmail"

# The controls: the raw image holds every marker.
umount_img
for m in MARK-SPARSE-HEAD MARK-SPARSE-TAIL MARK-PREALLOC MARK-ZERORANGE; do
	(($(scan "$m") > 0)) || die "control: $m is not on the image"
done
mount_img
size_fs=$(df --output=size -B1 "$mnt" | tail -n 1 | tr -d ' ')
used0=$(df --output=used -B1 "$mnt" | tail -n 1 | tr -d ' ')
((size_fs < 1073741824)) || die "setup: the filesystem could hold the holes"

# df, every 20 ms, while lethe runs.
( while :; do df --output=used,avail -B1 "$mnt" | tail -n 1; sleep 0.02; done ) >"$T/df.log" 2>/dev/null &
dfpid=$!
cleanup_hooks+=("kill $dfpid 2>/dev/null")
run_lethe
kill "$dfpid" 2>/dev/null || true
wait "$dfpid" 2>/dev/null || true
# 1 when only the delivery is left (sendmail deferred), else 0 or 3.
[[ $run_rc == 0 || $run_rc == 1 || $run_rc == 3 ]] || die "run exit $run_rc: $(cat "$T/run.out" "$T/run.err")"
errs=$(grep -v -i -e deliver -e sendmail -e outbox "$T/run.err" || true)
! grep -q -i -e fail -e error <<<"$errs" || die "run failed: $(cat "$T/run.err")"
read -r max_used min_avail < <(awk 'NR == 1 || $1 > u { u = $1 } NR == 1 || $2 < a { a = $2 } END { print u, a }' "$T/df.log")
[[ -n $max_used ]] || die "df was never sampled"
echo "filesystem $((size_fs >> 20)) MiB: used $((used0 >> 20)) MiB before, at most $((max_used >> 20)) MiB during the run, at least $((min_avail >> 20)) MiB free"
((max_used <= used0 + 8 * 1048576)) || die "the run used $(((max_used - used0) >> 20)) MiB more: holes were filled"
((min_avail > 100 * 1048576)) || die "the filesystem came near full ($min_avail bytes free)"
for f in "${!size[@]}"; do [[ ! -e $ds/$f ]] || die "$f still exists"; done

# The certificate: honest about sizes and bytes overwritten.
cert=$(last_cert)
[[ -n $cert ]] || die "no certificate issued"
id=$(sed -n 's/^id = //p' <<<"$cert" | head -n 1)
apparent=$((size[screener_2026.csv] + size[roster_prealloc.csv] + size[iep_zeroed.csv]))
bytes=$(sed -n 's/^bytes = //p' <<<"$cert")
bow=$(sed -n 's/^bytes_overwritten = //p' <<<"$cert")
echo "certificate $id: bytes = $bytes, bytes_overwritten = $bow (allocated before: $blocks_total)"
[[ $bytes == "$apparent" ]] || die "bytes = $bytes, the apparent sizes sum to $apparent"
# At least the data and every preallocated block; at most what the files had.
((bow >= 2 * 65536 + 40 * 1048576 + 256 * 1024)) || die "bytes_overwritten $bow is less than the files held"
((bow <= blocks_total)) || die "bytes_overwritten $bow is more than was allocated ($blocks_total)"
# The manifest: digests of the logical content, as sha256sum saw them.
man=$T/state/certificates/$id.manifest
[[ -e $man ]] || die "no manifest beside the certificate"
for f in "${!sha[@]}"; do
	grep -q "/$f	${size[$f]}	${sha[$f]}\$" "$man" || die "manifest row of $f is not ($f, ${size[$f]}, ${sha[$f]}): $(cat "$man")"
done
L verify --manifest "$man" "$T/state/certificates/$id.cert" >"$T/verify" ||
	die "lethe verify --manifest: $(cat "$T/verify")"

umount_img
for m in MARK-SPARSE-HEAD MARK-SPARSE-TAIL MARK-PREALLOC MARK-ZERORANGE \
	screener_2026.csv roster_prealloc.csv iep_zeroed.csv; do
	c=$(scan "$m")
	[[ $c == 0 ]] || die "$c copies of $m left on the device"
done
echo "ok: 1 GiB sparse file destroyed on a $((size_fs >> 20)) MiB filesystem; no marker left"
