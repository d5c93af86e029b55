/*
 * cert.c: the certificate of sanitization: its fields and the checks
 * `lethe verify` makes (see cert.h, certs/FORMAT.md).  Its text is
 * written and read in cert_text.c; it is issued by certify/issue.c.
 *
 * MUST rules:
 *  - the field table below is the one list of what a certificate holds:
 *    cert_format writes, and cert_parse reads, exactly these;
 *  - a value is checked for what it claims (an id, a digest, a zone, a
 *    technique, dates in order, deadline_met agreeing with the dates), so
 *    that lethe never issues a certificate it would reject.
 */
#include "certify/cert.h"
#include "certify/cert_int.h"
#include "base/err.h"
#include "base/hex.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define C(s, k, t, m) { s, k, t, offsetof(struct cert, m), 0 }
#define CO(s, k, t, m) { s, k, t, offsetof(struct cert, m), 1 }
const struct cert_field cert_fields[] = {
	C("certificate", "id", F_STR, id),
	C("certificate", "issued", F_TIME, issued),
	C("certificate", "standard", F_STR, standard),
	C("certificate", "tool", F_STR, tool),
	C("certificate", "host", F_STR, host),
	C("certificate", "journal_seq", F_U64, journal_seq),
	C("certificate", "journal_head", F_HEX, journal_head),
	CO("certificate", "journal_accepted", F_STR, journal_accepted),
	C("agreement", "id", F_STR, agreement),
	C("agreement", "lea", F_STR, lea),
	C("agreement", "vendor", F_STR, vendor),
	C("agreement", "trigger", F_STR, trigger),
	C("agreement", "trigger_date", F_DATE, trigger_date),
	C("agreement", "deadline", F_DATE, deadline),
	C("agreement", "deadline_met", F_BOOL, deadline_met),
	C("agreement", "timezone", F_STR, timezone),
	/* the [media] sections go here */
	C("sanitization", "performed_by", F_STR, performed_by),
	C("sanitization", "method_type", F_STR, method_type),
	C("sanitization", "technique", F_STR, technique),
	C("sanitization", "method_details", F_STR, method_details),
	C("sanitization", "verification", F_STR, verification),
	C("sanitization", "started", F_TIME, started),
	C("sanitization", "completed", F_TIME, completed),
	C("sanitization", "remaining_matches", F_U64, remaining_matches),
	C("sanitization", "post_sanitization_destination", F_STR, destination),
	C("sanitization", "exceptions", F_STR, exceptions),
	CO("sanitization", "result", F_STR, result),
	C("data", "categories", F_STR, categories),
	C("data", "files", F_U64, files),
	C("data", "bytes", F_U64, bytes),
	CO("data", "bytes_overwritten", F_U64, bytes_overwritten),
	C("data", "manifest_sha256", F_HEX, manifest_sha256),
	C("data", "retained", F_STR, retained),
	C("data", "holds", F_STR, holds),
	C("delivery", "certify_by", F_DATE, certify_by),
};
#undef C
#undef CO

#define M(k, m) { "media", k, F_STR, offsetof(struct cert_media, m), 0 }
const struct cert_field cert_mfields[] = {
	M("type", type), M("uuid", uuid), M("device", device),
	M("model", model), M("serial", serial), M("rotational", rotational),
	M("source", source),
};
#undef M

static const char *const techniques[] = {
	"overwrite", "crypto-erase", "archive-member-removal",
	"transfer-then-overwrite",
};

void
cert_init(struct cert *c)
{
	memset(c, 0, sizeof(*c));
	c->issued = c->started = c->completed = (time_t)-1;
	c->journal_seq = c->remaining_matches = CERT_UNSET;
	c->files = c->bytes = c->bytes_overwritten = CERT_UNSET;
	c->trigger_date = c->deadline = c->certify_by = DAY_NONE;
	c->deadline_met = -1;
}

void
cert_free(struct cert *c)
{
	for (size_t i = 0; i < c->nowned_; i++)
		free(c->owned_[i]);
	free(c->owned_);
	cert_init(c);
}

void
cert_hex(const unsigned char md[32], char out[65])
{
	hex_encode(md, 32, out);
}

void
cert_sha256_hex(const void *buf, size_t len, char out[65])
{
	unsigned char md[32];

	EVP_Digest(buf, len, md, NULL, EVP_sha256(), NULL);
	cert_hex(md, out);
}


/* 64 lowercase hex digits (a SHA-256). */
static int
is_hex64(const char *s)
{
	unsigned char md[32];

	return s != NULL && hex_decode(s, strlen(s), md, sizeof(md)) == 0;
}

int
cert_id_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		int alnum = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9');
		if (!alnum && (i == 0 || strchr("._-", ch) == NULL))
			return 0;
	}
	return 1;
}

int
cert_field_present(const void *base, const struct cert_field *f)
{
	switch (f->type) {
	case F_STR:
	case F_HEX:
		return CAT(base, f, char *) != NULL &&
		    *CAT(base, f, char *) != '\0';
	case F_TIME:
		return CAT(base, f, time_t) != (time_t)-1;
	case F_DATE:
		return CAT(base, f, day_t) != DAY_NONE;
	case F_U64:
		return CAT(base, f, uint64_t) != CERT_UNSET;
	case F_BOOL:
		return CAT(base, f, int) == 0 || CAT(base, f, int) == 1;
	}
	return 0;
}

static int
technique_ok(const char *t)
{
	while (*t != '\0') {
		size_t n = strcspn(t, ","), k;
		int found = 0;

		for (k = 0; k < sizeof(techniques) / sizeof(techniques[0]); k++)
			if (strlen(techniques[k]) == n &&
			    strncmp(t, techniques[k], n) == 0)
				found = 1;
		if (!found)
			return 0;
		t += n;
		if (*t == ',') {
			t++;
			if (*t == ' ')
				t++;
			if (*t == '\0')
				return 0;
		}
	}
	return 1;
}

static int
trigger_ok(const char *t)
{
	if (strcmp(t, "termination") == 0 || strcmp(t, "reappeared") == 0)
		return 1;
	return strncmp(t, "directive ", 10) == 0 && cert_id_ok(t + 10);
}

int
cert_check_fields(const struct cert *c, struct err *e)
{
	for (size_t i = 0; i < CERT_NFIELDS; i++)
		if (!cert_fields[i].optional && !cert_field_present(c, &cert_fields[i]))
			return err_set(e, "missing [%s] %s", cert_fields[i].sec,
			    cert_fields[i].key);
	if (c->bytes_overwritten != CERT_UNSET &&
	    c->bytes_overwritten > c->bytes)
		return err_set(e, "[data] bytes_overwritten %llu exceeds bytes "
		    "%llu", (unsigned long long)c->bytes_overwritten,
		    (unsigned long long)c->bytes);
	if (c->nmedia == 0)
		return err_set(e, "missing [media] section");
	if (c->nmedia > CERT_MAX_MEDIA)
		return err_set(e, "more than %d [media] sections",
		    CERT_MAX_MEDIA);
	for (size_t m = 0; m < c->nmedia; m++) {
		for (size_t i = 0; i < CERT_NMFIELDS; i++)
			if (!cert_field_present(&c->media[m], &cert_mfields[i]))
				return m == 0 ?
				    err_set(e, "missing [media] %s",
				    cert_mfields[i].key) :
				    err_set(e, "missing [media %zu] %s", m + 1,
				    cert_mfields[i].key);
		const char *r = c->media[m].rotational;
		char sec[32];
		if (m == 0)
			snprintf(sec, sizeof(sec), "media");
		else
			snprintf(sec, sizeof(sec), "media %zu", m + 1);
		if (strcmp(r, "yes") != 0 && strcmp(r, "no") != 0 &&
		    strcmp(r, "unknown") != 0)
			return err_set(e, "[%s] rotational is '%s'; expected yes, "
			    "no or unknown", sec, r);
	}
	if (!cert_id_ok(c->id))
		return err_set(e, "[certificate] id '%s' is not a valid id "
		    "([A-Za-z0-9][A-Za-z0-9._-]*, at most 64 bytes)", c->id);
	if (strcmp(c->standard, CERT_STANDARD) != 0)
		return err_set(e, "[certificate] standard is '%s'; expected "
		    "'%s'", c->standard, CERT_STANDARD);
	if (!is_hex64(c->journal_head))
		return err_set(e, "[certificate] journal_head is not 64 "
		    "lowercase hex digits");
	if (!is_hex64(c->manifest_sha256))
		return err_set(e, "[data] manifest_sha256 is not 64 lowercase "
		    "hex digits");
	if (!trigger_ok(c->trigger))
		return err_set(e, "[agreement] trigger '%s' is not "
		    "termination, directive ID or reappeared", c->trigger);
	if (!tz_valid(c->timezone))
		return err_set(e, "[agreement] timezone '%s' is not a time zone "
		    "known here", c->timezone);
	if (!technique_ok(c->technique))
		return err_set(e, "[sanitization] technique '%s' is not one of "
		    "overwrite, crypto-erase, archive-member-removal, "
		    "transfer-then-overwrite", c->technique);
	if (c->result != NULL && strcmp(c->result, "complete") != 0 &&
	    strcmp(c->result, "partial") != 0)
		return err_set(e, "[sanitization] result is '%s'; expected "
		    "complete or partial", c->result);
	/* A partial certificate confirms what a failed disposition did
	 * destroy, and says what remains; a complete one leaves nothing. */
	if (!cert_partial(c) && c->remaining_matches != 0)
		return err_set(e, "[sanitization] remaining_matches is %llu: "
		    "data was left behind, the disposition did not complete",
		    (unsigned long long)c->remaining_matches);
	return 0;
}

int
cert_partial(const struct cert *c)
{
	return c->result != NULL && strcmp(c->result, "partial") == 0;
}

int
cert_check_dates(const struct cert *c, struct err *e)
{
	char a[32], b[32];
	day_t done = tz_date_at(c->timezone, c->completed);

	if (c->started > c->completed)
		return err_set(e, "[sanitization] started %s is after completed "
		    "%s", time_format_utc(c->started, a),
		    time_format_utc(c->completed, b));
	if (c->completed > c->issued)
		return err_set(e, "[sanitization] completed %s is after "
		    "[certificate] issued %s", time_format_utc(c->completed, a),
		    time_format_utc(c->issued, b));
	if (c->trigger_date > c->deadline)
		return err_set(e, "[agreement] trigger_date %s is after deadline "
		    "%s", date_format(c->trigger_date, a),
		    date_format(c->deadline, b));
	if (c->trigger_date > done)
		return err_set(e, "[agreement] trigger_date %s is after the "
		    "completion date %s (%s)", date_format(c->trigger_date, a),
		    date_format(done, b), c->timezone);
	if (c->certify_by < done)
		return err_set(e, "[delivery] certify_by %s is before the "
		    "completion date %s (%s)", date_format(c->certify_by, a),
		    date_format(done, b), c->timezone);
	return 0;
}

int
cert_deadline_met(const char *tz, time_t completed, day_t deadline)
{
	return tz_date_at(tz, completed) <= deadline;
}

int
cert_check_deadline(const struct cert *c, struct err *e)
{
	char a[32], b[32];
	/* A partial disposition did not meet the obligation, whatever day
	 * it ended on. */
	int met = !cert_partial(c) &&
	    cert_deadline_met(c->timezone, c->completed, c->deadline);

	if (met != c->deadline_met)
		return err_set(e, "[agreement] deadline_met says %s, but "
		    "completion on %s (%s) is %s the deadline %s",
		    c->deadline_met ? "yes" : "no",
		    date_format(tz_date_at(c->timezone, c->completed), a),
		    c->timezone, met ? "on or before" : "after",
		    date_format(c->deadline, b));
	return 0;
}

int
cert_check(const struct cert *c, struct err *e)
{
	if (cert_check_fields(c, e) != 0 || cert_check_dates(c, e) != 0 ||
	    cert_check_deadline(c, e) != 0)
		return -1;
	return 0;
}
