#!/usr/bin/env bash
# SPEC §6.1–6.2 safety on ext4: in the dataset are (a) a symlink to a file
# outside the allowed root, (b) a file hard-linked to a name outside the
# dataset, (c) a FIFO, beside an ordinary file.  `lethe run` must remove the
# symlink as a link (its target untouched), refuse the hard-linked file
# (both names and the bytes intact, exit 1, the error says why), never hang
# on the FIFO (removed as a name, never opened), and still destroy the
# ordinary file (the rest is done), which a partial certificate confirms:
# the file, the symlink and the FIFO, three names.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/img.sh"
need_image ext4
mkimg ext4 64

ds=$mnt/srv/edtech/exports/osde/students
mkdata "$ds/Jordan_Alvarez_IEP_2026.csv" MARK-PLAIN 4
mkdata "$T/outside/target.csv" KEEP-TARGET 4
ln -s "$T/outside/target.csv" "$ds/roster-link.csv"
mkdata "$mnt/srv/edtech/other/shared.csv" KEEP-SHARED 4
ln "$mnt/srv/edtech/other/shared.csv" "$ds/shared.csv"
mkfifo "$ds/pipe.csv"
target_sum=$(sha256sum <"$T/outside/target.csv")
shared_sum=$(sha256sum <"$mnt/srv/edtech/other/shared.csv")
mkhost "$mnt/srv"
policy_overwrite osde-2024 "$mnt/srv/edtech/exports/osde/**"

run_lethe	# dies if it hangs
[[ $run_rc == 1 ]] || die "run exit $run_rc, want 1 (hard link refused): $(cat "$T/run.out" "$T/run.err")"
out=$(cat "$T/run.out" "$T/run.err")
grep -qi 'hard link' <<<"$out" || die "the refusal does not mention the hard link: $out"
[[ $(sha256sum <"$T/outside/target.csv") == "$target_sum" ]] || die "the symlink's target changed"
[[ ! -L $ds/roster-link.csv ]] || die "the symlink was not removed"
[[ -f $ds/shared.csv && -f $mnt/srv/edtech/other/shared.csv ]] || die "a hard-linked name was removed"
[[ $(stat -c %h "$ds/shared.csv") == 2 ]] || die "the hard-linked file lost a link"
[[ $(sha256sum <"$mnt/srv/edtech/other/shared.csv") == "$shared_sum" ]] || die "the hard-linked file's content changed"
[[ ! -p $ds/pipe.csv ]] || die "the FIFO's name was not removed"
[[ ! -e $ds/Jordan_Alvarez_IEP_2026.csv ]] || die "the ordinary file was not destroyed"
expect_partial_cert 3
umount_img
(( $(scan MARK-PLAIN) == 0 )) || die "the ordinary file's content is still on the device"
(( $(scan KEEP-SHARED) > 0 )) || die "the hard-linked file's content is gone from the device"
echo "ok: link removed, hard link refused and intact, FIFO removed without hanging, the rest destroyed"
