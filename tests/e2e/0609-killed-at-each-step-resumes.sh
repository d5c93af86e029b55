#!/usr/bin/env bash
# A run killed (SIGKILL, under gdb, so the instant is exact) at each step
# of a disposition's life is finished by the next run: before the
# disposition begins destroying; within a batch, once its intents are
# durable but before a byte is written, once written but before it is
# synced and read back, once read back but before the new names are
# recorded, once they are but before any name is touched; after its record
# is written but before
# disposition-complete is journaled, before it is certified, after the
# certificate's files are written but before certificate-issued, after
# its message's digest is journaled but before the message is written,
# before delivery, before the checked message goes to sendmail, and before
# the signed checkpoint.  Each time the next run
# leaves every file gone, exactly one disposition-complete, one certificate
# (whose counts and method agree with its manifest) and one mail, and the
# journal verifies.
. "$(dirname "$0")/lib.sh"
command -v gdb >/dev/null || skip "gdb is not installed"
T0=$T
i=0
for fn in dispose_run ow_batch_write ow_batch_verify ow_batch_names ow_batch_remove record_write \
	certify cert_write_files msglog_record deliver_flush sendmail_run certify_checkpoint; do
	i=$((i + 1))
	T=$T0/p$i
	mkhost "$T/srv"
	mkpolicy -f a dsa-a 'lea = District A' 'contact = privacy@a.example' \
		'dispose_after_termination = 30d' 'certify_within = 10d' \
		'method = overwrite' <<POL
[dataset "records"]
path = $T/srv/a/**
categories = Enrollment
POL
	for n in 1 2 3; do mkdata "$T/srv/a/class/r$n.csv" "MARK-$n" 2; done
	total=$(cat "$T"/srv/a/class/*.csv | wc -c)
	expect_exit 0 L terminate dsa-a "$(days_ago 2)" >/dev/null
	# Stop at fn (after it returns, for the writers), then SIGKILL.
	fin=()
	case $fn in record_write | cert_write_files | msglog_record) fin=(-ex finish) ;; esac
	gdb -q -batch -ex "break $fn" -ex run "${fin[@]}" -ex 'signal SIGKILL' \
		--args "$LETHE" -c "$T/lethe.conf" run >"$T/gdb.out" 2>&1 || true
	grep -q "Breakpoint 1, .*$fn" "$T/gdb.out" || die "$fn: breakpoint not reached: $(tail -5 "$T/gdb.out")"
	grep -q 'terminated with signal SIGKILL' "$T/gdb.out" || die "$fn: not killed: $(tail -5 "$T/gdb.out")"
	rc=0
	L run >"$T/run.out" 2>&1 || rc=$?
	((rc == 0)) || die "after a kill in $fn: run exited $rc: $(cat "$T/run.out")"
	[[ -z $(find "$T/srv/a" -mindepth 1) ]] || die "$fn: left: $(find "$T/srv/a" -mindepth 1)"
	J=$T/state/journal
	(($(grep -c ' disposition-start ' "$J") == 1)) || die "$fn: $(grep -c ' disposition-start ' "$J") dispositions started"
	(($(grep -c ' disposition-complete ' "$J") == 1)) || die "$fn: disposition-complete $(grep -c ' disposition-complete ' "$J") times"
	(($(grep -c ' certificate-issued ' "$J") == 1)) || die "$fn: certificate-issued $(grep -c ' certificate-issued ' "$J") times"
	(($(intents) == 3)) || die "$fn: $(intents) files set out to destroy"
	grep -q ' disposition-complete .*digests_sha256=[0-9a-f]\{64\} ' "$J" || die "$fn: no record digest"
	shopt -s nullglob
	certs=("$T"/state/certificates/*.cert)
	((${#certs[@]} == 1)) || die "$fn: ${#certs[@]} certificates"
	c=${certs[0]}
	grep -qx 'files = 3' "$c" || die "$fn: $(grep '^files' "$c")"
	grep -q '^method_details = 3 files overwritten' "$c" || die "$fn: $(grep '^method_details' "$c")"
	! grep -q 'no matching data was found' "$c" || die "$fn: the certificate says no data was found"
	grep -qx "bytes = $total" "$c" || die "$fn: $(grep '^bytes' "$c")"
	grep -q "^verification = full: $total bytes read back" "$c" || die "$fn: $(grep '^verification' "$c")"
	openssl cms -verify -binary -inform PEM -in "$c.p7s" -content "$c" \
		-CAfile "$T/certs/ca.pem" -out /dev/null 2>"$T/ossl" || die "$fn: stock openssl: $(cat "$T/ossl")"
	L verify --ca "$T/certs/ca.pem" "$c" >"$T/v" || die "$fn: lethe verify: $(cat "$T/v")"
	(($(ls "$T/mail" | wc -l) == 1)) || die "$fn: $(ls "$T/mail" | wc -l) mails"
	L journal verify >"$T/jv" || die "$fn: journal verify: $(cat "$T/jv")"
	expect_exit 0 L run
	(($(ls "$T/mail" | wc -l) == 1)) || die "$fn: the run after mailed again"
	(($(grep -c ' certificate-issued ' "$J") == 1)) || die "$fn: the run after certified again"
done
echo "ok"
