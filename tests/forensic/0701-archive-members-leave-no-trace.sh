#!/usr/bin/env bash
# Archive member removal, proven on the raw device: an uncompressed tar and
# a stored zip on a loop-mounted ext4 image each hold two districts' files.
# After `lethe run` disposes of osde's members (termination long past,
# method = overwrite), a raw scan of the unmounted image finds zero bytes of
# osde's content markers and zero occurrences of its member names, while
# every tulsa marker is still there and both archives still extract tulsa's
# files byte for byte with GNU tar and python3's zipfile.
. "$(dirname "$0")/../e2e/lib.sh"
[[ $(id -u) == 0 ]] || skip "needs root to loop-mount an image"
command -v mkfs.ext4 >/dev/null || skip "mkfs.ext4 not installed"
[[ -e /dev/loop-control ]] || skip "no loop devices"

img=$T/disk.img mnt=$T/mnt
truncate -s 64M "$img"
mkfs.ext4 -q -F "$img"
mkdir -p "$mnt"
mount -o loop "$img" "$mnt" 2>/dev/null || skip "cannot loop-mount (no loop device?)"
cleanup_hooks+=("mountpoint -q '$mnt' && umount '$mnt'")

# The districts' files live on the host; only the archives go on the image,
# so no freed block of the image ever held a loose copy.
src=$T/src
students=(Jordan_Alvarez Amara_Okafor Luis_Nguyen)
for n in "${students[@]}"; do
	mkdata "$src/osde/roster/$n.csv" "OSDE-MARK-$n" 8
done
mkdata "$src/osde/scores.csv" OSDE-MARK-scores 64
mkdata "$src/tulsa/roster/Maya_Tulsa.csv" TULSA-KEEP-roster 8
mkdata "$src/tulsa/scores.csv" TULSA-KEEP-scores 64

mkhost "$mnt/backups"
tar --format=gnu -cf "$mnt/backups/edtech-1.tar" -C "$src" osde tulsa
python3 - "$src" "$mnt/backups/edtech-2.zip" <<'PY'
import os, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, 'w', zipfile.ZIP_STORED) as z:
    for root, dirs, files in sorted(os.walk(src)):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(root, f)
            z.write(p, os.path.relpath(p, src))
PY
sync

mkpolicy -f osde osde-2024 'lea = Oklahoma State Department of Education' \
	'contact = privacy@sde.example' 'dispose_after_termination = 30d' \
	'certify_within = 10d' 'method = overwrite' <<POL
[dataset "nightly-backups"]
archive = $mnt/backups/edtech-*
members = osde/**
categories = Student Identifiers
POL

scan() {	# PATTERN: occurrences in the raw image
	{ grep -a -o -- "$1" "$img" || true; } | wc -l
}
# The scan must be able to see the data at all, or it proves nothing.
umount "$mnt"
for n in "${students[@]}"; do
	(( $(scan "OSDE-MARK-$n") > 0 )) || die "marker of $n not on the image before the run"
	(( $(scan "$n.csv") > 0 )) || die "member name of $n not on the image before the run"
done
mount -o loop "$img" "$mnt"

L check >/dev/null || die "lethe check failed: $(L check 2>&1)"
expect_exit 0 L terminate osde-2024 "$(days_ago 90)"
rc=0
L run >"$T/run.out" 2>"$T/run.err" || rc=$?
# 3: done, but the deadline (long past) was missed before this run.
[[ $rc == 0 || $rc == 3 ]] || die "run exit $rc: $(cat "$T/run.out" "$T/run.err")"
[[ $(ls -A "$mnt/backups") == $'edtech-1.tar\nedtech-2.zip' ]] ||
	die "unexpected files beside the archives: $(ls -A "$mnt/backups")"

# Names never reach the journal or the run's output.
for n in "${students[@]}"; do
	! grep -q "$n" "$T/state/journal" "$T/run.out" "$T/run.err" ||
		die "a member name reached the journal or the terminal"
done

umount "$mnt"
for n in "${students[@]}"; do
	c=$(scan "OSDE-MARK-$n"); [[ $c == 0 ]] || die "$c copies of OSDE-MARK-$n left on the device"
	c=$(scan "$n.csv"); [[ $c == 0 ]] || die "$c copies of member name $n.csv left on the device"
done
c=$(scan OSDE-MARK-scores); [[ $c == 0 ]] || die "$c copies of OSDE-MARK-scores left"
c=$(scan "osde/"); [[ $c == 0 ]] || die "$c occurrences of osde/ left on the device"
(( $(scan TULSA-KEEP-roster) > 0 && $(scan TULSA-KEEP-scores) > 0 )) ||
	die "the other district's data is gone from the device"

mount -o loop,ro "$img" "$mnt"
mkdir -p "$T/x1" "$T/x2"
tar -xf "$mnt/backups/edtech-1.tar" -C "$T/x1"
python3 - "$mnt/backups/edtech-2.zip" "$T/x2" <<'PY'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())
assert not [n for n in z.namelist() if n.startswith('osde')], z.namelist()
z.extractall(sys.argv[2])
PY
for x in "$T/x1" "$T/x2"; do
	[[ ! -e $x/osde ]] || die "osde members still extract from $x"
	diff -r "$src/tulsa" "$x/tulsa" || die "tulsa's files differ after the rewrite ($x)"
done
umount "$mnt"
echo ok
