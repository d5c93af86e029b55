/*
 * record.c: a finished disposition's facts, kept until its certificate is
 * issued (see record.h).  Text, one "key=value" per line; values are single
 * lines (control characters but tab become '?').
 */
#include "certify/record.h"

#include "conf/config.h"
#include "state/durable.h"
#include "base/err.h"
#include "plan/events.h"
#include "base/num.h"
#include "conf/policy.h"
#include "plan/sched.h"
#include "base/strbuf.h"
#include "base/text.h"
#include "certify/textlist.h"

#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Appends "key=value\n"; control characters but tab become '?' so a
 * value is always one line. */
static void
sb_kv(struct strbuf *b, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
sb_kv(struct strbuf *b, const char *key, const char *fmt, ...)
{
	char val[8448];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	for (char *s = val; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			*s = '?';
	strbuf_printf(b, "%s=%s\n", key, val);
}

/* Free text (a hold's reason, a policy's exempt_reason) as a certificate
 * value that reads back as written: see text_cert_safe. */
static void
cert_safe(char *s)
{
	text_cert_safe(s);
}

/* Each hold of the agreement with its whole reason (`lethe hold` keeps
 * reasons within TEXT_REASON_MAX, so they fit on a certificate).  A reason
 * recorded before that rule, longer, is shown up to the limit and says it
 * was cut; holds that do not fit in buf are counted, never dropped
 * silently. */
static void
holds_text(const struct events *ev, const char *agreement, char *buf,
    size_t len)
{
	struct textlist l;
	char when[21], rel[21], reason[TEXT_REASON_MAX + 64];

	textlist_init(&l, buf, len, "none");
	for (size_t i = 0; i < ev->nhold; i++) {
		const struct ev_hold *h = &ev->hold[i];
		const char *why = h->reason ? h->reason : "";
		if (strcmp(h->agreement, agreement) != 0)
			continue;
		time_format_utc(h->placed, when);
		if (strlen(why) > TEXT_REASON_MAX)
			snprintf(reason, sizeof(reason), "%.*s... [cut at %d "
			    "bytes: the whole reason is in the journal]",
			    TEXT_REASON_MAX, why, TEXT_REASON_MAX);
		else
			snprintf(reason, sizeof(reason), "%s", why);
		cert_safe(reason);
		if (h->released)
			time_format_utc(h->released_at, rel);
		textlist_add(&l, "%s (%s) placed %s%s%s", h->id, reason, when,
		    h->released ? ", released " : ", active",
		    h->released ? rel : "");
	}
	textlist_end(&l, "hold");
}

/* Appends name to the ", "-separated list in buf (len bytes, *off used);
 * when the rest (left names, this one included) no longer fits, ends it
 * with "and N more" instead: never a name cut in half. */
static void
list_add(char *buf, size_t len, size_t *off, const char *name, size_t left)
{
	int w;

	if (*off == (size_t)-1)
		return;		/* already ended */
	w = snprintf(buf + *off, len - *off, "%s%s", *off ? ", " : "", name);
	if (w > 0 && (size_t)w < len - *off && *off + (size_t)w + 24 < len) {
		*off += (size_t)w;
		return;
	}
	buf[*off] = '\0';
	snprintf(buf + *off, len - *off, "%sand %zu more", *off ? ", " : "",
	    left);
	*off = (size_t)-1;
}

void
record_from(struct record *r, const struct config *c,
    const struct agreement *a, const char *id, const char *trigger,
    day_t trigger_date, day_t deadline, const size_t *ds, size_t nds,
    const struct events *ev, const struct dispose_out *out)
{
	size_t off = 0, roff = 0;

	(void)c;
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(r->agreement, sizeof(r->agreement), "%s", a->id);
	snprintf(r->trigger, sizeof(r->trigger), "%s", trigger);
	r->trigger_date = trigger_date;
	r->deadline = deadline;
	snprintf(r->timezone, sizeof(r->timezone), "%s",
	    a->timezone ? a->timezone : "");
	for (size_t i = 0; i < nds; i++)
		list_add(r->datasets, sizeof(r->datasets), &off,
		    a->ds[ds[i]].name, nds - i);
	/* What was destroyed, not what could have been. */
	r->categories = out->categories;
	snprintf(r->retained, sizeof(r->retained), "none");
	for (size_t i = 0; i < a->nds; i++) {
		const struct dataset *d = &a->ds[i];
		int w;
		if (!dataset_exempt(a, i))
			continue;
		char why[256];
		snprintf(why, sizeof(why), "%s", d->exempt_reason ?
		    d->exempt_reason : "de-identified data, exempt under NDPA "
		    "IV.6");
		cert_safe(why);
		w = snprintf(r->retained + roff, sizeof(r->retained) - roff,
		    "%s%s (%s)", roff ? ", " : "", d->name, why);
		if (w > 0 && (size_t)w < sizeof(r->retained) - roff)
			roff += (size_t)w;
	}
	holds_text(ev, a->id, r->holds, sizeof(r->holds));
	r->out = *out;
}

/* The record's keys, in the order they are written; the media lines
 * follow (media_parse).  The one list record_write and record_read
 * share. */
enum rtype { R_STR, R_DATE, R_U64, R_U32, R_TIME, R_INT };

struct rkey {
	const char *key;
	enum rtype type;
	size_t off, size;
	int64_t min, max;	/* R_INT */
};

#define RF(k, t, m, lo, hi) { k, t, offsetof(struct record, m), \
	sizeof(((struct record *)0)->m), lo, hi }
#define R(k, t, m) RF(k, t, m, 0, 0)
#define O(k, t, m) RF(k, t, out.m, 0, 0)
static const struct rkey rkeys[] = {
	R("id", R_STR, id), R("agreement", R_STR, agreement),
	R("trigger", R_STR, trigger), R("trigger_date", R_DATE, trigger_date),
	R("deadline", R_DATE, deadline), R("timezone", R_STR, timezone),
	R("categories", R_U32, categories), R("datasets", R_STR, datasets),
	R("retained", R_STR, retained), R("holds", R_STR, holds),
	RF("partial", R_INT, partial, 0, INT_MAX),
	O("started", R_TIME, started), O("completed", R_TIME, completed),
	O("files", R_U64, files), O("bytes", R_U64, bytes),
	O("links", R_U64, links), O("specials", R_U64, specials),
	O("dirs", R_U64, dirs), O("sealed_files", R_U64, sealed_files),
	O("keys", R_U64, keys), O("key_usec", R_U64, key_usec),
	O("key_sealed_after", R_STR, key_sealed_after),
	O("kept_on", R_STR, kept_on),
	O("sealed_clean", R_U64, sealed_clean),
	O("sealed_cleared", R_U64, sealed_cleared),
	O("sealed_kept", R_U64, sealed_kept),
	O("ciphertext_overwritten", R_U64, ciphertext_overwritten),
	O("archives", R_U64, archives), O("members", R_U64, members),
	O("member_bytes", R_U64, member_bytes),
	O("member_links", R_U64, member_links),
	O("transferred", R_U64, transferred),
	O("transfer_sha256", R_STR, transfer_sha256),
	O("verified_bytes", R_U64, verified_bytes),
	O("overwritten_bytes", R_U64, overwritten_bytes),
	O("digests_missing", R_U64, digests_missing),
	O("remaining", R_U64, remaining), O("techniques", R_U32, techniques),
	RF("pattern", R_INT, out.pattern, -1, 1),
	RF("verify", R_INT, out.verify, -1, 1),
	O("exceptions", R_STR, exceptions),
	O("nexceptions", R_U64, nexceptions),
	O("manifest", R_STR, manifest_path),
};
#undef R
#undef O
#undef RF

#define FIELD(r, k, type) (*(type *)((char *)(r) + (k)->off))

/* Appends key k of r as "key=value\n". */
static void
put_key(struct strbuf *b, const struct record *r, const struct rkey *k)
{
	char d[11];

	switch (k->type) {
	case R_STR:
		sb_kv(b, k->key, "%s", &FIELD(r, k, const char));
		break;
	case R_DATE:
		sb_kv(b, k->key, "%s", date_format(FIELD(r, k, const day_t), d));
		break;
	case R_U64:
		sb_kv(b, k->key, "%" PRIu64, FIELD(r, k, const uint64_t));
		break;
	case R_U32:
		sb_kv(b, k->key, "%" PRIu32, FIELD(r, k, const uint32_t));
		break;
	case R_TIME:
		sb_kv(b, k->key, "%lld", (long long)FIELD(r, k, const time_t));
		break;
	case R_INT:
		sb_kv(b, k->key, "%d", FIELD(r, k, const int));
		break;
	}
}

/* Reads value v of key k into r.  Returns 0, or -1 when malformed. */
static int
get_key(struct record *r, const struct rkey *k, const char *v)
{
	int64_t x;

	switch (k->type) {
	case R_STR:
		snprintf(&FIELD(r, k, char), k->size, "%s", v);
		return 0;
	case R_DATE:
		return date_parse(v, &FIELD(r, k, day_t));
	case R_U64:
	case R_U32:
	case R_TIME:
		if (num_parse(v, 0, k->type == R_U32 ? UINT32_MAX : INT64_MAX,
		    &x) != 0)
			return -1;
		if (k->type == R_U64)
			FIELD(r, k, uint64_t) = (uint64_t)x;
		else if (k->type == R_U32)
			FIELD(r, k, uint32_t) = (uint32_t)x;
		else
			FIELD(r, k, time_t) = (time_t)x;
		return 0;
	case R_INT:
		if (num_parse(v, k->min, k->max, &x) != 0)
			return -1;
		FIELD(r, k, int) = (int)x;
		return 0;
	}
	return -1;
}

int
record_write(const char *state_dir, const struct record *r, struct err *e)
{
	const struct dispose_out *o = &r->out;
	struct strbuf b = { 0 };
	char path[4096];
	int rc;

	for (size_t i = 0; i < sizeof(rkeys) / sizeof(rkeys[0]); i++)
		put_key(&b, r, &rkeys[i]);
	for (size_t i = 0; i < o->nmedia; i++) {
		const struct dispose_media *m = &o->media[i];
		sb_kv(&b, "media", "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%d\t%s",
		    m->m.fstype, m->m.uuid, m->m.device, m->m.model,
		    m->m.serial, m->m.rotational, m->sources, m->purge,
		    m->purge_detail);
	}
	if (b.oom) {
		free(b.p);
		return err_set(e, "%s: out of memory", r->id);
	}
	if (snprintf(path, sizeof(path), "%s/work/%s/record", state_dir,
	    r->id) >= (int)sizeof(path)) {
		free(b.p);
		return err_set(e, "%s: path too long", r->id);
	}
	rc = durable_write(path, b.p, b.len, 0600, e);
	free(b.p);
	return rc;
}

/* Splits a tab-separated media line into its fields. */
static int
media_parse(char *v, struct dispose_media *m)
{
	char *f[9];
	int64_t x;
	size_t n = 0;

	for (char *s = v; n < 9; n++) {
		f[n] = s;
		s = strchr(s, '\t');
		if (s == NULL) {
			n++;
			break;
		}
		*s++ = '\0';
	}
	if (n != 9)
		return -1;
	snprintf(m->m.fstype, sizeof(m->m.fstype), "%s", f[0]);
	snprintf(m->m.uuid, sizeof(m->m.uuid), "%s", f[1]);
	snprintf(m->m.device, sizeof(m->m.device), "%s", f[2]);
	snprintf(m->m.model, sizeof(m->m.model), "%s", f[3]);
	snprintf(m->m.serial, sizeof(m->m.serial), "%s", f[4]);
	if (num_parse(f[5], -1, 1, &x) != 0)
		return -1;
	m->m.rotational = (int)x;
	snprintf(m->sources, sizeof(m->sources), "%s", f[6]);
	if (num_parse(f[7], -1, 1, &x) != 0)
		return -1;
	m->purge = (int)x;
	snprintf(m->purge_detail, sizeof(m->purge_detail), "%s", f[8]);
	return 0;
}

int
record_read(const char *state_dir, const char *id, struct record *r,
    struct err *e)
{
	struct dispose_out *o = &r->out;
	char path[4096], *buf = NULL, *line, *next;
	size_t len;
	int rc = -1, bad = 0;

	memset(r, 0, sizeof(*r));
	if (snprintf(path, sizeof(path), "%s/work/%s/record", state_dir, id) >=
	    (int)sizeof(path))
		return err_set(e, "%s: path too long", id);
	if (slurp(path, 1 << 20, &buf, &len, e) != 0)
		return -1;
	o->overwritten_bytes = UINT64_MAX;	/* not in older records */
	for (line = buf; line != NULL && *line && !bad; line = next) {
		char *v;
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		v = strchr(line, '=');
		if (v == NULL) {
			bad = 1;
			break;
		}
		*v++ = '\0';
		if (strcmp(line, "media") == 0) {
			if (o->nmedia >= DISPOSE_MAX_MEDIA ||
			    media_parse(v, &o->media[o->nmedia]) != 0)
				bad = 1;
			else
				o->nmedia++;
			continue;
		}
		for (size_t i = 0; i < sizeof(rkeys) / sizeof(rkeys[0]); i++)
			if (strcmp(line, rkeys[i].key) == 0) {
				bad = get_key(r, &rkeys[i], v) != 0;
				break;
			}
	}
	if (bad) {
		err_set(e, "%s: malformed record", path);
		goto out;
	}
	/* A record from before the count: holes were overwritten then too. */
	if (o->overwritten_bytes == UINT64_MAX)
		o->overwritten_bytes = o->bytes;
	rc = 0;
out:
	free(buf);
	return rc;
}
