#!/usr/bin/env bash
# A dataset names files.  `path = ROOT/acme/*` over a directory that holds
# only directories used to match nothing and be certified as files = 0,
# complete, while every file stayed (as a path naming a directory did,
# 0624).  Now a directory that a glob's last component matches, below which
# nothing matched, and that is not empty, is refused by object: `check`
# names it (exit 2); plan, the dry run and run name it and start nothing
# while nothing else is due; beside files that are due it makes the
# disposition partial, never complete.  This holds however the glob gets
# there (a leading **), a user who makes such a directory can only make
# the certificate partial, never stop the rest, and an empty directory
# matched is no matter.  Written as the message says, all is destroyed.
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
qgrep "blocked: 2 refused: 2 directories matched whose files the glob does not name (first: $T/srv/acme/202[45]" <"$T/plan" ||
	die "plan (exit $rc) does not name the directory: $(cat "$T/plan")"
rc=0
L run --dry-run >"$T/dry" 2>&1 || rc=$?
qgrep "2 directories matched whose files the glob does not name" <"$T/dry" || die "dry run (exit $rc): $(cat "$T/dry")"
rc=0
L run >"$T/run" 2>&1 || rc=$?
((rc != 0)) || die "run exit 0 with only refused directories: $(cat "$T/run")"
qgrep "name them in the glob" <"$T/run" || die "run: $(cat "$T/run")"
qgrep -a MARK-A <"$T/srv/acme/2024/a.csv" || die "a file was destroyed"
qgrep -a MARK-B <"$T/srv/acme/2025/b.csv" || die "a file was destroyed"
[[ -z $(ls "$T/state/certificates" 2>/dev/null) ]] || die "a certificate was issued"

# Written as the message says, the same data is destroyed and certified.
sed -i "s|^path = .*|path = $T/srv/acme/**|" "$T/policies.d/acme.ini"
L check >"$T/check" 2>&1 || die "check with acme/**: $(cat "$T/check")"
rc=0
L run >"$T/run" 2>&1 || rc=$?
[[ $rc == 0 || $rc == 3 ]] || die "run with acme/** (exit $rc): $(cat "$T/run")"
[[ ! -e $T/srv/acme/2024/a.csv && ! -e $T/srv/acme/2025/b.csv ]] || die "files left"
[[ $(certs_files acme) == 2 ]] || die "certified $(certs_files acme) files, not 2"
qgrep -x 'result = complete' <"$(ls "$T"/state/certificates/acme-*.cert)" || die "not complete"

# Files beside a matched directory (one a user made, one reached through a
# leading **): the files go, the directories are refused, the certificate
# is partial and says why.
mkdata "$T/srv/up/a.csv" MARK-UA 2
mkdata "$T/srv/up/b.csv" MARK-UB 2
mkdata "$T/srv/up/evil.csv/z" MARK-Z 1
mkdata "$T/srv/deep/exports/c.csv" MARK-C 2
mkdata "$T/srv/deep/exports/old/d.csv" MARK-D 2
mkdir -p "$T/srv/up/empty.csv"
mkpolicy beta 'method = overwrite' <<P
[dataset "uploads"]
path = $T/srv/up/*.csv
categories = Other
[dataset "exports"]
path = $T/srv/**/exports/*
categories = Other
P
L terminate beta "$(days_ago 40)" >/dev/null 2>&1 || true
rc=0
L run >"$T/run" 2>&1 || rc=$?
((rc != 0)) || die "beta: run exit 0 although directories were refused: $(cat "$T/run")"
[[ ! -e $T/srv/up/a.csv && ! -e $T/srv/up/b.csv && ! -e $T/srv/deep/exports/c.csv ]] || die "beta: the due files were not destroyed: $(cat "$T/run")"
qgrep -a MARK-Z <"$T/srv/up/evil.csv/z" || die "beta: a file below a refused directory was destroyed"
qgrep -a MARK-D <"$T/srv/deep/exports/old/d.csv" || die "beta: a file below a refused directory was destroyed"
cert=$(ls "$T"/state/certificates/beta-*.cert)
qgrep -x 'result = partial' <"$cert" || die "beta: not partial: $(cat "$cert")"
[[ $(certs_files beta) == 3 ]] || die "beta: certified $(certs_files beta) files, not 3"
tr -d '\n' <"$cert" | sed 's/exceptions_[0-9]* = //g' >"$T/flat"
qgrep "2 directories matched whose files the glob does not name" <"$T/flat" || die "beta: the exceptions do not say why: $(cat "$cert")"
echo ok
