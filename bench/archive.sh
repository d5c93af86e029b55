#!/usr/bin/env bash
# bench/archive.sh: removing one district's members from a ~1 GiB tar.gz
# (lethe's archive_remove_members: verify pass, rewrite, read-back check,
# overwrite + verify of the old blocks) against bsdtar recompressing the
# same archive without those members (`bsdtar -czf out --exclude @in`), one
# run, same gzip level (libarchive's default, 6, for both).
#   bench/archive.sh [SIZE_MIB]     (default 1024: size of the tar.gz)
# Targets (SPEC §10): time within 1.5x of bsdtar; peak RSS under 64 MiB.
# Prints one line per tool and a verdict; exit 0 when both targets are met.
set -euo pipefail
. "$(dirname "$0")/lib.bash"
size=${1:-1024}
W=$(mktemp -d "${TMPDIR:-/var/tmp}/lethe-bench-archive.XXXXXX")
trap 'rm -rf "$W"' EXIT
[[ -x /usr/bin/time ]] || { echo "SKIPPED: needs GNU time (/usr/bin/time -v)"; exit 77; }
command -v bsdtar >/dev/null || { echo "SKIPPED: needs bsdtar"; exit 77; }

# A driver around the module, linked with the agent's objects.
make -C "$top" -s all >/dev/null
cat >"$W/drv.c" <<'EOF'
#include "sanitize/archive.h"
#include "base/err.h"
#include "conf/policy.h"
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int
main(int argc, char **argv)
{
	struct archive_opts o = { .pattern = PATTERN_ZERO, .verify = VERIFY_FULL };
	struct archive_result r;
	struct err e = { { 0 } };
	char d[4096], b[4096];
	if (argc != 3)
		return 2;
	snprintf(d, sizeof(d), "%s", argv[1]);
	snprintf(b, sizeof(b), "%s", argv[1]);
	int dfd = open(dirname(d), O_RDONLY | O_DIRECTORY);
	int rc = archive_remove_members(dfd, basename(b), argv[1], argv[2], &o, &r, &e);
	if (rc != 0) {
		fprintf(stderr, "lethe: %s\n", e.msg);
		return 1;
	}
	printf("removed %ju members (%ju bytes), kept %ju; %s; %ju -> %ju bytes; "
	    "old blocks overwritten %ju, verified %ju\n",
	    (uintmax_t)r.members_removed, (uintmax_t)r.bytes_removed,
	    (uintmax_t)r.members_kept, r.format, (uintmax_t)r.old_size,
	    (uintmax_t)r.new_size, (uintmax_t)r.old.size, (uintmax_t)r.old.verified);
	return 0;
}
EOF
objs=$(bench_objs)
cc -std=c17 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -O2 -iquote "$top/agent" -o "$W/drv" \
	"$W/drv.c" $objs $(pkg-config --libs libcrypto libarchive inih)

# Two districts of CSV-like text and binary exports; ~10% is osde's.
echo "making a ~${size} MiB tar.gz in $W ..."
python3 - "$W/src" "$size" <<'PY'
import os, random, sys
root, size = sys.argv[1], int(sys.argv[2]) * 1024 * 1024
random.seed(7)
names = ['Jordan', 'Amara', 'Luis', 'Maya', 'Noah', 'Ava', 'Liam', 'Zoe']
written, i = 0, 0
while written < size * 1.15:	# gzip shrinks the text part
    d = 'osde' if i % 10 == 0 else 'tulsa'
    p = os.path.join(root, d, 'school%02d' % (i % 37))
    os.makedirs(p, exist_ok=True)
    if i % 3 == 0:
        data = os.urandom(8 * 1024 * 1024)
        f = 'export%05d.bin' % i
    else:
        rows = ['%d,%s,%s,%d,%.2f\n' % (j, random.choice(names), d, random.randint(1, 12),
                random.random() * 100) for j in range(120000)]
        data = ''.join(rows).encode()
        f = 'roster%05d.csv' % i
    open(os.path.join(p, f), 'wb').write(data)
    written += len(data) if f.endswith('.bin') else len(data) // 4
    i += 1
PY
tar -czf "$W/in.tar.gz" -C "$W/src" osde tulsa
rm -rf "$W/src"
cp "$W/in.tar.gz" "$W/lethe.tar.gz"
echo "archive: $(du -m "$W/in.tar.gz" | cut -f1) MiB, $(tar -tzf "$W/in.tar.gz" | wc -l) members"

drop() { sync; [[ -w /proc/sys/vm/drop_caches ]] && echo 3 >/proc/sys/vm/drop_caches || true; }
measure() {	# OUT CMD...: wall seconds and peak RSS KiB into OUT
	local out=$1; shift
	/usr/bin/time -f '%e %M' -o "$out" "$@"
}
drop
measure "$W/t.bsdtar" bsdtar -czf "$W/bsdtar.tar.gz" --exclude 'osde' @"$W/in.tar.gz"
drop
measure "$W/t.lethe" "$W/drv" "$W/lethe.tar.gz" 'osde/**'

read -r bs bm <"$W/t.bsdtar"
read -r ls lm <"$W/t.lethe"
# Same members left by both.
cmp <(tar -tzf "$W/bsdtar.tar.gz") <(tar -tzf "$W/lethe.tar.gz") >/dev/null ||
	{ echo "FAIL: lethe and bsdtar kept different members"; exit 1; }
ratio=$(python3 -c "print('%.2f' % ($ls / $bs))")
printf '%-44s %8.2f s %8d KiB peak RSS\n' "bsdtar -czf out --exclude osde @in" "$bs" "$bm"
printf '%-44s %8.2f s %8d KiB peak RSS\n' "lethe archive_remove_members (all passes)" "$ls" "$lm"
echo "ratio ${ratio}x (target <= 1.5x); lethe peak RSS $((lm / 1024)) MiB (target < 64 MiB)"
ok=$(python3 -c "print(int($ls <= 1.5 * $bs and $lm < 65536))")
[[ $ok == 1 ]] && echo "PASS" || { echo "MISS"; exit 1; }
