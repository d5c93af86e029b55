/*
 * fuzz_journal.c: journal_verify, journal_read, journal_hash_at,
 * journal_open + journal_append (agent/journal.c) and events_load
 * (agent/events.c) on a journal made from arbitrary bytes.
 *
 * A fuzzer cannot forge SHA-256 chains, so the first byte picks how the
 * rest becomes state_dir/journal:
 *   0  as is (the line parser and the chain check);
 *   1  each line gets " HASH" appended, the correct chain hash;
 *   2  each line gets "SEQ " in front (1, 2, ...) and " HASH" appended;
 * so modes 1 and 2 reach the replay of events.c behind the chain check.
 * A last line without a newline stays without one (a torn line).
 *
 * Invariants besides "no crash, no leak, no UB":
 *   - journal_verify fails exactly when it names a bad line; journal_read
 *     agrees with it and calls back once per good line;
 *   - events_load fails whenever journal_verify does, and on success it
 *     has replayed every line and ends on the same seq and head;
 *   - journal_hash_at(last seq) is the verified head;
 *   - the next directive and hold ids are free;
 *   - on an intact journal journal_open learns the same seq and head (a
 *     torn last line repaired and journaled as one more line), an event
 *     appended with a value of arbitrary bytes (from the input)
 *     keeps the journal intact, and the value reads back byte for byte.
 */
#include "fuzz_util.h"

#include "base/err.h"
#include "plan/events.h"
#include "state/journal.h"

#include <openssl/evp.h>

static char jpath[4096];
static const char zero_hash[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_path(jpath, "journal");
	return 0;
}

struct buf {
	char *p;
	size_t n, cap;
};

static void
add(struct buf *b, const void *s, size_t n)
{
	if (n == 0)
		return;
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;

		while (cap < b->n + n)
			cap *= 2;
		FZ_SETUP((b->p = realloc(b->p, cap)) != NULL);
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

/* The journal's chain rule, from its header comment, written afresh. */
static void
chain(const char *prev, const char *text, size_t len, char out[65])
{
	static const char hx[] = "0123456789abcdef";
	unsigned char md[32];
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	FZ_SETUP(c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(c, prev, 64) == 1 &&
	    EVP_DigestUpdate(c, " ", 1) == 1 &&
	    EVP_DigestUpdate(c, text, len) == 1 &&
	    EVP_DigestFinal_ex(c, md, NULL) == 1);
	EVP_MD_CTX_free(c);
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hx[md[i] >> 4];
		out[2 * i + 1] = hx[md[i] & 15];
	}
	out[64] = '\0';
}

static void
make_journal(const uint8_t *data, size_t size, int mode, struct buf *out)
{
	char prev[65], h[65];
	struct buf line = { 0 };
	size_t pos = 0;
	unsigned long seq = 0;

	memcpy(prev, zero_hash, 65);
	if (mode == 0) {
		add(out, data, size);
		return;
	}
	while (pos < size) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		size_t n = nl != NULL ? (size_t)(nl - (data + pos)) : size - pos;
		char num[32];

		line.n = 0;
		if (mode == 2) {
			int k = snprintf(num, sizeof(num), "%lu ", ++seq);
			add(&line, num, (size_t)k);
		}
		add(&line, data + pos, n);
		chain(prev, line.n ? line.p : "", line.n, h);
		memcpy(prev, h, 65);
		add(out, line.p, line.n);
		add(out, " ", 1);
		add(out, h, 64);
		if (nl != NULL)
			add(out, "\n", 1);
		pos += n + (nl != NULL);
	}
	free(line.p);
}

struct counter {
	uint64_t n, last_seq;
	const char *want;	/* a value to find in the last line */
	int found;
};

static int
count(const struct jrec *r, void *arg)
{
	struct counter *c = arg;
	const char *v;

	c->n++;
	FZ_CHECK(r->seq == c->n, "callback for seq %llu as line %llu",
	    (unsigned long long)r->seq, (unsigned long long)c->n);
	FZ_CHECK(r->event != NULL && r->event[0] != '\0', "no event");
	c->last_seq = r->seq;
	if (c->want != NULL && strcmp(r->event, "fuzz-append") == 0 &&
	    (v = jrec_get(r, "value")) != NULL)
		c->found = strcmp(v, c->want) == 0;
	return 0;
}

static void
check_events(const struct events *ev)
{
	char id[16];

	events_next_directive_id(ev, id);
	FZ_CHECK(id[0] == 'D' && events_directive(ev, id) == NULL,
	    "next directive id '%s' is taken", id);
	events_next_hold_id(ev, id);
	FZ_CHECK(id[0] == 'H' && events_hold(ev, id) == NULL,
	    "next hold id '%s' is taken", id);
	for (size_t i = 0; i < ev->ndisp; i++)
		FZ_CHECK(events_disposition(ev, ev->disp[i].id) != NULL,
		    "disposition lost");
}

/* On an intact journal: open, append a value of arbitrary bytes, verify
 * again and read the value back. */
static void
append_round_trip(const struct journal_report *r, const uint8_t *data,
    size_t size)
{
	struct journal j;
	struct journal_report r2;
	struct counter c = { 0 };
	struct err e;
	char *value = fz_strndup(data, size);
	int rc;

	/* A torn last line is removed and the repair journaled: one line. */
	uint64_t repair = r->torn > 0;

	FZ_CHECK(journal_open(fz_dir(), &j, &e) == 0, "an intact journal "
	    "does not open: %s", e.msg);
	FZ_CHECK(j.seq == r->seq + repair && (repair ||
	    strcmp(j.head, r->head) == 0) && j.repaired == r->torn,
	    "journal_open learnt seq %llu, verify says %llu (torn %llu)",
	    (unsigned long long)j.seq, (unsigned long long)r->seq,
	    (unsigned long long)r->torn);
	rc = journal_appendv(&j, &e, "fuzz-append", "value", value,
	    "empty", "", NULL);
	journal_close(&j);
	if (rc != 0) {
		FZ_CHECK(strstr(e.msg, "longer than") != NULL,
		    "append failed: %s", e.msg);
		free(value);
		return;
	}
	FZ_CHECK(journal_verify(fz_dir(), &r2, &e) == 0, "append broke the "
	    "journal: %s", e.msg);
	FZ_CHECK(r2.lines == r->lines + 1 + repair && r2.torn == 0 &&
	    r2.seq == r->seq + 1 + repair,
	    "append made %llu lines of %llu", (unsigned long long)r2.lines,
	    (unsigned long long)r->lines);
	c.want = value;
	FZ_CHECK(journal_read(fz_dir(), count, &c, &e) == 0, "read: %s",
	    e.msg);
	FZ_CHECK(c.found, "the appended value did not read back");
	free(value);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf j = { 0 };
	struct journal_report r;
	struct counter c = { 0 };
	struct events ev;
	struct err e;
	char head[65];
	int vrc, rrc, erc;

	if (size == 0)
		return 0;
	make_journal(data + 1, size - 1, data[0] % 3, &j);
	fz_write(jpath, j.p, j.n);
	free(j.p);

	vrc = journal_verify(fz_dir(), &r, &e);
	FZ_CHECK((vrc == 0) == (r.bad_line == 0), "rc %d, bad line %llu",
	    vrc, (unsigned long long)r.bad_line);
	if (vrc != 0)
		FZ_CHECK(strstr(e.msg, "journal") != NULL, "message does not "
		    "name the journal: %s", e.msg);
	rrc = journal_read(fz_dir(), count, &c, &e);
	FZ_CHECK(rrc == vrc, "journal_read %d, journal_verify %d", rrc, vrc);
	FZ_CHECK(c.n == r.lines, "%llu callbacks for %llu good lines",
	    (unsigned long long)c.n, (unsigned long long)r.lines);

	erc = events_load(fz_dir(), &ev, &e);
	if (vrc != 0)
		FZ_CHECK(erc != 0, "events_load accepted a broken journal");
	if (erc == 0) {
		FZ_CHECK(ev.lines == r.lines && ev.seq == r.seq &&
		    strcmp(ev.head, r.head) == 0, "events_load ended at "
		    "%llu, verify at %llu", (unsigned long long)ev.seq,
		    (unsigned long long)r.seq);
		check_events(&ev);
	}
	events_free(&ev);

	if (vrc == 0 && r.lines > 0) {
		FZ_CHECK(journal_hash_at(fz_dir(), r.seq, head, &e) == 0 &&
		    strcmp(head, r.head) == 0, "hash_at(%llu): %s",
		    (unsigned long long)r.seq, e.msg);
		FZ_CHECK(journal_hash_at(fz_dir(), r.seq + 1, head, &e) != 0,
		    "hash_at past the end");
	}
	if (vrc == 0)
		append_round_trip(&r, data + 1, size - 1 > 300 ? 300 :
		    size - 1);
	return 0;
}
