#!/usr/bin/env bash
# Issue 10, item 3: a file matched by several datasets of a disposition is
# one object, destroyed once and counted once.  Two overlapping datasets
# used to fail the disposition ("No such file or directory" on the second
# attempt); thousands of them counted 90,503 files for 503.  Here: many
# overlapping datasets over 503 files, dry run and run agree on 503, the
# run succeeds, and the certificate says 503.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
for d in $(seq 1 20); do
	mkdir -p "$T/srv/acme/d$d"
	for f in $(seq 1 25); do echo "row $d $f" >"$T/srv/acme/d$d/f$f.csv"; done
done
for f in 1 2 3; do echo "top $f" >"$T/srv/acme/top$f.csv"; done
ndup=${LETHE_TEST_OVERLAPS:-2000}
{
	cat <<P
[dataset "everything"]
path = $T/srv/acme/**
categories = Other

[dataset "csv"]
path = $T/srv/acme/**/*.csv
categories = Assessment
P
	for i in $(seq 1 "$ndup"); do
		printf '\n[dataset "d%d"]\npath = %s/srv/acme/d%d/*.csv\ncategories = Attendance\n' \
			"$i" "$T" $((i % 20 + 1))
	done
} | mkpolicy acme 'method = overwrite'
L terminate acme "$(days_ago 5)" >/dev/null
start=$SECONDS
L run --dry-run >"$T/dry" 2>&1 || die "dry run: $(tail -n 5 "$T/dry")"
grep -q 'would destroy 503 files' "$T/dry" || die "dry run count: $(head -c 600 "$T/dry")"
L run >"$T/run" 2>&1 || die "run: $(head -c 2000 "$T/run")"
secs=$((SECONDS - start))
(($(wc -l <"$T/run") <= 5)) || die "run printed $(wc -l <"$T/run") lines"
[[ -z $(find "$T/srv/acme" -type f) ]] || die "files left: $(find "$T/srv/acme" -type f | head)"
[[ $(certs_files acme) == 503 ]] || die "certified $(certs_files acme) files, destroyed 503"
((secs < 120)) || die "took ${secs}s"
echo "ok: $ndup overlapping datasets, 503 files, dry run + run in ${secs}s"
