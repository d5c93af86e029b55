#!/usr/bin/env bash
# Issue 14, item 2, on ext4: a file sealed under agreement b's key lies in
# agreement a's dataset.  Terminating a used to report it crypto-erased
# ("Purge", "2 ciphertext files unlinked") while b's key stayed live, so any
# copy still unsealed; with no key of its own, a counted it destroyed under
# "overwrite" although the ciphertext stayed in the raw image.  Now it is
# refused, by name, as b's data: never counted, never called crypto-erased,
# still in place and still unsealable with b's key; a's own data goes, and
# the certificate (partial) counts only that.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/img.sh"
need_image ext4
mkimg ext4 64
mkhost "$mnt/srv"
for id in a b; do
	mkpolicy $id 'method = auto' <<P
[dataset "files"]
path = $mnt/srv/$id/**
categories = Other
P
	mkdir -p "$mnt/srv/$id"
done
mkdata "$T/b-plain.csv" MARK-B-SEALED 4
cat "$T/b-plain.csv" | L seal -a b >"$mnt/srv/a/foreign.lethe"
cp "$mnt/srv/a/foreign.lethe" "$T/foreign-copy.lethe"
mkdata "$T/a-plain.csv" MARK-A-SEALED 4
cat "$T/a-plain.csv" | L seal -a a >"$mnt/srv/a/own.lethe"
mkdata "$mnt/srv/a/plain.csv" MARK-A-PLAIN 4
L terminate a "$(days_ago 2)" >/dev/null
run_lethe
[[ $run_rc == 1 ]] || die "run exit $run_rc: $(cat "$T/run.out" "$T/run.err")"
grep -q "foreign.lethe: refused: sealed under agreement b's key" "$T/run.err" ||
	die "the refusal does not name it: $(cat "$T/run.err")"
[[ -f $mnt/srv/a/foreign.lethe ]] || die "b's sealed file was removed"
[[ ! -e $mnt/srv/a/own.lethe && ! -e $mnt/srv/a/plain.csv ]] || die "a's own data left"
c=$(ls "$T"/state/certificates/a-*.cert)
grep -qx 'files = 2' "$c" || die "files: $(grep '^files' "$c")"
mt=$(sed -n '/^method_type/,/^technique/p' "$c" | tr '\n' ' ')
grep -q 'Purge (crypto-erase) for 1 files' <<<"$mt" || die "method_type: $mt"
grep -q '1 ciphertext files unlinked' "$c" || die "details: $(grep -A3 '^method_details' "$c")"
L unseal "$T/foreign-copy.lethe" "$T/b-out.csv" || die "b's data no longer unseals"
cmp -s "$T/b-out.csv" "$T/b-plain.csv" || die "b's data changed"
grep -q '^tomb	b/' "$T/state/keys/keystore" && die "b's key was destroyed"
# The raw image still holds b's ciphertext (it was never touched) and no
# longer holds a's plaintext marker.
umount "$mnt"
hits=$(grep -ac MARK-A-PLAIN "$img" || true)
((hits == 0)) || die "a's plaintext marker found $hits times in the raw image"
mount -o loop "$img" "$mnt"
# An agreement c with no key of its own, whose only file is b's: nothing
# destroyed, nothing certified, and said.
mkpolicy c 'method = auto' <<P
[dataset "files"]
path = $mnt/srv/c/**
categories = Other
P
mkdir -p "$mnt/srv/c"
cp "$T/foreign-copy.lethe" "$mnt/srv/c/foreign.lethe"
L terminate c "$(days_ago 2)" >/dev/null
run_lethe
[[ $run_rc == 1 ]] || die "run 2 exit $run_rc: $(cat "$T/run.out" "$T/run.err")"
grep -q "c: termination: not started: 1 refused: 1 sealed under another agreement's key" "$T/run.err" ||
	die "run 2: $(cat "$T/run.err")"
[[ -f $mnt/srv/c/foreign.lethe ]] || die "run 2 removed b's file"
[[ -z $(ls "$T"/state/certificates/c-* 2>/dev/null) ]] || die "run 2 certified something"
echo ok
