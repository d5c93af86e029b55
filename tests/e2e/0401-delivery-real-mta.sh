#!/usr/bin/env bash
# 0401: a certificate message goes through a real MTA (OpenSMTPD, Debian's
# opensmtpd) to the LEA's mailbox, and a real mail reader (python3's email
# package) gets back the certificate, its signature, the manifest and the
# time-stamp token byte for byte; the signature then verifies with stock
# openssl.  A sendmail that fails (exit 75) keeps the message in the outbox
# with ok=no journaled; the next flush sends it; nothing arrives twice.
#
# Until `lethe run` wires delivery, tests/mta/mailer.c drives the modules.
source "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"
command -v openssl >/dev/null || skip "openssl is not installed"

# The driver, linked against the sanitized objects of the program (the
# delivery modules and what they use: the journal, the overwrite engine).
make -s -C "$LETHE_TOP" build/san/lethe >/dev/null
objs=()
for src in "$LETHE_TOP"/agent/*.c "$LETHE_TOP"/agent/*/*.c; do
	b=$(basename "$src" .c)
	[[ $b == main ]] || objs+=("$LETHE_TOP/build/san/$b.o")
done
cc -std=c17 -D_GNU_SOURCE -fsanitize=address,undefined -I"$LETHE_TOP/agent" \
	-o "$T/mailer" "$LETHE_TOP/tests/mta/mailer.c" "${objs[@]}" \
	$(pkg-config --libs libcrypto libarchive inih) || die "cannot build the mailer driver"
mailer() { "$T/mailer" "$T/state" "$@"; }

# The MTA.  Its delivery agent runs as nobody, so $T must be searchable.
chmod 0711 "$T"
mkdir -p "$T/mta"
rc=0
mta=$("$LETHE_TOP/tests/mta/start.sh" "$T/mta") || rc=$?
[[ $rc == 77 ]] && { echo "$mta"; exit 77; }
[[ $rc == 0 ]] || die "tests/mta/start.sh failed ($rc): $mta"
cleanup_hooks+=("'$LETHE_TOP/tests/mta/stop.sh' '$T/mta'")
eval "$mta"

# A signed certificate, its manifest (names students: UTF-8, tabs, CRLF)
# and a binary time-stamp token, as certify would leave them.
id=osde-2024-$(date -u +%Y%m%d)-1
mkdir -p "$T/state/certificates" && chmod 0700 "$T/state"
"$LETHE_TOP/certs/mkca" --vendor "Example Learning, Inc." "$T/ca" >/dev/null
c=$T/state/certificates/$id
printf 'path\tsize\tsha256\r\nosde/2026/Jos\xc3\xa9 Nu\xc3\xb1ez.csv\t1024\tab\r\nosde/2026/jane-doe.csv\t2048\tcd\r\n' >"$c.manifest"
cat >"$c.cert" <<CERT
[certificate]
id = $id
issued = $(date -u +%FT%TZ)
standard = NIST SP 800-88 Rev. 2

[agreement]
id = osde-2024
lea = Oklahoma State Department of Education
trigger = termination
trigger_date = $(days_ago 20)
deadline = $(days_ahead 10)
deadline_met = yes

[sanitization]
method_type = Clear (file-level)
technique = overwrite
remaining_matches = 0

[data]
categories = Assessment, Student Identifiers
files = 2
bytes = 3072
bytes_overwritten = 3072
manifest_sha256 = $(sha256sum <"$c.manifest" | cut -d' ' -f1)
CERT
head -c 777 /dev/urandom >"$c.cert.tsr"
openssl cms -sign -binary -md sha256 -in "$c.cert" -signer "$T/ca/agent.pem" \
	-inkey "$T/ca/agent.key" -certfile "$T/ca/ca.pem" -outform PEM \
	-out "$c.cert.p7s"

mailer enqueue-cert "$id" "$MTA_RCPT" || die "enqueue failed"
[[ $(mailer state "$id") == pending ]] || die "not pending after enqueue"
expect_exit 2 mailer enqueue-cert "$id" "$MTA_RCPT"	# never queued twice

# 1. a sendmail that defers: kept, journaled ok=no
cat >"$T/defer" <<SH
#!/bin/sh
cat >/dev/null
echo call >>"$T/defer.calls"
echo "451 4.3.0 mail server temporarily rejected message" >&2
exit 75
SH
chmod 755 "$T/defer"
expect_exit 1 mailer flush "$T/defer"
[[ $(mailer state "$id") == pending ]] || die "a deferred message left the outbox"
[[ $(wc -l <"$T/defer.calls") == 1 ]] || die "deferring sendmail not called once"
grep -q " delivery-attempt cert=$id ok=no .*detail=sendmail%20exited%2075" \
	"$T/state/journal" || die "journal lacks the ok=no attempt: $(cat "$T/state/journal")"

# 2. the real MTA: accepted, moved to sent, journaled ok=yes
out=$(mailer flush "$MTA_SENDMAIL") || die "flush through the MTA failed: $out"
[[ $out == "$id ok sendmail exited 0" ]] || die "unexpected flush report: $out"
[[ $(mailer state "$id") == sent ]] || die "not sent after acceptance"
[[ -f $T/state/sent/$id.eml && ! -e $T/state/outbox/$id.eml ]] ||
	die "the message did not move to sent/"
[[ $(grep -c " delivery-attempt cert=$id ok=yes " "$T/state/journal") == 1 ]] ||
	die "journal lacks exactly one ok=yes attempt"

# 3. a further flush sends nothing
[[ -z $(mailer flush "$MTA_SENDMAIL") ]] || die "a second flush sent again"

delivered() { find "$MTA_MAILDIR/new" "$MTA_MAILDIR/cur" -type f | sort; }
for _ in $(seq 300); do
	[[ -n $(delivered) ]] && break
	sleep 0.1
done
[[ -n $(delivered) ]] || die "nothing delivered: $(grep -v '^debug' "$T/mta/smtpd.log" | tail -n 5)"
sleep 2		# anything delivered twice would be there by now
[[ $(delivered | wc -l) == 1 ]] || die "delivered $(delivered | wc -l) times"

# 4. read it with a real mail reader and compare the attachments
mkdir "$T/got"
python3 - "$(delivered)" "$T/got" "$id" <<'PY' || die "the delivered message is wrong"
import email, email.policy, os, sys
path, outdir, cid = sys.argv[1:4]
with open(path, "rb") as f:
    msg = email.message_from_binary_file(f, policy=email.policy.default)
def check(cond, what):
    if not cond:
        sys.exit("FAIL: " + what)
check(msg["To"] == "privacy@sde.example", "To: %r" % msg["To"])
check(msg["From"].addresses[0].addr_spec == "privacy@vendor.example", "From")
check(msg["From"].addresses[0].display_name == "Example Learning, Inc.", "From name")
check(msg["Return-Path"] == "<privacy@vendor.example>", "envelope sender %r" % msg["Return-Path"])
want = "Certificate of data destruction %s \u2014 Oklahoma State Department of Education" % cid
check(str(msg["Subject"]) == want, "Subject %r" % str(msg["Subject"]))
check(msg["Message-ID"].startswith("<lethe.%s." % cid), "Message-ID")
check(msg.get_content_type() == "multipart/mixed", "not multipart/mixed")
text = msg.get_body(preferencelist=("plain",)).get_content()
check("Assessment, Student Identifiers" in text, "categories not in the text")
check("3072 bytes" in text, "bytes not in the text")
check("openssl cms -verify -binary -inform PEM" in text, "verify command not in the text")
check("jane-doe" not in text and "Nu\u00f1ez" not in text, "a student file name is in the text")
names = []
for part in msg.iter_attachments():
    fn = part.get_filename()
    names.append(fn)
    with open(os.path.join(outdir, fn), "wb") as o:
        o.write(part.get_payload(decode=True))
want = sorted([cid + ".cert", cid + ".cert.p7s", cid + ".manifest", cid + ".cert.tsr"])
check(sorted(names) == want, "attachments %r" % names)
PY
for ext in cert cert.p7s manifest cert.tsr; do
	cmp "$c.$ext" "$T/got/$id.$ext" || die "$id.$ext differs after delivery"
done
openssl cms -verify -binary -inform PEM -in "$T/got/$id.cert.p7s" \
	-content "$T/got/$id.cert" -CAfile "$T/ca/ca.pem" -out /dev/null 2>/dev/null ||
	die "the delivered certificate does not verify with stock openssl"
echo "ok: delivered once through OpenSMTPD; attachments byte-identical; signature verifies"
