#!/usr/bin/env bash
# bench/history.sh: years of history (SPEC §10, issue 13).  A host with
# NAGR agreements (default 10,000), each terminated long ago, whose
# dispositions destroyed NFILES files in all (default 1,000,000), certified
# and delivered.  The journal holds what lethe writes for that: a few lines
# per disposition, none per file.  Times `lethe plan` and a whole
# `lethe run` (which finds nothing to do) over it.  Target: plan under 1 s.
#   bench/history.sh [NAGR] [NFILES]
set -euo pipefail
. "$(dirname "$0")/lib.bash"
nagr=${1:-10000}
nfiles=${2:-1000000}
bench_workdir hist
bench_conf "$W"
mkdir -p "$W/state"
chmod 0700 "$W/state"
python3 - "$W/pol" "$W/srv" "$nagr" <<'PY'
import os, sys
pol, srv, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for a in range(n):
    i = "a%05d" % a
    with open(os.path.join(pol, i + ".ini"), "w") as f:
        f.write("[agreement]\nid = %s\nlea = District %s\ncontact = dpo@%s.example\n"
                "method = overwrite\n\n[dataset \"uploads\"]\npath = %s/%s/**\n"
                "categories = Student work\n" % (i, i, i, srv, i))
PY
objs=$(bench_objs)
cc -std=c17 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -O2 -iquote "$top/agent" \
	-o "$W/mkhistory" "$top/bench/mkhistory.c" $objs \
	$(pkg-config --libs libcrypto libarchive inih) -lpthread
echo "building the history ..."
"$W/mkhistory" "$W/state" "$nagr" "$nfiles" "$W/certs/agent.key" \
	"$W/certs/agent.pem" "$W/certs/ca.pem"
echo "journal: $(wc -l <"$W/state/journal") lines, $(du -h "$W/state/journal" | cut -f1)"
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N); echo "$e - $s" | bc; }
for k in 1 2 3; do
	p[$k]=$(t "$LETHE" -c "$W/lethe.conf" plan)
done
r=$(t "$LETHE" -c "$W/lethe.conf" run)
states=$("$LETHE" -c "$W/lethe.conf" plan --tsv | awk -F'\t' 'NR > 1 { print $6 }' | sort | uniq -c | tr '\n' ' ')
med=$(printf '%s\n' "${p[@]}" | sort -g | sed -n 2p)
printf '  lethe plan   %6.2f s (median of 3; target < 1 s)   rows: %s\n' "$med" "$states"
printf '  lethe run    %6.2f s (nothing due)\n' "$r"
