/*
 * certify.c: from a disposition's record to a signed, queued certificate
 * (see certify.h).
 *
 * MUST rules:
 *  - a certificate is issued only for a disposition the journal says
 *    completed, and only from its record; a failed one never is;
 *  - the order is files (ID.cert last), then the outbox, then the journal's
 *    certificate-issued line: a crash anywhere leaves a state the next run
 *    finishes without issuing or queueing anything twice;
 *  - the certificate carries no student data (SPEC §8): counts, sizes,
 *    digests, policy and dataset names; the manifest, which names files,
 *    is kept 0600 and sanitized once the LEA's mail system accepted it.
 */
#include "certify/certify.h"

#include "certify/cert.h"
#include "certify/checkpoint.h"
#include "certify/issue.h"
#include "conf/config.h"
#include "deliver/deliver.h"
#include "state/durable.h"
#include "base/err.h"
#include "plan/events.h"
#include "state/journal.h"
#include "deliver/mime.h"
#include "sanitize/overwrite.h"
#include "conf/policy.h"
#include "certify/record.h"
#include "certify/sign.h"
#include "base/strbuf.h"
#include "base/text.h"

#include <openssl/crypto.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct certbuf {
	char tool[160], vendor[256], trigger[80], tz[64], performed[256];
	char method_type[512], technique[128], details[1600], trigger2[80];
	char verification[256], destination[512], exceptions[2400];
	char categories[512], head[65], msha[65];
	char rot[DISPOSE_MAX_MEDIA][8];
	char accepted[4096];
};

/* Appends to the text in buf (never past len). */
static void
text_cat(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
text_cat(char *buf, size_t len, const char *fmt, ...)
{
	size_t off = strlen(buf);
	va_list ap;

	if (off + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + off, len - off, fmt, ap);
	va_end(ap);
}

/* Appends one part of method_type. */
static void
part(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
part(char *buf, size_t len, const char *fmt, ...)
{
	size_t off = strlen(buf);
	va_list ap;

	if (off > 0 && off + 2 < len) {
		memcpy(buf + off, "; ", 3);
		off += 2;
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
	size_t len = sizeof(b->method_type);

	b->method_type[0] = '\0';
	if (clear) {
		n[0] = '\0';
		if (parts > 1)
			snprintf(n, sizeof(n), " for %" PRIu64 " files",
			    o->files + o->members);
		part(b->method_type, len, "Clear (file-level)%s: partial "
		    "sanitization of the files' blocks, not whole-media Clear%s%s",
		    n, flash ? "; on flash or unknown media, wear-levelling may "
		    "keep stale copies an overwrite cannot reach" : "",
		    o->ciphertext_overwritten > 0 ? "; sealed files under keys "
		    "this host does not hold were overwritten as ciphertext, "
		    "which is Clear, not Purge" : "");
	}
	if (!crypto)
		return;
	if (known == 0 && o->sealed_files > 0) {
		/* A record from before the per-file facts: the key's. */
		if (o->key_sealed_after[0])
			part(b->method_type, len, "Purge (crypto-erase; plaintext "
			    "copies cleared by overwrite on %s)",
			    o->key_sealed_after);
		else
			part(b->method_type, len, "Purge (crypto-erase)");
		return;
	}
#define N(x) (parts > 1 ? (snprintf(n, sizeof(n), " for %" PRIu64 \
	" files", (x)), n) : "")
	if (o->sealed_clean > 0 || (known == 0 && o->kept_on[0] == '\0' &&
	    o->key_sealed_after[0] == '\0'))
		part(b->method_type, len, "Purge (crypto-erase)%s",
		    N(o->sealed_clean));
	if (o->sealed_cleared > 0 || (known == 0 && o->kept_on[0] == '\0' &&
	    o->key_sealed_after[0] != '\0'))
		part(b->method_type, len, "Purge (crypto-erase; plaintext copies "
		    "cleared by overwrite on %s)%s", o->key_sealed_after,
		    N(o->sealed_cleared));
	if (o->sealed_kept > 0 || (known == 0 && o->kept_on[0] != '\0'))
		part(b->method_type, len, "crypto-erase%s, not Purge: plaintext "
		    "was sealed from files on %s that lethe did not clear, and "
		    "copies of it may remain", N(o->sealed_kept), o->kept_on);
#undef N
}

static void
describe(struct certbuf *b, const struct record *r, const struct config *c)
{
	const struct dispose_out *o = &r->out;
	int flash = 0, crypto = (o->techniques & DT_CRYPTO) != 0;
	size_t off;

	for (size_t i = 0; i < o->nmedia; i++)
		flash |= o->media[i].m.rotational != 1;
	snprintf(b->performed, sizeof(b->performed), "lethe %s on %s",
	    LETHE_VERSION, c->host);
	/* technique */
	b->technique[0] = '\0';
	if (o->techniques & DT_TRANSFER)
		strcat(b->technique, crypto && !(o->techniques & DT_OVERWRITE) ?
		    "crypto-erase" : "transfer-then-overwrite");
	else if (o->techniques & DT_OVERWRITE || o->techniques == 0)
		strcat(b->technique, "overwrite");
	if (crypto && !(o->techniques & DT_TRANSFER && !(o->techniques &
	    DT_OVERWRITE)))
		strcat(strcat(b->technique, b->technique[0] ? ", " : ""),
		    "crypto-erase");
	if (o->techniques & DT_ARCHIVE)
		strcat(strcat(b->technique, b->technique[0] ? ", " : ""),
		    "archive-member-removal");
	method_type(b, o, flash);
	/* method_details: only what was done. */
	off = 0;
	b->details[0] = '\0';
	if (o->files > 0 || o->links + o->specials > 0 ||
	    (o->techniques & DT_OVERWRITE) || o->techniques == 0)
		off = (size_t)snprintf(b->details, sizeof(b->details),
		    "%" PRIu64 " files overwritten in 1 pass of %s, read back, "
		    "then xattrs removed, truncated, renamed to a same-length "
		    "random name and unlinked with directory fsyncs; %" PRIu64
		    " links and special files removed without opening; %"
		    PRIu64 " emptied directories removed", o->files,
		    o->pattern == 1 ? "AES-256-CTR random data" : "zeros",
		    o->links + o->specials, o->dirs);
	if (off >= sizeof(b->details))
		off = sizeof(b->details) - 1;
	if (crypto && off < sizeof(b->details))
		off += (size_t)snprintf(b->details + off, sizeof(b->details) -
		    off, "%s%" PRIu64 " data-encryption keys (AES-256, "
		    "wrapped per RFC 5649) destroyed in %" PRIu64 " ms: keystore "
		    "rewritten without them under a new key-encryption key, old "
		    "keystore and old KEK overwritten, verified and removed; %"
		    PRIu64 " ciphertext files unlinked", off ? "; " : "",
		    o->keys, (o->key_usec + 999) / 1000, o->sealed_files);
	if (o->techniques & DT_ARCHIVE && off < sizeof(b->details))
		off += (size_t)snprintf(b->details + off, sizeof(b->details) -
		    off, "; %" PRIu64 " members removed from %" PRIu64
		    " archives, each rewritten, read back, and its old blocks "
		    "overwritten and verified", o->members, o->archives);
	if (o->member_links > 0 && off < sizeof(b->details))
		off += (size_t)snprintf(b->details + off, sizeof(b->details) -
		    off, " (%" PRIu64 " removed members' content kept: hard "
		    "links to them outside `members` were written as files)",
		    o->member_links);
	if (o->techniques & DT_TRANSFER && off < sizeof(b->details))
		off += (size_t)snprintf(b->details + off, sizeof(b->details) -
		    off, "; %" PRIu64 " files transferred first to a tar.gz "
		    "with a SHA-256 manifest, read back and checked (archive "
		    "sha256 %s)", o->transferred, o->transfer_sha256);
	for (size_t i = 0; i < o->nmedia && off < sizeof(b->details); i++)
		off += (size_t)snprintf(b->details + off, sizeof(b->details) -
		    off, "; %s: %s", o->media[i].m.fstype,
		    o->media[i].purge_detail[0] ? o->media[i].purge_detail :
		    "journal purge not attempted");
	if (strncmp(b->details, "; ", 2) == 0)
		memmove(b->details, b->details + 2, strlen(b->details + 2) + 1);
	/* verification: only what was checked. */
	{
		size_t vl = sizeof(b->verification);
		snprintf(b->verification, vl, "%s: ", o->verify == 1 ?
		    "sample" : "full");
		if (o->files + o->members > 0 || o->verified_bytes > 0)
			text_cat(b->verification, vl, "%" PRIu64 " bytes "
			    "read back after fdatasync and page cache drop, all "
			    "matched the pattern", o->verified_bytes);
		if (o->keys > 0)
			text_cat(b->verification, vl, "%sthe %" PRIu64
			    " destroyed key%s looked up again after destruction: "
			    "absent from the keystore (tombstone only)",
			    o->files + o->members + o->verified_bytes > 0 ?
			    "; " : "", o->keys, o->keys == 1 ? "" : "s");
		if (o->files + o->members + o->verified_bytes + o->keys == 0)
			text_cat(b->verification, vl, "nothing overwritten");
		part(b->verification, vl, "re-scan found %" PRIu64
		    " remaining matches", o->remaining == UINT64_MAX ? 1 :
		    o->remaining);
	}
	if (o->techniques & DT_TRANSFER)
		snprintf(b->destination, sizeof(b->destination),
		    "data transferred to the site the LEA designated before "
		    "destruction; media remain in service");
	else
		snprintf(b->destination, sizeof(b->destination),
		    "media remain in service; the files' names and blocks were "
		    "released to the filesystem");
	if (o->exceptions[0] == '\0' && o->digests_missing == 0)
		snprintf(b->exceptions, sizeof(b->exceptions), "none");
	else
		snprintf(b->exceptions, sizeof(b->exceptions), "%s%s%" PRIu64
		    " pre-destruction digests unavailable (run interrupted "
		    "during overwrite, or file changed while overwritten)",
		    o->exceptions, o->exceptions[0] ? "; " : "",
		    o->digests_missing);
	if (o->exceptions[0] != '\0' && o->digests_missing == 0)
		snprintf(b->exceptions, sizeof(b->exceptions), "%s",
		    o->exceptions);
	if (r->partial) {
		char tmp[sizeof(b->exceptions)];
		int w;
		memcpy(tmp, b->exceptions, sizeof(tmp));
		w = snprintf(b->exceptions, sizeof(b->exceptions), "PARTIAL: "
		    "the disposition failed after destroying what this "
		    "certificate lists; %" PRIu64 " matches remain and a later "
		    "disposition of the same trigger must finish them; what "
		    "failed: ", o->remaining == UINT64_MAX ? 0 : o->remaining);
		if (w > 0 && (size_t)w < sizeof(b->exceptions))
			strncat(b->exceptions, tmp,
			    sizeof(b->exceptions) - (size_t)w - 1);
	}
}

/* Every `lethe journal accept` so far, for [certificate]
 * journal_accepted, into buf: "line 57 on 2026-11-23T09:00:00Z by root
 * (restored state_dir from the 11-20 backup), ...", or "" when there is
 * none.  What does not fit is counted, never dropped silently. */
static void
accepted_text(const struct events *ev, char *buf, size_t len)
{
	size_t off = 0, left = 0;
	char when[32], reason[TEXT_REASON_MAX + 64], by[64];

	buf[0] = '\0';
	for (size_t i = 0; i < ev->naccept; i++) {
		const struct ev_accept *x = &ev->accept[i];
		int w;
		if (left > 0) {
			left++;
			continue;
		}
		snprintf(reason, sizeof(reason), "%s", x->reason ? x->reason : "");
		snprintf(by, sizeof(by), "%s", x->by ? x->by : "?");
		text_cert_safe(reason);
		text_cert_safe(by);
		w = snprintf(buf + off, len - off - 64, "%sline %" PRIu64 " on %s "
		    "by %s (%s)", off ? ", " : "", x->seq,
		    time_format_utc(x->at, when), by, reason);
		if (w < 0 || (size_t)w >= len - off - 64) {
			buf[off] = '\0';
			left = 1;
			continue;
		}
		off += (size_t)w;
	}
	if (left > 0)
		snprintf(buf + off, len - off, "%s%zu more acceptance%s (listed "
		    "in the journal)", off ? ", and " : "", left,
		    left == 1 ? "" : "s");
}

/* Fills *ct (pointing into *b, r and a) for the disposition in r, with
 * the manifest's totals and digest and the journal at seq/head.  Returns
 * 0, or -1 with *e set when the manifest is malformed. */
static int
build_cert(const struct config *c, const struct agreement *a,
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

/* Loads the signer: the key and certificate must be usable now. */
static int
load_signer(const struct config *c, struct signer *s, struct err *e)
{
	memset(s, 0, sizeof(*s));
	if (c->sign_key == NULL || c->sign_cert == NULL)
		return err_set(e, "%s: no [signing] key and cert configured: "
		    "certificates cannot be signed", c->path);
	if (sign_load(c->sign_key, c->sign_cert, c->sign_chain, s, e) != 0)
		return -1;
	s->tsa_command = c->tsa_command;
	s->tsa_timeout = c->tsa_timeout;
	return 0;
}

static int
write_cert(const struct config *c, const struct agreement *a,
    const struct record *r, const char *manifest, size_t mlen,
    const struct events *ev, struct journal *j, struct err *e)
{
	struct certbuf b;
	struct cert ct;
	struct signer s;
	int rc;

	if (build_cert(c, a, r, manifest, mlen, ev, j->seq, j->head, &ct, &b,
	    e) != 0 || load_signer(c, &s, e) != 0)
		return -1;
	rc = cert_write_files(c->state_dir, &ct, manifest, mlen, &s, e);
	sign_free(&s);
	return rc;
}

int
certify_preflight(const struct config *c, const struct agreement *a,
    const char *id, const char *trigger, day_t trigger_date, day_t deadline,
    const size_t *ds, size_t nds, const struct events *ev, struct err *e)
{
	static const char head[] = "0000000000000000000000000000000000000000"
	    "000000000000000000000000";
	struct dispose_out out;
	struct record r;
	struct certbuf b;
	struct cert ct;
	struct signer s;
	char *text = NULL;
	size_t len = 0;

	if (!config_valid_email(a->contact))
		return err_set(e, "%s:%d: contact '%s' is not an address "
		    "sendmail can take (RFC 5322 addr-spec, not starting with "
		    "'-')", a->file, a->line, a->contact);
	/* The certificate as it would be issued today, for a disposition
	 * of nothing: every field this agreement and host put in it must
	 * already be valid and INI-safe. */
	memset(&out, 0, sizeof(out));
	out.started = out.completed = time(NULL);
	record_from(&r, c, a, id, trigger, trigger_date, deadline, ds, nds, ev,
	    &out);
	if (build_cert(c, a, &r, CERT_MANIFEST_HEADER,
	    strlen(CERT_MANIFEST_HEADER), ev, ev->seq, head, &ct, &b, e) != 0 ||
	    cert_format(&ct, &text, &len, e) != 0)
		return err_prefix(e, "the certificate could not be written");
	free(text);
	if (load_signer(c, &s, e) != 0)
		return err_prefix(e, "the certificate could not be signed");
	sign_free(&s);
	return 0;
}

int
certify(const struct config *c, const struct policyset *ps,
    const struct events *ev, const struct ev_disposition *dp,
    struct journal *j, char *certid, size_t len, struct err *e)
{
	const struct agreement *a;
	struct record r;
	char path[4200], *manifest = NULL, *msg = NULL, cb[11];
	size_t mlen = 0, msglen = 0;
	struct stat st;
	struct cert ct;
	int rc = -1;

	a = policy_find(ps, dp->agreement);
	if (a == NULL)
		return err_set(e, "agreement %s is no longer in the policies",
		    dp->agreement);
	if (record_read(c->state_dir, dp->id, &r, e) != 0)
		return -1;
	snprintf(certid, len, "%s", r.id);
	if (slurp(r.out.manifest_path, SIZE_MAX / 2, &manifest, &mlen, e) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/certificates", c->state_dir);
	if (mkdirs(path, 0755, e) != 0)
		goto out;
	snprintf(path, sizeof(path), "%s/certificates/%s.cert", c->state_dir,
	    r.id);
	/* ID.cert is written last: if it exists, an earlier run issued it
	 * and was killed before journaling; finish, never re-issue. */
	if (lstat(path, &st) != 0 && write_cert(c, a, &r, manifest, mlen, ev,
	    j, e) != 0)
		goto out;
	/* Queued with its digest journaled; a resumed run that finds the
	 * message queued and intact, or sent, changes nothing, and rebuilds
	 * one that was damaged or lost meanwhile. */
	if (deliver_state(c->state_dir, r.id, NULL, e) != DELIVER_SENT) {
		struct cert_mail cm = { .to = a->contact, .id = r.id };
		if (mime_cert_message(c, &cm, &msg, &msglen, e) != 0 ||
		    deliver_enqueue(c->state_dir, j, r.id, msg, msglen,
		    cm.with_manifest, e) < 0)
			goto out;
	}
	/* certify_by, from the certificate as issued. */
	{
		char *text = NULL;
		size_t tl;
		if (slurp(path, 1 << 20, &text, &tl, e) != 0)
			goto out;
		cert_init(&ct);
		if (cert_parse(path, text, tl, &ct, e) != 0) {
			free(text);
			cert_free(&ct);
			goto out;
		}
		date_format(ct.certify_by, cb);
		cert_free(&ct);
		free(text);
	}
	if (journal_appendv(j, e, "certificate-issued", "id", r.id, "disp",
	    dp->id, "certify_by", cb, NULL) != 0)
		goto out;
	rc = 0;
out:
	if (manifest != NULL)
		OPENSSL_cleanse(manifest, mlen);
	free(manifest);
	free(msg);
	return rc;
}

/* Sanitizes one vendor copy of a manifest, if it is still there.
 * Returns 0, or -1 after adding the problem to *errors. */
static int
sanitize_copy(const char *path, struct diags *errors)
{
	struct stat st;
	struct err e;

	if (lstat(path, &st) != 0)
		return 0;
	if (ow_path(path, &e) != 0) {
		diag_add(errors, path, 0, "sanitizing the vendor's copy of the "
		    "manifest: %s", e.msg);
		return -1;
	}
	return 0;
}

unsigned
certify_delivered(const struct config *c, const struct deliver_report *dr,
    struct journal *j, struct diags *errors)
{
	unsigned n = 0;

	for (size_t i = 0; i < dr->n; i++) {
		const struct deliver_item *it = &dr->v[i];
		char path[4200];
		struct err e;
		int bad;

		if (!it->ok || it->kind != DELIVER_CERT)
			continue;
		n++;
		/* The sent message itself: it may carry the manifest. */
		snprintf(path, sizeof(path), "%s/sent/%s.eml", c->state_dir,
		    it->id);
		sanitize_copy(path, errors);
		/* The manifest names students: once a message whose digest
		 * was checked, and that carried it, is accepted, the LEA has
		 * it and the vendor's copies go (SPEC §8).  Never otherwise:
		 * the LEA would have no manifest at all. */
		if (!it->manifest)
			continue;
		bad = 0;
		snprintf(path, sizeof(path), "%s/certificates/%s.manifest",
		    c->state_dir, it->cert);
		bad |= sanitize_copy(path, errors);
		snprintf(path, sizeof(path), "%s/work/%s/manifest",
		    c->state_dir, it->cert);
		bad |= sanitize_copy(path, errors);
		snprintf(path, sizeof(path), "%s/work/%s/names",
		    c->state_dir, it->cert);
		bad |= sanitize_copy(path, errors);
		snprintf(path, sizeof(path), "%s/work/%s/manifest.final",
		    c->state_dir, it->cert);
		bad |= sanitize_copy(path, errors);
		if (!bad && journal_appendv(j, &e, "manifest-sanitized", "cert",
		    it->cert, "msg", it->id, NULL) != 0)
			diag_add(errors, "journal", 0, "%s", e.msg);
	}
	return n;
}

int
certify_can_sign(const struct config *c)
{
	return c->sign_key != NULL && c->sign_cert != NULL;
}

int
certify_checkpoint(const struct config *c, struct journal *j, struct err *e)
{
	struct signer s;
	int rc = -1;

	if (!certify_can_sign(c))
		return err_set(e, "%s: no [signing] key configured: the journal "
		    "cannot be sealed with a signed checkpoint", c->path);
	memset(&s, 0, sizeof(s));
	if (sign_load(c->sign_key, c->sign_cert, c->sign_chain, &s, e) != 0)
		return -1;
	if (journal_lock(j, e) == 0) {
		rc = checkpoint_write(c->state_dir, j->seq, j->head, &s, e);
		journal_unlock(j);
	}
	sign_free(&s);
	return rc;
}

int
certify_gate(const struct config *c, struct journal *j,
    struct gate_report *g, struct err *e)
{
	int rc;

	if (j != NULL && journal_lock(j, e) != 0) {
		memset(g, 0, sizeof(*g));
		g->state = GATE_ERROR;
		return -1;
	}
	rc = checkpoint_gate(c->state_dir, c->sign_chain, j, g, e);
	if (j != NULL)
		journal_unlock(j);
	return rc;
}
