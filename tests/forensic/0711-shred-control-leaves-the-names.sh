#!/usr/bin/env bash
# Control for 0710: the same three students' files on a fresh ext4 image,
# destroyed with GNU `shred -u` (and rmdir) instead of lethe.  shred
# overwrites the content, but its renames (to 0000..., 000..., ...) leave
# the original names in the filesystem journal and directory blocks: this
# test asserts that the raw name check FAILS for shred, counting the copies,
# so 0710's zero is known to be a real result and not a blind scan.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/img.sh"
need_image ext4
command -v shred >/dev/null || skip "GNU shred not installed"
mkimg ext4 64

base=$mnt/srv/edtech/exports/osde
declare -A who=([alvarez_jordan]=Jordan_Alvarez [okafor_amara]=Amara_Okafor
	[nguyen_luis]=Luis_Nguyen)
names=() markers=()
for d in "${!who[@]}"; do
	n=${who[$d]}
	mkdata "$base/students/$d/${n}_IEP_2026.csv" "MARK-IEP-$n" 12
	names+=("${n}_IEP_2026.csv" "$d")
	markers+=("MARK-IEP-$n")
done
sync
find "$base/students" -type f -exec shred -u {} +
find "$base/students" -depth -type d -exec rmdir {} \;
[[ ! -e $base/students ]] || die "shred/rmdir did not remove the tree"

umount_img
content=0 copies=0
for m in "${markers[@]}"; do content=$((content + $(scan "$m"))); done
for n in "${names[@]}"; do
	c=$(scan "$n")
	echo "  shred -u left $c copies of $n"
	copies=$((copies + c))
done
deleted=$(fls -rd "$img" 2>/dev/null | grep -cE 'Alvarez|Okafor|Nguyen' || true)
echo "shred -u: $content content-marker copies, $copies name copies on the raw device; fls -rd lists $deleted deleted names"
((content == 0)) || echo "  (shred's content overwrite also left $content marker copies)"
((copies > 0)) || die "control failed: shred -u left no names, so the name scan proves nothing"
echo "ok: the name check fails for shred -u, as it must"
