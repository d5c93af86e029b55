#!/usr/bin/env bash
# start.sh DIR: starts a private OpenSMTPD for the delivery tests.
#
# It accepts mail only from local submission (sendmail(8) on this host),
# only for the domain sde.example, and delivers it to the maildir DIR/Maildir
# (as user nobody: OpenSMTPD refuses to deliver as root).  It listens on no
# network port.  On success it prints shell assignments for the caller:
#     MTA_SENDMAIL=DIR/sendmail   a sendmail(8) for it (a link to smtpctl)
#     MTA_MAILDIR=DIR/Maildir     where delivered messages appear (new/)
#     MTA_RCPT=privacy@sde.example
# and exits 0; stop it with tests/mta/stop.sh DIR.  When this machine
# cannot run it, prints "SKIPPED: reason" and exits 77.
#
# OpenSMTPD's control socket and queue are compiled in (/var/run/smtpd.sock,
# /var/spool/smtpd), so only one smtpd can run on a host: when one is
# already running (a real MTA), this refuses rather than disturb it.
set -euo pipefail
skip() { echo "SKIPPED: $*"; exit 77; }
die() { echo "start.sh: $*" >&2; exit 1; }
[[ $# == 1 ]] || die "usage: start.sh DIR"
dir=$(cd "$1" && pwd)

[[ $(id -u) == 0 ]] || skip "the test MTA (OpenSMTPD) must be started as root"
[[ -x /usr/sbin/smtpd && -x /usr/sbin/smtpctl ]] ||
	skip "OpenSMTPD is not installed (Debian package opensmtpd)"
if [[ -S /var/run/smtpd.sock ]] && smtpctl show status >/dev/null 2>&1; then
	skip "an OpenSMTPD is already running on this host; not disturbing it"
fi
getent passwd nobody >/dev/null || skip "no user 'nobody' to deliver as"

# The delivery agent runs as nobody: it must reach DIR/Maildir.
chmod 0711 "$dir"
install -d -o nobody -m 0700 "$dir/Maildir" "$dir/Maildir/new" \
	"$dir/Maildir/cur" "$dir/Maildir/tmp"
runuser -u nobody -- test -w "$dir/Maildir/new" ||
	die "user nobody cannot write $dir/Maildir: make its parents searchable (chmod o+x)"

echo "privacy@sde.example nobody" >"$dir/vusers"
cat >"$dir/smtpd.conf" <<CONF
# lethe's delivery tests: local submission only, one maildir, no network.
table vusers file:$dir/vusers
action "lea" maildir "$dir/Maildir" virtual <vusers>
match from local for domain "sde.example" action "lea"
CONF
smtpd -n -f "$dir/smtpd.conf" >"$dir/smtpd.check" 2>&1 ||
	skip "smtpd refuses the test configuration: $(tail -n 1 "$dir/smtpd.check")"
ln -sf /usr/sbin/smtpctl "$dir/sendmail"	# sendmail mode by its name

smtpd -d -f "$dir/smtpd.conf" </dev/null >"$dir/smtpd.log" 2>&1 &
echo $! >"$dir/smtpd.pid"
for _ in $(seq 100); do
	if smtpctl show status >/dev/null 2>&1; then
		echo "MTA_SENDMAIL=$dir/sendmail"
		echo "MTA_MAILDIR=$dir/Maildir"
		echo "MTA_RCPT=privacy@sde.example"
		exit 0
	fi
	kill -0 "$(cat "$dir/smtpd.pid")" 2>/dev/null || break
	sleep 0.1
done
pid=$(cat "$dir/smtpd.pid")
kill "$pid" 2>/dev/null || true
rm -f "$dir/smtpd.pid"
skip "smtpd did not start: $(grep -v '^debug' "$dir/smtpd.log" | tail -n 1)"
