#!/usr/bin/env bash
# lethe seal --replace FILE (SPEC §7, §8): FILE becomes FILE.lethe, the
# plaintext is overwritten and removed only after the sealed copy reads
# back; the key records the date data was sealed after the fact (for the
# certificate's "plaintext copies cleared by overwrite on DATE"); the journal
# names the agreement and key, never the file.  Refused: files outside
# allowed_roots, symlinks, hard-linked files, an existing FILE.lethe.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/srv/exports" "$T/elsewhere" "$T/policies.d"
mkconf --bare
mkpolicy osde-2024 'lea = Oklahoma State Department of Education' \
	'contact = privacy@sde.example' <<POL
[dataset "exports"]
path = $T/srv/exports/*.lethe
categories = Assessment
POL
today=$(date -u +%F)

f=$T/srv/exports/screener-2026-q3.csv
for i in $(seq 1 20000); do echo "MARKER-STUDENT-$i,ana-$i,91"; done >"$f"
cp "$f" "$T/original.csv"
ino=$(stat -c %i "$f")
L seal -a osde-2024 --category Assessment --replace "$f"
[[ ! -e $f ]] || die "the plaintext is still there"
[[ -f $f.lethe ]] || die "no $f.lethe"
L unseal "$f.lethe" "$T/back.csv"
cmp -s "$T/original.csv" "$T/back.csv" || die "the sealed copy does not unseal to the original"
grep -q "^key	osde-2024/assessment/1	osde-2024	Assessment	1	$today	$today	" \
	"$T/state/keys/keystore" || die "sealed-after date not recorded: $(cat "$T/state/keys/keystore")"
grep -q " seal-replaced agreement=osde-2024 key=osde-2024/assessment/1 " "$T/state/journal" ||
	die "no seal-replaced event: $(cat "$T/state/journal")"
! grep -q screener "$T/state/journal" || die "the journal names the file"
L journal verify >/dev/null || die "journal does not verify"

# Refusals: exit 2, nothing changed.
echo secret >"$T/elsewhere/out.csv"
expect_exit 2 L seal -a osde-2024 --replace "$T/elsewhere/out.csv" 2>"$T/err"
grep -q "not inside allowed_roots" "$T/err" || die "$(cat "$T/err")"
[[ -f $T/elsewhere/out.csv && ! -e $T/elsewhere/out.csv.lethe ]] || die "outside file touched"
echo data >"$T/srv/exports/real.csv"
ln -s real.csv "$T/srv/exports/link.csv"
expect_exit 2 L seal -a osde-2024 --replace "$T/srv/exports/link.csv" 2>"$T/err"
grep -q "symbolic link" "$T/err" || die "$(cat "$T/err")"
ln "$T/srv/exports/real.csv" "$T/srv/exports/hard.csv"
expect_exit 2 L seal -a osde-2024 --replace "$T/srv/exports/real.csv" 2>"$T/err"
grep -q "other hard links" "$T/err" || die "$(cat "$T/err")"
rm "$T/srv/exports/hard.csv"
echo old >"$T/srv/exports/real.csv.lethe"
expect_exit 2 L seal -a osde-2024 --replace "$T/srv/exports/real.csv" 2>"$T/err"
grep -q "already exists" "$T/err" || die "$(cat "$T/err")"
[[ $(cat "$T/srv/exports/real.csv") == data && $(cat "$T/srv/exports/real.csv.lethe") == old ]] ||
	die "a refused --replace changed files"
expect_exit 2 L seal -a osde-2024 --replace "$f.lethe" 2>"$T/err"
grep -q "already sealed" "$T/err" || die "$(cat "$T/err")"
echo ok
