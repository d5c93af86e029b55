/*
 * certify.c: from a disposition's record to a signed certificate (see
 * certify.h); what it says is describe.c's, writing it issue.c's.
 *
 * MUST rules:
 *  - a certificate is issued only for a disposition the journal says
 *    completed (or failed after destroying something: partial), and only
 *    from its record;
 *  - the order is files (ID.cert last), then the outbox (the caller's
 *    deliver_cert), then the journal's certificate-issued line: a crash
 *    anywhere leaves a state the next run finishes without issuing or
 *    queueing anything twice;
 *  - the certificate carries no student data (SPEC §8): counts, sizes,
 *    digests, policy and dataset names; the manifest, which names files,
 *    is kept 0600 and sanitized once the LEA's mail system accepted it.
 */
#include "certify/certify.h"

#include "certify/cert.h"
#include "certify/manifest.h"
#include "certify/checkpoint.h"
#include "certify/describe.h"
#include "certify/issue.h"
#include "certify/record.h"
#include "certify/sign.h"
#include "conf/config.h"
#include "conf/policy.h"
#include "plan/events.h"
#include "state/durable.h"
#include "state/journal.h"
#include "base/err.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

	if (certify_describe(c, a, r, manifest, mlen, ev, j->seq, j->head,
	    &ct, &b, e) != 0 || load_signer(c, &s, e) != 0)
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
	if (certify_describe(c, a, &r, CERT_MANIFEST_HEADER,
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
    struct journal *j, struct certified *ci, struct err *e)
{
	const struct agreement *a;
	struct record r;
	char path[4200], *manifest = NULL, *text = NULL;
	size_t mlen = 0, tl;
	struct stat st;
	struct cert ct;
	int rc = -1;

	memset(ci, 0, sizeof(*ci));
	a = policy_find(ps, dp->agreement);
	if (a == NULL)
		return err_set(e, "agreement %s is no longer in the policies",
		    dp->agreement);
	if (record_read(c->state_dir, dp->id, &r, e) != 0)
		return -1;
	snprintf(ci->id, sizeof(ci->id), "%s", r.id);
	ci->to = a->contact;
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
	/* certify_by, from the certificate as issued. */
	if (slurp(path, 1 << 20, &text, &tl, e) != 0)
		goto out;
	if (cert_parse(path, text, tl, &ct, e) != 0) {
		cert_free(&ct);
		goto out;
	}
	date_format(ct.certify_by, ci->certify_by);
	cert_free(&ct);
	rc = 0;
out:
	if (manifest != NULL)
		OPENSSL_cleanse(manifest, mlen);
	free(manifest);
	free(text);
	return rc;
}

int
certify_issued(struct journal *j, const struct ev_disposition *dp,
    const struct certified *ci, struct err *e)
{
	return journal_appendv(j, e, "certificate-issued", "id", ci->id,
	    "disp", dp->id, "certify_by", ci->certify_by, NULL);
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

int
certify_gate_or_refuse(const struct config *c, struct journal *j,
    struct err *e)
{
	struct gate_report g;

	if (certify_gate(c, j, &g, e) == 0)
		return 0;
	return err_wrap(e, "", g.state == GATE_BROKEN ||
	    g.state == GATE_ERROR ? "; nothing was done" : "; nothing was "
	    "done.  If this is a restored backup or a repair you know of, "
	    "record it with `lethe journal accept --reason TEXT`");
}
