#!/usr/bin/env bash
# A file marked immutable (chattr +i), or one in an append-only directory
# (chattr +a), can be neither overwritten nor unlinked.  plan and the dry
# run used to promise to destroy it, and every run started a disposition
# that failed on it again.  Now it is refused by object, as a hard link
# outside is (SPEC §5): plan, the dry run and run name it and say why,
# the rest is destroyed and certified partial with the refusal in its
# exceptions, the locked files keep every byte, and a second run starts
# nothing new.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
mkdata "$T/srv/exports/a.csv" MARK-A 2
mkdata "$T/srv/exports/b.csv" MARK-B 2
mkdata "$T/srv/exports/c.csv" MARK-C 2
mkdata "$T/srv/exports/vault/d.csv" MARK-D 2
cleanup_hooks+=("chattr -i '$T/srv/exports/b.csv' 2>/dev/null; chattr -a '$T/srv/exports/vault' 2>/dev/null")
chattr +i "$T/srv/exports/b.csv" 2>/dev/null || skip "chattr +i does not work here ($(stat -f -c %T "$T"))"
chattr +a "$T/srv/exports/vault" || die "chattr +a"
mkpolicy acme 'method = overwrite' <<P
[dataset "exports"]
path = $T/srv/exports/**
categories = Other
P
L check >"$T/out" 2>&1 || die "check: $(cat "$T/out")"
L terminate acme "$(days_ago 40)" >/dev/null 2>&1
rc=0
L run --dry-run >"$T/dry" 2>&1 || rc=$?
qgrep "would destroy 2 files" <"$T/dry" || die "dry run (exit $rc): $(cat "$T/dry")"
qgrep "2 refused: 2 immutable (chattr +i) or append-only" <"$T/dry" || die "dry run: $(cat "$T/dry")"
L run --dry-run --verbose >"$T/dry" 2>&1 || true
qgrep "keep $T/srv/exports/b.csv: refused: immutable (chattr +i) or append-only" <"$T/dry" || die "dry run does not name b.csv: $(cat "$T/dry")"
qgrep "keep $T/srv/exports/vault/d.csv: refused: immutable (chattr +i) or append-only" <"$T/dry" || die "dry run does not name vault/d.csv: $(cat "$T/dry")"
L plan >"$T/plan" 2>&1 || true
qgrep "2 refused" <"$T/plan" || die "plan: $(cat "$T/plan")"

rc=0
L run >"$T/run" 2>&1 || rc=$?
[[ ! -e $T/srv/exports/a.csv && ! -e $T/srv/exports/c.csv ]] || die "the unlocked files are left: $(cat "$T/run")"
qgrep -a MARK-B <"$T/srv/exports/b.csv" || die "the immutable file was changed"
qgrep -a MARK-D <"$T/srv/exports/vault/d.csv" || die "the file in the append-only directory was changed"
cert=$(ls "$T"/state/certificates/acme-*.cert 2>/dev/null) || die "no certificate (exit $rc): $(cat "$T/run")"
qgrep -x 'result = partial' <"$cert" || die "not partial: $(cat "$cert")"
qgrep -x 'files = 2' <"$cert" || die "files: $(cat "$cert")"
qgrep "2 immutable (chattr +i) or append-only" <"$cert" || die "exceptions do not say why: $(cat "$cert")"

starts=$(grep -c 'disposition-start' "$T/state/journal")
L run >"$T/run2" 2>&1 || true
[[ $(grep -c 'disposition-start' "$T/state/journal") == "$starts" ]] || die "a second run started another disposition: $(cat "$T/run2")"
echo ok
