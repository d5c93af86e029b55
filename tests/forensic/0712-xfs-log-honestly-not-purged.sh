#!/usr/bin/env bash
# SPEC §6.7 honesty on XFS: the overwrite itself is sound there (blocks are
# rewritten in place; reflinked files are refused), but the XFS log cannot
# be purged from user space.  After `lethe run`, the content markers are
# gone from the raw device, the certificate says the xfs log could not be
# purged, and the test reports how many name copies the log still holds.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/img.sh"
need_image xfs
mkimg xfs 320	# mkfs.xfs's minimum; the file is sparse

base=$mnt/srv/edtech/exports/osde
mkdata "$base/students/alvarez_jordan/Jordan_Alvarez_IEP_2026.csv" MARK-XFS-IEP 16
mkdata "$base/students/okafor_amara/Amara_Okafor_IEP_2026.csv" MARK-XFS-OKAFOR 16
mkhost "$mnt/srv"
policy_overwrite osde-2024 "$base/**"
sync

run_lethe
[[ $run_rc == 0 || $run_rc == 3 ]] ||
	die "run exit $run_rc: $(cat "$T/run.out" "$T/run.err")"
[[ ! -e $base/students ]] || die "students/ still exists"
cert=$(last_cert)
[[ -n $cert ]] || die "no certificate issued"
grep -q '^type = xfs' <<<"$cert" || die "certificate [media] does not say xfs"
grep -q 'xfs log cannot be purged from user space' <<<"$cert" ||
	die "certificate does not say the xfs log could not be purged: $(grep -i journal <<<"$cert")"

umount_img
for m in MARK-XFS-IEP MARK-XFS-OKAFOR; do
	c=$(scan "$m"); [[ $c == 0 ]] || die "$c copies of content marker $m left on the device"
done
report=""
for n in Jordan_Alvarez_IEP_2026.csv Amara_Okafor_IEP_2026.csv alvarez_jordan okafor_amara; do
	report+=" $n:$(scan "$n")"
done
echo "ok: content gone; the certificate says the xfs log was not purged; name copies left (log, free blocks):$report"
