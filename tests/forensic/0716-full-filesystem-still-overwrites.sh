#!/usr/bin/env bash
# SPEC §6.4 on a full ext4 filesystem: overwriting in place needs no new
# blocks and a same-length rename needs no new directory space, so `lethe
# run` still destroys the dataset when not one free block is left, and the
# raw device keeps no copy of the content or the names.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/img.sh"
need_image ext4
mkimg ext4 64

ds=$mnt/srv/edtech/exports/osde/students/alvarez_jordan
mkdata "$ds/Jordan_Alvarez_IEP_2026.csv" MARK-FULL-IEP 64
mkdata "$ds/Jordan_Alvarez_grades.csv" MARK-FULL-GRADES 8
mkhost "$mnt/srv"
policy_overwrite osde-2024 "$mnt/srv/edtech/exports/osde/**"
# Fill every block left (root's reserve included: lethe runs as root).
dd if=/dev/zero of="$mnt/filler" bs=1M status=none 2>/dev/null || true
dd if=/dev/zero of="$mnt/filler2" bs=4k status=none 2>/dev/null || true
sync
avail=$(df --output=avail -B1 "$mnt" | tail -n 1 | tr -d ' ')
(( avail < 65536 )) || die "could not fill the filesystem ($avail bytes free)"

run_lethe
[[ $run_rc == 0 || $run_rc == 3 ]] ||
	die "run exit $run_rc on a full filesystem: $(cat "$T/run.out" "$T/run.err")"
[[ ! -e $ds ]] || die "the student's directory is still there"
umount_img
for s in MARK-FULL-IEP MARK-FULL-GRADES Jordan_Alvarez_IEP_2026.csv Jordan_Alvarez_grades.csv alvarez_jordan; do
	c=$(scan "$s"); [[ $c == 0 ]] || die "$c copies of $s left on the full device"
done
echo "ok: destroyed on a filesystem with $avail bytes free; nothing left on the device"
