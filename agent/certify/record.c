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

int
record_write(const char *state_dir, const struct record *r, struct err *e)
{
	const struct dispose_out *o = &r->out;
	struct strbuf b = { 0 };
	char path[4096], td[11], dl[11];
	int rc;

	sb_kv(&b, "id", "%s", r->id);
	sb_kv(&b, "agreement", "%s", r->agreement);
	sb_kv(&b, "trigger", "%s", r->trigger);
	sb_kv(&b, "trigger_date", "%s", date_format(r->trigger_date, td));
	sb_kv(&b, "deadline", "%s", date_format(r->deadline, dl));
	sb_kv(&b, "timezone", "%s", r->timezone);
	sb_kv(&b, "categories", "%" PRIu32, r->categories);
	sb_kv(&b, "datasets", "%s", r->datasets);
	sb_kv(&b, "retained", "%s", r->retained);
	sb_kv(&b, "holds", "%s", r->holds);
	sb_kv(&b, "partial", "%d", r->partial);
	sb_kv(&b, "started", "%lld", (long long)o->started);
	sb_kv(&b, "completed", "%lld", (long long)o->completed);
	sb_kv(&b, "files", "%" PRIu64, o->files);
	sb_kv(&b, "bytes", "%" PRIu64, o->bytes);
	sb_kv(&b, "links", "%" PRIu64, o->links);
	sb_kv(&b, "specials", "%" PRIu64, o->specials);
	sb_kv(&b, "dirs", "%" PRIu64, o->dirs);
	sb_kv(&b, "sealed_files", "%" PRIu64, o->sealed_files);
	sb_kv(&b, "keys", "%" PRIu64, o->keys);
	sb_kv(&b, "key_usec", "%" PRIu64, o->key_usec);
	sb_kv(&b, "key_sealed_after", "%s", o->key_sealed_after);
	sb_kv(&b, "kept_on", "%s", o->kept_on);
	sb_kv(&b, "sealed_clean", "%" PRIu64, o->sealed_clean);
	sb_kv(&b, "sealed_cleared", "%" PRIu64, o->sealed_cleared);
	sb_kv(&b, "sealed_kept", "%" PRIu64, o->sealed_kept);
	sb_kv(&b, "ciphertext_overwritten", "%" PRIu64,
	    o->ciphertext_overwritten);
	sb_kv(&b, "archives", "%" PRIu64, o->archives);
	sb_kv(&b, "members", "%" PRIu64, o->members);
	sb_kv(&b, "member_bytes", "%" PRIu64, o->member_bytes);
	sb_kv(&b, "member_links", "%" PRIu64, o->member_links);
	sb_kv(&b, "transferred", "%" PRIu64, o->transferred);
	sb_kv(&b, "transfer_sha256", "%s", o->transfer_sha256);
	sb_kv(&b, "verified_bytes", "%" PRIu64, o->verified_bytes);
	sb_kv(&b, "overwritten_bytes", "%" PRIu64, o->overwritten_bytes);
	sb_kv(&b, "digests_missing", "%" PRIu64, o->digests_missing);
	sb_kv(&b, "remaining", "%" PRIu64, o->remaining);
	sb_kv(&b, "techniques", "%u", o->techniques);
	sb_kv(&b, "pattern", "%d", o->pattern);
	sb_kv(&b, "verify", "%d", o->verify);
	sb_kv(&b, "exceptions", "%s", o->exceptions);
	sb_kv(&b, "nexceptions", "%" PRIu64, o->nexceptions);
	sb_kv(&b, "manifest", "%s", o->manifest_path);
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

static int
get_u64(const char *v, uint64_t *out)
{
	int64_t x;

	if (num_parse(v, 0, INT64_MAX, &x) != 0)
		return -1;
	*out = (uint64_t)x;
	return 0;
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
	int64_t x;
	int rc = -1, bad = 0;

	memset(r, 0, sizeof(*r));
	if (snprintf(path, sizeof(path), "%s/work/%s/record", state_dir, id) >=
	    (int)sizeof(path))
		return err_set(e, "%s: path too long", id);
	if (slurp(path, 1 << 20, &buf, &len, e) != 0)
		return -1;
	o->overwritten_bytes = UINT64_MAX;	/* not in older records */
	for (line = buf; line != NULL && *line; line = next) {
		char *v;
		uint64_t u = 0;
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		v = strchr(line, '=');
		if (v == NULL) {
			bad = 1;
			break;
		}
		*v++ = '\0';
#define S(k, f) else if (strcmp(line, k) == 0) snprintf(f, sizeof(f), "%s", v)
#define U(k, f) else if (strcmp(line, k) == 0) { bad |= get_u64(v, &u); f = u; }
		if (0) {}
		S("id", r->id);
		S("agreement", r->agreement);
		S("trigger", r->trigger);
		S("timezone", r->timezone);
		S("datasets", r->datasets);
		S("retained", r->retained);
		S("holds", r->holds);
		S("key_sealed_after", o->key_sealed_after);
		S("kept_on", o->kept_on);
		S("transfer_sha256", o->transfer_sha256);
		S("exceptions", o->exceptions);
		S("manifest", o->manifest_path);
		U("categories", r->categories)
		U("partial", r->partial)
		U("files", o->files)
		U("bytes", o->bytes)
		U("links", o->links)
		U("specials", o->specials)
		U("dirs", o->dirs)
		U("sealed_files", o->sealed_files)
		U("sealed_clean", o->sealed_clean)
		U("sealed_cleared", o->sealed_cleared)
		U("sealed_kept", o->sealed_kept)
		U("ciphertext_overwritten", o->ciphertext_overwritten)
		U("keys", o->keys)
		U("key_usec", o->key_usec)
		U("archives", o->archives)
		U("members", o->members)
		U("member_bytes", o->member_bytes)
		U("member_links", o->member_links)
		U("transferred", o->transferred)
		U("verified_bytes", o->verified_bytes)
		U("overwritten_bytes", o->overwritten_bytes)
		U("digests_missing", o->digests_missing)
		U("remaining", o->remaining)
		U("techniques", o->techniques)
		U("nexceptions", o->nexceptions)
		U("started", o->started)
		U("completed", o->completed)
		else if (strcmp(line, "trigger_date") == 0)
			bad |= date_parse(v, &r->trigger_date);
		else if (strcmp(line, "deadline") == 0)
			bad |= date_parse(v, &r->deadline);
		else if (strcmp(line, "pattern") == 0 ||
		    strcmp(line, "verify") == 0) {
			bad |= num_parse(v, -1, 1, &x);
			if (line[0] == 'p')
				o->pattern = (int)x;
			else
				o->verify = (int)x;
		} else if (strcmp(line, "media") == 0) {
			if (o->nmedia >= DISPOSE_MAX_MEDIA ||
			    media_parse(v, &o->media[o->nmedia]) != 0)
				bad = 1;
			else
				o->nmedia++;
		}
#undef S
#undef U
		if (bad)
			break;
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
