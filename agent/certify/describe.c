/*
 * describe.c: what a certificate says about a disposition, from its
 * record (see describe.h): the method, the technique, what was done and
 * checked, what failed, the media, the journal acceptances.
 *
 * MUST rules:
 *  - the certificate says only what was done and checked, each part
 *    honest about its own files (SPEC §8: Clear is file-level, Purge only
 *    where it is true), and a partial disposition says so first;
 *  - it carries no student data: counts, sizes, digests, policy and
 *    dataset names only;
 *  - what does not fit in a field is counted, never dropped silently.
 */
#include "certify/describe.h"
#include "certify/cert.h"
#include "certify/manifest.h"
#include "certify/record.h"
#include "certify/textlist.h"
#include "conf/category.h"
#include "conf/config.h"
#include "conf/policy.h"
#include "plan/events.h"
#include "base/date.h"
#include "base/err.h"
#include "base/text.h"

#include <openssl/crypto.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Appends fmt's text to the text in buf (never past len), after sep
 * when buf is not empty ("" for none, "; " for the parts of method_type
 * and verification, ", " for technique). */
static void
append(char *buf, size_t len, const char *sep, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
append(char *buf, size_t len, const char *sep, const char *fmt, ...)
{
	size_t off = strlen(buf), n = strlen(sep);
	va_list ap;

	if (off > 0 && n > 0 && off + n < len) {
		memcpy(buf + off, sep, n + 1);
		off += n;
	}
	if (off + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + off, len - off, fmt, ap);
	va_end(ap);
}

/* method_type, honest per part (SPEC §8): overwritten files are Clear at
 * file level; sealed files are Purge only where no plaintext copy ever
 * existed or lethe cleared every one, and each part says its count when
 * the disposition mixes them. */
static void
method_type(struct certbuf *b, const struct dispose_out *o, int flash)
{
	int crypto = (o->techniques & DT_CRYPTO) != 0;
	int clear = (o->techniques & (DT_OVERWRITE | DT_ARCHIVE)) != 0 ||
	    o->techniques == 0;
	uint64_t known = o->sealed_clean + o->sealed_cleared + o->sealed_kept;
	int parts = clear + (o->sealed_clean > 0) + (o->sealed_cleared > 0) +
	    (o->sealed_kept > 0);
	char n[48];
	char *mt = b->method_type;
	size_t len = sizeof(b->method_type);

	mt[0] = '\0';
	if (clear) {
		n[0] = '\0';
		if (parts > 1)
			snprintf(n, sizeof(n), " for %" PRIu64 " files",
			    o->files + o->members);
		append(mt, len, "; ", "Clear (file-level)%s: partial "
		    "sanitization of the files' blocks, not whole-media "
		    "Clear%s%s", n, flash ? "; on flash or unknown media, "
		    "wear-levelling may keep stale copies an overwrite cannot "
		    "reach" : "",
		    o->ciphertext_overwritten > 0 ? "; sealed files under keys "
		    "this host does not hold were overwritten as ciphertext, "
		    "which is Clear, not Purge" : "");
	}
	if (!crypto)
		return;
	if (known == 0 && o->sealed_files > 0) {
		/* A record from before the per-file facts: the key's. */
		if (o->key_sealed_after[0])
			append(mt, len, "; ", "Purge (crypto-erase; plaintext "
			    "copies cleared by overwrite on %s)",
			    o->key_sealed_after);
		else
			append(mt, len, "; ", "Purge (crypto-erase)");
		return;
	}
#define N(x) (parts > 1 ? (snprintf(n, sizeof(n), " for %" PRIu64 \
	" files", (x)), n) : "")
	if (o->sealed_clean > 0 || (known == 0 && o->kept_on[0] == '\0' &&
	    o->key_sealed_after[0] == '\0'))
		append(mt, len, "; ", "Purge (crypto-erase)%s",
		    N(o->sealed_clean));
	if (o->sealed_cleared > 0 || (known == 0 && o->kept_on[0] == '\0' &&
	    o->key_sealed_after[0] != '\0'))
		append(mt, len, "; ", "Purge (crypto-erase; plaintext copies "
		    "cleared by overwrite on %s)%s", o->key_sealed_after,
		    N(o->sealed_cleared));
	if (o->sealed_kept > 0 || (known == 0 && o->kept_on[0] != '\0'))
		append(mt, len, "; ", "crypto-erase%s, not Purge: plaintext "
		    "was sealed from files on %s that lethe did not clear, and "
		    "copies of it may remain", N(o->sealed_kept), o->kept_on);
#undef N
}

/* technique: the techniques used, comma-separated. */
static void
describe_technique(struct certbuf *b, const struct dispose_out *o)
{
	int crypto = (o->techniques & DT_CRYPTO) != 0;
	size_t len = sizeof(b->technique);

	b->technique[0] = '\0';
	if (o->techniques & DT_TRANSFER)
		append(b->technique, len, "", "%s", crypto && !(o->techniques &
		    DT_OVERWRITE) ? "crypto-erase" : "transfer-then-overwrite");
	else if (o->techniques & DT_OVERWRITE || o->techniques == 0)
		append(b->technique, len, "", "overwrite");
	if (crypto && !(o->techniques & DT_TRANSFER && !(o->techniques &
	    DT_OVERWRITE)))
		append(b->technique, len, ", ", "crypto-erase");
	if (o->techniques & DT_ARCHIVE)
		append(b->technique, len, ", ", "archive-member-removal");
}

/* method_details: only what was done. */
static void
describe_details(struct certbuf *b, const struct dispose_out *o)
{
	char *d = b->details;
	size_t len = sizeof(b->details);

	d[0] = '\0';
	if (o->files > 0 || o->links + o->specials > 0 ||
	    (o->techniques & DT_OVERWRITE) || o->techniques == 0)
		append(d, len, "", "%" PRIu64 " files overwritten in 1 pass "
		    "of %s, read back, then xattrs removed, truncated, renamed "
		    "to a same-length random name and unlinked with directory "
		    "fsyncs; %" PRIu64 " links and special files removed "
		    "without opening; %" PRIu64 " emptied directories removed",
		    o->files, o->pattern == 1 ? "AES-256-CTR random data" :
		    "zeros", o->links + o->specials, o->dirs);
	if (o->techniques & DT_CRYPTO)
		append(d, len, "", "%s%" PRIu64 " data-encryption keys "
		    "(AES-256, wrapped per RFC 5649) destroyed in %" PRIu64
		    " ms: keystore rewritten without them under a new "
		    "key-encryption key, old keystore and old KEK overwritten, "
		    "verified and removed; %" PRIu64 " ciphertext files "
		    "unlinked", d[0] ? "; " : "", o->keys,
		    (o->key_usec + 999) / 1000, o->sealed_files);
	if (o->techniques & DT_ARCHIVE)
		append(d, len, "", "; %" PRIu64 " members removed from %" PRIu64
		    " archives, each rewritten, read back, and its old blocks "
		    "overwritten and verified", o->members, o->archives);
	if (o->member_links > 0)
		append(d, len, "", " (%" PRIu64 " removed members' content "
		    "kept: hard links to them outside `members` were written "
		    "as files)", o->member_links);
	if (o->techniques & DT_TRANSFER)
		append(d, len, "", "; %" PRIu64 " files transferred first to a "
		    "tar.gz with a SHA-256 manifest, read back and checked "
		    "(archive sha256 %s)", o->transferred, o->transfer_sha256);
	for (size_t i = 0; i < o->nmedia; i++)
		append(d, len, "", "; %s: %s", o->media[i].m.fstype,
		    o->media[i].purge_detail[0] ? o->media[i].purge_detail :
		    "journal purge not attempted");
	if (strncmp(d, "; ", 2) == 0)
		memmove(d, d + 2, strlen(d + 2) + 1);
}

/* verification: only what was checked. */
static void
describe_verification(struct certbuf *b, const struct dispose_out *o)
{
	size_t vl = sizeof(b->verification);

	snprintf(b->verification, vl, "%s: ", o->verify == 1 ? "sample" :
	    "full");
	if (o->files + o->members > 0 || o->verified_bytes > 0)
		append(b->verification, vl, "", "%" PRIu64 " bytes read back "
		    "after fdatasync and page cache drop, all matched the "
		    "pattern", o->verified_bytes);
	if (o->keys > 0)
		append(b->verification, vl, "", "%sthe %" PRIu64 " destroyed "
		    "key%s looked up again after destruction: absent from the "
		    "keystore (tombstone only)", o->files + o->members +
		    o->verified_bytes > 0 ? "; " : "", o->keys,
		    o->keys == 1 ? "" : "s");
	if (o->files + o->members + o->verified_bytes + o->keys == 0)
		append(b->verification, vl, "", "nothing overwritten");
	append(b->verification, vl, "; ", "re-scan found %" PRIu64 " remaining "
	    "matches", o->remaining == UINT64_MAX ? 1 : o->remaining);
}

/* exceptions: what was refused or failed, "none", and for a partial
 * disposition first of all that it is partial and what remains. */
static void
describe_exceptions(struct certbuf *b, const struct record *r)
{
	const struct dispose_out *o = &r->out;
	size_t len = sizeof(b->exceptions);

	if (o->exceptions[0] == '\0' && o->digests_missing == 0)
		snprintf(b->exceptions, len, "none");
	else if (o->digests_missing == 0)
		snprintf(b->exceptions, len, "%s", o->exceptions);
	else
		snprintf(b->exceptions, len, "%s%s%" PRIu64 " pre-destruction "
		    "digests unavailable (run interrupted during overwrite, or "
		    "file changed while overwritten)", o->exceptions,
		    o->exceptions[0] ? "; " : "", o->digests_missing);
	if (r->partial) {
		char tmp[sizeof(b->exceptions)];
		int w;
		memcpy(tmp, b->exceptions, sizeof(tmp));
		w = snprintf(b->exceptions, len, "PARTIAL: the disposition "
		    "failed after destroying what this certificate lists; %"
		    PRIu64 " matches remain and a later disposition of the same "
		    "trigger must finish them; what failed: ",
		    o->remaining == UINT64_MAX ? 0 : o->remaining);
		if (w > 0 && (size_t)w < len)
			strncat(b->exceptions, tmp, len - (size_t)w - 1);
	}
}

static void
describe(struct certbuf *b, const struct record *r, const struct config *c)
{
	const struct dispose_out *o = &r->out;
	int flash = 0;

	for (size_t i = 0; i < o->nmedia; i++)
		flash |= o->media[i].m.rotational != 1;
	snprintf(b->performed, sizeof(b->performed), "lethe %s on %s",
	    LETHE_VERSION, c->host);
	describe_technique(b, o);
	method_type(b, o, flash);
	describe_details(b, o);
	describe_verification(b, o);
	if (o->techniques & DT_TRANSFER)
		snprintf(b->destination, sizeof(b->destination),
		    "data transferred to the site the LEA designated before "
		    "destruction; media remain in service");
	else
		snprintf(b->destination, sizeof(b->destination),
		    "media remain in service; the files' names and blocks were "
		    "released to the filesystem");
	describe_exceptions(b, r);
}

/* Every `lethe journal accept` so far, for [certificate]
 * journal_accepted, into buf: "line 57 on 2026-11-23T09:00:00Z by root
 * (restored state_dir from the 11-20 backup), ...", or "" when there is
 * none.  What does not fit is counted, never dropped silently. */
static void
accepted_text(const struct events *ev, char *buf, size_t len)
{
	struct textlist l;
	char when[32], reason[TEXT_REASON_MAX + 64], by[64];

	textlist_init(&l, buf, len, "");
	for (size_t i = 0; i < ev->naccept; i++) {
		const struct ev_accept *x = &ev->accept[i];
		snprintf(reason, sizeof(reason), "%s", x->reason ? x->reason :
		    "");
		snprintf(by, sizeof(by), "%s", x->by ? x->by : "?");
		text_cert_safe(reason);
		text_cert_safe(by);
		textlist_add(&l, "line %" PRIu64 " on %s by %s (%s)", x->seq,
		    time_format_utc(x->at, when), by, reason);
	}
	textlist_end(&l, "acceptance");
}

/* The [media] sections: one per filesystem the disposition touched, or
 * one saying that none was (the data was already gone). */
static void
describe_media(struct cert *ct, struct certbuf *b, const struct record *r)
{
	const struct dispose_out *o = &r->out;

for (size_t i = 0; i < o->nmedia && i < CERT_MAX_MEDIA; i++) {
	const struct dispose_media *m = &o->media[i];
	snprintf(b->rot[i], sizeof(b->rot[i]), "%s", m->m.rotational == 1 ?
	    "yes" : m->m.rotational == 0 ? "no" : "unknown");
	ct->media[i].type = m->m.fstype;
	ct->media[i].uuid = m->m.uuid;
	ct->media[i].device = m->m.device;
	ct->media[i].model = m->m.model;
	ct->media[i].serial = m->m.serial;
	ct->media[i].rotational = b->rot[i];
	ct->media[i].source = m->sources;
	ct->nmedia++;
}
if (ct->nmedia == 0) {
	/* Nothing matched on any filesystem (the data was already
	 * gone): say so rather than invent a medium. */
	ct->media[0].type = "none";
	ct->media[0].uuid = "unknown";
	ct->media[0].device = "none: no matching data was found";
	ct->media[0].model = "unknown";
	ct->media[0].serial = "unknown";
	ct->media[0].rotational = "unknown";
	ct->media[0].source = r->datasets[0] ? r->datasets :
	    "none: no dataset in scope";
	ct->nmedia = 1;
}
}

int
certify_describe(const struct config *c, const struct agreement *a,
    const struct record *r, const char *manifest, size_t mlen,
    const struct events *ev, uint64_t seq, const char *head, struct cert *ct,
    struct certbuf *b, struct err *e)
{
	const struct dispose_out *o = &r->out;
	uint64_t rows, bytes;

	memset(b, 0, sizeof(*b));
	describe(b, r, c);
	cert_init(ct);
	snprintf(b->tool, sizeof(b->tool), "lethe %s (%s)", LETHE_VERSION,
	    OpenSSL_version(OPENSSL_VERSION));
	ct->id = r->id;
	ct->issued = time(NULL);
	ct->standard = CERT_STANDARD;
	ct->tool = b->tool;
	ct->host = c->host;
	ct->journal_seq = seq;
	snprintf(b->head, sizeof(b->head), "%s", head);
	ct->journal_head = b->head;
	/* Named on every certificate issued after an acceptance. */
	accepted_text(ev, b->accepted, sizeof(b->accepted));
	if (b->accepted[0] != '\0')
		ct->journal_accepted = b->accepted;
	ct->agreement = a->id;
	ct->lea = a->lea;
	snprintf(b->vendor, sizeof(b->vendor), "%s", c->vendor_name ?
	    c->vendor_name : c->host);
	ct->vendor = b->vendor;
	if (strncmp(r->trigger, "D-", 2) == 0)
		snprintf(b->trigger, sizeof(b->trigger), "directive %s",
		    r->trigger);
	else
		snprintf(b->trigger, sizeof(b->trigger), "%s", r->trigger);
	ct->trigger = b->trigger;
	ct->trigger_date = r->trigger_date;
	ct->deadline = r->deadline;
	if (r->timezone[0])
		snprintf(b->tz, sizeof(b->tz), "%s", r->timezone);
	else
		tz_host(b->tz, sizeof(b->tz));
	ct->timezone = b->tz;
	ct->completed = o->completed;
	ct->started = o->started;
	ct->result = r->partial ? "partial" : "complete";
	ct->deadline_met = !r->partial &&
	    cert_deadline_met(b->tz, o->completed, r->deadline);
	describe_media(ct, b, r);
	ct->performed_by = b->performed;
	ct->method_type = b->method_type;
	ct->technique = b->technique;
	ct->method_details = b->details;
	ct->verification = b->verification;
	ct->remaining_matches = o->remaining == UINT64_MAX ? 1 : o->remaining;
	ct->destination = b->destination;
	ct->exceptions = b->exceptions;
	category_format(r->categories, b->categories, sizeof(b->categories));
	ct->categories = b->categories[0] ? b->categories : "none";
	if (cert_manifest_totals(manifest, mlen, &rows, &bytes, e) != 0)
		return -1;
	ct->files = rows;
	ct->bytes = bytes;
	ct->bytes_overwritten = o->overwritten_bytes;
	cert_sha256_hex(manifest, mlen, b->msha);
	ct->manifest_sha256 = b->msha;
	ct->retained = r->retained[0] ? r->retained : "none";
	ct->holds = r->holds[0] ? r->holds : "none";
	ct->certify_by = date_add(tz_date_at(b->tz, o->completed),
	    a->certify_within);
	return 0;
}
