/*
 * letter.h: the layout every letter shares (letters.h): prose wrapped at
 * 72 columns, "  Label:  value" fields, the greeting, and the sending of a
 * letter from the vendor.  Internal to deliver/.
 */
#ifndef LETHE_LETTER_H
#define LETHE_LETTER_H

#include <stddef.h>

struct config;
struct err;
struct mail;
struct strbuf;

/* Appends text wrapped at 72 columns: the first line continues from
 * column col, the next ones start with indent blanks.  Ends with '\n'. */
void letter_wrap(struct strbuf *b, const char *text, size_t col,
    size_t indent);
/* "  Label:            value", the value wrapped under itself; a NULL or
 * empty value reads "(not stated)". */
void letter_field(struct strbuf *b, const char *label, const char *value);
/* "To the privacy officer of LEA,\n\n" ("the LEA" when lea is NULL). */
void letter_greeting(struct strbuf *b, const char *lea);
/* The address questions go to: [vendor] contact, else the sender. */
const char *letter_contact(const struct config *c);
/* Builds the letter *m (to, subject, body, tag and attachments set by the
 * caller) as a message from the vendor: From [notify] from (else [vendor]
 * contact) with the vendor's name, Reply-To [vendor] contact, the host in
 * its Message-ID.  what names it in errors ("certificate C-1").  Returns
 * 0, or -1 with *e set. */
int letter_send(const struct config *c, struct mail *m, const char *what,
    char **out, size_t *len, struct err *e);

#endif
