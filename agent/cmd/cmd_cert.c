/*
 * cmd_cert.c: `lethe cert list [--tsv]`, `lethe cert show ID`,
 * `lethe cert resend ID` (SPEC §4, §8).
 *
 * list: every certificate in state_dir/certificates with its agreement,
 * trigger, completion date, certify_by and delivery state (checked against
 * the journal: a damaged or missing message says so).  show: the
 * certificate text and the same checks `lethe verify` makes.  resend:
 * builds the certificate message again from the certificate files and
 * queues it to the agreement's contact (sent on the next run): a copy of a
 * delivered one, or in place of a damaged or lost one; without the
 * manifest once it was sanitized, saying truthfully when and after which
 * delivery.  An unknown id exits 2.  Nothing here changes a certificate.
 */
#include "certify/cert.h"
#include "cmd/cmd.h"
#include "cmd/session.h"
#include "base/date.h"
#include "deliver/deliver.h"
#include "state/durable.h"
#include "base/err.h"
#include "deliver/letters.h"
#include "deliver/msglog.h"
#include "conf/policy.h"
#include "certify/sign.h"
#include "base/strbuf.h"
#include "state/journal.h"
#include "state/lock.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define CERT_FILE_MAX (1024 * 1024)

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The ids of state_dir/certificates/ID.cert, sorted. */
static int
cert_ids(const char *state_dir, char ***out, size_t *n, struct err *e)
{
	char dir[4096];
	struct dirent *de;
	char **v = NULL;
	size_t cap = 0;
	DIR *d;
	int k;

	*out = NULL;
	*n = 0;
	k = snprintf(dir, sizeof(dir), "%s/certificates", state_dir);
	if (k < 0 || (size_t)k >= sizeof(dir))
		return err_set(e, "%s: path too long", state_dir);
	if ((d = opendir(dir)) == NULL)
		return 0;	/* none issued yet */
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".cert") != 0 ||
		    de->d_name[0] == '.')
			continue;
		if (*n == cap) {
			char **nv;
			cap = cap ? cap * 2 : 32;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL)
				goto oom;
			v = nv;
		}
		if ((v[*n] = strndup(de->d_name, len - 5)) == NULL)
			goto oom;
		(*n)++;
	}
	closedir(d);
	qsort(v, *n, sizeof(*v), cmp_str);
	*out = v;
	return 0;
oom:
	closedir(d);
	for (size_t i = 0; i < *n; i++)
		free(v[i]);
	free(v);
	*n = 0;
	return err_set(e, "%s: out of memory", dir);
}

static int
cert_path(const struct ctx *x, const char *id, char *buf, size_t len)
{
	int n;

	if (!deliver_id_ok(id)) {
		warnx_("'%s' is not a certificate id", id);
		return -1;
	}
	n = snprintf(buf, len, "%s/certificates/%s.cert", x->cfg.state_dir, id);
	if (n < 0 || (size_t)n >= len) {
		warnx_("%s: path too long", x->cfg.state_dir);
		return -1;
	}
	return 0;
}

/* The path of an issued certificate given by the user; -1 after saying
 * "unknown certificate" when there is none (the caller exits 2: a usage
 * error, nothing done, as for every unknown id). */
static int
known_cert(const struct ctx *x, const char *id, char *buf, size_t len)
{
	struct stat st;

	if (cert_path(x, id, buf, len) != 0)
		return -1;
	if (lstat(buf, &st) != 0 && errno == ENOENT) {
		warnx_("unknown certificate '%s': none was issued with that id "
		    "(`lethe cert list` shows them)", id);
		return -1;
	}
	return 0;
}

static int
load_cert(const char *path, struct cert *c, struct err *e)
{
	char *text = NULL;
	size_t len;
	int rc;

	cert_init(c);
	if (slurp(path, CERT_FILE_MAX, &text, &len, e) != 0)
		return -1;
	rc = cert_parse(path, text, len, c, e);
	free(text);
	return rc;
}

static void
delivery_state(const char *state_dir, const struct cert *c, char *buf,
    size_t len)
{
	struct err e = { "" };
	struct deliver_status ds;
	char d[16];
	int st = deliver_status(state_dir, c->id, &ds, &e);
	day_t today = tz_date_at(c->timezone, time(NULL));

	if (st == DELIVER_SENT)
		snprintf(buf, len, "delivered %s", ds.at == (time_t)-1 ? "" :
		    date_format(tz_date_at(c->timezone, ds.at), d));
	else if (st < 0)
		snprintf(buf, len, "unknown (%s)", e.msg);
	else if (st == DELIVER_DAMAGED)
		snprintf(buf, len, "damaged (%s): not sent", ds.why);
	else if (st == DELIVER_MISSING)
		snprintf(buf, len, "missing (%s): not sent", ds.why);
	else if (c->certify_by != DAY_NONE && today > c->certify_by)
		snprintf(buf, len, "delivery-overdue");
	else
		snprintf(buf, len, st == DELIVER_PENDING ? "pending" :
		    "not queued");
}

static int
cert_list(struct ctx *x, int tsv)
{
	struct err e = { "" };
	char **ids = NULL, path[4200], done[16], by[16], state[1200];
	char trig[128];
	size_t n = 0;
	int rc = EXIT_OK;

	if (cert_ids(x->cfg.state_dir, &ids, &n, &e) != 0) {
		warnx_("%s", e.msg);
		return EXIT_FAIL;
	}
	if (tsv)
		printf("id\tagreement\ttrigger\tcompleted\tcertify_by\t"
		    "delivery\n");
	else if (n > 0)
		printf("%-28s %-16s %-18s %-10s %-10s %s\n", "ID", "AGREEMENT",
		    "TRIGGER", "COMPLETED", "CERTIFY_BY", "DELIVERY");
	for (size_t i = 0; i < n; i++) {
		struct cert c;
		cert_init(&c);
		if (cert_path(x, ids[i], path, sizeof(path)) != 0 ||
		    load_cert(path, &c, &e) != 0 ||
		    cert_check_fields(&c, &e) != 0) {
			warnx_("%s: %s", ids[i], e.msg);
			rc = EXIT_FAIL;
			cert_free(&c);
			continue;
		}
		date_format(tz_date_at(c.timezone, c.completed), done);
		date_format(c.certify_by, by);
		delivery_state(x->cfg.state_dir, &c, state, sizeof(state));
		/* A partial certificate says so wherever it is listed. */
		snprintf(trig, sizeof(trig), "%s%s", c.trigger,
		    cert_partial(&c) ? " (partial)" : "");
		if (tsv)
			printf("%s\t%s\t%s\t%s\t%s\t%s\n", c.id, c.agreement,
			    trig, done, by, state);
		else
			printf("%-28s %-16s %-18s %-10s %-10s %s\n", c.id,
			    c.agreement, trig, done, by, state);
		cert_free(&c);
	}
	if (!tsv && n == 0)
		printf("no certificates issued yet\n");
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	return rc;
}

static int
cert_show(struct ctx *x, const char *id)
{
	struct sign_trust trust;
	struct err e = { "" };
	char path[4200], *text = NULL;
	size_t len;
	int fails;

	if (known_cert(x, id, path, sizeof(path)) != 0)
		return EXIT_USAGE;
	if (slurp(path, CERT_FILE_MAX, &text, &len, &e) != 0) {
		warnx_("%s", e.msg);
		return EXIT_FAIL;
	}
	fwrite(text, 1, len, stdout);
	free(text);
	printf("\n; verification (as `lethe verify` does it):\n");
	if (x->cfg.sign_chain == NULL) {
		printf("FAIL not verified: [signing] chain is not set in %s\n",
		    x->conf_path);
		return EXIT_FAIL;
	}
	if (sign_trust_load(x->cfg.sign_chain, &trust, &e) != 0) {
		printf("FAIL %s\n", e.msg);
		return EXIT_FAIL;
	}
	fails = cmd_verify_one(path, &trust, x->cfg.sign_chain, NULL, 0);
	sign_trust_free(&trust);
	return fails ? EXIT_FAIL : EXIT_OK;
}

/* The truth about a manifest that is gone, for a re-sent message: when it
 * was sanitized and after which delivery, as the journal and the receipts
 * say. */
static void
manifest_note(const struct ctx *x, const struct cert *c, char *buf,
    size_t len)
{
	struct msglog lg;
	struct deliver_status st;
	const struct msglog_san *san;
	const struct msglog_rec *rec;
	struct err e;
	char d1[11], d2[11];

	if (msglog_load(x->cfg.state_dir, &lg, &e) != 0 ||
	    (san = msglog_sanitized(&lg, c->id)) == NULL) {
		strbuf_fit(buf, len, "%s", "The vendor's copy of the manifest "
		    "is no longer on its host, and lethe has no record of "
		    "sanitizing it: this message carries the certificate and "
		    "its signature only.");
		msglog_free(&lg);
		return;
	}
	date_format(tz_date_at(c->timezone, san->at), d1);
	rec = msglog_find(&lg, san->msg != NULL ? san->msg : c->id);
	if (deliver_status(x->cfg.state_dir, san->msg != NULL ? san->msg :
	    c->id, &st, &e) != DELIVER_SENT || st.at == (time_t)-1)
		strbuf_fit(buf, len, "The vendor's copy of the manifest was "
		    "sanitized on %s, after delivery of this certificate was "
		    "accepted: this message carries the certificate and its "
		    "signature only.", d1);
	else
		strbuf_fit(buf, len, "The vendor's copy of the manifest was "
		    "sanitized on %s, after delivery %sto %s was accepted on %s: "
		    "this message carries the certificate and its signature "
		    "only.", d1, rec != NULL && rec->manifest ? "of the message "
		    "carrying it " : "", st.to[0] ? st.to : "the LEA",
		    date_format(tz_date_at(c->timezone, st.at), d2));
	msglog_free(&lg);
}

static int
cert_resend(struct ctx *x, const char *id)
{
	const struct agreement *a;
	struct err e = { "" };
	struct cert c;
	struct cert_mail cm = { 0 };
	struct deliver_status st;
	struct session ss = { .lockfd = -1, .j = { .fd = -1 } };
	char path[4200], *msg = NULL, note[600];
	size_t len = 0;
	int rc = EXIT_FAIL, q;

	cert_init(&c);
	if (known_cert(x, id, path, sizeof(path)) != 0)
		return EXIT_USAGE;
	if (load_cert(path, &c, &e) != 0 || cert_check_fields(&c, &e) != 0) {
		warnx_("%s", e.msg);
		goto out;
	}
	if ((a = policy_find(&x->ps, c.agreement)) == NULL) {
		warnx_("certificate %s: agreement %s has no policy now; cannot "
		    "tell where to send it", id, c.agreement);
		goto out;
	}
	if (a->contact == NULL || *a->contact == '\0') {
		warnx_("agreement %s: no contact to send certificate %s to",
		    c.agreement, id);
		goto out;
	}
	/* It records state (the message's digest): under the lock, past the
	 * trust gate, sealed after. */
	if (session_begin(x, &ss, 1) != 0 || session_refuse(x, &ss) != 0)
		goto out;
	if (deliver_status(x->cfg.state_dir, id, &st, &e) < 0) {
		warnx_("%s", e.msg);
		goto out;
	}
	if (st.state == DELIVER_PENDING) {
		printf("certificate %s: its message is queued and intact; it "
		    "goes to %s on the next `lethe run`\n", id, a->contact);
		rc = EXIT_OK;
		goto out;
	}
	manifest_note(x, &c, note, sizeof(note));
	cm.to = a->contact;
	cm.id = id;
	cm.no_manifest = note;
	if (mime_cert_message(&x->cfg, &cm, &msg, &len, &e) != 0) {
		warnx_("certificate %s: %s", id, e.msg);
		goto out;
	}
	if (st.state == DELIVER_SENT)
		q = deliver_enqueue_copy(x->cfg.state_dir, &ss.j, id, msg, len,
		    cm.with_manifest, &e);
	else
		q = deliver_enqueue(x->cfg.state_dir, &ss.j, id, msg, len,
		    cm.with_manifest, &e);
	if (q < 0) {
		warnx_("certificate %s: %s", id, e.msg);
		goto out;
	}
	if (st.state == DELIVER_SENT)
		printf("queued a copy of certificate %s for %s", id, a->contact);
	else if (q == 2)
		printf("certificate %s: %s for %s", id, e.msg, a->contact);
	else
		printf("queued certificate %s for %s", id, a->contact);
	if (cm.with_manifest)
		printf(", with its manifest");
	printf("; it is sent on the next `lethe run`\n");
	if (!cm.with_manifest)
		warnx_("certificate %s goes without its manifest: %s", id, note);
	(void)session_seal(x, &ss, 0);
	rc = EXIT_OK;
out:
	session_end(&ss);
	free(msg);
	cert_free(&c);
	return rc;
}

int
cmd_cert(struct ctx *x, int argc, char **argv)
{
	if (argc < 2)
		return cmd_usage("cert");
	if (strcmp(argv[1], "list") == 0) {
		int tsv = 0;
		if (argc == 3 && strcmp(argv[2], "--tsv") == 0)
			tsv = 1;
		else if (argc != 2)
			return cmd_usage("cert");
		if (ctx_load_config(x) != 0)
			return EXIT_USAGE;
		return cert_list(x, tsv);
	}
	if (strcmp(argv[1], "show") == 0 && argc == 3) {
		if (ctx_load_config(x) != 0)
			return EXIT_USAGE;
		return cert_show(x, argv[2]);
	}
	if (strcmp(argv[1], "resend") == 0 && argc == 3) {
		if (ctx_load(x) != 0)
			return EXIT_USAGE;
		return cert_resend(x, argv[2]);
	}
	return cmd_usage("cert");
}
