/*
 * certmail.c: the certificate's message to the LEA, and its queueing (see
 * letters.h).
 *
 * MUST rules:
 *  - the text is written from the certificate as cert_parse reads it (the
 *    one reader of certificates): counts, sizes, digests, dates, policy
 *    names, never a file name;
 *  - the certificate, its signature and token are attached byte for byte;
 *    the manifest only when its SHA-256 is the certificate's
 *    manifest_sha256, and a message that goes without it says why;
 *  - a certificate's message is queued until it was sent, never after.
 */
#include "deliver/letters.h"
#include "deliver/letter.h"
#include "deliver/deliver.h"
#include "deliver/mime.h"
#include "certify/cert.h"
#include "conf/config.h"
#include "state/durable.h"
#include "base/date.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_ATTACHMENT	(64u << 20)	/* mail systems refuse far less */

enum { F_CERT, F_P7S, F_MANIFEST, F_TSR, NFILES };

/* A number of the certificate as text into buf, or NULL when unset. */
static const char *
num_text(uint64_t v, char *buf, size_t sz)
{
	if (v == CERT_UNSET)
		return NULL;
	snprintf(buf, sz, "%" PRIu64, v);
	return buf;
}

/* A date of the certificate, or NULL when unset. */
static const char *
date_text(day_t d, char *buf)
{
	return d == DAY_NONE ? NULL : date_format(d, buf);
}

/* An instant of the certificate, or NULL when unset. */
static const char *
time_text(time_t t, char *buf)
{
	return t == (time_t)-1 ? NULL : time_format_utc(t, buf);
}

/* "1234567 bytes (1.2 MiB)", or "" when unset. */
static void
bytes_text(uint64_t v, char *out, size_t sz)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double d;
	int u = -1, r;

	if (v == CERT_UNSET) {
		r = snprintf(out, sz, "%s", "");
	} else {
		for (d = (double)v; d >= 1024 && u < 4; u++)
			d /= 1024;
		if (u < 0)
			r = snprintf(out, sz, "%" PRIu64 " bytes", v);
		else
			r = snprintf(out, sz, "%" PRIu64 " bytes (%.1f %s)", v, d,
			    unit[u]);
	}
	if (r < 0 || (size_t)r >= sz)
		out[0] = '\0';
}

/* "What was destroyed": the data's categories, counts and size. */
static void
text_what(struct strbuf *b, const struct cert *ct)
{
	char n[32], w[1200];

	strbuf_puts(b, "\nWhat was destroyed\n");
	letter_field(b, "Data categories", ct->categories);
	letter_field(b, "Files", num_text(ct->files, n, sizeof(n)));
	bytes_text(ct->bytes, w, sizeof(w));
	letter_field(b, "Size", w);
	if (ct->remaining_matches != CERT_UNSET)
		strbuf_fit(w, sizeof(w), "%" PRIu64 " files still matching, "
		    "searched after the destruction", ct->remaining_matches);
	else
		w[0] = '\0';
	letter_field(b, "Found afterwards", w);
	letter_field(b, "Retained (exempt)", ct->retained);
	letter_field(b, "Legal holds", ct->holds);
}

/* "When": why, when it was done, the deadline and the confirmation. */
static void
text_when(struct strbuf *b, const struct cert *ct)
{
	const char *t = ct->trigger;
	char w[1200], td[32], a[32];

	strbuf_puts(b, "\nWhen\n");
	if (date_text(ct->trigger_date, td) == NULL)
		strbuf_fit(td, sizeof(td), "%s", "(date not stated)");
	if (t && strcmp(t, "termination") == 0)
		strbuf_fit(w, sizeof(w), "termination of the service agreement "
		    "on %s", td);
	else if (t && strncmp(t, "directive", 9) == 0)
		strbuf_fit(w, sizeof(w), "the LEA's directive for disposition "
		    "of data%s (NDPA Exhibit D), received %s", t + 9, td);
	else if (t && strcmp(t, "reappeared") == 0)
		strbuf_fit(w, sizeof(w), "data found again after an earlier "
		    "disposition, on %s", td);
	else
		strbuf_fit(w, sizeof(w), "%s (%s)", t ? t : "(not stated)", td);
	letter_field(b, "Reason", w);
	letter_field(b, "Started", time_text(ct->started, a));
	letter_field(b, "Completed", time_text(ct->completed, a));
	strbuf_fit(w, sizeof(w), "%s, %s", date_text(ct->deadline, a) ? a :
	    "(not stated)", ct->deadline_met == 1 ? "met" :
	    ct->deadline_met == 0 ? "NOT met" : "(not stated whether met)");
	letter_field(b, "Disposal deadline", w);
	letter_field(b, "Confirmation due", date_text(ct->certify_by, a));
}

/* "How": the standard, method, technique, details and verification. */
static void
text_how(struct strbuf *b, const struct cert *ct)
{
	strbuf_puts(b, "\nHow\n");
	letter_field(b, "Standard", ct->standard);
	letter_field(b, "Method", ct->method_type);
	letter_field(b, "Technique", ct->technique);
	letter_field(b, "Details", ct->method_details);
	letter_field(b, "Verification", ct->verification);
	if (ct->exceptions != NULL)
		letter_field(b, "Exceptions", ct->exceptions);
	letter_field(b, "Performed by", ct->performed_by);
}

/* "Attached", and "How to verify" with the stock openssl commands. */
static void
text_attached(struct strbuf *b, const struct config *c, const char *id,
    const struct cert *ct, int has_manifest, const char *no_manifest,
    int has_tsr)
{
	const char *contact = letter_contact(c);
	char w[1200];

	strbuf_puts(b, "\nAttached\n");
	strbuf_printf(b, "  %s.cert\n", id);
	strbuf_puts(b, "      the certificate: the fields above and more, as "
	    "text\n");
	strbuf_printf(b, "  %s.cert.p7s\n", id);
	strbuf_puts(b, "      the vendor's digital signature over it (CMS, "
	    "PEM)\n");
	if (has_manifest) {
		strbuf_printf(b, "  %s.manifest\n", id);
		strbuf_puts(b, "      each destroyed file's name, size and "
		    "SHA-256 digest before\n      destruction. It names "
		    "student records: keep it as you keep\n      the data, and "
		    "give it only to your auditor.\n");
	}
	if (has_tsr) {
		strbuf_printf(b, "  %s.cert.tsr\n", id);
		strbuf_puts(b, "      an RFC 3161 time-stamp token over the "
		    "signature\n");
	}
	if (!has_manifest) {
		strbuf_puts(b, "\n");
		letter_wrap(b, no_manifest, 0, 0);
	}
	strbuf_puts(b, "\nHow to verify\n");
	letter_wrap(b, "With the vendor's CA certificate (ca.pem, which the "
	    "vendor gives you once), run in the folder that holds the "
	    "attachments:", 0, 0);
	strbuf_printf(b, "\n  openssl cms -verify -binary -inform PEM \\\n"
	    "    -in %s.cert.p7s -content %s.cert \\\n"
	    "    -CAfile ca.pem -out /dev/null\n\n", id, id);
	letter_wrap(b, "It prints \"CMS Verification successful\" only if the "
	    "certificate is authentic and unchanged. Then", 0, 0);
	strbuf_printf(b, "\n  openssl dgst -sha256 %s.manifest\n\n", id);
	strbuf_puts(b, "must show the manifest_sha256 of the certificate:\n");
	strbuf_printf(b, "  %s\n\n", ct->manifest_sha256 ? ct->manifest_sha256 :
	    "(not stated)");
	strbuf_fit(w, sizeof(w), "Questions about this destruction: %s. Please "
	    "keep this message and its attachments; they are the record of "
	    "the destruction.", contact ? contact : "the vendor");
	letter_wrap(b, w, 0, 0);
}

static void
cert_text(struct strbuf *b, const struct config *c, const char *id,
    const struct cert *ct, int has_manifest, const char *no_manifest,
    int has_tsr)
{
	char w[1200];

	letter_greeting(b, ct->lea);
	strbuf_fit(w, sizeof(w), "%s has destroyed student data it held under "
	    "the data privacy agreement \"%s\". This message is the written "
	    "confirmation of that destruction, with its date and method. The "
	    "signed certificate %s is attached.", ct->vendor ? ct->vendor :
	    c->vendor_name ? c->vendor_name : "The vendor",
	    ct->agreement ? ct->agreement : "", id);
	letter_wrap(b, w, 0, 0);
	text_what(b, ct);
	text_when(b, ct);
	text_how(b, ct);
	text_attached(b, c, id, ct, has_manifest, no_manifest, has_tsr);
}

static int
read_cert_file(const char *dir, const char *id, const char *ext, int optional,
    char **data, size_t *len, struct err *e)
{
	char path[4096];
	struct stat st;
	int n = snprintf(path, sizeof(path), "%s/%s%s", dir, id, ext);

	*data = NULL;
	*len = 0;
	if (n < 0 || (size_t)n >= sizeof(path))
		return err_set(e, "%s: certificate path too long", dir);
	if (optional && lstat(path, &st) == -1 && errno == ENOENT)
		return 0;
	return slurp(path, MAX_ATTACHMENT, data, len, e);
}

/* The certificate's files in dir, each an attachment (the manifest and
 * the token may be absent: see cert_mail); names[i] holds their names. */
static int
read_files(const char *dir, const struct cert_mail *cm,
    char *data[NFILES], size_t dlen[NFILES], char names[NFILES][300],
    struct mail_attachment *att, size_t *natt, struct err *e)
{
	static const char *const ext[NFILES] = { ".cert", ".cert.p7s",
	    ".manifest", ".cert.tsr" };
	static const char *const ctype[NFILES] = {
	    "text/plain; charset=utf-8", "application/pkcs7-signature",
	    "text/tab-separated-values; charset=utf-8",
	    "application/timestamp-reply" };

	*natt = 0;
	for (int i = 0; i < NFILES; i++) {
		/* a re-send after the manifest went may go without it */
		int optional = i == F_TSR || (i == F_MANIFEST &&
		    cm->no_manifest != NULL);
		int n;
		if (read_cert_file(dir, cm->id, ext[i], optional, &data[i],
		    &dlen[i], e) != 0)
			return -1;
		if (data[i] == NULL)
			continue;
		n = snprintf(names[i], sizeof(names[i]), "%s%s", cm->id, ext[i]);
		if (n < 0 || (size_t)n >= sizeof(names[i]))
			return err_set(e, "certificate %s: name too long", cm->id);
		att[*natt].filename = names[i];
		att[*natt].ctype = ctype[i];
		att[*natt].data = data[i];
		att[*natt].len = dlen[i];
		(*natt)++;
	}
	return 0;
}

int
mime_cert_message(const struct config *c, struct cert_mail *cm, char **out,
    size_t *len, struct err *e)
{
	const char *id = cm->id;
	char dir[4096], names[NFILES][300], subject[900], path[4200];
	char *data[NFILES] = { 0 }, what[300];
	size_t dlen[NFILES] = { 0 }, natt = 0;
	struct mail_attachment att[NFILES];
	struct mail m = { 0 };
	struct strbuf body = { 0 };
	struct cert ct;
	int rc = -1, n;

	*out = NULL;
	*len = 0;
	cert_init(&ct);
	if (!deliver_id_ok(id))
		return err_set(e, "certificate id '%s' is not valid", id);
	n = snprintf(dir, sizeof(dir), "%s/certificates", c->state_dir);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return err_set(e, "%s: path too long", c->state_dir);
	cm->with_manifest = 0;
	if (read_files(dir, cm, data, dlen, names, att, &natt, e) != 0)
		goto out;
	snprintf(path, sizeof(path), "%s/%s.cert", dir, id);
	if (cert_parse(path, data[F_CERT], dlen[F_CERT], &ct, e) != 0)
		goto out;
	if (data[F_MANIFEST] != NULL) {
		char got[65];
		cert_sha256_hex(data[F_MANIFEST], dlen[F_MANIFEST], got);
		if (ct.manifest_sha256 == NULL ||
		    strcmp(ct.manifest_sha256, got) != 0) {
			err_set(e, "%s/%s.manifest: its SHA-256 is not the "
			    "certificate's manifest_sha256: it was changed after "
			    "the certificate was issued", dir, id);
			goto out;
		}
		cm->with_manifest = 1;
	}
	n = snprintf(subject, sizeof(subject), "Certificate of data "
	    "destruction %s \xe2\x80\x94 %s", id, ct.lea ? ct.lea :
	    "LEA not stated");
	if (n < 0 || (size_t)n >= sizeof(subject)) {
		err_set(e, "certificate %s: subject too long", id);
		goto out;
	}
	cert_text(&body, c, id, &ct, data[F_MANIFEST] != NULL,
	    cm->no_manifest, data[F_TSR] != NULL);
	if (body.oom) {
		err_set(e, "certificate %s: out of memory", id);
		goto out;
	}
	m.to = cm->to;
	m.subject = subject;
	m.body = body.p;
	m.tag = id;
	m.att = att;
	m.natt = natt;
	strbuf_fit(what, sizeof(what), "certificate %s", id);
	if (letter_send(c, &m, what, out, len, e) != 0)
		goto out;
	rc = 0;
out:
	for (int i = 0; i < NFILES; i++)
		free(data[i]);
	free(body.p);
	cert_free(&ct);
	return rc;
}

int
deliver_cert(const struct config *c, struct journal *j, const char *id,
    const char *to, struct err *e)
{
	struct cert_mail cm = { .to = to, .id = id };
	char *msg = NULL;
	size_t len = 0;
	int rc = 0;

	/* Queued with its digest journaled; a resumed run that finds the
	 * message queued and intact, or sent, changes nothing, and rebuilds
	 * one that was damaged or lost meanwhile. */
	if (deliver_state(c->state_dir, id, NULL, e) == DELIVER_SENT)
		return 0;
	if (mime_cert_message(c, &cm, &msg, &len, e) != 0 ||
	    deliver_enqueue(c->state_dir, j, id, msg, len, cm.with_manifest,
	    e) < 0)
		rc = -1;
	free(msg);
	return rc;
}
