#!/usr/bin/env bash
# bench/cryptoshred.sh: crypto-shred time does not depend on the data's
# size (SPEC §10, §7).  Two hosts, each with one agreement whose dataset is
# sealed: 16 MiB on one, SIZE MiB (default 1024) on the other.  A whole
# `lethe run` (destroy the key, rotate the KEK, overwrite the old keystore
# and KEK, unlink the ciphertext, certify, checkpoint) is timed on each.
# Targets: the two within noise of each other, each under 0.5 s.
#   bench/cryptoshred.sh [SIZE_MIB]
set -euo pipefail
. "$(dirname "$0")/lib.bash"
size=${1:-1024}
bench_workdir cs

host() {	# DIR MIB
	local d=$1 mib=$2
	bench_conf "$d"
	mkdir -p "$d/srv/sealed"
	cat >"$d/pol/a.ini" <<POL
[agreement]
id = bench
lea = Bench District
contact = dpo@district.example
dispose_after_termination = 30d
method = crypto-shred
[dataset "sealed"]
path = $d/srv/sealed/*.lethe
categories = Assessment
POL
	head -c "${mib}M" /dev/urandom |
		"$LETHE" -c "$d/lethe.conf" seal --agreement bench --category Assessment \
			- "$d/srv/sealed/data.lethe"
	sync
	"$LETHE" -c "$d/lethe.conf" terminate bench "$(date -u -d '-1 day' +%F)" >/dev/null
}

timed_run() {	# DIR -> seconds
	local s e
	s=$(date +%s.%N)
	"$LETHE" -c "$1/lethe.conf" run >/dev/null
	e=$(date +%s.%N)
	echo "$e - $s" | bc -l
}

host "$W/small" 16
host "$W/large" "$size"
ts=$(timed_run "$W/small")
tl=$(timed_run "$W/large")
[[ -z $(find "$W/small/srv/sealed" "$W/large/srv/sealed" -type f) ]] || { echo "ciphertext left"; exit 1; }
# The certificate records how long destroying the keys took.
ks=$(cat "$W"/small/state/certificates/*.cert | tr '\n' ' ' | grep -o 'destroyed in [0-9]* ms' | grep -o '[0-9]*')
kl=$(cat "$W"/large/state/certificates/*.cert | tr '\n' ' ' | grep -o 'destroyed in [0-9]* ms' | grep -o '[0-9]*')
printf 'key destruction (from the certificate), 16 MiB sealed:   %s ms\n' "$ks"
printf 'key destruction (from the certificate), %s MiB sealed: %s ms\n' "$size" "$kl"
printf 'whole lethe run, 16 MiB sealed:   %.3f s\n' "$ts"
printf 'whole lethe run, %s MiB sealed: %.3f s\n' "$size" "$tl"
printf '(the whole run also unlinks the ciphertext; freeing its blocks is the\n'
printf ' filesystem'"'"'s work and grows with size, e.g. with the discard mount option)\n'
ok=$(echo "$ks < 50 && $kl < 50 && $ts < 0.5" | bc -l)
((ok == 1)) && echo "verdict: key destruction under 50 ms at both sizes: met" ||
	{ echo "verdict: NOT met"; exit 1; }
