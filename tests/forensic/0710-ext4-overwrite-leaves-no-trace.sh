#!/usr/bin/env bash
# SPEC §6 proof on ext4: students' files (unique content markers, names like
# Jordan_Alvarez_IEP_2026.csv in students/alvarez_jordan/) on a loop-mounted
# ext4 image are destroyed by `lethe run` (termination 60 days ago, method =
# overwrite).  After unmounting, a raw scan of the image finds zero copies of
# every content marker and of every file and directory name (journal
# included), and The Sleuth Kit's `fls -rd` lists no deleted name; another
# district's file on the same filesystem is untouched.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/img.sh"
need_image ext4
command -v fls >/dev/null || skip "The Sleuth Kit (fls) not installed"
mkimg ext4 64

base=$mnt/srv/edtech/exports/osde
declare -A who=([alvarez_jordan]=Jordan_Alvarez [okafor_amara]=Amara_Okafor
	[nguyen_luis]=Luis_Nguyen)
names=() markers=()
for d in "${!who[@]}"; do
	n=${who[$d]}
	mkdata "$base/students/$d/${n}_IEP_2026.csv" "MARK-IEP-$n" 12
	mkdata "$base/students/$d/${n}_grades_fall.csv" "MARK-GRADES-$n" 3
	mkdata "$base/students/$d/assessments_${d}_2026/${n}_screener.csv" "MARK-SCREEN-$n" 40
	names+=("$d" "${n}_IEP_2026.csv" "${n}_grades_fall.csv" "assessments_${d}_2026" "${n}_screener.csv")
	markers+=("MARK-IEP-$n" "MARK-GRADES-$n" "MARK-SCREEN-$n")
done
mkdata "$mnt/srv/edtech/exports/tulsa/Maya_Keep_roster.csv" KEEP-tulsa-roster 4
mkhost "$mnt/srv"
policy_overwrite osde-2024 "$base/**"

# The scan must be able to see the data at all, or it proves nothing.
umount_img
for m in "${markers[@]}"; do (( $(scan "$m") > 0 )) || die "control: $m not on the image"; done
for n in "${names[@]}"; do (( $(scan "$n") > 0 )) || die "control: name $n not on the image"; done
fls -r "$img" | qgrep Jordan_Alvarez_IEP_2026.csv || die "control: fls cannot see the files"
mount_img

L check >/dev/null || die "lethe check: $(L check 2>&1)"
run_lethe
# 3: all done, but the deadline (30 days after termination) had passed.
[[ $run_rc == 0 || $run_rc == 3 ]] ||
	die "run exit $run_rc: $(cat "$T/run.out" "$T/run.err")"
[[ ! -e $base/students ]] || die "students/ still exists: $(find "$base" | head)"
[[ -d $base ]] || die "the policy's own directory $base was removed"
for n in "${names[@]}"; do
	! grep -rqF "$n" "$T/state/journal" "$T/run.out" "$T/run.err" ||
		die "the name $n reached the journal or the terminal"
done
cert=$(last_cert)
[[ -n $cert ]] || die "no certificate issued"
grep -q '^remaining_matches = 0' <<<"$cert" || die "certificate: remaining_matches is not 0"
grep -qi 'journal' <<<"$cert" || die "certificate does not say what happened to the journal"

umount_img
left=0
for s in "${markers[@]}" "${names[@]}"; do
	c=$(scan "$s")
	if [[ $c != 0 ]]; then echo "  $c copies of $s left on the device" >&2; left=1; fi
done
((left == 0)) || die "student data or names remain on the device"
(( $(scan KEEP-tulsa-roster) > 0 )) || die "the other district's file is gone from the device"
deleted=$(fls -rd "$img" || true)
for n in "${names[@]}"; do
	! grep -qF "$n" <<<"$deleted" || die "fls -rd lists the deleted name $n: $deleted"
done
! fls -r "$img" | qgrep -E 'Alvarez|Okafor|Nguyen' || die "fls still lists a student's name"
fls -r "$img" | qgrep Maya_Keep_roster.csv || die "fls lost the other district's file"
echo "ok: 0 of ${#markers[@]} markers and 0 of ${#names[@]} names left on the raw device"
