#!/usr/bin/env bash
# SPEC §7 where §6.3 refuses overwrite: a dataset on btrfs, sealed before it
# was stored, is destroyed by crypto-shred.  `method = auto` picks it; the
# run destroys the agreement's keys, rotates the KEK, removes the ciphertext
# names; the certificate says crypto-erase / Purge; a copy of the ciphertext
# (as a backup would hold it) and a copy of keys/ taken before the run can
# no longer be unsealed; another agreement's sealed data still can.
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/img.sh"
need_image btrfs
mkimg btrfs 256
mkhost "$mnt/srv"
mkdir -p "$mnt/srv/exports/osde" "$mnt/srv/exports/tulsa" "$T/backup"
for id in osde-2024 tulsa-ps; do
	mkpolicy "$id" "lea = District $id" "contact = privacy@$id.example" \
		'dispose_after_termination = 30d' 'method = auto' <<POL
[dataset "exports"]
path = $mnt/srv/exports/${id%%-*}/*.lethe
categories = Assessment
POL
done
for n in Jordan_Alvarez Amara_Okafor; do
	mkdata "$T/plain-$n.csv" "MARK-SEALED-$n" 8
	# Sealed as it is produced (a pipe), so no plaintext copy is stored:
	# what makes the certificate's Purge true.
	cat "$T/plain-$n.csv" | L seal --agreement osde-2024 --category Assessment \
		>"$mnt/srv/exports/osde/$n.csv.lethe" || die "seal failed"
done
mkdata "$T/plain-tulsa.csv" KEEP-TULSA 2
L seal --agreement tulsa-ps --category Assessment "$T/plain-tulsa.csv" \
	"$mnt/srv/exports/tulsa/t.csv.lethe" || die "seal tulsa failed"
# Backups as an offsite copy would hold them, taken before the run.
cp "$mnt"/srv/exports/osde/*.lethe "$T/backup/"
cp -a "$T/state/keys" "$T/backup/keys"
L unseal "$T/backup/Jordan_Alvarez.csv.lethe" "$T/check.csv" || die "unseal before run"
cmp -s "$T/check.csv" "$T/plain-Jordan_Alvarez.csv" || die "round trip"
rm -f "$T/check.csv"

L terminate osde-2024 "$(days_ago 5)" >/dev/null
run_lethe
[[ $run_rc == 0 ]] || die "run exit $run_rc: $(cat "$T/run.out" "$T/run.err")"
[[ -z $(ls "$mnt/srv/exports/osde") ]] || die "ciphertext names left"
c=$(ls -t "$T"/state/certificates/*.cert 2>/dev/null | head -n 1)
[[ -n $c ]] || die "no certificate"
grep -q '^technique = crypto-erase$' "$c" || die "technique: $(grep technique "$c")"
grep -q '^method_type = Purge (crypto-erase)$' "$c" || die "method_type: $(grep method_type "$c")"
grep -q '^type = btrfs$' "$c" || die "media type: $(grep '^type' "$c")"
openssl cms -verify -binary -inform PEM -in "$c.p7s" -content "$c" \
	-CAfile "$T/certs/ca.pem" -out /dev/null 2>/dev/null || die "stock openssl rejects"

# The backup copy is noise now, even with the old keys/ restored.
id=$(basename "$c" .cert)
expect_exit 1 L unseal "$T/backup/Jordan_Alvarez.csv.lethe" "$T/out1" 2>"$T/err1"
grep -q "destroyed on .*$id" "$T/err1" || die "unseal message: $(cat "$T/err1")"
L unseal "$mnt/srv/exports/tulsa/t.csv.lethe" "$T/tulsa.csv" || die "tulsa's data no longer unseals"
cmp -s "$T/tulsa.csv" "$T/plain-tulsa.csv" || die "tulsa's data changed"
rm -rf "$T/state/keys" && cp -a "$T/backup/keys" "$T/state/keys"
expect_exit 1 L unseal "$T/backup/Jordan_Alvarez.csv.lethe" "$T/out2" 2>/dev/null
[[ ! -e $T/out1 && ! -e $T/out2 ]] || die "unseal wrote output"
echo "ok"
