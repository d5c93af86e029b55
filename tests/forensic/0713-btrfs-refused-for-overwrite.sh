#!/usr/bin/env bash
# SPEC §6.3 on btrfs: overwrite on a copy-on-write filesystem would leave
# the old blocks, so `lethe run` refuses it: exit 1, a message that names
# btrfs and says to use crypto-shred, no certificate, and the file is
# untouched (same name, same bytes).
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/img.sh"
need_image btrfs
mkimg btrfs 256

f=$mnt/srv/edtech/exports/osde/students/alvarez_jordan/Jordan_Alvarez_IEP_2026.csv
mkdata "$f" MARK-BTRFS-IEP 8
before=$(sha256sum <"$f")
mkhost "$mnt/srv"
policy_overwrite osde-2024 "$mnt/srv/edtech/exports/osde/**"

run_lethe
[[ $run_rc == 1 ]] || die "run exit $run_rc, want 1: $(cat "$T/run.out" "$T/run.err")"
out=$(cat "$T/run.out" "$T/run.err")
grep -q btrfs <<<"$out" || die "the refusal does not name btrfs: $out"
grep -q crypto-shred <<<"$out" || die "the refusal does not say to use crypto-shred: $out"
[[ -f $f ]] || die "the file was removed"
[[ $(sha256sum <"$f") == "$before" ]] || die "the file's content changed"
[[ -z $(last_cert) ]] || die "a certificate was issued for a refused disposition"
echo "ok: refused on btrfs: $(grep -m1 -o 'btrfs[^;]*' <<<"$out")"
