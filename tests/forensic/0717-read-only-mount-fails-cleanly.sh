#!/usr/bin/env bash
# A dataset on a read-only mount cannot be destroyed: `lethe run` exits 1
# with an error that says the filesystem is read-only, issues no
# certificate, and changes nothing on the image (byte-identical).
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/img.sh"
need_image ext4
mkimg ext4 64

ds=$mnt/srv/edtech/exports/osde/students
mkdata "$ds/Jordan_Alvarez_IEP_2026.csv" KEEP-RO 4
mkhost "$mnt/srv"
policy_overwrite osde-2024 "$mnt/srv/edtech/exports/osde/**"
umount_img
before=$(sha256sum <"$img")
mount_img ro

run_lethe
[[ $run_rc == 1 ]] || die "run exit $run_rc, want 1: $(cat "$T/run.out" "$T/run.err")"
out=$(cat "$T/run.out" "$T/run.err")
grep -qi 'read-only' <<<"$out" || die "the error does not say read-only: $out"
[[ -f $ds/Jordan_Alvarez_IEP_2026.csv ]] || die "the file vanished from a read-only mount"
[[ -z $(last_cert) ]] || die "a certificate was issued for a failed disposition"
umount_img
[[ $(sha256sum <"$img") == "$before" ]] || die "the read-only image changed"
echo "ok: $(grep -m1 -io '[^;]*read-only[^;]*' <<<"$out" | head -c 200)"
