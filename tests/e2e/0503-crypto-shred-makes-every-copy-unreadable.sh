#!/usr/bin/env bash
# Crypto-shred end to end (SPEC §7): data sealed with `lethe seal` is
# destroyed by `lethe run` by destroying its key under a new KEK.  A copy of
# the ciphertext kept elsewhere (a backup) then fails to unseal with "key …
# destroyed on DATE (certificate ID)", exit 1; restoring a backup of keys/
# taken before the destruction does not help (the old KEK is gone); another
# agreement's sealed data still unseals; no file in state_dir holds the old
# KEK.
. "$(dirname "$0")/lib.sh"

mkhost
mkpolicy osde-2024 'lea = Oklahoma State Department of Education' \
	'contact = privacy@sde.example' "terminated = $(days_ago 40)" \
	'dispose_after_termination = 30d' 'method = crypto-shred' <<POL
[dataset "dumps"]
path = $T/srv/osde/*.lethe
categories = Assessment
POL
mkpolicy nyc-doe 'lea = New York City Department of Education' \
	'contact = privacy@nyc.example' 'method = crypto-shred' <<POL
[dataset "dumps"]
path = $T/srv/nyc/*.lethe
categories = Assessment
POL
mkdir -p "$T/srv/osde" "$T/srv/nyc" "$T/backup"
seq 1 50000 | sed 's/^/osde-row-/' | L seal -a osde-2024 >"$T/srv/osde/nightly.sql.lethe"
seq 1 50000 | sed 's/^/nyc-row-/' | L seal -a nyc-doe >"$T/srv/nyc/nightly.sql.lethe"
cp "$T/srv/osde/nightly.sql.lethe" "$T/backup/osde.lethe"	# the tape
cp -a "$T/state/keys" "$T/backup/keys"				# keys/ backed up
cp "$T/state/kek" "$T/kek.before"				# to compare only

L run >"$T/run.out" 2>&1 || die "run failed: $(cat "$T/run.out")"
[[ ! -e $T/srv/osde/nightly.sql.lethe ]] || die "ciphertext name not removed"
cert=$(ls "$T/state/certificates/"*.cert | head -n 1)
id=$(basename "$cert" .cert)
today=$(date -u +%F)
grep -q "^tomb	osde-2024/all/1	osde-2024	all	1	.*	$today	$id$" "$T/state/keys/keystore" ||
	die "no tombstone: $(cat "$T/state/keys/keystore")"
cmp -s "$T/kek.before" "$T/state/kek" && die "the KEK was not replaced"
for f in "$T"/state/kek* "$T"/state/keys/*; do
	cmp -s "$T/kek.before" "$f" && die "$f still holds the old KEK"
done
ls "$T/state" "$T/state/keys" | qgrep -E '\.(new|old)$' && die "leftover .new/.old files"

# The backup copy: refused with the tombstone, exit 1, no output.
expect_exit 1 L unseal "$T/backup/osde.lethe" "$T/out.sql" 2>"$T/err"
grep -qF "key osde-2024/all/1 destroyed on $today (certificate $id)" "$T/err" || die "$(cat "$T/err")"
[[ ! -e $T/out.sql ]] || die "an OUT was left"
expect_exit 1 L unseal <"$T/backup/osde.lethe" >"$T/out.pipe" 2>/dev/null
[[ ! -s $T/out.pipe ]] || die "plaintext written for a destroyed key"

# The other agreement is untouched by the KEK rotation.
L unseal "$T/srv/nyc/nightly.sql.lethe" | cmp -s - <(seq 1 50000 | sed 's/^/nyc-row-/') ||
	die "nyc-doe data no longer unseals"

# Restoring keys/ from before the destruction does not bring osde back.
rm -rf "$T/state/keys"
cp -a "$T/backup/keys" "$T/state/keys"
expect_exit 1 L unseal "$T/backup/osde.lethe" "$T/out.sql" 2>"$T/err"
grep -q "does not verify under the KEK" "$T/err" || die "$(cat "$T/err")"
[[ ! -e $T/out.sql ]] || die "restored keys/ unsealed destroyed data"
echo ok
