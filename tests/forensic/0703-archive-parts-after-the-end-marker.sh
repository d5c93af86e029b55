#!/usr/bin/env bash
# Issue 15, item 1, proven on the raw device: backups appended to with
# `cat a.tar b.tar` and `cat a.tgz b.tgz`, and a crc cpio, on a
# loop-mounted ext4 image, each hold osde's and tulsa's files in both
# parts.  After `lethe run` removes osde's members, a raw scan of the
# unmounted image finds no byte of osde's markers or names, while tulsa's
# files of the second part, which libarchive alone stops before, are still
# there and extract byte for byte (GNU tar --ignore-zeros, gzip, cpio),
# and the certificate counts every member removed, in both parts.
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

src=$T/src
for p in 1 2; do
	mkdata "$src/osde/part$p/Jordan_Alvarez$p.csv" "OSDE-MARK-part$p" 8
	mkdata "$src/tulsa/part$p/Maya_Tulsa$p.csv" "TULSA-KEEP-part$p" 8
done
mkhost "$mnt/backups"
b=$mnt/backups
tar -cf "$T/p1.tar" -C "$src" osde/part1 tulsa/part1
tar -cf "$T/p2.tar" -C "$src" osde/part2 tulsa/part2
cat "$T/p1.tar" "$T/p2.tar" >"$b/appended.tar"
gzip -c "$T/p1.tar" >"$b/appended.tgz"
gzip -c "$T/p2.tar" >>"$b/appended.tgz"
(cd "$src" && find osde tulsa | cpio --quiet -o -H crc) >"$b/backup.cpio"
sync

mkpolicy -f osde osde-2024 'lea = Oklahoma State Department of Education' \
	'contact = privacy@sde.example' 'dispose_after_termination = 30d' \
	'certify_within = 10d' 'method = overwrite' <<POL
[dataset "nightly-backups"]
archive = $b/*
members = osde/**
categories = Student Identifiers
POL

scan() {	# PATTERN: occurrences in the raw image
	{ grep -a -o -- "$1" "$img" || true; } | wc -l
}
umount "$mnt"
for p in 1 2; do
	(($(scan "OSDE-MARK-part$p") > 0)) || die "osde part $p not on the image before the run"
done
mount -o loop "$img" "$mnt"

expect_exit 0 L terminate osde-2024 "$(days_ago 90)"
rc=0
L run >"$T/run.out" 2>"$T/run.err" || rc=$?
[[ $rc == 0 || $rc == 3 ]] || die "run exit $rc: $(cat "$T/run.out" "$T/run.err")"
# part1/, part1/FILE, part2/, part2/FILE in each tar: 4; the cpio adds osde: 5.
c=$(ls "$T"/state/certificates/*.cert)
grep -q "13 members removed from 3 archives" "$c" ||
	die "the certificate does not count both parts: $(grep method_details "$c")"

umount "$mnt"
for p in 1 2; do
	n=$(scan "OSDE-MARK-part$p"); [[ $n == 0 ]] || die "$n copies of osde's part $p left on the device"
	n=$(scan "Jordan_Alvarez$p"); [[ $n == 0 ]] || die "$n copies of osde's member name $p left"
	(($(scan "TULSA-KEEP-part$p") > 0)) || die "tulsa's part $p is gone from the device"
done
mount -o loop,ro "$img" "$mnt"
for a in appended.tar appended.tgz; do
	x=$T/x-$a
	mkdir -p "$x"
	tar -ixf "$b/$a" -C "$x" || die "$a does not extract"
	[[ ! -e $x/osde ]] || die "osde extracts from $a"
	diff -r "$src/tulsa" "$x/tulsa" || die "tulsa's files differ in $a"
done
[[ $(python3 -c "import zlib,sys
d=open(sys.argv[1],'rb').read(); n=0
while d:
    o=zlib.decompressobj(31); o.decompress(d); d=o.unused_data; n+=1
print(n)" "$b/appended.tgz") == 2 ]] || die "appended.tgz lost its second gzip member"
cpio --quiet --only-verify-crc -i <"$b/backup.cpio" || die "the crc cpio does not check"
mkdir -p "$T/xc" && (cd "$T/xc" && cpio --quiet -idm <"$b/backup.cpio")
[[ ! -e $T/xc/osde ]] && diff -r "$src/tulsa" "$T/xc/tulsa" || die "the cpio lost tulsa's files"
umount "$mnt"
echo ok
