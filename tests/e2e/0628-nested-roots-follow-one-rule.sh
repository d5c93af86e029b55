#!/usr/bin/env bash
# Issue 10, item 9: one containment rule, the deepest allowed root by path
# components, for config, policies, directives and the walk.  A nested
# root that is a mount point is walked from its own descriptor (lethe
# never crosses a mount, but this one is an allowed root in its own right,
# as lethe's own error message advises); its files are destroyed once,
# each name counted against the deepest root, and the certificate names
# both filesystems.  A string-prefix lookalike (/srv/acme-old beside
# /srv/acme) belongs to the outer root only.
. "$(dirname "$0")/lib.sh"
[[ $(id -u) == 0 ]] || skip "needs root to mount a tmpfs"
mkdir -p "$T/srv/acme/m"
mount -t tmpfs -o size=2m lethe-test "$T/srv/acme/m" || skip "cannot mount a tmpfs"
cleanup_hooks+=("umount '$T/srv/acme/m' 2>/dev/null")
mkhost "$T/srv" "$T/srv/acme/m"
mkdata "$T/srv/acme/a.csv" MARK-A 1
mkdata "$T/srv/acme/m/deep/b.csv" MARK-B 1
mkdata "$T/srv/acme-old/c.csv" KEEP-C 1
mkpolicy acme 'method = overwrite' <<P
[dataset "all"]
path = $T/srv/acme/**
categories = Other

[dataset "inner"]
path = $T/srv/acme/m/**/*.csv
categories = Assessment
P
L check >"$T/check" 2>&1 || die "check: $(cat "$T/check")"
L terminate acme "$(days_ago 2)" >/dev/null
L run --dry-run >"$T/dry" 2>&1 || die "dry run: $(cat "$T/dry")"
grep -q 'would destroy 2 files' "$T/dry" || die "dry run: $(cat "$T/dry")"
L run >"$T/run" 2>&1 || die "run: $(cat "$T/run")"
[[ ! -e $T/srv/acme/a.csv && ! -e $T/srv/acme/m/deep/b.csv ]] || die "not destroyed"
[[ -f $T/srv/acme-old/c.csv ]] || die "a lookalike outside the dataset was touched"
c=$(ls "$T"/state/certificates/acme-*.cert)
grep -qx 'files = 2' "$c" || die "files: $(grep '^files' "$c")"
grep -q '^\[media 2\]' "$c" || die "the certificate names one filesystem only"
grep -qx 'type = tmpfs' "$c" || die "no tmpfs medium: $(grep '^type' "$c")"
echo ok
