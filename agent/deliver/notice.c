/*
 * notice.c: the prior notice of a termination disposal (NDPA IV.6; see
 * letters.h).
 *
 * MUST rules:
 *  - a notice names the one termination date it is for: another date
 *    needs a new notice, and says so;
 *  - it names no file of student data: only the agreement, the LEA, the
 *    dates, the data's categories and how many datasets.
 */
#include "deliver/letters.h"
#include "deliver/letter.h"
#include "deliver/mime.h"
#include "conf/config.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
mime_notice_message(const struct config *c, const struct notice *nt,
    char **out, size_t *len, struct err *e)
{
	struct strbuf b = { 0 };
	struct mail m = { 0 };
	char subject[900], w[2048], what[1024];
	const char *vendor = c->vendor_name ? c->vendor_name : "The vendor";
	const char *contact = letter_contact(c);
	int rc = -1, n;

	*out = NULL;
	*len = 0;
	if (nt->agreement == NULL || nt->disposal == NULL || nt->to == NULL ||
	    nt->terminated == NULL)
		return err_set(e, "notice: agreement, termination and disposal "
		    "dates and recipient are required");
	n = snprintf(subject, sizeof(subject), "Notice of planned disposal "
	    "of student data on %s \xe2\x80\x94 %s", nt->disposal,
	    nt->lea ? nt->lea : nt->agreement);
	if (n < 0 || (size_t)n >= sizeof(subject))
		return err_set(e, "notice for %s: subject too long",
		    nt->agreement);

	letter_greeting(&b, nt->lea);
	strbuf_fit(w, sizeof(w), "This is the prior notice that the data "
	    "privacy agreement gives you (NDPA Article IV.6): the service "
	    "agreement ended on %s, and %s plans to dispose of the student "
	    "data it holds under the agreement \"%s\" on or after the date "
	    "below.", nt->terminated, vendor, nt->agreement);
	letter_wrap(&b, w, 0, 0);
	strbuf_puts(&b, "\n");
	strbuf_fit(w, sizeof(w), "This notice is for the termination on %s "
	    "only. Should that date be corrected, you will receive a new "
	    "notice, and nothing is disposed of on the strength of this one.",
	    nt->terminated);
	letter_wrap(&b, w, 0, 0);
	strbuf_puts(&b, "\n");
	letter_field(&b, "Agreement", nt->agreement);
	letter_field(&b, "LEA", nt->lea);
	letter_field(&b, "Service ended", nt->terminated);
	letter_field(&b, "Planned disposal", nt->disposal);
	letter_field(&b, "Disposal deadline", nt->deadline);
	letter_field(&b, "Data categories", nt->categories);
	strbuf_fit(w, sizeof(w), "%zu", nt->ndatasets);
	letter_field(&b, "Datasets", w);
	if (nt->retained && *nt->retained)
		letter_field(&b, "Retained (exempt)", nt->retained);
	strbuf_puts(&b, "\n");
	letter_wrap(&b, "The data will be destroyed as NIST SP 800-88 "
	    "describes, and a signed certificate of destruction, with its date "
	    "and method, will be mailed to this address.", 0, 0);
	strbuf_puts(&b, "\n");
	strbuf_fit(w, sizeof(w), "How to respond, before %s:", nt->disposal);
	letter_wrap(&b, w, 0, 0);
	strbuf_puts(&b, "  - ");
	letter_wrap(&b, "To have the data transferred to you instead of "
	    "destroyed, send a Directive for Disposition of Data (NDPA Exhibit "
	    "D) asking for a transfer.", 4, 4);
	strbuf_puts(&b, "  - ");
	letter_wrap(&b, "If any of the data is subject to a legal hold or "
	    "other legal process, tell us: nothing under a hold is destroyed.",
	    4, 4);
	strbuf_puts(&b, "  - ");
	strbuf_fit(w, sizeof(w), "For questions, reply to this message or "
	    "write to %s, quoting the agreement \"%s\".", contact ? contact :
	    "the vendor", nt->agreement);
	letter_wrap(&b, w, 4, 4);
	strbuf_puts(&b, "\n");
	letter_wrap(&b, "Without an answer, the disposal goes ahead as "
	    "planned.", 0, 0);
	if (b.oom) {
		err_set(e, "notice for %s: out of memory", nt->agreement);
		goto out;
	}
	m.to = nt->to;
	m.subject = subject;
	m.body = b.p;
	m.tag = nt->agreement;
	strbuf_fit(what, sizeof(what), "notice for %s", nt->agreement);
	if (letter_send(c, &m, what, out, len, e) != 0)
		goto out;
	rc = 0;
out:
	free(b.p);
	return rc;
}
