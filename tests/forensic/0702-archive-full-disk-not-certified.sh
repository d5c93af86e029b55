#!/usr/bin/env bash
# Issue 7: a full filesystem while an archive is being rewritten leaves the
# old archive byte-identical, the disposition failed and not certified, and
# the next run (with space again) finishes it.
. "$(dirname "$0")/../e2e/lib.sh"
[[ $(id -u) == 0 ]] || skip "needs root to mount a small tmpfs"
mnt=$T/mnt
mkdir -p "$mnt"
mount -t tmpfs -o size=3m tmpfs "$mnt" || skip "cannot mount tmpfs"
cleanup_hooks+=("umount '$mnt'")
mkhost "$mnt/backups"
mkdir -p "$T/src/osde" "$T/src/tulsa"
head -c 300000 /dev/urandom | base64 -w 100 >"$T/src/osde/alvarez.csv"
head -c 900000 /dev/urandom | base64 -w 100 >"$T/src/tulsa/roster.csv"
tar -C "$T/src" -cf "$mnt/backups/nightly.tar" osde tulsa
# Leave less free space than the new archive needs.
free=$(df -B1 --output=avail "$mnt" | tail -n 1)
fill=$((free - 400000))
((fill > 0)) && head -c "$fill" /dev/zero >"$mnt/filler" || true
before=$(sha256sum <"$mnt/backups/nightly.tar")
mkpolicy -f osde osde-2024 'lea = Oklahoma State Department of Education' \
	'contact = privacy@sde.example' "terminated = $(days_ago 40)" \
	'dispose_after_termination = 30d' 'method = overwrite' <<POL
[dataset "backups"]
archive = $mnt/backups/*.tar
members = osde/**
categories = Assessment
POL
rc=0
L run >"$T/out" 2>"$T/err" || rc=$?
((rc == 1)) || die "run exit $rc, want 1: $(cat "$T/out" "$T/err")"
grep -qi 'space' "$T/err" || die "the error does not say the disk is full: $(cat "$T/err")"
[[ $(sha256sum <"$mnt/backups/nightly.tar") == "$before" ]] || die "the old archive changed"
[[ -z $(ls "$T/state/certificates" 2>/dev/null) ]] || die "a failed disposition was certified"
[[ -z $(find "$mnt/backups" -name '.*') ]] || die "a temporary was left: $(find "$mnt/backups" -name '.*')"
# With space again, the next run finishes it.
rm -f "$mnt/filler"
L run >"$T/out" 2>"$T/err" || die "second run: $(cat "$T/err")"
! tar -tf "$mnt/backups/nightly.tar" | qgrep '^osde/' || die "osde members left"
tar -xOf "$mnt/backups/nightly.tar" tulsa/roster.csv | cmp -s - "$T/src/tulsa/roster.csv" ||
	die "tulsa's member changed"
c=$(ls "$T"/state/certificates/*.cert)
grep -q '^technique = archive-member-removal$' "$c" || die "technique: $(grep technique "$c")"
echo ok
