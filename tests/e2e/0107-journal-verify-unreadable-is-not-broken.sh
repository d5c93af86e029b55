#!/usr/bin/env bash
# `journal verify` run by a user who cannot read the journal says "cannot
# read ...: Permission denied" and exits 1; it never calls the journal
# BROKEN.  The same journal verifies for root.
. "$(dirname "$0")/lib.sh"
[[ $(id -u) == 0 ]] || skip "needs root to run a command as another user"
command -v setpriv >/dev/null || skip "setpriv(1) is not installed"
id nobody >/dev/null 2>&1 || skip "no user nobody"
mkhost "$T/srv"
mkpolicy a 'lea = District A' 'contact = privacy@a.example' <<POL
[dataset "files"]
path = $T/srv/a/*.csv
categories = Attendance
POL
expect_exit 0 L terminate a "$(days_ago 2)" >/dev/null
expect_exit 0 L hold a --reason "audit" >/dev/null
L journal verify >"$T/jv" || die "root: $(cat "$T/jv")"
# The config and CA are readable by anyone; state_dir (0700) is not.
chmod 0711 "$T"
chmod 0755 "$T/certs" "$T/policies.d"
chmod 0644 "$T/lethe.conf" "$T/certs/ca.pem" "$T/policies.d/a.ini"
[[ $(stat -c %a "$T/state") == 700 ]] || die "state_dir is $(stat -c %a "$T/state")"
rc=0
setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$LETHE" -c "$T/lethe.conf" journal verify >"$T/out" 2>"$T/err" || rc=$?
((rc == 1)) || die "exit $rc, not 1: $(cat "$T/out" "$T/err")"
grep -q "^lethe: cannot read $T/state/journal: Permission denied$" "$T/err" ||
	die "not said: $(cat "$T/err")"
grep -q BROKEN "$T/out" "$T/err" && die "a permission error called BROKEN: $(cat "$T/out")"
L journal verify >"$T/jv" || die "root after: $(cat "$T/jv")"
echo ok
