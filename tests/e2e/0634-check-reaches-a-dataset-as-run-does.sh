#!/usr/bin/env bash
# `check` must see a dataset's fixed directory as run reaches it: through
# directory descriptors, never through a symbolic link below an allowed
# root.  A glob written through such a link used to pass `check` (lstat
# follows the link) and then fail every run.  Now check refuses it
# (exit 2) naming the link, the dry run and run refuse it too, and nothing
# is destroyed; the same glob written with the real directory passes.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
mkdata "$T/srv/real/a.csv" MARK-A 2
ln -s real "$T/srv/link"
mkpolicy acme 'method = overwrite' <<P
[dataset "all"]
path = $T/srv/link/**
categories = Other
P
expect_exit 2 L check >"$T/check" 2>&1
qgrep "dataset all: $T/srv/link: a component is a symbolic link" <"$T/check" || die "check: $(cat "$T/check")"
L terminate acme "$(days_ago 40)" >/dev/null 2>&1
rc=0
L plan >"$T/plan" 2>&1 || rc=$?
qgrep "blocked: dataset all: $T/srv/link: a component is a symbolic link" <"$T/plan" || die "plan (exit $rc): $(cat "$T/plan")"
expect_exit 1 L run --dry-run >"$T/dry" 2>&1
qgrep "symbolic link" <"$T/dry" || die "dry run: $(cat "$T/dry")"
expect_exit 1 L run >"$T/run" 2>&1
qgrep -a MARK-A <"$T/srv/real/a.csv" || die "the file was changed"
[[ -z $(ls "$T/state/certificates" 2>/dev/null) ]] || die "a certificate was issued"
sed -i "s|^path = .*|path = $T/srv/real/**|" "$T/policies.d/acme.ini"
L check >"$T/check" 2>&1 || die "check with the real directory: $(cat "$T/check")"
echo ok
