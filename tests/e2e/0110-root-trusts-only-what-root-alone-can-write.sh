#!/usr/bin/env bash
# SPEC §3 StrictModes: as root, lethe trusts a file only when it and every
# directory above it can be changed by root alone.  Each of these is named
# by `lethe check` ("PATH: why", exit 2), and every other command refuses
# to start (exit 2) without running anything: a world-writable sendmail, a
# sendmail in a world-writable directory, a TSA command another user owns
# (both scripts would leave a marker file if ever executed), a signing key
# owned by another user (mode 0600), a state_dir owned by another user or
# mode 0777, a policy another user owns, a policy directory or a config
# file anyone can write, a config file in a 0777 directory, a sendmail
# reached through a link into a 0777 directory.  The control at the end:
# the same host, put right, runs both scripts and destroys the data.
. "$(dirname "$0")/lib.sh"
[[ $(id -u) == 0 ]] || skip "StrictModes apply only when lethe runs as root"
id nobody >/dev/null 2>&1 || skip "no user 'nobody' to own files"
mkhost "$T/srv"
"$LETHE_TOP/tests/data/cert_mktsa.sh" "$T/certs" >/dev/null 2>&1 || die "cannot make a TSA"
cat >"$T/bin/tsa" <<TSA
#!/bin/sh
touch "$T/ran-tsa"
exec "$T/certs/tsa-command"
TSA
chmod 0755 "$T/bin/tsa"
confset signing tsa_command "$T/bin/tsa"
mkpolicy -f osde osde-2024 'lea = Oklahoma State Department of Education' \
	'contact = privacy@sde.example' "terminated = $(days_ago 10)" \
	'dispose_after_termination = 5d' 'certify_within = 10d' \
	'method = overwrite' <<POL
[dataset "exports"]
path = $T/srv/exports/**
categories = Assessment
POL
mkdata "$T/srv/exports/a.csv" MARK-a 4
mkdir -m 0700 "$T/state"
before=$(snapshot "$T/srv")

L check >/dev/null 2>"$T/err" || die "control: the host as made fails check: $(cat "$T/err")"

# refused WHAT WANT [CONF [policy]]: check names WANT (a whole "PATH: why"
# line start), and no command starts: nothing ran, nothing changed.  With
# "policy", only the commands that read the policies (cert list and journal
# verify read the config alone).
refused() {
	local what=$1 want=$2 conf=${3:-$T/lethe.conf} rc cmd cmds
	cmds=(run plan "run --dry-run" "terminate osde-2024 $(days_ago 9)"
		"hold osde-2024 --reason court" "directive list")
	[[ ${4:-} == policy ]] || cmds+=("cert list" "journal verify")
	rc=0
	"$LETHE" -c "$conf" check >"$T/out" 2>"$T/err" || rc=$?
	[[ $rc == 2 ]] || die "$what: check exit $rc, want 2: $(cat "$T/err")"
	grep -q -F -x -e "$want" <(cut -c1-${#want} "$T/err") ||
		die "$what: check does not say '$want': $(cat "$T/err")"
	for cmd in "${cmds[@]}"; do
		rc=0
		# shellcheck disable=SC2086
		"$LETHE" -c "$conf" $cmd >"$T/out" 2>"$T/err" || rc=$?
		[[ $rc == 2 ]] || die "$what: '$cmd' exit $rc, want 2: $(cat "$T/out" "$T/err")"
		grep -q -F -e "$want" "$T/err" || die "$what: '$cmd' does not say why: $(cat "$T/err")"
	done
	[[ ! -e $T/ran-tsa ]] || die "$what: the TSA command was executed"
	[[ -z $(ls "$T/mail") ]] || die "$what: sendmail was executed"
	[[ $(snapshot "$T/srv") == "$before" ]] || die "$what: data changed"
	[[ ! -e $T/state/journal ]] || die "$what: the journal was written"
}

chmod 0777 "$T/bin/sendmail"
refused "sendmail 0777" "$T/bin/sendmail: sendmail is writable by group and others (mode 0777)"
chmod 0755 "$T/bin/sendmail"

chmod 0777 "$T/bin"
refused "sendmail in a 0777 directory" "$T/bin: writable by group and others (mode 0777), and it is above sendmail $T/bin/sendmail"
chmod 0755 "$T/bin"

chown nobody "$T/bin/tsa"
refused "TSA command owned by nobody" "$T/bin/tsa: tsa_command's program is owned by user 'nobody'"
chown root "$T/bin/tsa"
chmod 0775 "$T/bin/tsa"
refused "TSA command writable by its group" "$T/bin/tsa: tsa_command's program is writable by group (mode 0775)"
chmod 0755 "$T/bin/tsa"

chown nobody "$T/certs/agent.key"
[[ $(stat -c %a "$T/certs/agent.key") == 600 ]] || die "setup: agent.key is not 0600"
refused "signing key owned by nobody" "$T/certs/agent.key: the signing key is owned by user 'nobody'"
chown root "$T/certs/agent.key"

chown nobody "$T/state"
refused "state_dir owned by nobody" "$T/state: state_dir is owned by user 'nobody'"
chown root "$T/state"
chmod 0777 "$T/state"
refused "state_dir 0777" "$T/state: state_dir is writable by group and others (mode 0777)"
chmod 0700 "$T/state"

chown nobody "$T/policies.d/osde.ini"
refused "policy owned by nobody" "$T/policies.d/osde.ini: the policy is owned by user 'nobody'" "$T/lethe.conf" policy
chown root "$T/policies.d/osde.ini"
chmod 0777 "$T/policies.d"
refused "policy directory 0777" "$T/policies.d: the policy directory is writable by group and others (mode 0777)" "$T/lethe.conf" policy
chmod 0755 "$T/policies.d"

chmod 0666 "$T/lethe.conf"
refused "config 0666" "$T/lethe.conf: the configuration is writable by group and others (mode 0666)"
chmod 0644 "$T/lethe.conf"

mkdir -m 0777 "$T/etc"
chmod 0777 "$T/etc"	# whatever the umask
cp "$T/lethe.conf" "$T/etc/lethe.conf"
refused "config in a 0777 directory" "$T/etc: writable by group and others (mode 0777), and it is above the configuration $T/etc/lethe.conf" "$T/etc/lethe.conf"

# A sendmail reached through a link into a 0777 directory.
mkdir -m 0755 "$T/open"
chmod 0777 "$T/open"
cp -p "$T/bin/sendmail" "$T/open/sendmail"
mv "$T/bin/sendmail" "$T/bin/sendmail.real"
ln -s ../open/sendmail "$T/bin/sendmail"
refused "sendmail linked into a 0777 directory" "$T/open: writable by group and others (mode 0777), and it is above sendmail $T/bin/sendmail (through a symbolic link)"
rm "$T/bin/sendmail"
mv "$T/bin/sendmail.real" "$T/bin/sendmail"

# A root-owned interpreter given a script anyone can write: every word of
# the command that names a file is checked, not only the first.
mkdir -m 0755 "$T/shared"
chmod 0777 "$T/shared"
cp -p "$T/bin/sendmail" "$T/shared/mailer.sh"
chmod 0777 "$T/shared/mailer.sh"
cp -p "$T/lethe.conf" "$T/lethe.conf.good"
sed -i "s|^sendmail = .*|sendmail = /bin/sh $T/shared/mailer.sh|" "$T/lethe.conf"
refused "a 0777 script given to /bin/sh" "$T/shared/mailer.sh: an argument of sendmail is writable by group and others (mode 0777)"
# A shell command line names no file lethe can vouch for.
sed -i "s|^sendmail = .*|sendmail = /bin/sh -c 'exec $T/bin/sendmail \"\$@\"'|" "$T/lethe.conf"
refused "sh -c" "exec $T/bin/sendmail \"\$@\": an argument of sendmail names no file"
# A script not yet there, in a directory anyone can write: whoever creates
# it would choose what root runs.
sed -i "s|^sendmail = .*|sendmail = /bin/sh $T/shared/later.sh|" "$T/lethe.conf"
refused "a script to come in a 0777 directory" "$T/shared: writable by group and others (mode 0777), and it is above an argument of sendmail $T/shared/later.sh"
# Every way a word can name a file is checked, also files not there yet:
# a PATH or LD_PRELOAD given to env, an option's value, a library path.
N=$T/nob
install -d -o nobody -m 0755 "$N"
for tsa in "/usr/bin/env PATH=$N/bin:/usr/bin tsa-client" \
	"/usr/bin/env LD_PRELOAD=$N/evil.so /usr/bin/openssl ts -query" \
	"/usr/bin/openssl ts -config=$N/notyet.cnf" \
	"/usr/bin/perl -I$N/lib -MEvil -e1" \
	"/bin/sh $N/d://x" \
	"$N/tsa-later"; do
	cp -p "$T/lethe.conf.good" "$T/lethe.conf"
	confset signing tsa_command "$tsa"
	expect_exit 2 L check >"$T/out" 2>&1
	qgrep "^$N: owned by" <"$T/out" || die "tsa_command = $tsa: not refused: $(cat "$T/out")"
done
cp -p "$T/lethe.conf.good" "$T/lethe.conf"
# A URL names no file: a TSA client's address is an argument like any other.
cp -p "$T/lethe.conf.good" "$T/lethe.conf"
sed -i "s|^tsa_command = .*|& --url 'https://tsa.example/ts?a=1'|" "$T/lethe.conf"
L check >/dev/null 2>"$T/err" || die "a URL argument refused: $(cat "$T/err")"
cp -p "$T/lethe.conf.good" "$T/lethe.conf"
# An option whose value names a root-owned file, or nothing, is fine.
sed -i "s|^sendmail = .*|sendmail = $T/bin/sendmail -C$T/lethe.conf.good -oi|" "$T/lethe.conf"
L check >/dev/null 2>"$T/err" || die "an option naming root's file refused: $(cat "$T/err")"
cp -p "$T/lethe.conf.good" "$T/lethe.conf"

# Control: put right, the same host passes and runs both programs.
L check >/dev/null 2>"$T/err" || die "control: check after repair: $(cat "$T/err")"
rc=0
L run >"$T/out" 2>"$T/err" || rc=$?
[[ $rc == 0 || $rc == 3 ]] || die "control: run exit $rc: $(cat "$T/out" "$T/err")"
[[ -e $T/ran-tsa ]] || die "control: the TSA command did not run (the marker proves nothing)"
[[ -n $(ls "$T/mail") ]] || die "control: sendmail did not run"
[[ ! -e $T/srv/exports/a.csv ]] || die "control: the data was not destroyed"
echo ok
