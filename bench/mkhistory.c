/*
 * bench/mkhistory.c: years of history for bench/history.sh.  Appends to
 * STATE/journal, through lethe's own journal code, what NAGR agreements'
 * terminations and dispositions leave when they destroyed NFILES files in
 * all (disposition-start, -complete with its counts and record digest,
 * certificate-issued, delivery-attempt ok), then signs a checkpoint with
 * the agent key, as `lethe run` does at its end.
 *   mkhistory STATE NAGR NFILES KEY CERT CHAIN
 */
#include "base/err.h"
#include "certify/checkpoint.h"
#include "certify/sign.h"
#include "state/journal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int
main(int argc, char **argv)
{
	struct journal j = { .fd = -1 };
	struct signer s;
	struct err e;
	char id[96], cert[112], files[24], bytes[32], td[16], dl[16], cb[16];
	char agr[32];
	unsigned long nagr, nfiles;
	time_t now = time(NULL);
	struct tm tm;

	if (argc != 7) {
		fprintf(stderr, "usage: mkhistory STATE NAGR NFILES KEY CERT CHAIN\n");
		return 2;
	}
	nagr = strtoul(argv[2], NULL, 10);
	nfiles = strtoul(argv[3], NULL, 10);
	gmtime_r(&(time_t){ now - 86400 * 400 }, &tm);
	strftime(td, sizeof(td), "%Y-%m-%d", &tm);
	gmtime_r(&(time_t){ now - 86400 * 370 }, &tm);
	strftime(dl, sizeof(dl), "%Y-%m-%d", &tm);
	strftime(id, sizeof(id), "%Y%m%d", &tm);
	gmtime_r(&(time_t){ now - 86400 * 360 }, &tm);
	strftime(cb, sizeof(cb), "%Y-%m-%d", &tm);
	if (journal_open(argv[1], &j, &e) != 0)
		goto fail;
	for (unsigned long a = 0; a < nagr; a++) {
		char day[16], did[128];
		unsigned long f = nfiles / nagr + (a < nfiles % nagr);

		snprintf(agr, sizeof(agr), "a%05lu", a);
		snprintf(day, sizeof(day), "%s", id);
		snprintf(did, sizeof(did), "%s-%s-%" PRIu64, agr, day, j.seq + 2);
		snprintf(cert, sizeof(cert), "%s", did);
		snprintf(files, sizeof(files), "%lu", f);
		snprintf(bytes, sizeof(bytes), "%lu", f * 4096);
		if (journal_appendv(&j, &e, "terminate", "agreement", agr, "date",
		    td, "by", "bench", NULL) != 0 ||
		    journal_appendv(&j, &e, "disposition-start", "id", did,
		    "agreement", agr, "trigger", "termination", "datasets",
		    "uploads", "trigger_date", td, "deadline", dl, NULL) != 0 ||
		    journal_appendv(&j, &e, "disposition-complete", "id", did,
		    "files", files, "bytes", bytes, "remaining", "0",
		    "datasets", "uploads", "digests_sha256", "-", NULL) != 0 ||
		    journal_appendv(&j, &e, "certificate-issued", "id", cert,
		    "disp", did, "certify_by", cb, NULL) != 0 ||
		    journal_appendv(&j, &e, "delivery-attempt", "cert", cert,
		    "ok", "yes", "detail", "accepted", NULL) != 0)
			goto fail;
	}
	if (sign_load(argv[4], argv[5], argv[6], &s, &e) != 0 ||
	    checkpoint_write(argv[1], j.seq, j.head, &s, &e) != 0)
		goto fail;
	sign_free(&s);
	journal_close(&j);
	printf("%" PRIu64 " journal lines for %lu agreements, %lu files\n", j.seq,
	    nagr, nfiles);
	return 0;
fail:
	fprintf(stderr, "mkhistory: %s\n", e.msg);
	return 1;
}
