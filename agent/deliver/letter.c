/*
 * letter.c: the layout every letter shares (see letter.h).
 *
 * MUST rules:
 *  - a letter's text comes from its caller's fields only; nothing here
 *    reads state;
 *  - every line of text is at most 72 columns where the words allow it
 *    (mime.c then keeps every encoded line within 78).
 */
#include "deliver/letter.h"
#include "deliver/mime.h"
#include "conf/config.h"
#include "base/err.h"
#include "base/strbuf.h"

#include <stdio.h>
#include <string.h>

#define WRAP		72		/* prose width of the text part */

void
letter_wrap(struct strbuf *b, const char *text, size_t col, size_t indent)
{
	const char *p = text;
	int first = 1;

	while (*p) {
		size_t w;
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		w = strcspn(p, " ");
		if (!first && col + 1 + w > WRAP) {
			strbuf_puts(b, "\n");
			for (size_t i = 0; i < indent; i++)
				strbuf_puts(b, " ");
			col = indent;
		} else if (!first) {
			strbuf_puts(b, " ");
			col++;
		}
		strbuf_add(b, p, w);
		col += w;
		p += w;
		first = 0;
	}
	strbuf_puts(b, "\n");
}

void
letter_field(struct strbuf *b, const char *label, const char *value)
{
	size_t n = strlen(label) + 3;

	strbuf_printf(b, "  %s:", label);
	for (; n < 22; n++)
		strbuf_puts(b, " ");
	strbuf_puts(b, " ");
	letter_wrap(b, value && *value ? value : "(not stated)", n + 1, 23);
}

void
letter_greeting(struct strbuf *b, const char *lea)
{
	char w[2048];

	strbuf_puts(b, "To the privacy officer of ");
	strbuf_fit(w, sizeof(w), "%s,", lea ? lea : "the LEA");
	letter_wrap(b, w, 26, 0);
	strbuf_puts(b, "\n");
}

/* The sender: [notify] from (default the vendor contact). */
static const char *
letter_from(const struct config *c)
{
	if (c->mail_from && *c->mail_from)
		return c->mail_from;
	return c->vendor_contact;
}

const char *
letter_contact(const struct config *c)
{
	return c->vendor_contact ? c->vendor_contact : letter_from(c);
}

int
letter_send(const struct config *c, struct mail *m, const char *what,
    char **out, size_t *len, struct err *e)
{
	m->from = letter_from(c);
	m->from_name = c->vendor_name;
	m->reply_to = c->vendor_contact;
	m->host = c->host;
	if (m->from == NULL)
		return err_set(e, "%s: no sender: set [notify] from or [vendor] "
		    "contact", what);
	if (mime_build(m, out, len, e) != 0)
		return err_prefix(e, "%s", what);
	return 0;
}
