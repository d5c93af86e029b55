#!/usr/bin/env bash
# bench/verify.sh [N]: `lethe verify` throughput (SPEC §10: >= 500
# certificates a second).  Makes N (default 1000) distinct signed
# certificates with manifests, then times (a) one `lethe verify` given all N
# and (b) N separate `lethe verify` runs, one certificate each (how a shell
# loop of an auditor's would do it).  Prints certificates per second for both.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
LETHE=${LETHE:-$top/build/lethe}
N=${1:-1000}
[[ -x $LETHE ]] || { echo "bench/verify: $LETHE not built (make)" >&2; exit 2; }
command -v openssl >/dev/null || { echo "SKIPPED: no openssl"; exit 77; }
T=$(mktemp -d /tmp/lethe-bench-verify.XXXXXX)
trap 'rm -rf "$T"' EXIT

"$top/certs/mkca" --vendor "Bench Vendor" --host bench-host "$T/pki" 2>/dev/null
now=$(date -u +%s)
issued=$(date -u -d "@$now" +%FT%TZ)
started=$(date -u -d "@$((now - 600))" +%FT%TZ)
completed=$(date -u -d "@$((now - 60))" +%FT%TZ)
today=$(date -u -d "@$((now - 60))" +%F)
tdate=$(date -u -d "$today -5 days" +%F)
deadline=$(date -u -d "$today +55 days" +%F)
certify_by=$(date -u -d "$today +10 days" +%F)
head=$(printf x | sha256sum | cut -c1-64)

echo "making $N signed certificates ..." >&2
mkdir -p "$T/c"
for ((i = 1; i <= N; i++)); do
	id=$(printf 'bench-%05d' "$i")
	printf 'path\tsize\tsha256\n/srv/x/%d.csv\t%d\t%s\n' "$i" "$i" "$head" >"$T/c/$id.manifest"
	msha=$(sha256sum <"$T/c/$id.manifest" | cut -c1-64)
	cat >"$T/c/$id.cert" <<CERT
[certificate]
id = $id
issued = $issued
standard = NIST SP 800-88 Rev. 2
tool = lethe bench
host = bench-host
journal_seq = $i
journal_head = $head

[agreement]
id = bench
lea = Bench LEA
vendor = Bench Vendor
trigger = termination
trigger_date = $tdate
deadline = $deadline
deadline_met = yes
timezone = UTC

[media]
type = ext4
uuid = unknown
device = /dev/vda1
model = unknown
serial = unknown
rotational = no
source = bench

[sanitization]
performed_by = lethe on bench-host
method_type = Clear (file-level)
technique = overwrite
method_details = 1 pass of zeros
verification = full
started = $started
completed = $completed
remaining_matches = 0
post_sanitization_destination = none
exceptions = none

[data]
categories = Assessment
files = 1
bytes = $i
manifest_sha256 = $msha
retained = none
holds = none

[delivery]
certify_by = $certify_by
CERT
	openssl cms -sign -binary -md sha256 -nosmimecap -in "$T/c/$id.cert" \
		-signer "$T/pki/agent.pem" -inkey "$T/pki/agent.key" \
		-certfile "$T/pki/ca.pem" -outform PEM -out "$T/c/$id.cert.p7s"
done

cd "$T/c"
ns() { date +%s%N; }
rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", n / (t / 1e9) }'; }

t0=$(ns)
"$LETHE" verify --ca "$T/pki/ca.pem" -q ./*.cert >"$T/out" || { tail -n 3 "$T/out"; exit 1; }
t1=$(ns)
grep -qx "$N certificates: $N valid, 0 invalid" "$T/out" || { tail -n 3 "$T/out"; exit 1; }
one=$(rate "$N" $((t1 - t0)))

t0=$(ns)
for f in ./*.cert; do
	"$LETHE" verify --ca "$T/pki/ca.pem" -q "$f" >/dev/null
done
t1=$(ns)
loop=$(rate "$N" $((t1 - t0)))

printf 'lethe verify, %d certificates (signature + chain + fields + manifest each):\n' "$N"
printf '  one invocation, %d CERT arguments: %6d certificates/s\n' "$N" "$one"
printf '  %d invocations, one CERT each:    %6d certificates/s\n' "$N" "$loop"
printf '  target (SPEC 10): >= 500/s: %s\n' "$( ((one >= 500)) && echo met || echo NOT MET)"
