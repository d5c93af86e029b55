#!/usr/bin/env bash
# A dataset names files.  `path = ROOT/acme/*` over a directory that holds
# only directories used to match nothing and be certified as files = 0,
# complete, while every file stayed (as a path naming a directory did,
# 0624).  Now a glob whose last component matches a directory it cannot
# reach into, and that directory is not empty, is refused: `check` says so,
# `plan`, the dry run and run name the directory and suggest DIR/**,
# nothing is destroyed or certified; an empty directory matched is no
# matter, and once the glob is written ROOT/acme/** everything is
# destroyed and certified complete.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
mkdata "$T/srv/acme/2024/a.csv" MARK-A 2
mkdata "$T/srv/acme/2025/b.csv" MARK-B 2
mkpolicy acme 'method = overwrite' <<P
[dataset "all"]
path = $T/srv/acme/*
categories = Other
P
expect_exit 2 L check >"$T/check" 2>&1
grep -q "matches 2 directories that are not empty (first: $T/srv/acme/2024).*write $T/srv/acme/\*\* to destroy everything below $T/srv/acme" "$T/check" ||
	die "check: $(cat "$T/check")"
L terminate acme "$(days_ago 40)" >/dev/null 2>&1 || true
rc=0
L plan >"$T/plan" 2>&1 || rc=$?
qgrep "$T/srv/acme/202[45]" <"$T/plan" || die "plan (exit $rc) does not name the directory: $(cat "$T/plan")"
expect_exit 1 L run --dry-run >"$T/dry" 2>&1
grep -q "matches 2 directories that are not empty (first: $T/srv/acme/202[45])" "$T/dry" ||
	die "dry run: $(cat "$T/dry")"
expect_exit 1 L run >"$T/run" 2>&1
grep -q "write $T/srv/acme/\*\* to destroy everything below" "$T/run" || die "run: $(cat "$T/run")"
qgrep -a MARK-A <"$T/srv/acme/2024/a.csv" || die "a file was destroyed"
qgrep -a MARK-B <"$T/srv/acme/2025/b.csv" || die "a file was destroyed"
[[ -z $(ls "$T/state/certificates" 2>/dev/null) ]] || die "a certificate was issued"

# An empty directory beside the files a glob names is no matter.
rm -rf "$T/srv/acme"
mkdata "$T/srv/acme/a.csv" MARK-A 2
mkdir -p "$T/srv/acme/empty.d"
L check >"$T/check" 2>&1 || die "check with an empty directory: $(cat "$T/check")"
rc=0
L run --dry-run >"$T/dry" 2>&1 || rc=$?
[[ $rc == 3 ]] || die "dry run with an empty directory (exit $rc, not 3: overdue): $(cat "$T/dry")"

# Written as the message says, the same data is destroyed and certified.
rm -rf "$T/srv/acme"
mkdata "$T/srv/acme/2024/a.csv" MARK-A 2
mkdata "$T/srv/acme/2025/b.csv" MARK-B 2
sed -i "s|^path = .*|path = $T/srv/acme/**|" "$T/policies.d/acme.ini"
L check >"$T/check" 2>&1 || die "check with acme/**: $(cat "$T/check")"
rc=0
L run >"$T/run" 2>&1 || rc=$?
[[ $rc == 0 || $rc == 3 ]] || die "run with acme/** (exit $rc): $(cat "$T/run")"
[[ ! -e $T/srv/acme/2024/a.csv && ! -e $T/srv/acme/2025/b.csv ]] || die "files left"
[[ $(certs_files acme) == 2 ]] || die "certified $(certs_files acme) files, not 2"
qgrep -x 'result = complete' <"$(ls "$T"/state/certificates/acme-*.cert)" || die "not complete"
echo ok
