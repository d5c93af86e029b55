#!/usr/bin/env bash
# stop.sh DIR: stops the OpenSMTPD that tests/mta/start.sh DIR started,
# and only that one (its pid file, checked against its command line).
set -uo pipefail
[[ $# == 1 ]] || { echo "usage: stop.sh DIR" >&2; exit 2; }
dir=$1
[[ -f $dir/smtpd.pid ]] || exit 0
pid=$(cat "$dir/smtpd.pid")
if [[ $pid =~ ^[0-9]+$ ]] &&
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -F "smtpd -d -f $dir/smtpd.conf" >/dev/null; then
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
fi
rm -f "$dir/smtpd.pid"
exit 0
