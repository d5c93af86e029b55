# img.sh: loop-mounted filesystem images for the forensic tests.  Source it
# after ../e2e/lib.sh.  Gives:
#   need_image FSTYPE    skip (exit 77) unless root, loop devices, mkfs.FSTYPE
#   mkimg FSTYPE MB      make $img (FSTYPE, MB MiB, sparse), mount it on $mnt,
#                        and register the unmount as a cleanup hook
#   umount_img / mount_img [OPTS]
#   scan STRING          occurrences of STRING in the raw image (unmount first)
#   policy_overwrite ID GLOB [EXTRA...]   a policy terminated 60 days ago
#                        (30-day disposal, so due and overdue), method overwrite
#   run_lethe            runs `lethe run`, output in $T/run.out / $T/run.err;
#                        sets $run_rc
#   expect_partial_cert N  the newest certificate is partial, over N names
img=$T/disk.img
mnt=$T/mnt

need_image() {
	[[ $(id -u) == 0 ]] || skip "needs root to loop-mount an image"
	[[ -e /dev/loop-control ]] || skip "no loop devices"
	command -v "mkfs.$1" >/dev/null || skip "mkfs.$1 not installed"
	[[ -x $LETHE ]] || die "$LETHE not built (make build/san/lethe)"
}

mkimg() {	# FSTYPE MB
	local fs=$1 mb=$2
	rm -f "$img"
	truncate -s "${mb}M" "$img"
	case $fs in
	ext4) mkfs.ext4 -q -F "$img" >/dev/null 2>&1 ;;
	xfs) mkfs.xfs -q -f "$img" >/dev/null 2>&1 ;;
	btrfs) mkfs.btrfs -q -f "$img" >/dev/null 2>&1 ;;
	*) "mkfs.$fs" "$img" >/dev/null 2>&1 ;;
	esac || skip "mkfs.$fs failed on a $mb MiB image"
	mkdir -p "$mnt"
	mount -o loop "$img" "$mnt" 2>/dev/null ||
		skip "cannot loop-mount a $fs image (no loop device or no $fs in this kernel)"
	cleanup_hooks+=("mountpoint -q '$mnt' && umount '$mnt'")
}

umount_img() { sync; umount "$mnt"; }
mount_img() { mount -o "loop${1:+,$1}" "$img" "$mnt"; }

scan() {	# STRING: occurrences in the raw image
	{ grep -a -o -F -- "$1" "$img" || true; } | wc -l
}

policy_overwrite() {	# ID GLOB [EXTRA-DATASET-LINES...]
	local id=$1 glob=$2; shift 2
	mkpolicy "$id" 'lea = Example Unified School District' \
		'contact = privacy@lea.example' "terminated = $(days_ago 60)" \
		'dispose_after_termination = 30d' 'certify_within = 10d' \
		'method = overwrite' 'verify = full' <<POL
[dataset "students"]
path = $glob
categories = Student Identifiers, Special Indicator
POL
	local line
	for line in "$@"; do printf '%s\n' "$line" >>"$T/policies.d/$id.ini"; done
}

run_lethe() {
	run_rc=0
	timeout 120 "$LETHE" -c "$T/lethe.conf" run >"$T/run.out" 2>"$T/run.err" ||
		run_rc=$?
	[[ $run_rc != 124 ]] || die "lethe run hung (killed after 120 s)"
}

# expect_partial_cert N: the newest certificate is the partial one of a
# disposition that failed after destroying N names: result = partial,
# deadline_met = no, files = N, something remaining; lethe verify and stock
# openssl both accept it.
expect_partial_cert() {
	local c
	c=$(ls -t "$T"/state/certificates/*.cert 2>/dev/null | head -n 1)
	[[ -n $c ]] || die "no certificate: what the failed disposition destroyed is uncertified"
	grep -qx 'result = partial' "$c" || die "not marked partial: $(cat "$c")"
	grep -qx 'deadline_met = no' "$c" || die "a partial disposition says deadline_met = yes"
	grep -qx "files = $1" "$c" || die "files is not $1: $(grep '^files' "$c")"
	grep -qx 'remaining_matches = 0' "$c" && die "a partial certificate says nothing remains"
	"$LETHE" verify --ca "$T/certs/ca.pem" "$c" >"$T/verify.out" 2>&1 ||
		die "lethe verify rejects the partial certificate: $(cat "$T/verify.out")"
	openssl cms -verify -binary -inform PEM -in "$c.p7s" -content "$c" \
		-CAfile "$T/certs/ca.pem" -out /dev/null 2>"$T/openssl.err" ||
		die "openssl rejects the partial certificate: $(cat "$T/openssl.err")"
}

# The newest certificate's text (empty if none).
last_cert() {
	local c
	c=$(ls -t "$T"/state/certificates/*.cert 2>/dev/null | head -n 1)
	[[ -n $c ]] && cat "$c"
}
