/* check_deliver.c: building messages (mime.c, the letters) and the outbox
 * (queue.c, status.c, deliver.c). */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <time.h>

#include "conf/config.h"
#include "deliver/deliver.h"
#include "base/err.h"
#include "state/journal.h"
#include "deliver/letters.h"
#include "deliver/mime.h"

/* ---- helpers ------------------------------------------------------------ */

/* Decodes base64 lines (76 chars each) with OpenSSL, not with our code. */
static unsigned char *
b64_decode(const char *s, size_t slen, size_t *outlen)
{
	unsigned char *out = malloc(slen + 4);
	char *clean = malloc(slen + 1);
	size_t c = 0;
	int n;

	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(clean);
	for (size_t i = 0; i < slen; i++)
		if (s[i] != '\n' && s[i] != '\r')
			clean[c++] = s[i];
	n = EVP_DecodeBlock(out, (unsigned char *)clean, (int)c);
	ck_assert_int_ge(n, 0);
	while (c > 0 && clean[c - 1] == '=') {	/* DecodeBlock keeps pad bytes */
		n--;
		c--;
	}
	free(clean);
	*outlen = (size_t)n;
	return out;
}

/* The base64 body of the attachment named fname in msg, decoded. */
static unsigned char *
attachment(const char *msg, const char *fname, size_t *len)
{
	char key[300];
	const char *p, *body, *end;

	snprintf(key, sizeof(key), "filename=\"%s\"", fname);
	p = strstr(msg, key);
	ck_assert_msg(p != NULL, "no attachment %s", fname);
	body = strstr(p, "\n\n");
	ck_assert_ptr_nonnull(body);
	body += 2;
	end = strstr(body, "\n--");
	ck_assert_ptr_nonnull(end);
	return b64_decode(body, (size_t)(end - body), len);
}

static int
max_line(const char *s)
{
	int max = 0, col = 0;
	for (; *s; s++) {
		if (*s == '\n') {
			col = 0;
			continue;
		}
		if (++col > max)
			max = col;
	}
	return max;
}

/* Decodes the quoted-printable text between the first blank line after
 * "quoted-printable" and the next boundary (or end). */
static char *
qp_decode_part(const char *msg)
{
	const char *p = strstr(msg, "Content-Transfer-Encoding: quoted-printable");
	const char *end;
	char *out, *o;

	ck_assert_ptr_nonnull(p);
	p = strstr(p, "\n\n") + 2;
	end = strstr(p, "\n--=_lethe");
	if (end == NULL)
		end = p + strlen(p);
	out = o = malloc((size_t)(end - p) + 1);
	ck_assert_ptr_nonnull(out);
	while (p < end) {
		if (*p == '=' && p[1] == '\n') {
			p += 2;
		} else if (*p == '=') {
			unsigned v;
			ck_assert_int_eq(sscanf(p + 1, "%2X", &v), 1);
			*o++ = (char)v;
			p += 3;
		} else
			*o++ = *p++;
	}
	*o = '\0';
	return out;
}

static struct config
mkconfig(const char *dir, const char *sendmail)
{
	struct config c;
	memset(&c, 0, sizeof(c));
	c.state_dir = (char *)dir;
	c.sendmail = (char *)sendmail;
	c.mail_from = (char *)"privacy@vendor.example";
	c.vendor_name = (char *)"Example Learning, Inc.";
	c.vendor_contact = (char *)"privacy@vendor.example";
	c.host = (char *)"app-1.vendor.example";
	return c;
}

/* A fake sendmail: counts calls, keeps each call's arguments and input,
 * exits with `status`. */
static char *
fake_sendmail(const char *dir, const char *name, int status, int sleep_s)
{
	char text[2048], *p;
	snprintf(text, sizeof(text),
	    "#!/bin/sh\n"
	    "d='%s'\n"
	    "sleep %d\n"
	    "n=$(( $(cat \"$d/count\" 2>/dev/null || echo 0) + 1 ))\n"
	    "echo $n > \"$d/count\"\n"
	    "printf '%%s\\n' \"$@\" > \"$d/args.$n\"\n"
	    "cat > \"$d/msg.$n\"\n"
	    "[ %d = 0 ] || echo 'temporary failure: queue full' >&2\n"
	    "exit %d\n", dir, sleep_s, status, status);
	p = tu_write(dir, name, text);
	ck_assert_int_eq(chmod(p, 0755), 0);
	return p;
}

static int
count_calls(const char *dir)
{
	char *p = tu_path(dir, "count");
	char *s = tu_readall(p, NULL);
	int n = s ? atoi(s) : 0;
	free(p);
	free(s);
	return n;
}

static char *
simple_message(const char *to, const char *subject)
{
	struct mail m = { 0 };
	struct err e;
	char *out;
	size_t len;

	m.from = "privacy@vendor.example";
	m.from_name = "Example Learning, Inc.";
	m.to = to;
	m.subject = subject;
	m.body = "Hello.\n";
	m.host = "app-1";
	m.tag = "c1";
	ck_assert_msg(mime_build(&m, &out, &len, &e) == 0, "%s", e.msg);
	return out;
}

struct jcount {
	int yes, no;
	char detail[256], copy[16], key[16];
};

static int
jcount_fn(const struct jrec *r, void *arg)
{
	struct jcount *jc = arg;
	const char *ok, *d, *cp;
	if (strcmp(r->event, "delivery-attempt") != 0)
		return 0;
	ok = jrec_get(r, "ok");
	if (ok && strcmp(ok, "yes") == 0)
		jc->yes++;
	else
		jc->no++;
	if ((d = jrec_get(r, "detail")))
		snprintf(jc->detail, sizeof(jc->detail), "%s", d);
	if ((cp = jrec_get(r, "copy")))
		snprintf(jc->copy, sizeof(jc->copy), "%s", cp);
	snprintf(jc->key, sizeof(jc->key), "%s", jrec_get(r, "cert") ? "cert" :
	    jrec_get(r, "notice") ? "notice" : "?");
	return 0;
}

static struct jcount
journal_counts(const char *dir)
{
	struct jcount jc;
	struct err e;
	memset(&jc, 0, sizeof(jc));
	ck_assert_msg(journal_read(dir, jcount_fn, &jc, &e) == 0, "%s", e.msg);
	return jc;
}

static const char cert_ini[] =
    "[certificate]\nid = C-1\nissued = 2026-11-23T09:00:00Z\n"
    "standard = NIST SP 800-88 Rev. 2\nhost = app-1\n\n"
    "[agreement]\nid = osde-2024\n"
    "lea = Oklahoma State Department of Education\n"
    "vendor = Example Learning, Inc.\ntrigger = termination\n"
    "trigger_date = 2026-10-15\ndeadline = 2026-11-14\n"
    "deadline_met = yes\n\n"
    "[sanitization]\nmethod_type = Clear (file-level)\n"
    "technique = overwrite\nmethod_details = 1 pass of zeros; names "
    "overwritten; ext4 journal purged\nverification = full, passed\n"
    "started = 2026-11-10T02:00:00Z\ncompleted = 2026-11-10T02:03:00Z\n"
    "remaining_matches = 0\nperformed_by = lethe on app-1\n\n"
    "[data]\ncategories = Assessment, Student Identifiers\n"
    "files = 3\nbytes = 5242880\nmanifest_sha256 = %s\n"
    "retained = research (de-identified)\nholds = none\n\n"
    "[delivery]\ncertify_by = 2026-11-20\n";

/* Writes certificates/ID.{cert,cert.p7s,manifest} with the given manifest. */
static void
write_cert_files(const char *dir, const char *id, const char *manifest,
    int tsr)
{
	char *cdir = tu_path(dir, "certificates"), *p;
	unsigned char p7s[300];
	ck_assert_int_eq(mkdir(cdir, 0700), 0);
	{
		unsigned char md[32];
		unsigned int mdlen;
		char hex[65], *text;
		ck_assert_int_eq(EVP_Digest(manifest, strlen(manifest), md,
		    &mdlen, EVP_sha256(), NULL), 1);
		for (int i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		ck_assert_int_ge(asprintf(&text, cert_ini, hex), 0);
		ck_assert_int_ge(asprintf(&p, "%s/%s.cert", cdir, id), 0);
		tu_write_bytes(p, text, strlen(text));
		free(text);
		free(p);
	}
	for (size_t i = 0; i < sizeof(p7s); i++)
		p7s[i] = (unsigned char)(i * 7);
	ck_assert_int_ge(asprintf(&p, "%s/%s.cert.p7s", cdir, id), 0);
	tu_write_bytes(p, p7s, sizeof(p7s));
	free(p);
	ck_assert_int_ge(asprintf(&p, "%s/%s.manifest", cdir, id), 0);
	tu_write_bytes(p, manifest, strlen(manifest));
	free(p);
	if (tsr) {
		ck_assert_int_ge(asprintf(&p, "%s/%s.cert.tsr", cdir, id), 0);
		tu_write_bytes(p, "\x30\x82\x00\x10tsr", 7);
		free(p);
	}
	free(cdir);
}

static const char manifest[] =
    "path\tsize\tsha256\n"
    "osde/2026/jane-doe-reading.csv\t1024\tabc\n"
    "osde/2026/john-roe-math.csv\t2048\tdef\n";

/* ---- mime ------------------------------------------------------------- */

START_TEST(mime_attachments_decode_to_the_exact_original_bytes)
{
	unsigned char bin[1000];
	struct mail_attachment att[3];
	struct mail m = { 0 };
	struct err e;
	char *out;
	size_t len, n;
	unsigned char *d;

	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)(i * 131 + 7);
	att[0] = (struct mail_attachment){ "C-1.cert", "text/plain", "a\r\nb\n.\n", 7 };
	att[1] = (struct mail_attachment){ "C-1.cert.p7s",
	    "application/pkcs7-signature", bin, sizeof(bin) };
	att[2] = (struct mail_attachment){ "C-1.manifest",
	    "text/tab-separated-values", "x", 1 };
	m.from = "privacy@vendor.example";
	m.to = "privacy@sde.example";
	m.subject = "Certificate";
	m.body = "text\n";
	m.att = att;
	m.natt = 3;
	ck_assert_msg(mime_build(&m, &out, &len, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(strlen(out), len);
	for (int i = 0; i < 3; i++) {
		d = attachment(out, att[i].filename, &n);
		ck_assert_uint_eq(n, att[i].len);
		ck_assert_int_eq(memcmp(d, att[i].data, n), 0);
		free(d);
	}
	ck_assert_ptr_nonnull(strstr(out, "\nMIME-Version: 1.0\n"));
	ck_assert_ptr_nonnull(strstr(out, "Content-Type: multipart/mixed;"));
	ck_assert_ptr_nonnull(strstr(out, "\nDate: "));
	ck_assert_int_le(max_line(out), 78);
	free(out);
}
END_TEST

START_TEST(mime_refuses_a_line_break_in_any_header_value)
{
	struct mail m = { 0 };
	struct mail_attachment a = { "x\nBcc: evil@x.example", "text/plain",
	    "x", 1 };
	struct err e;
	char *out;
	size_t len;

	m.from = "privacy@vendor.example";
	m.to = "privacy@sde.example";
	m.subject = "Hi\r\nBcc: evil@attacker.example";
	ck_assert_int_eq(mime_build(&m, &out, &len, &e), -1);
	ck_assert_ptr_null(out);
	m.subject = "Hi";
	m.from_name = "Vendor\nBcc: evil@attacker.example";
	ck_assert_int_eq(mime_build(&m, &out, &len, &e), -1);
	m.from_name = NULL;
	m.to = "privacy@sde.example\nBcc: evil@attacker.example";
	ck_assert_int_eq(mime_build(&m, &out, &len, &e), -1);
	m.to = "privacy@sde.example";
	m.att = &a;
	m.natt = 1;
	ck_assert_int_eq(mime_build(&m, &out, &len, &e), -1);
}
END_TEST

START_TEST(mime_accepts_only_plain_addresses_that_cannot_be_options)
{
	ck_assert(mime_addr_ok("privacy@sde.example"));
	ck_assert(mime_addr_ok("root@localhost"));
	ck_assert(mime_addr_ok("first.last+tag@k12.ok.us"));
	ck_assert(!mime_addr_ok("-oQ/tmp@x.example"));
	ck_assert(!mime_addr_ok("a b@x.example"));
	ck_assert(!mime_addr_ok("<a@x.example>"));
	ck_assert(!mime_addr_ok("a@x.example, b@y.example"));
	ck_assert(!mime_addr_ok("a@x..example"));
	ck_assert(!mime_addr_ok("a@-x.example"));
	ck_assert(!mime_addr_ok("nobody"));
	ck_assert(!mime_addr_ok(""));
	ck_assert(!mime_addr_ok(NULL));
}
END_TEST

START_TEST(mime_encodes_a_non_ascii_subject_in_rfc2047_words)
{
	const char *subj = "Certificate of data destruction C-1 \xe2\x80\x94 "
	    "Distrito Escolar Independiente de San Ant\xc3\xb3nio, "
	    "Oficina de Privacidad de Datos Estudiantiles";
	char *out, *p, dec[1000] = "";
	size_t len;
	struct mail m = { 0 };
	struct err e;

	m.from = "privacy@vendor.example";
	m.from_name = "Educaci\xc3\xb3n Digital, S.A.";
	m.to = "privacy@sde.example";
	m.subject = subj;
	m.body = "x\n";
	ck_assert_msg(mime_build(&m, &out, &len, &e) == 0, "%s", e.msg);
	ck_assert_int_le(max_line(out), 78);
	p = strstr(out, "\nSubject: ");
	ck_assert_ptr_nonnull(p);
	/* decode every encoded word of the (folded) header */
	p += 10;
	while (strncmp(p, "=?UTF-8?B?", 10) == 0) {
		char *q = strstr(p + 10, "?=");
		unsigned char *d;
		size_t n;
		ck_assert_ptr_nonnull(q);
		d = b64_decode(p + 10, (size_t)(q - p - 10), &n);
		strncat(dec, (char *)d, n);
		free(d);
		p = q + 2;
		if (strncmp(p, "\n ", 2) == 0)
			p += 2;
	}
	ck_assert_str_eq(dec, subj);
	ck_assert_int_eq(strncmp(out, "From: =?UTF-8?B?", 16), 0);
	ck_assert_ptr_nonnull(strstr(out, " <privacy@vendor.example>\n"));
	free(out);
}
END_TEST

START_TEST(mime_quotes_a_display_name_with_a_comma)
{
	char *out = simple_message("privacy@sde.example", "Hi");
	ck_assert_ptr_eq(strstr(out, "From: \"Example Learning, Inc.\" "
	    "<privacy@vendor.example>\n"), out);
	ck_assert_ptr_nonnull(strstr(out, "\nSubject: Hi\n"));
	free(out);
}
END_TEST

START_TEST(mime_sends_long_or_non_ascii_text_as_quoted_printable)
{
	char body[600];
	char *out, *dec;
	size_t len;
	struct mail m = { 0 };
	struct err e;

	snprintf(body, sizeof(body), "From the start, caf\xc3\xa9 = 1 \n"
	    ".\n%s\nend", "openssl cms -verify -binary -inform PEM -in "
	    "C-1.cert.p7s -content C-1.cert -CAfile ca.pem -out /dev/null "
	    "and a good deal more text to pass the seventy-eight limit\t");
	m.from = "privacy@vendor.example";
	m.to = "privacy@sde.example";
	m.subject = "x";
	m.body = body;
	ck_assert_msg(mime_build(&m, &out, &len, &e) == 0, "%s", e.msg);
	ck_assert_ptr_nonnull(strstr(out,
	    "Content-Transfer-Encoding: quoted-printable"));
	ck_assert_int_le(max_line(out), 76);
	ck_assert_ptr_null(strstr(out, "\nFrom the"));
	ck_assert_ptr_null(strstr(out, "\n.\n"));
	dec = qp_decode_part(out);
	ck_assert_str_eq(dec, body);
	free(dec);
	free(out);
}
END_TEST

START_TEST(mime_sends_short_ascii_text_as_7bit)
{
	char *out = simple_message("privacy@sde.example", "Hi");
	ck_assert_ptr_nonnull(strstr(out, "Content-Transfer-Encoding: 7bit\n\n"
	    "Hello.\n"));
	free(out);
}
END_TEST

START_TEST(mime_gives_each_message_its_own_message_id_and_reads_it_back)
{
	char *a = simple_message("privacy@sde.example", "Hi");
	char *b = simple_message("privacy@sde.example", "Hi");
	char from[300], to[300], ida[300], idb[300];
	struct err e;

	ck_assert_msg(mime_envelope(a, strlen(a), from, sizeof(from), to,
	    sizeof(to), ida, sizeof(ida), &e) == 0, "%s", e.msg);
	ck_assert_str_eq(from, "privacy@vendor.example");
	ck_assert_str_eq(to, "privacy@sde.example");
	ck_assert_msg(strncmp(ida, "<lethe.c1.", 10) == 0, "%s", ida);
	ck_assert_ptr_nonnull(strstr(ida, "@app-1>"));
	ck_assert_int_eq(mime_envelope(b, strlen(b), from, sizeof(from), to,
	    sizeof(to), idb, sizeof(idb), &e), 0);
	ck_assert_str_ne(ida, idb);
	/* a second To: header is refused */
	{
		char twice[] = "From: a@b.example\nTo: c@d.example\n"
		    "To: evil@x.example\nMessage-ID: <x@y>\n\nbody\n";
		ck_assert_int_eq(mime_envelope(twice, strlen(twice), from,
		    sizeof(from), to, sizeof(to), ida, sizeof(ida), &e), -1);
	}
	free(a);
	free(b);
}
END_TEST

START_TEST(cert_message_attaches_the_files_and_names_no_student_file)
{
	char *dir = tu_tmpdir(), *out, *text, *path;
	struct config c = mkconfig(dir, "/bin/false");
	struct err e;
	size_t len, n;
	unsigned char *d;
	char *orig;

	struct cert_mail cm = { .to = "privacy@sde.example", .id = "C-1" };

	write_cert_files(dir, "C-1", manifest, 1);
	ck_assert_msg(mime_cert_message(&c, &cm, &out, &len, &e) == 0, "%s",
	    e.msg);
	ck_assert_int_eq(cm.with_manifest, 1);
	const char *names[] = { "C-1.cert", "C-1.cert.p7s", "C-1.manifest",
	    "C-1.cert.tsr" };
	for (int i = 0; i < 4; i++) {
		size_t olen;
		ck_assert_int_ge(asprintf(&path, "%s/certificates/%s", dir,
		    names[i]), 0);
		orig = tu_readall(path, &olen);
		d = attachment(out, names[i], &n);
		ck_assert_uint_eq(n, olen);
		ck_assert_int_eq(memcmp(d, orig, n), 0);
		free(d);
		free(orig);
		free(path);
	}
	ck_assert_ptr_null(strstr(out, "jane-doe"));
	ck_assert_ptr_nonnull(strstr(out, "application/pkcs7-signature"));
	ck_assert_ptr_nonnull(strstr(out, "text/tab-separated-values"));
	ck_assert_int_le(max_line(out), 78);
	/* the text part, decoded whatever its encoding */
	if (strstr(out, "quoted-printable"))
		text = qp_decode_part(out);
	else
		text = strdup(strstr(out, "7bit\n\n"));
	ck_assert_ptr_nonnull(strstr(text, "Assessment, Student Identifiers"));
	ck_assert_ptr_nonnull(strstr(text, "5242880 bytes (5.0 MiB)"));
	ck_assert_ptr_nonnull(strstr(text, "2026-11-14, met"));
	ck_assert_ptr_nonnull(strstr(text, "Clear (file-level)"));
	ck_assert_ptr_nonnull(strstr(text, "openssl cms -verify -binary "
	    "-inform PEM \\\n    -in C-1.cert.p7s -content C-1.cert"));
	ck_assert_ptr_nonnull(strstr(text, "termination of the service "
	    "agreement on\n                       2026-10-15"));
	ck_assert_ptr_nonnull(strstr(text, "Found afterwards:    0 files"));
	ck_assert_ptr_nonnull(strstr(out, "To: privacy@sde.example\n"));
	free(text);
	free(out);
	tu_rmtree(dir);
}
END_TEST

START_TEST(cert_message_fails_when_the_signature_is_missing)
{
	char *dir = tu_tmpdir(), *out, *p;
	struct config c = mkconfig(dir, "/bin/false");
	struct err e;
	size_t len;

	struct cert_mail cm = { .to = "privacy@sde.example", .id = "C-1" };

	write_cert_files(dir, "C-1", manifest, 0);
	p = tu_path(dir, "certificates/C-1.cert.p7s");
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(mime_cert_message(&c, &cm, &out, &len, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "C-1.cert.p7s"));
	cm.id = "../etc/passwd";
	ck_assert_int_eq(mime_cert_message(&c, &cm, &out, &len, &e), -1);
	free(p);
	tu_rmtree(dir);
}
END_TEST

START_TEST(cert_message_refuses_a_manifest_changed_after_issue)
{
	char *dir = tu_tmpdir(), *out, *p;
	struct config c = mkconfig(dir, "/bin/false");
	struct cert_mail cm = { .to = "privacy@sde.example", .id = "C-1" };
	struct err e;
	size_t len;
	char *edited = strdup(manifest);

	write_cert_files(dir, "C-1", manifest, 0);
	edited[strlen(edited) - 2] = 'X';	/* one byte of one digest */
	p = tu_path(dir, "certificates/C-1.manifest");
	tu_write_bytes(p, edited, strlen(edited));
	ck_assert_int_eq(mime_cert_message(&c, &cm, &out, &len, &e), -1);
	ck_assert_msg(strstr(e.msg, "C-1.manifest: its SHA-256 is not the "
	    "certificate's manifest_sha256") != NULL, "%s", e.msg);
	/* truncated to nothing: the same */
	tu_write_bytes(p, "", 0);
	ck_assert_int_eq(mime_cert_message(&c, &cm, &out, &len, &e), -1);
	free(edited);
	free(p);
	tu_rmtree(dir);
}
END_TEST

/* The letter's text part, decoded, with every run of blanks and
 * newlines made one space (so a phrase can be found whatever the wrap). */
static char *
letter_words(const char *msg)
{
	char *text = strstr(msg, "quoted-printable") ? qp_decode_part(msg) :
	    strdup(strstr(msg, "7bit\n\n"));
	char *o = text;

	ck_assert_ptr_nonnull(text);
	for (const char *p = text; *p; p++) {
		if (*p == ' ' || *p == '\n') {
			if (o > text && o[-1] == ' ')
				continue;
			*o++ = ' ';
		} else
			*o++ = *p;
	}
	*o = '\0';
	return text;
}

START_TEST(cert_message_reads_the_certificate_as_cert_parse_does)
{
	char *dir = tu_tmpdir(), *out, *p, *text, *words, *edited;
	struct config c = mkconfig(dir, "/bin/false");
	struct cert_mail cm = { .to = "privacy@sde.example", .id = "C-1" };
	const char *line = "method_details = 1 pass of zeros; names "
	    "overwritten; ext4 journal purged\n";
	struct err e;
	size_t len;

	write_cert_files(dir, "C-1", manifest, 0);
	p = tu_path(dir, "certificates/C-1.cert");
	text = tu_readall(p, NULL);
	ck_assert_ptr_nonnull(strstr(text, line));
	/* A long value, wrapped as cert_format wraps it: KEY, then KEY_2.
	 * The letter gives it whole, as `lethe verify` reads it. */
	*strstr(text, line) = '\0';
	ck_assert_int_ge(asprintf(&edited, "%smethod_details = 1 pass of "
	    "zeros; names overwritten;\nmethod_details_2 = ext4 journal "
	    "purged and checkpointed\n%s", text,
	    strchr(text + strlen(text) + 1, '\n') + 1), 0);
	tu_write_bytes(p, edited, strlen(edited));
	ck_assert_msg(mime_cert_message(&c, &cm, &out, &len, &e) == 0, "%s",
	    e.msg);
	words = letter_words(out);
	ck_assert_msg(strstr(words, "Details: 1 pass of zeros; names "
	    "overwritten; ext4 journal purged and checkpointed Verification:")
	    != NULL, "%s", words);
	free(words);
	free(out);
	free(edited);
	/* A certificate `lethe verify` could not read is not mailed. */
	free(text);
	text = tu_readall(p, NULL);
	ck_assert_int_ge(asprintf(&edited, "%sunknown_key = x\n", text), 0);
	tu_write_bytes(p, edited, strlen(edited));
	ck_assert_int_eq(mime_cert_message(&c, &cm, &out, &len, &e), -1);
	ck_assert_msg(strstr(e.msg, "C-1.cert:") != NULL &&
	    strstr(e.msg, "unknown key 'unknown_key'") != NULL, "%s", e.msg);
	free(edited);
	free(text);
	free(p);
	tu_rmtree(dir);
}
END_TEST

START_TEST(notice_message_gives_the_planned_date_and_how_to_respond)
{
	struct config c = mkconfig("/nonexistent", "/bin/false");
	struct notice nt = { .agreement = "osde-2024",
	    .lea = "Oklahoma State Department of Education",
	    .to = "privacy@sde.example", .terminated = "2026-10-15",
	    .disposal = "2026-10-29", .deadline = "2026-11-14",
	    .categories = "Assessment, Student Identifiers", .ndatasets = 2 };
	struct err e;
	char *out;
	size_t len;

	ck_assert_msg(mime_notice_message(&c, &nt, &out, &len, &e) == 0, "%s",
	    e.msg);
	ck_assert_ptr_nonnull(strstr(out, "Content-Type: text/plain"));
	ck_assert_ptr_null(strstr(out, "multipart"));
	ck_assert_ptr_nonnull(strstr(out, "Planned disposal:    2026-10-29"));
	ck_assert_ptr_nonnull(strstr(out, "ended on 2026-10-15"));
	ck_assert_ptr_nonnull(strstr(out, "This notice is for the termination "
	    "on 2026-10-15"));
	free(out);
	nt.terminated = NULL;	/* a notice always says which date it is for */
	ck_assert_int_eq(mime_notice_message(&c, &nt, &out, &len, &e), -1);
	nt.terminated = "2026-10-15";
	ck_assert_int_eq(mime_notice_message(&c, &nt, &out, &len, &e), 0);
	ck_assert_ptr_nonnull(strstr(out, "osde-2024"));
	ck_assert_ptr_nonnull(strstr(out, "Exhibit D"));
	ck_assert_ptr_nonnull(strstr(out, "legal hold"));
	ck_assert_ptr_nonnull(strstr(out, "Assessment, Student Identifiers"));
	ck_assert_int_le(max_line(out), 78);
	free(out);
}
END_TEST

/* ---- the outbox ----------------------------------------------------- */

/* The latest message-queued line of stem: its sha256 and bytes. */
struct qline {
	const char *stem;
	int n;
	char sha[65], bytes[24], manifest[8], msgid[300];
	uint64_t seq;
};

static int
qline_fn(const struct jrec *r, void *arg)
{
	struct qline *q = arg;
	if (strcmp(r->event, "message-queued") != 0 ||
	    strcmp(jrec_get(r, "id"), q->stem) != 0)
		return 0;
	q->n++;
	q->seq = r->seq;
	snprintf(q->sha, sizeof(q->sha), "%s", jrec_get(r, "sha256"));
	snprintf(q->bytes, sizeof(q->bytes), "%s", jrec_get(r, "bytes"));
	snprintf(q->manifest, sizeof(q->manifest), "%s",
	    jrec_get(r, "manifest"));
	snprintf(q->msgid, sizeof(q->msgid), "%s", jrec_get(r, "msgid"));
	return 0;
}

static struct qline
queued_line(const char *dir, const char *stem)
{
	struct qline q = { .stem = stem };
	struct err e;
	ck_assert_msg(journal_read(dir, qline_fn, &q, &e) == 0, "%s", e.msg);
	return q;
}

START_TEST(enqueue_journals_the_digest_then_writes_the_message_once_0600)
{
	char *dir = tu_tmpdir(), *p, *s;
	char *msg = simple_message("privacy@sde.example", "Hi");
	char *other = simple_message("privacy@sde.example", "Other");
	char sha[65], from[300], to[300], msgid[300];
	struct journal j;
	struct err e;
	struct stat st;
	struct qline q;

	ck_assert_int_eq(journal_open(dir, &j, &e), 0);
	ck_assert_msg(deliver_enqueue(dir, &j, "C-1", msg, strlen(msg), 1,
	    &e) == 0, "%s", e.msg);
	p = tu_path(dir, "outbox/C-1.eml");
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	q = queued_line(dir, "C-1");
	ck_assert_int_eq(q.n, 1);
	tu_sha256_hex(msg, strlen(msg), sha);
	ck_assert_str_eq(q.sha, sha);
	ck_assert_uint_eq(strtoull(q.bytes, NULL, 10), strlen(msg));
	ck_assert_str_eq(q.manifest, "yes");
	ck_assert_int_eq(mime_envelope(msg, strlen(msg), from, sizeof(from),
	    to, sizeof(to), msgid, sizeof(msgid), &e), 0);
	ck_assert_str_eq(q.msgid, msgid);
	/* queued and intact: a second call changes nothing */
	ck_assert_int_eq(deliver_enqueue(dir, &j, "C-1", other, strlen(other),
	    1, &e), 1);
	s = tu_readall(p, NULL);
	ck_assert_str_eq(s, msg);
	ck_assert_int_eq(queued_line(dir, "C-1").n, 1);
	ck_assert_int_eq(deliver_state(dir, "C-1", NULL, &e), DELIVER_PENDING);
	ck_assert_int_eq(deliver_state(dir, "C-2", NULL, &e), DELIVER_NONE);
	/* a message whose envelope cannot be read back is never queued */
	ck_assert_int_eq(deliver_enqueue(dir, &j, "B-2", "To: x\n\nhi\n", 10,
	    0, &e), -1);
	ck_assert(!tu_exists(dir, "outbox/B-2.eml"));
	journal_close(&j);
	free(s);
	free(p);
	free(msg);
	free(other);
	tu_rmtree(dir);
}
END_TEST

START_TEST(enqueue_refuses_an_id_that_could_be_a_path_or_option)
{
	char *dir = tu_tmpdir();
	char *msg = simple_message("privacy@sde.example", "Hi");
	struct journal j;
	struct err e;

	ck_assert_int_eq(journal_open(dir, &j, &e), 0);
	ck_assert_int_eq(deliver_enqueue(dir, &j, "../C-1", msg, strlen(msg),
	    0, &e), -1);
	ck_assert_int_eq(deliver_enqueue(dir, &j, ".hidden", msg, strlen(msg),
	    0, &e), -1);
	ck_assert_int_eq(deliver_enqueue(dir, &j, "-f", msg, strlen(msg), 0,
	    &e), -1);
	ck_assert_int_eq(deliver_enqueue(dir, &j, "a/b", msg, strlen(msg), 0,
	    &e), -1);
	ck_assert_int_eq(deliver_enqueue(dir, &j, "", msg, strlen(msg), 0, &e),
	    -1);
	ck_assert(!tu_exists(dir, "outbox/.hidden.eml"));
	ck_assert_uint_eq(j.seq, 0);
	journal_close(&j);
	free(msg);
	tu_rmtree(dir);
}
END_TEST

START_TEST(flush_passes_explicit_recipients_and_the_message_on_stdin)
{
	char *dir = tu_tmpdir(), *sm = fake_sendmail(dir, "sm", 0, 0);
	char *msg = simple_message("privacy@sde.example", "Hi"), *got, *args, *p;
	struct config c = mkconfig(dir, sm);
	struct journal j;
	struct deliver_report r;
	struct err e;
	struct jcount jc;
	time_t at = 0;

	ck_assert_msg(journal_open(dir, &j, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(deliver_enqueue(dir, &j, "C-1", msg, strlen(msg), 1,
	    &e), 0);
	ck_assert_msg(deliver_flush(&c, &j, NULL, &r, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_uint_eq(r.accepted, 1);
	ck_assert_str_eq(r.v[0].cert, "C-1");
	ck_assert_int_eq(r.v[0].kind, DELIVER_CERT);
	ck_assert_int_eq(r.v[0].manifest, 1);
	ck_assert_int_eq(r.v[0].damaged, 0);
	ck_assert_int_eq(count_calls(dir), 1);
	p = tu_path(dir, "args.1");
	args = tu_readall(p, NULL);
	ck_assert_str_eq(args, "-i\n-f\nprivacy@vendor.example\n--\n"
	    "privacy@sde.example\n");
	free(p);
	p = tu_path(dir, "msg.1");
	got = tu_readall(p, NULL);
	ck_assert_str_eq(got, msg);
	ck_assert(!tu_exists(dir, "outbox/C-1.eml"));
	ck_assert(tu_exists(dir, "sent/C-1.eml"));
	ck_assert(tu_exists(dir, "sent/C-1.receipt"));
	ck_assert_int_eq(deliver_state(dir, "C-1", &at, &e), DELIVER_SENT);
	ck_assert_int_le(labs((long)(time(NULL) - at)), 60);
	jc = journal_counts(dir);
	ck_assert_int_eq(jc.yes, 1);
	ck_assert_int_eq(jc.no, 0);
	ck_assert_str_eq(jc.key, "cert");
	ck_assert_str_eq(jc.detail, "sendmail exited 0");
	/* a flush with nothing queued sends nothing */
	deliver_report_free(&r);
	ck_assert_int_eq(deliver_flush(&c, &j, NULL, &r, &e), 0);
	ck_assert_uint_eq(r.n, 0);
	ck_assert_int_eq(count_calls(dir), 1);
	/* and it can never be queued again */
	ck_assert_int_eq(deliver_enqueue(dir, &j, "C-1", msg, strlen(msg), 1,
	    &e), 1);
	journal_close(&j);
	deliver_report_free(&r);
	free(p);
	free(got);
	free(args);
	free(msg);
	free(sm);
	tu_rmtree(dir);
}
END_TEST

START_TEST(a_tempfail_keeps_the_message_and_the_next_flush_sends_it_once)
{
	char *dir = tu_tmpdir(), *bad = fake_sendmail(dir, "bad", 75, 0);
	char *good = fake_sendmail(dir, "good", 0, 0);
	char *msg = simple_message("privacy@sde.example", "Hi");
	struct config c = mkconfig(dir, bad);
	struct journal j;
	struct deliver_report r;
	struct err e;
	struct jcount jc;

	ck_assert_int_eq(journal_open(dir, &j, &e), 0);
	ck_assert_int_eq(deliver_enqueue(dir, &j, "C-1", msg, strlen(msg), 0,
	    &e), 0);
	ck_assert_int_eq(deliver_flush(&c, &j, NULL, &r, &e), 0);
	ck_assert_uint_eq(r.failed, 1);
	ck_assert_int_eq(r.v[0].ok, 0);
	ck_assert_int_eq(r.v[0].damaged, 0);
	ck_assert_str_eq(r.v[0].detail,
	    "sendmail exited 75: temporary failure: queue full");
	ck_assert(tu_exists(dir, "outbox/C-1.eml"));
	jc = journal_counts(dir);
	ck_assert_int_eq(jc.no, 1);
	ck_assert_int_eq(jc.yes, 0);
	ck_assert_str_eq(jc.detail,
	    "sendmail exited 75: temporary failure: queue full");
	deliver_report_free(&r);

	c.sendmail = good;
	ck_assert_int_eq(deliver_flush(&c, &j, NULL, &r, &e), 0);
	ck_assert_uint_eq(r.accepted, 1);
	deliver_report_free(&r);
	ck_assert_int_eq(deliver_flush(&c, &j, NULL, &r, &e), 0);
	ck_assert_uint_eq(r.n, 0);
	deliver_report_free(&r);
	/* one call failed (75), one accepted: the message went out once */
	ck_assert_int_eq(count_calls(dir), 2);
	jc = journal_counts(dir);
	ck_assert_int_eq(jc.yes, 1);
	ck_assert_int_eq(jc.no, 1);
	journal_close(&j);
	free(msg);
	free(bad);
	free(good);
	tu_rmtree(dir);
}
END_TEST

START_TEST(a_hanging_sendmail_is_killed_and_the_message_kept)
{
	char *dir = tu_tmpdir(), *slow = fake_sendmail(dir, "slow", 0, 30);
	char *msg = simple_message("privacy@sde.example", "Hi");
	struct config c = mkconfig(dir, slow);
	struct deliver_opts o = { .timeout_s = 1 };
	struct journal j;
	struct deliver_report r;
	struct err e;
	time_t t0 = time(NULL);

	ck_assert_int_eq(journal_open(dir, &j, &e), 0);
	ck_assert_int_eq(deliver_enqueue(dir, &j, "C-1", msg, strlen(msg), 0,
	    &e), 0);
	ck_assert_int_eq(deliver_flush(&c, &j, &o, &r, &e), 0);
	ck_assert_int_le(time(NULL) - t0, 10);
	ck_assert_uint_eq(r.failed, 1);
	ck_assert_ptr_nonnull(strstr(r.v[0].detail, "timed out after 1 s"));
	ck_assert(tu_exists(dir, "outbox/C-1.eml"));
	ck_assert_int_eq(count_calls(dir), 0);	/* killed inside its sleep */
	journal_close(&j);
	deliver_report_free(&r);
	free(msg);
	free(slow);
	tu_rmtree(dir);
}
END_TEST

START_TEST(sendmail_words_are_passed_literally_without_a_shell)
{
	char *dir = tu_tmpdir(), *sm = fake_sendmail(dir, "sm", 0, 0);
	char *msg = simple_message("privacy@sde.example", "Hi"), *cmd, *p, *args;
	struct config c;
	struct journal j;
	struct deliver_report r;
	struct err e;

	/* Unquoted shell syntax is refused (spawn.h), never run. */
	ck_assert_int_ge(asprintf(&cmd, "%s  -oi;touch\t%s/pwned $(id)", sm,
	    dir), 0);
	c = mkconfig(dir, cmd);
	ck_assert_int_eq(journal_open(dir, &j, &e), 0);
	ck_assert_int_eq(deliver_enqueue(dir, &j, "C-1", msg, strlen(msg), 0,
	    &e), 0);
	ck_assert_int_eq(deliver_flush(&c, &j, NULL, &r, &e), 0);
	ck_assert_uint_eq(r.accepted, 0);
	ck_assert_ptr_nonnull(strstr(r.v[0].detail, "unquoted ';'"));
	ck_assert(!tu_exists(dir, "pwned"));
	deliver_report_free(&r);
	free(cmd);
	/* Quoted, the same words reach sendmail literally. */
	ck_assert_int_ge(asprintf(&cmd, "%s  '-oi;touch'\t'%s/pwned' '$(id)'",
	    sm, dir), 0);
	c = mkconfig(dir, cmd);
	ck_assert_int_eq(deliver_flush(&c, &j, NULL, &r, &e), 0);
	ck_assert_uint_eq(r.accepted, 1);
	ck_assert(!tu_exists(dir, "pwned"));
	p = tu_path(dir, "args.1");
	args = tu_readall(p, NULL);
	ck_assert_ptr_nonnull(strstr(args, "-oi;touch\n"));
	ck_assert_ptr_nonnull(strstr(args, "/pwned\n$(id)\n-i\n-f\n"));
	journal_close(&j);
	deliver_report_free(&r);
	free(args);
	free(p);
	free(cmd);
	free(msg);
	free(sm);
	tu_rmtree(dir);
}
END_TEST

START_TEST(a_sendmail_that_cannot_run_is_a_failed_attempt)
{
	char *dir = tu_tmpdir();
	char *msg = simple_message("privacy@sde.example", "Hi");
	struct config c = mkconfig(dir, "/nonexistent/sendmail -t");
	struct journal j;
	struct deliver_report r;
	struct err e;

	ck_assert_int_eq(journal_open(dir, &j, &e), 0);
	ck_assert_int_eq(deliver_enqueue(dir, &j, "C-1", msg, strlen(msg), 0,
	    &e), 0);
	ck_assert_int_eq(deliver_flush(&c, &j, NULL, &r, &e), 0);
	ck_assert_uint_eq(r.failed, 1);
	ck_assert_str_eq(r.v[0].detail, "sendmail exited 127: cannot execute: "
	    "No such file or directory");
	deliver_report_free(&r);
	c.sendmail = (char *)"sendmail";	/* relative: refused */
	ck_assert_int_eq(deliver_flush(&c, &j, NULL, &r, &e), 0);
	ck_assert_uint_eq(r.failed, 1);
	ck_assert_ptr_nonnull(strstr(r.v[0].detail, "absolute path"));
	ck_assert(tu_exists(dir, "outbox/C-1.eml"));
	journal_close(&j);
	deliver_report_free(&r);
	free(msg);
	tu_rmtree(dir);
}
END_TEST

START_TEST(an_acceptance_already_journaled_is_moved_not_sent_again)
{
	char *dir = tu_tmpdir(), *sm = fake_sendmail(dir, "sm", 0, 0);
	char *msg = simple_message("privacy@sde.example", "Hi");
	char from[300], to[300], msgid[300];
	struct config c = mkconfig(dir, sm);
	struct journal j;
	struct deliver_report r;
	struct err e;

	ck_assert_int_eq(journal_open(dir, &j, &e), 0);
	ck_assert_int_eq(deliver_enqueue(dir, &j, "C-1", msg, strlen(msg), 1,
	    &e), 0);
	ck_assert_int_eq(mime_envelope(msg, strlen(msg), from, sizeof(from), to,
	    sizeof(to), msgid, sizeof(msgid), &e), 0);
	/* the run that sent it died right after journaling the acceptance */
	ck_assert_int_eq(journal_appendv(&j, &e, "delivery-attempt", "cert",
	    "C-1", "ok", "yes", "msgid", msgid, "detail", "sendmail exited 0",
	    NULL), 0);
	ck_assert_int_eq(deliver_flush(&c, &j, NULL, &r, &e), 0);
	ck_assert_uint_eq(r.accepted, 1);
	ck_assert_int_eq(r.v[0].recovered, 1);
	ck_assert_int_eq(r.v[0].manifest, 1);
	ck_assert_int_eq(count_calls(dir), 0);
	ck_assert(tu_exists(dir, "sent/C-1.eml"));
	ck_assert(!tu_exists(dir, "outbox/C-1.eml"));
	ck_assert_int_eq(deliver_state(dir, "C-1", NULL, &e), DELIVER_SENT);
	journal_close(&j);
	deliver_report_free(&r);
	free(msg);
	free(sm);
	tu_rmtree(dir);
}
END_TEST

START_TEST(a_resend_is_a_new_copy_journaled_as_such)
{
	char *dir = tu_tmpdir(), *sm = fake_sendmail(dir, "sm", 0, 0);
	char *msg = simple_message("privacy@sde.example", "Hi");
	char *msg2 = simple_message("privacy@sde.example", "Hi");
	struct config c = mkconfig(dir, sm);
	struct journal j;
	struct deliver_report r;
	struct err e;
	struct jcount jc;
	char **ids;
	size_t n;

	ck_assert_int_eq(journal_open(dir, &j, &e), 0);
	/* not sent yet: nothing to copy */
	ck_assert_int_eq(deliver_enqueue_copy(dir, &j, "C-1", msg2,
	    strlen(msg2), 0, &e), -1);
	ck_assert_int_eq(deliver_enqueue(dir, &j, "C-1", msg, strlen(msg), 1,
	    &e), 0);
	ck_assert_int_eq(deliver_enqueue_copy(dir, &j, "C-1", msg2,
	    strlen(msg2), 0, &e), -1);
	ck_assert_int_eq(deliver_flush(&c, &j, NULL, &r, &e), 0);
	deliver_report_free(&r);
	ck_assert_msg(deliver_enqueue_copy(dir, &j, "C-1", msg2, strlen(msg2),
	    0, &e) == 0, "%s", e.msg);
	ck_assert(tu_exists(dir, "outbox/C-1+r1.eml"));
	ck_assert_int_eq(queued_line(dir, "C-1+r1").n, 1);
	ck_assert_str_eq(queued_line(dir, "C-1+r1").manifest, "no");
	ck_assert_int_eq(deliver_list(dir, DELIVER_PENDING, &ids, &n, &e), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(ids[0], "C-1+r1");
	deliver_ids_free(ids, n);
	ck_assert_int_eq(deliver_flush(&c, &j, NULL, &r, &e), 0);
	ck_assert_uint_eq(r.accepted, 1);
	ck_assert_str_eq(r.v[0].cert, "C-1");
	ck_assert_str_eq(r.v[0].id, "C-1+r1");
	ck_assert_int_eq(r.v[0].manifest, 0);
	jc = journal_counts(dir);
	ck_assert_int_eq(jc.yes, 2);
	ck_assert_str_eq(jc.copy, "r1");
	ck_assert_int_eq(count_calls(dir), 2);
	ck_assert_int_eq(deliver_list(dir, DELIVER_SENT, &ids, &n, &e), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(ids[0], "C-1");
	ck_assert_str_eq(ids[1], "C-1+r1");
	deliver_ids_free(ids, n);
	journal_close(&j);
	deliver_report_free(&r);
	free(msg);
	free(msg2);
	free(sm);
	tu_rmtree(dir);
}
END_TEST

START_TEST(a_notice_goes_through_the_outbox_and_is_journaled_as_a_notice)
{
	char *dir = tu_tmpdir(), *sm = fake_sendmail(dir, "sm", 0, 0), *out;
	struct config c = mkconfig(dir, sm);
	struct notice nt = { .agreement = "osde-2024", .lea = "OSDE",
	    .to = "privacy@sde.example", .terminated = "2026-10-15",
	    .disposal = "2026-10-29", .deadline = "2026-11-14",
	    .categories = "Assessment", .ndatasets = 1 };
	struct journal j;
	struct deliver_report r;
	struct err e;
	struct jcount jc;
	char id[200];
	size_t len;

	ck_assert_int_eq(deliver_notice_id("osde-2024", "2026-10-15", id,
	    sizeof(id), &e), 0);
	ck_assert_str_eq(id, "NOTICE-osde-2024-2026-10-15");
	ck_assert_int_eq(deliver_notice_id("osde-2024", "2026-13-01", id,
	    sizeof(id), &e), -1);
	ck_assert_int_eq(deliver_notice_id("osde-2024", "2026-10-15", id,
	    sizeof(id), &e), 0);
	ck_assert_int_eq(mime_notice_message(&c, &nt, &out, &len, &e), 0);
	ck_assert_int_eq(journal_open(dir, &j, &e), 0);
	ck_assert_int_eq(deliver_enqueue(dir, &j, id, out, len, 0, &e), 0);
	ck_assert_int_eq(deliver_flush(&c, &j, NULL, &r, &e), 0);
	ck_assert_uint_eq(r.accepted, 1);
	ck_assert_int_eq(r.v[0].kind, DELIVER_NOTICE);
	jc = journal_counts(dir);
	ck_assert_str_eq(jc.key, "notice");
	journal_close(&j);
	deliver_report_free(&r);
	free(out);
	free(sm);
	tu_rmtree(dir);
}
END_TEST

/* The first reproduction of issue 14 item 7, at the module's level. */
START_TEST(a_truncated_message_is_never_sent_and_a_rebuilt_one_is)
{
	char *dir = tu_tmpdir(), *sm = fake_sendmail(dir, "sm", 0, 0);
	char *msg = simple_message("privacy@sde.example", "Hi");
	char *msg2 = simple_message("privacy@sde.example", "Hi");
	char *good = simple_message("privacy@sde.example", "Other");
	char *p = tu_path(dir, "outbox/C-1.eml"), *got, *q;
	struct config c = mkconfig(dir, sm);
	struct deliver_status st;
	struct journal j;
	struct deliver_report r;
	struct err e;
	struct jcount jc;

	ck_assert_int_eq(journal_open(dir, &j, &e), 0);
	ck_assert_int_eq(deliver_enqueue(dir, &j, "C-1", msg, strlen(msg), 1,
	    &e), 0);
	ck_assert_int_eq(deliver_enqueue(dir, &j, "D-2", good, strlen(good), 1,
	    &e), 0);
	ck_assert_int_eq(truncate(p, 100), 0);
	ck_assert_int_eq(deliver_status(dir, "C-1", &st, &e), DELIVER_DAMAGED);
	ck_assert_msg(strstr(st.why, "truncated: 100 bytes, but") != NULL, "%s",
	    st.why);
	ck_assert_int_eq(deliver_flush(&c, &j, NULL, &r, &e), 0);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_uint_eq(r.failed, 1);
	ck_assert_uint_eq(r.accepted, 1);		/* the others go on */
	ck_assert_str_eq(r.v[0].id, "C-1");
	ck_assert_int_eq(r.v[0].ok, 0);
	ck_assert_int_eq(r.v[0].damaged, 1);
	ck_assert_int_eq(r.v[0].manifest, 0);
	ck_assert_msg(strstr(r.v[0].detail, "not sent: the queued message is "
	    "damaged (truncated: 100 bytes") != NULL, "%s", r.v[0].detail);
	ck_assert_ptr_nonnull(strstr(r.v[0].detail, "`lethe cert resend C-1` "
	    "rebuilds it"));
	ck_assert_int_eq(count_calls(dir), 1);	/* D-2 only */
	ck_assert(tu_exists(dir, "outbox/C-1.eml"));
	ck_assert(!tu_exists(dir, "sent/C-1.receipt"));
	jc = journal_counts(dir);
	ck_assert_int_eq(jc.no, 1);
	deliver_report_free(&r);
	/* every run reports it again, and never sends it */
	ck_assert_int_eq(deliver_flush(&c, &j, NULL, &r, &e), 0);
	ck_assert_uint_eq(r.failed, 1);
	ck_assert_int_eq(count_calls(dir), 1);
	deliver_report_free(&r);
	/* rebuilt: the damaged file is replaced, the new digest journaled */
	ck_assert_int_eq(deliver_enqueue(dir, &j, "C-1", msg2, strlen(msg2), 1,
	    &e), 2);
	ck_assert_msg(strstr(e.msg, "was damaged (truncated") != NULL, "%s",
	    e.msg);
	ck_assert_int_eq(queued_line(dir, "C-1").n, 2);
	ck_assert_int_eq(deliver_state(dir, "C-1", NULL, &e), DELIVER_PENDING);
	ck_assert_int_eq(deliver_flush(&c, &j, NULL, &r, &e), 0);
	ck_assert_uint_eq(r.accepted, 1);
	ck_assert_int_eq(r.v[0].manifest, 1);
	q = tu_path(dir, "msg.2");
	got = tu_readall(q, NULL);
	ck_assert_str_eq(got, msg2);		/* whole, and the new one */
	journal_close(&j);
	deliver_report_free(&r);
	free(got);
	free(q);
	free(p);
	free(msg);
	free(msg2);
	free(good);
	free(sm);
	tu_rmtree(dir);
}
END_TEST

START_TEST(an_edited_message_of_the_same_size_is_never_sent)
{
	char *dir = tu_tmpdir(), *sm = fake_sendmail(dir, "sm", 0, 0);
	char *msg = simple_message("privacy@sde.example", "Hi");
	char *p = tu_path(dir, "outbox/C-1.eml"), *edited;
	struct config c = mkconfig(dir, sm);
	struct journal j;
	struct deliver_report r;
	struct err e;

	ck_assert_int_eq(journal_open(dir, &j, &e), 0);
	ck_assert_int_eq(deliver_enqueue(dir, &j, "C-1", msg, strlen(msg), 1,
	    &e), 0);
	/* the recipient changed, the size kept */
	edited = strdup(msg);
	memcpy(strstr(edited, "To: privacy@sde.example"), "To: privacy@sde.evilxx",
	    22);
	chmod(p, 0600);
	tu_write_bytes(p, edited, strlen(edited));
	ck_assert_int_eq(deliver_flush(&c, &j, NULL, &r, &e), 0);
	ck_assert_uint_eq(r.failed, 1);
	ck_assert_int_eq(r.v[0].damaged, 1);
	ck_assert_ptr_nonnull(strstr(r.v[0].detail, "changed: its SHA-256 is "
	    "not the one journaled"));
	ck_assert_int_eq(count_calls(dir), 0);
	journal_close(&j);
	deliver_report_free(&r);
	free(edited);
	free(p);
	free(msg);
	free(sm);
	tu_rmtree(dir);
}
END_TEST

/* The second reproduction of issue 14 item 7. */
START_TEST(a_deleted_message_is_reported_missing_until_rebuilt)
{
	char *dir = tu_tmpdir(), *sm = fake_sendmail(dir, "sm", 0, 0);
	char *msg = simple_message("privacy@sde.example", "Hi");
	char *msg2 = simple_message("privacy@sde.example", "Hi");
	char *p = tu_path(dir, "outbox/C-1.eml");
	struct config c = mkconfig(dir, sm);
	struct deliver_status st;
	struct journal j;
	struct deliver_report r;
	struct err e;

	ck_assert_int_eq(journal_open(dir, &j, &e), 0);
	ck_assert_int_eq(deliver_enqueue(dir, &j, "C-1", msg, strlen(msg), 1,
	    &e), 0);
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(deliver_status(dir, "C-1", &st, &e), DELIVER_MISSING);
	ck_assert_ptr_nonnull(strstr(st.why, "missing from the outbox"));
	ck_assert_int_eq(deliver_flush(&c, &j, NULL, &r, &e), 0);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_uint_eq(r.failed, 1);
	ck_assert_str_eq(r.v[0].id, "C-1");
	ck_assert_int_eq(r.v[0].damaged, 1);
	ck_assert_msg(strstr(r.v[0].detail, "is missing from the outbox") !=
	    NULL, "%s", r.v[0].detail);
	ck_assert_int_eq(journal_counts(dir).no, 1);
	deliver_report_free(&r);
	/* even with no outbox directory at all */
	{
		char *o = tu_path(dir, "outbox");
		ck_assert_int_eq(rmdir(o), 0);
		free(o);
	}
	ck_assert_int_eq(deliver_flush(&c, &j, NULL, &r, &e), 0);
	ck_assert_uint_eq(r.failed, 1);
	deliver_report_free(&r);
	ck_assert_int_eq(deliver_enqueue(dir, &j, "C-1", msg2, strlen(msg2), 1,
	    &e), 2);
	ck_assert_ptr_nonnull(strstr(e.msg, "was lost"));
	ck_assert_int_eq(deliver_flush(&c, &j, NULL, &r, &e), 0);
	ck_assert_uint_eq(r.accepted, 1);
	ck_assert_uint_eq(r.failed, 0);
	deliver_report_free(&r);
	ck_assert_int_eq(deliver_flush(&c, &j, NULL, &r, &e), 0);
	ck_assert_uint_eq(r.n, 0);		/* accepted: no longer missing */
	journal_close(&j);
	deliver_report_free(&r);
	free(p);
	free(msg);
	free(msg2);
	free(sm);
	tu_rmtree(dir);
}
END_TEST

START_TEST(a_message_never_journaled_is_never_sent)
{
	char *dir = tu_tmpdir(), *sm = fake_sendmail(dir, "sm", 0, 0);
	char *msg = simple_message("privacy@sde.example", "Hi");
	char *o = tu_path(dir, "outbox"), *p = tu_path(dir, "outbox/C-1.eml");
	struct config c = mkconfig(dir, sm);
	struct journal j;
	struct deliver_report r;
	struct err e;

	ck_assert_int_eq(mkdir(o, 0700), 0);
	tu_write_bytes(p, msg, strlen(msg));		/* as an older lethe did */
	ck_assert_int_eq(journal_open(dir, &j, &e), 0);
	ck_assert_int_eq(deliver_state(dir, "C-1", NULL, &e), DELIVER_DAMAGED);
	ck_assert_int_eq(deliver_flush(&c, &j, NULL, &r, &e), 0);
	ck_assert_uint_eq(r.failed, 1);
	ck_assert_int_eq(r.v[0].damaged, 1);
	ck_assert_ptr_nonnull(strstr(r.v[0].detail, "never journaled"));
	ck_assert_int_eq(count_calls(dir), 0);
	journal_close(&j);
	deliver_report_free(&r);
	free(o);
	free(p);
	free(msg);
	free(sm);
	tu_rmtree(dir);
}
END_TEST

START_TEST(a_notice_for_a_new_date_withdraws_the_one_for_the_old)
{
	char *dir = tu_tmpdir(), *sm = fake_sendmail(dir, "sm", 0, 0);
	char *m1 = simple_message("privacy@sde.example", "Notice 1");
	char *m2 = simple_message("privacy@sde.example", "Notice 2");
	char *m3 = simple_message("privacy@sde.example", "Other agreement");
	struct config c = mkconfig(dir, sm);
	struct journal j;
	struct deliver_report r;
	struct err e;

	ck_assert_int_eq(journal_open(dir, &j, &e), 0);
	ck_assert_int_eq(deliver_enqueue(dir, &j, "NOTICE-a-2026-11-25", m1,
	    strlen(m1), 0, &e), 0);
	ck_assert_int_eq(deliver_enqueue(dir, &j, "NOTICE-a-b-2026-11-25", m3,
	    strlen(m3), 0, &e), 0);
	ck_assert_int_eq(deliver_enqueue(dir, &j, "NOTICE-a-2027-06-01", m2,
	    strlen(m2), 0, &e), 0);
	ck_assert(!tu_exists(dir, "outbox/NOTICE-a-2026-11-25.eml"));
	ck_assert(tu_exists(dir, "outbox/NOTICE-a-b-2026-11-25.eml"));
	ck_assert(tu_exists(dir, "outbox/NOTICE-a-2027-06-01.eml"));
	ck_assert_int_eq(deliver_state(dir, "NOTICE-a-2026-11-25", NULL, &e),
	    DELIVER_NONE);
	ck_assert_int_eq(deliver_flush(&c, &j, NULL, &r, &e), 0);
	ck_assert_uint_eq(r.n, 2);		/* not reported as lost */
	ck_assert_uint_eq(r.accepted, 2);
	journal_close(&j);
	deliver_report_free(&r);
	free(m1);
	free(m2);
	free(m3);
	free(sm);
	tu_rmtree(dir);
}
END_TEST

START_TEST(flush_only_sends_the_one_asked_for)
{
	char *dir = tu_tmpdir(), *sm = fake_sendmail(dir, "sm", 0, 0);
	char *msg = simple_message("privacy@sde.example", "Hi");
	char *msg2 = simple_message("privacy@sde.example", "Hi");
	struct config c = mkconfig(dir, sm);
	struct deliver_opts o = { .only = "B-2" };
	struct journal j;
	struct deliver_report r;
	struct err e;

	ck_assert_int_eq(journal_open(dir, &j, &e), 0);
	ck_assert_int_eq(deliver_enqueue(dir, &j, "A-1", msg, strlen(msg), 0,
	    &e), 0);
	ck_assert_int_eq(deliver_enqueue(dir, &j, "B-2", msg2, strlen(msg2), 0,
	    &e), 0);
	ck_assert_int_eq(deliver_flush(&c, &j, &o, &r, &e), 0);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_str_eq(r.v[0].id, "B-2");
	ck_assert(tu_exists(dir, "outbox/A-1.eml"));
	ck_assert(tu_exists(dir, "sent/B-2.eml"));
	journal_close(&j);
	deliver_report_free(&r);
	free(msg);
	free(msg2);
	free(sm);
	tu_rmtree(dir);
}
END_TEST

START_TEST(a_resent_certificate_goes_without_the_sanitized_manifest)
{
	char *dir = tu_tmpdir(), *sm = fake_sendmail(dir, "sm", 0, 0), *out;
	char *p = NULL;
	struct config c = mkconfig(dir, sm);
	struct cert_mail cm = { .to = "privacy@sde.example", .id = "C-1" };
	struct journal j;
	struct deliver_report r;
	struct err e;
	size_t len;

	write_cert_files(dir, "C-1", manifest, 0);
	p = tu_path(dir, "certificates/C-1.manifest");
	ck_assert_int_eq(journal_open(dir, &j, &e), 0);
	ck_assert_int_eq(mime_cert_message(&c, &cm, &out, &len, &e), 0);
	ck_assert_int_eq(deliver_enqueue(dir, &j, "C-1", out, len,
	    cm.with_manifest, &e), 0);
	free(out);
	/* without a reason to go without it, the manifest is required */
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(mime_cert_message(&c, &cm, &out, &len, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "C-1.manifest"));
	ck_assert_int_eq(deliver_flush(&c, &j, NULL, &r, &e), 0);
	ck_assert_uint_eq(r.accepted, 1);
	/* a re-send goes without it and says what the caller says */
	cm.no_manifest = "The vendor's copy of the manifest was sanitized on "
	    "2026-11-10.";
	ck_assert_msg(mime_cert_message(&c, &cm, &out, &len, &e) == 0, "%s",
	    e.msg);
	ck_assert_int_eq(cm.with_manifest, 0);
	ck_assert_ptr_null(strstr(out, "filename=\"C-1.manifest\""));
	ck_assert_ptr_nonnull(strstr(out, "filename=\"C-1.cert.p7s\""));
	ck_assert_ptr_nonnull(strstr(out, "manifest was sanitized on"));
	ck_assert_int_eq(deliver_enqueue_copy(dir, &j, "C-1", out, len, 0, &e),
	    0);
	journal_close(&j);
	deliver_report_free(&r);
	free(out);
	free(p);
	free(sm);
	tu_rmtree(dir);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("deliver");
	TCase *m = tcase_create("mime"), *d = tcase_create("outbox");

	tcase_add_test(m, mime_attachments_decode_to_the_exact_original_bytes);
	tcase_add_test(m, mime_refuses_a_line_break_in_any_header_value);
	tcase_add_test(m, mime_accepts_only_plain_addresses_that_cannot_be_options);
	tcase_add_test(m, mime_encodes_a_non_ascii_subject_in_rfc2047_words);
	tcase_add_test(m, mime_quotes_a_display_name_with_a_comma);
	tcase_add_test(m, mime_sends_long_or_non_ascii_text_as_quoted_printable);
	tcase_add_test(m, mime_sends_short_ascii_text_as_7bit);
	tcase_add_test(m, mime_gives_each_message_its_own_message_id_and_reads_it_back);
	tcase_add_test(m, cert_message_attaches_the_files_and_names_no_student_file);
	tcase_add_test(m, cert_message_fails_when_the_signature_is_missing);
	tcase_add_test(m, cert_message_refuses_a_manifest_changed_after_issue);
	tcase_add_test(m, cert_message_reads_the_certificate_as_cert_parse_does);
	tcase_add_test(m, notice_message_gives_the_planned_date_and_how_to_respond);
	suite_add_tcase(s, m);

	tcase_set_timeout(d, 30);
	tcase_add_test(d, enqueue_journals_the_digest_then_writes_the_message_once_0600);
	tcase_add_test(d, enqueue_refuses_an_id_that_could_be_a_path_or_option);
	tcase_add_test(d, flush_passes_explicit_recipients_and_the_message_on_stdin);
	tcase_add_test(d, a_tempfail_keeps_the_message_and_the_next_flush_sends_it_once);
	tcase_add_test(d, a_hanging_sendmail_is_killed_and_the_message_kept);
	tcase_add_test(d, sendmail_words_are_passed_literally_without_a_shell);
	tcase_add_test(d, a_sendmail_that_cannot_run_is_a_failed_attempt);
	tcase_add_test(d, an_acceptance_already_journaled_is_moved_not_sent_again);
	tcase_add_test(d, a_resend_is_a_new_copy_journaled_as_such);
	tcase_add_test(d, a_notice_goes_through_the_outbox_and_is_journaled_as_a_notice);
	tcase_add_test(d, a_truncated_message_is_never_sent_and_a_rebuilt_one_is);
	tcase_add_test(d, an_edited_message_of_the_same_size_is_never_sent);
	tcase_add_test(d, a_deleted_message_is_reported_missing_until_rebuilt);
	tcase_add_test(d, a_message_never_journaled_is_never_sent);
	tcase_add_test(d, a_notice_for_a_new_date_withdraws_the_one_for_the_old);
	tcase_add_test(d, flush_only_sends_the_one_asked_for);
	tcase_add_test(d, a_resent_certificate_goes_without_the_sanitized_manifest);
	suite_add_tcase(s, d);
	return s;
}

int
main(void)
{
	return tu_run(suite());
}
