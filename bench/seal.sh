#!/usr/bin/env bash
# bench/seal.sh: `lethe seal` and `lethe unseal` (AES-256-GCM, 64 KiB
# chunks, streaming) against `openssl enc -aes-256-ctr` (-d for the reverse)
# on the same input, in one run; and peak RSS for a small and a large input.
#   bench/seal.sh [SIZE_MIB]      (default 1024)
# Targets (SPEC §10): throughput at least 0.8x openssl's, both directions;
# peak RSS constant in the input size (the large input's within 1 MiB of
# the small one's).  Each tool runs 3 times, interleaved; the best time
# counts.  Input and output stay in the page cache / go to /dev/null, so the
# figures compare the tools, not the disk; a file-to-file run (lethe's
# fsync + rename against openssl followed by sync) is shown too.
# Prints one line per measurement and a verdict; exit 0 when targets met.
set -euo pipefail
. "$(dirname "$0")/lib.bash"
size=${1:-1024}
small=100
[[ -x /usr/bin/time ]] || { echo "SKIPPED: needs GNU time (/usr/bin/time -v)"; exit 77; }
command -v openssl >/dev/null || { echo "SKIPPED: needs openssl"; exit 77; }
bench_workdir seal

bench_conf "$W"
cat >"$W/pol/bench.ini" <<POL
[agreement]
id = bench
lea = Bench LEA
contact = privacy@lea.example
[dataset "dumps"]
path = $W/srv/*.lethe
categories = Assessment
POL
L() { "$LETHE" -c "$W/lethe.conf" "$@"; }
K=$(openssl rand -hex 32)
IV=$(openssl rand -hex 16)

echo "making ${size} MiB and ${small} MiB random inputs in $W ..."
head -c "${size}M" /dev/urandom >"$W/in"
head -c "${small}M" /dev/urandom >"$W/small"
L seal -a bench <"$W/in" >"$W/in.lethe"
openssl enc -aes-256-ctr -K "$K" -iv "$IV" -in "$W/in" -out "$W/in.ctr"
cat "$W/in" "$W/in.lethe" "$W/in.ctr" >/dev/null	# warm the page cache

# run NAME CMD...: elapsed seconds and peak RSS (KiB) into $W/NAME.N
run() {
	local name=$1; shift
	/usr/bin/time -f "%e %M" -o "$W/$name.$((++count))" "$@"
}
best() {	# NAME: the best time and its RSS
	sort -n "$W/$1".* | head -n 1
}
count=0
for i in 1 2 3; do
	run lseal  sh -c "\"$LETHE\" -c \"$W/lethe.conf\" seal -a bench <\"$W/in\" >/dev/null"
	run oenc   openssl enc -aes-256-ctr -K "$K" -iv "$IV" -in "$W/in" -out /dev/null
	run lopen  sh -c "\"$LETHE\" -c \"$W/lethe.conf\" unseal <\"$W/in.lethe\" >/dev/null"
	run odec   openssl enc -d -aes-256-ctr -K "$K" -iv "$IV" -in "$W/in.ctr" -out /dev/null
done
# File to file, once each (disk included).
run lfile "$LETHE" -c "$W/lethe.conf" seal -a bench "$W/in" "$W/srv/out.lethe"
run ofile sh -c "openssl enc -aes-256-ctr -K $K -iv $IV -in \"$W/in\" -out \"$W/srv/out.ctr\" && sync \"$W/srv/out.ctr\""
rm -f "$W/srv/out.lethe" "$W/srv/out.ctr"
# Peak RSS: small against large input (the lethe process itself).
run rss_seal_small "$LETHE" -c "$W/lethe.conf" seal -a bench "$W/small" "$W/srv/s.lethe"
run rss_seal_large "$LETHE" -c "$W/lethe.conf" seal -a bench "$W/in" "$W/srv/l.lethe"
run rss_unseal_small "$LETHE" -c "$W/lethe.conf" unseal "$W/srv/s.lethe" "$W/srv/s.out"
run rss_unseal_large "$LETHE" -c "$W/lethe.conf" unseal "$W/srv/l.lethe" "$W/srv/l.out"
cmp -s "$W/in" "$W/srv/l.out" || { echo "FAIL: unsealed output differs"; exit 1; }

mib=$size
rate() { awk -v t="$1" -v m="$mib" 'BEGIN { printf "%.0f", m / t }'; }
read -r ls_t _ < <(best lseal)
read -r oe_t _ < <(best oenc)
read -r lo_t _ < <(best lopen)
read -r od_t _ < <(best odec)
read -r lf_t _ < <(best lfile)
read -r of_t _ < <(best ofile)
read -r _ r1 < <(best rss_seal_small)
read -r _ r2 < <(best rss_seal_large)
read -r _ r3 < <(best rss_unseal_small)
read -r _ r4 < <(best rss_unseal_large)
sr=$(awk -v a="$oe_t" -v b="$ls_t" 'BEGIN { printf "%.2f", a / b }')
ur=$(awk -v a="$od_t" -v b="$lo_t" 'BEGIN { printf "%.2f", a / b }')
fr=$(awk -v a="$of_t" -v b="$lf_t" 'BEGIN { printf "%.2f", a / b }')
printf '  %-44s %6.2f s  %5s MiB/s\n' "lethe seal (${size} MiB, to /dev/null)" "$ls_t" "$(rate "$ls_t")"
printf '  %-44s %6.2f s  %5s MiB/s\n' "openssl enc -aes-256-ctr" "$oe_t" "$(rate "$oe_t")"
printf '  %-44s %6.2f s  %5s MiB/s\n' "lethe unseal (to /dev/null)" "$lo_t" "$(rate "$lo_t")"
printf '  %-44s %6.2f s  %5s MiB/s\n' "openssl enc -d -aes-256-ctr" "$od_t" "$(rate "$od_t")"
printf '  %-44s %6.2f s  %5s MiB/s\n' "lethe seal IN OUT (fsync, rename)" "$lf_t" "$(rate "$lf_t")"
printf '  %-44s %6.2f s  %5s MiB/s\n' "openssl enc -in IN -out OUT; sync" "$of_t" "$(rate "$of_t")"
echo "  throughput vs openssl: seal ${sr}x, unseal ${ur}x (target >= 0.8x); file to file ${fr}x"
echo "  peak RSS: seal ${small} MiB ${r1} KiB, ${size} MiB ${r2} KiB; unseal ${small} MiB ${r3} KiB, ${size} MiB ${r4} KiB"
ok=1
awk -v r="$sr" 'BEGIN { exit !(r >= 0.8) }' || ok=0
awk -v r="$ur" 'BEGIN { exit !(r >= 0.8) }' || ok=0
(( r2 - r1 <= 1024 && r4 - r3 <= 1024 )) || ok=0
if ((ok)); then echo "  verdict: targets met"; else echo "  verdict: TARGET MISSED"; exit 1; fi
