#!/usr/bin/env bash
# Issue 14, item 4: method_type is decided per file from facts.  A file
# sealed from a pipe before any plaintext was stored: Purge (crypto-erase).
# A file sealed with --replace (plaintext overwritten): Purge with the
# "plaintext copies cleared by overwrite on DATE" caveat, also in a mixed
# disposition.  A file sealed from a regular file that lethe did not clear:
# crypto-erase, never Purge.  Plaintext overwritten: Clear (file-level).
# A mixed disposition states each part with its own count.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
for id in p r k m; do
	mkpolicy $id 'method = auto' <<P
[dataset "files"]
path = $T/srv/$id/*
categories = Other
P
	mkdir -p "$T/srv/$id"
done
today=$(date -u +%F)
seq 1 100 | L seal -a p >"$T/srv/p/pipe.lethe"
seq 1 100 >"$T/srv/r/plain.csv"
L seal -a r --replace "$T/srv/r/plain.csv" || die "seal --replace"
seq 1 100 >"$T/plain-k.csv"
L seal -a k "$T/plain-k.csv" "$T/srv/k/file.lethe" || die "seal FILE OUT"
seq 1 100 >"$T/srv/m/plain.csv"
L seal -a m --replace "$T/srv/m/plain.csv" || die "seal --replace (m)"
seq 1 100 >"$T/srv/m/left-plain.csv"
for id in p r k m; do L terminate $id "$(days_ago 1)" >/dev/null; done
L run >"$T/run" 2>&1 || die "run: $(cat "$T/run")"
mt() {	# ID: the whole method_type of ID's certificate
	sed -n '/^method_type/,/^technique/p' "$T"/state/certificates/"$1"-*.cert |
		grep -v '^technique' | sed 's/^method_type[_0-9]* = //' | tr '\n' ' '
}
[[ $(mt p) == 'Purge (crypto-erase) ' ]] || die "p: $(mt p)"
[[ $(mt r) == "Purge (crypto-erase; plaintext copies cleared by overwrite on $today) " ]] || die "r: $(mt r)"
grep -q '^crypto-erase, not Purge: plaintext was sealed from files on' <<<"$(mt k)" || die "k: $(mt k)"
grep -q 'Purge' <<<"$(mt k | sed 's/not Purge//')" && die "k claims Purge: $(mt k)"
grep -q '^Clear (file-level) for 1 files: .*; Purge (crypto-erase; plaintext copies cleared by overwrite on '"$today"') for 1 files' <<<"$(mt m)" ||
	die "m: $(mt m)"
for c in "$T"/state/certificates/*.cert; do
	L verify --ca "$T/certs/ca.pem" "$c" >/dev/null || die "verify $c"
done
echo ok
