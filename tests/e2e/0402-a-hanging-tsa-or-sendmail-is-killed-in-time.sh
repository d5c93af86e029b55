#!/usr/bin/env bash
# SPEC §3: external commands run with a time limit, in their own process
# group.  A TSA command and a sendmail that close their pipes and hang
# (with a child in the background) are killed, the whole group, at
# tsa_timeout / sendmail_timeout: `lethe run` finishes in time, says what
# happened, and the next run, with working commands, finishes the job
# (certificate, then delivery).  What the commands get: descriptors 0-2
# only, and an environment without lethe's own variables.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
"$LETHE_TOP/tests/data/cert_mktsa.sh" "$T/certs" >/dev/null 2>&1 || die "cannot make a TSA"
# hang NAME: a script that records its descriptors, environment and a
# background sleeper's pid, closes every pipe and sleeps.
hang() {
	cat >"$T/bin/$1" <<SH
#!/bin/sh
ls /proc/self/fd >"$T/$1.fds"
env >"$T/$1.env"
sleep 300 &
echo \$! >"$T/$1.pid"
exec >&- 2>&- <&-
sleep 300
SH
	chmod 0755 "$T/bin/$1"
}
hang tsa-hang
hang sendmail-hang
confset signing tsa_command "$T/bin/tsa-hang"
confset signing tsa_timeout 2s
confset notify sendmail_timeout 2s
mkpolicy -f osde osde-2024 'lea = Oklahoma State Department of Education' \
	'contact = privacy@sde.example' "terminated = $(days_ago 10)" \
	'dispose_after_termination = 5d' 'certify_within = 10d' \
	'method = overwrite' <<POL
[dataset "exports"]
path = $T/srv/exports/**
categories = Assessment
POL
mkdata "$T/srv/exports/a.csv" MARK-a 4
L check >/dev/null 2>"$T/err" || die "check: $(cat "$T/err")"

# fds NAME: the descriptors a program the script ran had: 0-2 as given,
# 3 the one ls reads /proc/self/fd by; any other was leaked.
fds() { sort -n "$T/$1.fds" | tr '\n' ' '; }
# gone NAME: the script's background sleeper was killed with its group.
gone() {
	local pid i
	pid=$(cat "$T/$1.pid") || die "$1 never ran"
	for ((i = 0; i < 50; i++)); do
		[[ -e /proc/$pid ]] || return 0
		[[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]] && return 0
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
	die "$1's background child $pid outlived the time limit"
}
# timed_run: `lethe run`, which must end well within the limits.
timed_run() {
	local start=$SECONDS
	run_rc=0
	export LETHE_TEST_LEAK=must-not-pass
	timeout 60 "$LETHE" -c "$T/lethe.conf" run >"$T/run.out" 2>"$T/run.err" || run_rc=$?
	unset LETHE_TEST_LEAK
	run_secs=$((SECONDS - start))
	[[ $run_rc != 124 ]] || die "lethe run hung (killed after 60 s)"
}

# 1. The TSA hangs: killed at 2 s (+2 s grace at most); no certificate.
timed_run
# The limit (2 s) and the grace (2 s), with slack for a loaded machine.
((run_secs <= 30)) || die "run took $run_secs s with a 2 s TSA limit"
[[ $run_rc == 1 ]] || die "run exit $run_rc with a hanging TSA: $(cat "$T/run.out" "$T/run.err")"
grep -q "no answer within 2 seconds" "$T/run.err" ||
	die "run does not say the TSA timed out: $(cat "$T/run.err")"
gone tsa-hang
[[ ! -e $T/srv/exports/a.csv ]] || die "the data was not destroyed"
shopt -s nullglob
certs=("$T"/state/certificates/*.cert)
((${#certs[@]} == 0)) || die "a certificate was issued without its time-stamp"
# No descriptor of lethe's (journal, lock, pipes beyond 0-2) reached it.
[[ $(fds tsa-hang) == "0 1 2 3 " ]] ||
	die "the TSA command got descriptors $(cat "$T/tsa-hang.fds")"
! grep -q LETHE_TEST_LEAK "$T/tsa-hang.env" || die "lethe's environment reached the TSA command"

# 2. A working TSA, a hanging sendmail: the certificate is issued, the
# delivery attempt is killed at 2 s and journaled as failed.
confset signing tsa_command "$T/certs/tsa-command"
confset notify sendmail "$T/bin/sendmail-hang"
timed_run
((run_secs <= 30)) || die "run took $run_secs s with a 2 s sendmail limit"
gone sendmail-hang
certs=("$T"/state/certificates/*.cert)
((${#certs[@]} == 1)) || die "the next run issued ${#certs[@]} certificates: $(cat "$T/run.out" "$T/run.err")"
[[ -e ${certs[0]}.tsr ]] || die "the certificate has no time-stamp"
grep -q "delivery-attempt.*ok=no.*timed%20out%20after%202%20s%20and%20was%20killed" "$T/state/journal" ||
	die "the journal does not record the killed attempt: $(grep delivery "$T/state/journal")"
[[ -z $(ls "$T/mail") ]] || die "mail arrived through a sendmail that hung"
[[ $(fds sendmail-hang) == "0 1 2 3 " ]] ||
	die "sendmail got descriptors $(cat "$T/sendmail-hang.fds")"
! grep -q LETHE_TEST_LEAK "$T/sendmail-hang.env" || die "lethe's environment reached sendmail"

# 3. sendmail works again: the queued message goes out.
confset notify sendmail "$T/bin/sendmail"
timed_run
[[ $run_rc == 0 || $run_rc == 3 ]] || die "run exit $run_rc: $(cat "$T/run.out" "$T/run.err")"
(($(ls "$T/mail" | wc -l) == 1)) || die "the certificate was not delivered once"
echo ok
