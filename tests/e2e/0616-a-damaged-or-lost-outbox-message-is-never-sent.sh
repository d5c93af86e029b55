#!/usr/bin/env bash
# The outbox is not trusted blindly (issue 14, item 7).  Each queued
# message's SHA-256 is journaled when it is queued and checked before it is
# handed to sendmail:
#  - a certificate message truncated to 300 bytes is never sent nor marked
#    delivered; run exits 1 naming it; `cert list` shows it damaged; the
#    vendor's manifest copies stay; `cert resend` rebuilds it from the
#    certificate files, and the next run delivers it whole, and only then
#    sanitizes the manifest copies;
#  - a deleted outbox message is noticed by run (exit 1), listed as
#    missing, and rebuilt by `cert resend` the same way;
#  - a resend after the manifest was sanitized says truthfully when and
#    after which delivery, and carries the certificate and signature only.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
pol() {
	mkpolicy "$1" "lea = District $1" "contact = privacy@$1.example" \
		"terminated = $(days_ago 40)" \
		'dispose_after_termination = 30d' 'certify_within = 10d' \
		'timezone = UTC' 'method = overwrite' <<POL
[dataset "records"]
path = $T/srv/$1/**
categories = Enrollment
POL
	mkdata "$T/srv/$1/Ava_Lindqvist.csv" "MARK-$1-1" 2
	mkdata "$T/srv/$1/Noah_Petrakis.csv" "MARK-$1-2" 2
}
cp "$T/bin/sendmail" "$T/sendmail.ok"
printf '#!/bin/sh\ncat >/dev/null\necho "451 try later"\nexit 75\n' >"$T/sendmail.defer"
sendmail_is() { cp "$T/sendmail.$1" "$T/bin/sendmail"; chmod +x "$T/bin/sendmail"; }
mails() { ls "$T/mail" | wc -l; }
cstate() {	# ID: the DELIVERY column of cert list --tsv
	L cert list --tsv | awk -F'\t' -v id="$1" '$1 == id { print $6 }'
}
# unpack MAIL DIR: the text part and each attachment, as a mail reader sees them
unpack() {
	mkdir -p "$2"
	python3 - "$1" "$2" <<'PY'
import email, sys, email.policy, os
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
for p in m.walk():
    fn = p.get_filename()
    if fn:
        open(os.path.join(sys.argv[2], fn), 'wb').write(p.get_payload(decode=True))
    elif p.get_content_type() == 'text/plain':
        open(os.path.join(sys.argv[2], 'text'), 'w').write(p.get_content())
PY
}

# --- a truncated message ------------------------------------------------------
pol a
sendmail_is defer
expect_exit 1 L run >"$T/run1" 2>&1
id=$(basename "$(ls "$T"/state/certificates/*.cert)" .cert)
[[ -f $T/state/outbox/$id.eml ]] || die "not queued: $(cat "$T/run1")"
grep -q " message-queued id=$id .*sha256=[0-9a-f]\{64\} bytes=[0-9]* manifest=yes " "$T/state/journal" ||
	die "no digest journaled: $(grep message-queued "$T/state/journal")"
cp "$T/state/certificates/$id.manifest" "$T/manifest.a"
work_before=$(ls "$T/state/work/$id" 2>/dev/null | sort | tr '\n' ' ')
queued=$(stat -c %s "$T/state/outbox/$id.eml")
truncate -s 300 "$T/state/outbox/$id.eml"
sendmail_is ok
expect_exit 1 L run >"$T/run2" 2>&1
grep -q "$id: not sent: the queued message is damaged (truncated: 300 bytes, but $queued were queued); \`lethe cert resend $id\` rebuilds it" "$T/run2" ||
	die "run does not report the damage: $(cat "$T/run2")"
(($(mails) == 0)) || die "a damaged message was handed to sendmail"
! grep -q " delivery-attempt cert=$id ok=yes " "$T/state/journal" || die "marked delivered"
! grep -q ' manifest-sanitized ' "$T/state/journal" || die "manifest sanitized after a damaged message"
cmp -s "$T/manifest.a" "$T/state/certificates/$id.manifest" || die "the vendor's manifest went"
cstate "$id" | qgrep "^damaged (truncated: 300 bytes" || die "cert list: $(L cert list)"
expect_exit 1 L run >"$T/run3" 2>&1          # every run says it again
grep -q "$id: not sent: the queued message is damaged" "$T/run3" || die "second report: $(cat "$T/run3")"
[[ $(ls "$T/state/work/$id" 2>/dev/null | sort | tr '\n' ' ') == "$work_before" ]] ||
	die "work files changed: $work_before -> $(ls "$T/state/work/$id")"

L cert resend "$id" >"$T/resend1" 2>&1 || die "resend: $(cat "$T/resend1")"
grep -q "the queued message $id was damaged (truncated: 300 bytes, but $queued were queued); rebuilt and queued again for privacy@a.example, with its manifest" "$T/resend1" ||
	die "resend: $(cat "$T/resend1")"
[[ $(cstate "$id") == pending ]] || die "after resend: $(L cert list)"
expect_exit 0 L run >"$T/run4" 2>&1
(($(mails) == 1)) || die "the rebuilt message was not sent: $(cat "$T/run4")"
unpack "$T/mail/1.eml" "$T/m1"
cmp -s "$T/m1/$id.manifest" "$T/manifest.a" || die "the LEA did not get the manifest whole"
cmp -s "$T/m1/$id.cert" "$T/state/certificates/$id.cert" || die "the certificate differs"
openssl cms -verify -binary -inform PEM -in "$T/m1/$id.cert.p7s" -content "$T/m1/$id.cert" \
	-CAfile "$T/certs/ca.pem" -out /dev/null 2>/dev/null || die "the mailed signature does not verify"
# Now, and only now, the vendor's copies go.
[[ ! -e $T/state/certificates/$id.manifest ]] || die "manifest kept after delivery"
grep -q " manifest-sanitized cert=$id msg=$id " "$T/state/journal" || die "manifest-sanitized not journaled"
cstate "$id" | qgrep '^delivered ' || die "cert list: $(L cert list)"

# A copy after that: no manifest, and the text says why, truthfully.
L cert resend "$id" >"$T/resend2" 2>&1 || die "resend 2: $(cat "$T/resend2")"
grep -q "queued a copy of certificate $id for privacy@a.example; it is sent" "$T/resend2" || die "$(cat "$T/resend2")"
today=$(date -u +%F)
grep -q "goes without its manifest: The vendor's copy of the manifest was sanitized on $today, after delivery of the message carrying it to privacy@a.example was accepted on $today" "$T/resend2" ||
	die "resend 2 is not truthful: $(cat "$T/resend2")"
expect_exit 0 L run >"$T/run5" 2>&1
(($(mails) == 2)) || die "the copy was not sent"
unpack "$T/mail/2.eml" "$T/m2"
[[ ! -e $T/m2/$id.manifest && -f $T/m2/$id.cert.p7s ]] || die "copy attachments: $(ls "$T/m2")"
tr -s ' \n' '  ' <"$T/m2/text" | qgrep "manifest was sanitized on $today, after delivery of the message carrying it to privacy@a.example was accepted on $today" ||
	die "copy text: $(cat "$T/m2/text")"

# --- a deleted message --------------------------------------------------------
pol b
sendmail_is defer
expect_exit 1 L run >"$T/run6" 2>&1
idb=$(basename "$(grep -l '^id = b$' "$T"/state/certificates/*.cert)" .cert)
[[ -f $T/state/outbox/$idb.eml ]] || die "b not queued"
rm "$T/state/outbox/$idb.eml"
sendmail_is ok
n=$(mails)
expect_exit 1 L run >"$T/run7" 2>&1
grep -q "$idb: not sent: the queued message is missing from the outbox (queued on $today); \`lethe cert resend $idb\` rebuilds it" "$T/run7" ||
	die "run does not notice the deletion: $(cat "$T/run7")"
(($(mails) == n)) || die "something was sent for b"
[[ -f $T/state/certificates/$idb.manifest ]] || die "b's manifest went"
cstate "$idb" | qgrep '^missing (queued on' || die "cert list: $(L cert list)"
L cert resend "$idb" >"$T/resend3" 2>&1 || die "resend b: $(cat "$T/resend3")"
grep -q "the queued message $idb was lost (missing from the outbox); rebuilt and queued again for privacy@b.example, with its manifest" "$T/resend3" ||
	die "resend b: $(cat "$T/resend3")"
expect_exit 0 L run >"$T/run8" 2>&1
(($(mails) == n + 1)) || die "b's rebuilt message not sent: $(cat "$T/run8")"
[[ ! -e $T/state/certificates/$idb.manifest ]] || die "b's manifest kept after delivery"
cstate "$idb" | qgrep '^delivered ' || die "cert list: $(L cert list)"
expect_exit 0 L run >/dev/null 2>&1          # nothing left to report
L journal verify >/dev/null || die "journal verify: $(L journal verify)"
echo ok
