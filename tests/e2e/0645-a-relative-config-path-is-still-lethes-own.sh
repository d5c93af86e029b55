#!/usr/bin/env bash
# lethe's own files are never data (SPEC §5), however the config file was
# named: `lethe -c lethe.conf` from its own directory, inside a dataset's
# glob, is refused by `check` and `run` exactly as the absolute path is,
# and nothing is touched.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
mkdata "$T/srv/acme/data/a.csv" MARK
mkdir -p "$T/srv/acme/etc"
mv "$T/lethe.conf" "$T/srv/acme/etc/lethe.conf"
mkpolicy acme <<P
[dataset "all"]
path = $T/srv/acme/**
categories = Other
P
expect_exit 2 "$LETHE" -c "$T/srv/acme/etc/lethe.conf" check >"$T/abs" 2>&1
cd "$T/srv/acme/etc"
expect_exit 2 "$LETHE" -c lethe.conf check >"$T/rel" 2>&1
grep -q 'the config file' "$T/rel" || die "check: $(cat "$T/rel")"
expect_exit 2 "$LETHE" -c lethe.conf run --dry-run >"$T/dry" 2>&1
expect_exit 2 "$LETHE" -c lethe.conf run >"$T/run" 2>&1
cd /
qgrep -a 'MARK' "$T/srv/acme/data/a.csv" || die "data touched"
grep -q '^\[agent\]' "$T/srv/acme/etc/lethe.conf" || die "the config file was touched"
echo ok
