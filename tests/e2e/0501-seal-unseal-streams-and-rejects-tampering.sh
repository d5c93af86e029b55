#!/usr/bin/env bash
# lethe seal / unseal (SPEC §7): pipes and files round-trip byte for byte
# at every chunk-size edge; keys and KEK are private; bad usage exits 2
# having created nothing; a tampered, cut or extended stream exits 1 and
# leaves no OUT; sealed bytes never go to a terminal; a loose KEK is refused.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/srv/dumps" "$T/policies.d"
mkconf --bare
mkpolicy osde-2024 'lea = Oklahoma State Department of Education' \
	'contact = privacy@sde.example' 'method = crypto-shred' <<POL
[dataset "dumps"]
path = $T/srv/dumps/*.lethe
categories = Assessment, Student Identifiers
POL

# Usage and validation errors: exit 2, no key material created.
expect_exit 2 L seal </dev/null >/dev/null 2>"$T/err"
grep -q "usage: lethe" "$T/err" || die "$(cat "$T/err")"
expect_exit 2 L seal -a osde-2042 </dev/null >/dev/null 2>"$T/err"
grep -q "unknown agreement 'osde-2042'; did you mean 'osde-2024'?" "$T/err" || die "$(cat "$T/err")"
expect_exit 2 L seal -a osde-2024 --category Asessment </dev/null >/dev/null 2>"$T/err"
grep -q "did you mean 'Assessment'?" "$T/err" || die "$(cat "$T/err")"
[[ ! -e $T/state/kek && ! -e $T/state/keys ]] || die "a refused seal created keys"

# A pipeline, as in `pg_dump | lethe seal -a A > nightly.sql.lethe`.
seq 1 200000 | sed 's/^/student-row-/' | L seal -a osde-2024 >"$T/srv/dumps/nightly.sql.lethe"
[[ $(head -c 8 "$T/srv/dumps/nightly.sql.lethe") == LETHESL1 ]] || die "no LETHESL1 header"
! grep -q student-row "$T/srv/dumps/nightly.sql.lethe" || die "plaintext in the sealed file"
L unseal <"$T/srv/dumps/nightly.sql.lethe" | cmp -s - <(seq 1 200000 | sed 's/^/student-row-/') ||
	die "pipe round trip differs"
[[ $(stat -c %a "$T/state/kek") == 600 ]] || die "KEK not 0600"
[[ $(stat -c %s "$T/state/kek") == 32 ]] || die "KEK not 32 bytes"
[[ $(stat -c %a "$T/state/keys/keystore") == 600 ]] || die "keystore not 0600"
[[ $(stat -c %a "$T/state/keys") == 700 ]] || die "keys/ not 0700"
grep -q "^key	osde-2024/all/1	osde-2024	all	1	" "$T/state/keys/keystore" || die "no key record"
# The wrapped key is standard RFC 5649: stock openssl unwraps it (an
# auditor can check that the KEK, and only it, opens the keystore).
w=$(awk -F'\t' '$1 == "key" { print $8; exit }' "$T/state/keys/keystore")
n=$(echo "$w" | xxd -r -p | openssl enc -d -id-aes256-wrap-pad -iv A65959A6 \
	-K "$(xxd -p -c 64 "$T/state/kek")" | wc -c)
[[ $n == 32 ]] || die "the wrapped key does not unwrap to 32 bytes with openssl"

# Files, at every chunk edge, with a category key.
for n in 0 1 65535 65536 65537 196608 1048576 1048577; do
	head -c "$n" /dev/urandom >"$T/in.$n"
	L seal -a osde-2024 --category 'student identifiers' "$T/in.$n" "$T/srv/dumps/f$n.lethe"
	want=$((128 + n + 16 * (n / 65536 + 1)))
	[[ $(stat -c %s "$T/srv/dumps/f$n.lethe") == "$want" ]] || die "size $n: sealed size not $want"
	L unseal "$T/srv/dumps/f$n.lethe" "$T/out.$n"
	cmp -s "$T/in.$n" "$T/out.$n" || die "size $n: round trip differs"
	[[ $(stat -c %a "$T/out.$n") == 600 ]] || die "unsealed output not 0600"
done
grep -q "osde-2024/student-identifiers/1" "$T/state/keys/keystore" || die "no category key"
expect_exit 2 L seal -a osde-2024 "$T/in.1" "$T/in.1" 2>"$T/err"
grep -q "IN and OUT are the same file" "$T/err" || die "$(cat "$T/err")"

# Tampering: every kind fails with exit 1, and no OUT is left behind.
s=$T/srv/dumps/f196608.lethe	# 3 full chunks and an empty final one
cc=$((65536 + 16))
tamper() {	# NAME: $T/bad holds the altered stream
	expect_exit 1 L unseal "$T/bad" "$T/out.bad" 2>"$T/err"
	[[ ! -e $T/out.bad ]] || die "$1: OUT left behind"
	[[ -z $(find "$T" -maxdepth 1 -name '.lethe-tmp*') ]] || die "$1: temporary left behind"
	expect_exit 1 L unseal <"$T/bad" >/dev/null 2>"$T/err2"
	[[ -s $T/err ]] || die "$1: no message"
}
# flip FILE OFFSET: inverts the low bit of one byte (writing a fixed value
# instead would leave the file unchanged once in 256 runs).
flip() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
	cmp -s "$1" "$s" && die "flip $2 changed nothing"
	return 0
}
cp "$s" "$T/bad"; flip "$T/bad" 14; tamper "header bit"
cp "$s" "$T/bad"; flip "$T/bad" $((128 + cc + 7)); tamper "body bit"
cp "$s" "$T/bad"; flip "$T/bad" $((128 + cc - 1)); tamper "tag bit"
part() { dd if="$s" iflag=skip_bytes,count_bytes skip="$1" count="$2" status=none; }
{ part 0 128; part $((128 + cc)) $cc; part 128 $cc; part $((128 + 2 * cc)) $((2 * cc)); } >"$T/bad"
tamper "swapped chunks"
part 0 $((128 + 3 * cc)) >"$T/bad"; tamper "cut at a chunk boundary (final chunk removed)"
part 0 $((128 + cc + 5000)) >"$T/bad"; tamper "cut inside a chunk"
{ cat "$s"; part 128 $cc; } >"$T/bad"; tamper "a chunk appended"
{ cat "$s"; printf 'x'; } >"$T/bad"; tamper "a byte appended"
grep -q "does not authenticate" "$T/err" || die "$(cat "$T/err")"
# A pre-existing OUT survives a failed unseal untouched.
echo keep >"$T/out.keep"
expect_exit 1 L unseal "$T/bad" "$T/out.keep" 2>/dev/null
[[ $(cat "$T/out.keep") == keep ]] || die "a failed unseal replaced OUT"

# Never sealed bytes to a terminal.
if command -v script >/dev/null; then
	rc=0
	script -qec "'$LETHE' -c '$T/lethe.conf' seal -a osde-2024 </dev/null" /dev/null >"$T/tty" 2>&1 || rc=$?
	[[ $rc == 2 ]] || die "seal to a terminal: exit $rc"
	grep -q "refusing to write sealed binary data to a terminal" "$T/tty" || die "$(cat "$T/tty")"
fi

# A KEK readable by others is refused, for reading and for writing (the
# config check catches it first: exit 2, nothing done).
chmod 0644 "$T/state/kek"
expect_exit 2 L unseal "$s" "$T/out.x" 2>"$T/err"
grep -q "mode 0644" "$T/err" || die "$(cat "$T/err")"
[[ ! -e $T/out.x ]] || die "unseal under a loose KEK wrote OUT"
expect_exit 2 L seal -a osde-2024 </dev/null >/dev/null 2>"$T/err"
grep -q "mode 0644" "$T/err" || die "$(cat "$T/err")"
chmod 0600 "$T/state/kek"
L unseal "$s" "$T/out.x"
cmp -s "$T/out.x" "$T/in.196608" || die "unseal after chmod 0600 differs"
echo ok
