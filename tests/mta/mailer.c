/*
 * mailer.c: a small driver of lethe's delivery modules (letters.h, deliver.h)
 * for the real-MTA tests, until `lethe run` and `lethe cert resend` do this
 * through the CLI.
 *
 *   mailer STATE_DIR enqueue-cert ID TO     build ID's message, queue it
 *   mailer STATE_DIR flush SENDMAIL...      hand the outbox to SENDMAIL
 *   mailer STATE_DIR state ID               prints none, pending or sent
 *
 * The sender is privacy@vendor.example ("Example Learning, Inc.").  flush
 * prints one line per attempt, "ID ok|failed DETAIL", and exits 0 when all
 * were accepted, 1 when some failed, 2 on an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "deliver/deliver.h"
#include "base/err.h"
#include "state/journal.h"
#include "deliver/letters.h"

int
main(int argc, char **argv)
{
	struct config c;
	struct err e;
	int rc = 2;

	if (argc < 3) {
		fprintf(stderr, "usage: mailer STATE_DIR enqueue-cert ID TO | "
		    "flush SENDMAIL... | state ID\n");
		return 2;
	}
	memset(&c, 0, sizeof(c));
	c.state_dir = argv[1];
	c.mail_from = (char *)"privacy@vendor.example";
	c.vendor_name = (char *)"Example Learning, Inc.";
	c.vendor_contact = (char *)"privacy@vendor.example";
	c.host = (char *)"app-1.vendor.example";

	if (strcmp(argv[2], "enqueue-cert") == 0 && argc == 5) {
		struct cert_mail cm = { .to = argv[4], .id = argv[3] };
		struct journal j;
		char *msg;
		size_t len;
		if (mime_cert_message(&c, &cm, &msg, &len, &e) != 0 ||
		    journal_open(c.state_dir, &j, &e) != 0) {
			fprintf(stderr, "mailer: %s\n", e.msg);
			return 2;
		}
		rc = deliver_enqueue(c.state_dir, &j, argv[3], msg, len,
		    cm.with_manifest, &e);
		journal_close(&j);
		free(msg);
		if (rc != 0)
			fprintf(stderr, "mailer: %s\n", e.msg);
		return rc == 0 ? 0 : 2;
	}
	if (strcmp(argv[2], "flush") == 0 && argc >= 4) {
		struct journal j;
		struct deliver_report r;
		size_t need = 1;
		char *cmd;
		for (int i = 3; i < argc; i++)
			need += strlen(argv[i]) + 1;
		if ((cmd = calloc(1, need)) == NULL)
			return 2;
		for (int i = 3; i < argc; i++) {
			if (i > 3)
				strcat(cmd, " ");
			strcat(cmd, argv[i]);
		}
		c.sendmail = cmd;
		if (journal_open(c.state_dir, &j, &e) != 0) {
			fprintf(stderr, "mailer: %s\n", e.msg);
			free(cmd);
			return 2;
		}
		if (deliver_flush(&c, &j, NULL, &r, &e) != 0)
			fprintf(stderr, "mailer: %s\n", e.msg);
		else
			rc = r.failed ? 1 : 0;
		for (size_t i = 0; i < r.n; i++)
			printf("%s %s %s\n", r.v[i].id, r.v[i].ok ? "ok" : "failed",
			    r.v[i].detail);
		deliver_report_free(&r);
		journal_close(&j);
		free(cmd);
		return rc;
	}
	if (strcmp(argv[2], "state") == 0 && argc == 4) {
		static const char *const name[] = { "none", "pending", "sent",
		    "damaged", "missing" };
		int s = deliver_state(c.state_dir, argv[3], NULL, &e);
		if (s < 0) {
			fprintf(stderr, "mailer: %s\n", e.msg);
			return 2;
		}
		printf("%s\n", name[s]);
		return 0;
	}
	fprintf(stderr, "mailer: unknown command\n");
	return 2;
}
