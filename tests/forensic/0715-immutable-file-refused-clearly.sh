#!/usr/bin/env bash
# SPEC §6.2 on ext4: an immutable file (chattr +i) in the dataset is refused
# with a clear error naming the flag and how to clear it; nothing of it is
# changed; the run exits 1 and still destroys the dataset's other file,
# which a partial certificate confirms (SPEC §5: every destroyed file is
# certified; the failed disposition says it is partial).
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/img.sh"
need_image ext4
command -v chattr >/dev/null || skip "chattr not installed"
mkimg ext4 64

ds=$mnt/srv/edtech/exports/osde/students
mkdata "$ds/locked_Jordan_Alvarez.csv" KEEP-LOCKED 4
mkdata "$ds/Amara_Okafor_IEP_2026.csv" MARK-OTHER 4
chattr +i "$ds/locked_Jordan_Alvarez.csv" || skip "cannot set the immutable flag here"
cleanup_hooks=("chattr -i '$ds/locked_Jordan_Alvarez.csv'" "${cleanup_hooks[@]}")
sum=$(sha256sum <"$ds/locked_Jordan_Alvarez.csv")
mkhost "$mnt/srv"
policy_overwrite osde-2024 "$mnt/srv/edtech/exports/osde/**"

run_lethe
[[ $run_rc == 1 ]] || die "run exit $run_rc, want 1: $(cat "$T/run.out" "$T/run.err")"
out=$(cat "$T/run.out" "$T/run.err")
grep -q 'immutable (chattr +i)' <<<"$out" || die "no clear immutable error: $out"
grep -q 'chattr -i' <<<"$out" || die "the error does not say how to clear the flag: $out"
[[ $(sha256sum <"$ds/locked_Jordan_Alvarez.csv") == "$sum" ]] || die "the immutable file changed"
[[ ! -e $ds/Amara_Okafor_IEP_2026.csv ]] || die "the other file was not destroyed"
expect_partial_cert 1
echo "ok: $(grep -m1 -o '[^:]*immutable (chattr +i)[^;]*' <<<"$out" | head -c 200)"
