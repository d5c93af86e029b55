/*
 * mime.c: RFC 5322 messages with MIME (RFC 2045-2049, 2047, 2231), built
 * and read back (see mime.h).  Pure: it reads no state and knows no lethe
 * policy; the letters (letters.h) decide what a message says.
 *
 * MUST rules:
 *  - no header value reaches the message unless it is free of control
 *    characters; addresses are plain addr-specs; free text in headers is
 *    either printable ASCII or RFC 2047 encoded, so nothing can add a header
 *    or a MIME part;
 *  - attachments are base64 and reach the reader byte for byte;
 *  - every line is at most 78 characters, except where RFC 2047/2045 allow
 *    none longer anyway (encoded words, base64 and quoted-printable are
 *    at most 76).
 */
#include "deliver/mime.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "base/text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

/* No control characters (C0, DEL): nothing can end the header line. */
static int
header_ok(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return text_utf8_valid(s, strlen(s));
}

static int
ascii_printable(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return 0;
	return 1;
}

int
mime_addr_ok(const char *s)
{
	const char *at;
	size_t n;

	if (s == NULL || (n = strlen(s)) < 3 || n > 254 || s[0] == '-' ||
	    s[0] == '.' || (at = strrchr(s, '@')) == NULL || at == s ||
	    at[1] == '\0')
		return 0;
	for (const char *p = s; p < at; p++)
		if (*p <= 0x20 || *p >= 0x7f || strchr("()<>[]:;@\\,\"", *p))
			return 0;
	if (at[1] == '.' || at[1] == '-' || s[n - 1] == '.' || s[n - 1] == '-')
		return 0;
	for (const char *p = at + 1; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-') ||
		    (p[0] == '.' && p[1] == '.'))
			return 0;
	return 1;
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* base64 of n bytes, no line breaks. */
static void
b64_run(struct strbuf *b, const unsigned char *s, size_t n)
{
	char q[4];

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		q[0] = b64[v >> 18 & 63];
		q[1] = b64[v >> 12 & 63];
		q[2] = i + 1 < n ? b64[v >> 6 & 63] : '=';
		q[3] = i + 2 < n ? b64[v & 63] : '=';
		strbuf_add(b, q, 4);
	}
}

/* base64 in lines of 76 characters (57 input bytes), each ending '\n'. */
static void
b64_lines(struct strbuf *b, const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i += 57) {
		b64_run(b, s + i, n - i < 57 ? n - i : 57);
		strbuf_add(b, "\n", 1);
	}
}

/* RFC 2047 encoded words (B, UTF-8), one per line after the first, none
 * splitting a UTF-8 sequence; 39 bytes make a 64-character word. */
static void
encoded_words(struct strbuf *b, const char *s)
{
	size_t n = strlen(s), i = 0;

	while (i < n) {
		size_t k = n - i < 39 ? n - i : 39;
		while (i + k < n && ((unsigned char)s[i + k] & 0xc0) == 0x80)
			k--;
		if (i > 0)
			strbuf_puts(b, "\n ");
		strbuf_puts(b, "=?UTF-8?B?");
		b64_run(b, (const unsigned char *)s + i, k);
		strbuf_puts(b, "?=");
		i += k;
	}
}

/* "Subject: text": plain when short printable ASCII, else encoded words. */
static void
put_unstructured(struct strbuf *b, const char *name, const char *v)
{
	strbuf_printf(b, "%s: ", name);
	if (ascii_printable(v) && strstr(v, "=?") == NULL &&
	    strlen(name) + 2 + strlen(v) <= 78)
		strbuf_puts(b, v);
	else
		encoded_words(b, v);
	strbuf_puts(b, "\n");
}

/* "From: display name <addr>" with the name quoted or encoded; the
 * address goes on a folded line when the whole would pass 78. */
static void
put_mailbox(struct strbuf *b, const char *name, const char *disp,
    const char *addr)
{
	struct strbuf d = { 0 };

	if (disp == NULL || *disp == '\0') {
		strbuf_printf(b, "%s: %s\n", name, addr);
		return;
	}
	if (ascii_printable(disp) && strstr(disp, "=?") == NULL &&
	    strlen(disp) * 2 + 8 <= 70) {
		strbuf_puts(&d, "\"");
		for (const char *p = disp; *p; p++) {
			if (*p == '"' || *p == '\\')
				strbuf_puts(&d, "\\");
			strbuf_add(&d, p, 1);
		}
		strbuf_puts(&d, "\"");
	} else
		encoded_words(&d, disp);
	if (d.oom) {
		b->oom = 1;
	} else if (strchr(d.p, '\n') == NULL &&
	    strlen(name) + 2 + d.len + 2 + strlen(addr) + 1 <= 78)
		strbuf_printf(b, "%s: %s <%s>\n", name, d.p, addr);
	else
		strbuf_printf(b, "%s: %s\n <%s>\n", name, d.p, addr);
	free(d.p);
}

/* Keeps [A-Za-z0-9-] of s (others become '-'), at most max bytes. */
static void
put_atom(struct strbuf *b, const char *s, size_t max)
{
	for (size_t i = 0; s[i] && i < max; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9')))
			c = '-';
		strbuf_add(b, &c, 1);
	}
}

static void
put_msgid(struct strbuf *b, const char *tag, const char *host,
    const unsigned char rnd[12])
{
	strbuf_puts(b, "Message-ID: <lethe.");
	if (tag && *tag) {
		put_atom(b, tag, 64);
		strbuf_puts(b, ".");
	}
	for (int i = 0; i < 12; i++)
		strbuf_printf(b, "%02x", rnd[i]);
	strbuf_puts(b, "@");
	/* dot-atom: components of the host name, each made an atom */
	{
		const char *h = host && *host ? host : "localhost";
		int first = 1;
		while (*h) {
			size_t k = strcspn(h, ".");
			if (k > 0) {
				char comp[64];
				size_t m = k < sizeof(comp) - 1 ? k : sizeof(comp) - 1;
				memcpy(comp, h, m);
				comp[m] = '\0';
				if (!first)
					strbuf_puts(b, ".");
				put_atom(b, comp, m);
				first = 0;
			}
			h += k + (h[k] == '.');
		}
		if (first)
			strbuf_puts(b, "localhost");
	}
	strbuf_puts(b, ">\n");
}

static void
put_date(struct strbuf *b, time_t t)
{
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char *const mo[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		b->oom = 1;
		return;
	}
	strbuf_printf(b, "Date: %s, %d %s %04d %02d:%02d:%02d +0000\n",
	    wd[tm.tm_wday], tm.tm_mday, mo[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Plain text that can go as 7bit: printable ASCII lines of at most 76,
 * none that mbox or SMTP would alter ("From ", "."), no '=' (so no MIME
 * boundary), no trailing blanks. */
static int
body_is_7bit(const char *s)
{
	size_t col = 0;

	for (const char *p = s; *p; p++) {
		if (*p == '\n') {
			if (col > 0 && (p[-1] == ' ' || p[-1] == '\t'))
				return 0;
			col = 0;
			continue;
		}
		if (col == 0 && (strncmp(p, "From ", 5) == 0 || *p == '.'))
			return 0;
		if (((unsigned char)*p < 0x20 && *p != '\t') ||
		    (unsigned char)*p > 0x7e || *p == '=' || ++col > 76)
			return 0;
	}
	return 1;
}

/* Quoted-printable (RFC 2045 §6.7), '\n' as the hard line break, encoded
 * lines of at most 76 characters; "From " and "." never begin a line. */
static void
qp_body(struct strbuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t col = 0;

	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		char tok[3];
		size_t tl = 1;
		if (c == '\n') {
			strbuf_add(b, "\n", 1);
			col = 0;
			continue;
		}
		tok[0] = (char)c;
		if ((c < 33 && c != ' ' && c != '\t') || c > 126 || c == '=' ||
		    ((c == ' ' || c == '\t') && (p[1] == '\n' || p[1] == '\0')))
			tl = 3;
		if (tl == 1 && col + 1 > 75) {
			strbuf_add(b, "=\n", 2);
			col = 0;
		} else if (tl == 3 && col + 3 > 75) {
			strbuf_add(b, "=\n", 2);
			col = 0;
		}
		if (col == 0 && (c == '.' || strncmp(p, "From ", 5) == 0))
			tl = 3;
		if (tl == 3) {
			tok[0] = '=';
			tok[1] = hex[c >> 4];
			tok[2] = hex[c & 15];
		}
		strbuf_add(b, tok, tl);
		col += tl;
	}
	if (col > 0)
		strbuf_add(b, "=\n", 2);	/* text without a final newline */
}

static int
filename_plain(const char *s)
{
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' ||
		    *p == '_'))
			return 0;
	return 1;
}

static void
put_attachment(struct strbuf *b, const char *boundary,
    const struct mail_attachment *a)
{
	strbuf_printf(b, "\n--%s\n", boundary);
	if (filename_plain(a->filename)) {
		strbuf_printf(b, "Content-Type: %s;\n name=\"%s\"\n", a->ctype,
		    a->filename);
		strbuf_printf(b, "Content-Disposition: attachment;\n"
		    " filename=\"%s\"\n", a->filename);
	} else {
		/* RFC 2231: filename*=UTF-8''percent-encoded */
		strbuf_printf(b, "Content-Type: %s\n", a->ctype);
		strbuf_puts(b, "Content-Disposition: attachment;\n filename*=UTF-8''");
		for (const unsigned char *p = (const unsigned char *)a->filename;
		    *p; p++) {
			if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-')
				strbuf_add(b, p, 1);
			else
				strbuf_printf(b, "%%%02X", *p);
		}
		strbuf_puts(b, "\n");
	}
	strbuf_puts(b, "Content-Transfer-Encoding: base64\n\n");
	b64_lines(b, a->data, a->len);
}

int
mime_build(const struct mail *m, char **out, size_t *len, struct err *e)
{
	struct strbuf b = { 0 };
	unsigned char rnd[12], brnd[12];
	char boundary[48];
	const char *body = m->body ? m->body : "";

	*out = NULL;
	*len = 0;
	if (!mime_addr_ok(m->from))
		return err_set(e, "mail: invalid sender address");
	if (!mime_addr_ok(m->to))
		return err_set(e, "mail: invalid recipient address");
	if (m->reply_to && !mime_addr_ok(m->reply_to))
		return err_set(e, "mail: invalid Reply-To address");
	if (m->subject == NULL || !header_ok(m->subject) ||
	    (m->from_name && !header_ok(m->from_name)))
		return err_set(e, "mail: control character or invalid UTF-8 "
		    "in a header value");
	if (!text_utf8_valid(body, strlen(body)))
		return err_set(e, "mail: text is not UTF-8");
	for (size_t i = 0; i < m->natt; i++) {
		const struct mail_attachment *a = &m->att[i];
		if (a->filename == NULL || *a->filename == '\0' ||
		    !header_ok(a->filename) || strpbrk(a->filename, "/\\\"") ||
		    a->ctype == NULL || !ascii_printable(a->ctype) ||
		    strchr(a->ctype, '/') == NULL || (a->len && a->data == NULL))
			return err_set(e, "mail: attachment %zu: invalid name or "
			    "content type", i + 1);
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd) ||
	    getrandom(brnd, sizeof(brnd), 0) != (ssize_t)sizeof(brnd))
		return err_sys(e, "mail: getrandom");
	{
		int n = snprintf(boundary, sizeof(boundary),
		    "=_lethe_%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x",
		    brnd[0], brnd[1], brnd[2], brnd[3], brnd[4], brnd[5],
		    brnd[6], brnd[7], brnd[8], brnd[9], brnd[10], brnd[11]);
		if (n < 0 || (size_t)n >= sizeof(boundary))
			return err_set(e, "mail: boundary too long");
	}

	put_mailbox(&b, "From", m->from_name, m->from);
	strbuf_printf(&b, "To: %s\n", m->to);
	if (m->reply_to && strcmp(m->reply_to, m->from) != 0)
		strbuf_printf(&b, "Reply-To: %s\n", m->reply_to);
	put_unstructured(&b, "Subject", m->subject);
	put_date(&b, m->date ? m->date : time(NULL));
	put_msgid(&b, m->tag, m->host, rnd);
	strbuf_puts(&b, "MIME-Version: 1.0\n");
	strbuf_puts(&b, "Auto-Submitted: auto-generated\n");
#ifdef LETHE_VERSION
	strbuf_puts(&b, "X-Mailer: lethe " LETHE_VERSION "\n");
#endif
	if (m->natt > 0) {
		strbuf_printf(&b, "Content-Type: multipart/mixed;\n"
		    " boundary=\"%s\"\n\n", boundary);
		strbuf_puts(&b, "This is a MIME message: a text part and "
		    "attachments.\n");
		strbuf_printf(&b, "\n--%s\n", boundary);
	}
	strbuf_puts(&b, "Content-Type: text/plain; charset=utf-8\n");
	if (body_is_7bit(body)) {
		strbuf_puts(&b, "Content-Transfer-Encoding: 7bit\n\n");
		strbuf_puts(&b, body);
		if (b.len > 0 && *body && body[strlen(body) - 1] != '\n')
			strbuf_puts(&b, "\n");
	} else {
		strbuf_puts(&b, "Content-Transfer-Encoding: quoted-printable\n\n");
		qp_body(&b, body);
	}
	for (size_t i = 0; i < m->natt; i++)
		put_attachment(&b, boundary, &m->att[i]);
	if (m->natt > 0)
		strbuf_printf(&b, "\n--%s--\n", boundary);
	if (strbuf_take(&b, out, len) != 0)
		return err_set(e, "mail: out of memory");
	return 0;
}

/* Copies header `name`'s unfolded value into v (NUL-terminated).  Returns
 * 1 found once, 0 absent, -1 repeated or too long. */
static int
header_get(const char *msg, size_t len, const char *name, char *v, size_t vsz)
{
	size_t nl = strlen(name), i = 0, found = 0;

	while (i < len && msg[i] != '\n') {
		size_t end = i;
		while (end < len && msg[end] != '\n')
			end++;
		if (end - i > nl && strncasecmp(msg + i, name, nl) == 0 &&
		    msg[i + nl] == ':') {
			size_t o = 0, p = i + nl + 1;
			if (found++)
				return -1;
			for (;;) {
				for (; p < end; p++) {
					if (o + 1 >= vsz)
						return -1;
					v[o++] = msg[p];
				}
				/* folded continuation lines */
				if (end + 1 < len && (msg[end + 1] == ' ' ||
				    msg[end + 1] == '\t')) {
					p = end + 1;
					end = p;
					while (end < len && msg[end] != '\n')
						end++;
					continue;
				}
				break;
			}
			v[o] = '\0';
		}
		i = end + 1;
	}
	return found ? 1 : 0;
}

/* The addr-spec of a mailbox value: inside the last <...>, else the whole,
 * blanks trimmed. */
static int
mailbox_addr(const char *v, char *out, size_t sz)
{
	const char *s = strrchr(v, '<'), *t;
	size_t n;

	if (s) {
		s++;
		if ((t = strchr(s, '>')) == NULL)
			return -1;
	} else {
		s = v;
		t = v + strlen(v);
	}
	while (s < t && (*s == ' ' || *s == '\t'))
		s++;
	while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
		t--;
	n = (size_t)(t - s);
	if (n + 1 > sz)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return mime_addr_ok(out) ? 0 : -1;
}

int
mime_envelope(const char *msg, size_t len, char *from, size_t fromsz,
    char *to, size_t tosz, char *msgid, size_t msgidsz, struct err *e)
{
	char v[1024];
	const char *s;

	if (header_get(msg, len, "From", v, sizeof(v)) != 1 ||
	    mailbox_addr(v, from, fromsz) != 0)
		return err_set(e, "message has no single valid From header");
	if (header_get(msg, len, "To", v, sizeof(v)) != 1 ||
	    mailbox_addr(v, to, tosz) != 0)
		return err_set(e, "message has no single valid To header");
	if (header_get(msg, len, "Message-ID", v, sizeof(v)) != 1)
		return err_set(e, "message has no single Message-ID header");
	for (s = v; *s == ' ' || *s == '\t'; s++)
		;
	if (*s != '<' || strchr(s, '>') == NULL || strlen(s) + 1 > msgidsz ||
	    !ascii_printable(s))
		return err_set(e, "message has an invalid Message-ID header");
	memcpy(msgid, s, strlen(s) + 1);
	msgid[strcspn(msgid, ">") + 1] = '\0';
	return 0;
}
