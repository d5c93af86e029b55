/*
 * mime.c: building the messages lethe mails (see mime.h).
 *
 * MUST rules:
 *  - no header value reaches the message unless it is free of control
 *    characters; addresses are plain addr-specs; free text in headers is
 *    either printable ASCII or RFC 2047 encoded, so nothing can add a header
 *    or a MIME part;
 *  - attachments are base64 and reach the reader byte for byte;
 *  - every line is at most 78 characters, except where RFC 2047/2045 allow
 *    none longer anyway (encoded words, base64 and quoted-printable are
 *    at most 76);
 *  - the text body names no file or path of student data: it is built only
 *    from the certificate's fields (counts, sizes, digests) and the policy.
 */
#include "deliver/mime.h"
#include "certify/cert.h"
#include "conf/config.h"
#include "deliver/deliver.h"
#include "state/durable.h"
#include "base/err.h"
#include "base/num.h"
#include "base/strbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_ATTACHMENT	(64u << 20)	/* mail systems refuse far less */
#define WRAP		72		/* prose width of the text part */





/* Well-formed UTF-8: no overlongs, surrogates or code points past U+10FFFF. */
static int
utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], need, min, cp;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, min = 0x80, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, min = 0x800, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, min = 0x10000, cp = c & 0x07;
		else
			return 0;
		if (n - i <= need)
			return 0;
		for (unsigned k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* No control characters (C0, DEL): nothing can end the header line. */
static int
header_ok(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return utf8_ok((const unsigned char *)s, strlen(s));
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
	int rc = -1;

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
	if (!utf8_ok((const unsigned char *)body, strlen(body)))
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
	if (b.oom) {
		err_set(e, "mail: out of memory");
		goto out;
	}
	*out = b.p;
	*len = b.len;
	b.p = NULL;
	rc = 0;
out:
	free(b.p);
	return rc;
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

/* ---- the letters ------------------------------------------------------ */


/* Appends text wrapped at WRAP columns: the first line continues from
 * column col, the next ones start with indent blanks.  Ends with '\n'. */
static void
wrap(struct strbuf *b, const char *text, size_t col, size_t indent)
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

/* "  Label:            value", the value wrapped under itself. */
static void
field(struct strbuf *b, const char *label, const char *value)
{
	size_t n = strlen(label) + 3;

	strbuf_printf(b, "  %s:", label);
	for (; n < 22; n++)
		strbuf_puts(b, " ");
	strbuf_puts(b, " ");
	wrap(b, value && *value ? value : "(not stated)", n + 1, 23);
}

/* Value of key in [section] of the certificate's INI text (the first one),
 * blanks trimmed, into v; NULL when absent. */
static const char *
ini_get(const char *text, const char *section, const char *key, char *v,
    size_t vsz)
{
	size_t sl = strlen(section), kl = strlen(key);
	int in = 0;

	for (const char *p = text; *p;) {
		const char *end = strchr(p, '\n');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		while (n > 0 && (*p == ' ' || *p == '\t'))
			p++, n--;
		if (n > 0 && *p == '[')
			in = n >= sl + 2 && strncmp(p + 1, section, sl) == 0 &&
			    p[sl + 1] == ']';
		else if (in && n > kl && strncmp(p, key, kl) == 0 &&
		    strspn(p + kl, " \t") + kl < n && p[kl + strspn(p + kl,
		    " \t")] == '=') {
			const char *s = p + kl + strspn(p + kl, " \t") + 1;
			size_t m = n - (size_t)(s - p);
			while (m > 0 && (*s == ' ' || *s == '\t'))
				s++, m--;
			while (m > 0 && (s[m - 1] == ' ' || s[m - 1] == '\t' ||
			    s[m - 1] == '\r'))
				m--;
			if (m + 1 > vsz)
				m = vsz - 1;
			memcpy(v, s, m);
			v[m] = '\0';
			return v;
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	return NULL;
}

/* "1234567 bytes (1.2 MiB)" */
static void
bytes_text(const char *v, char *out, size_t sz)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	int64_t n;
	double d;
	int u = -1, r;

	if (v == NULL || num_parse(v, 0, INT64_MAX, &n) != 0) {
		r = snprintf(out, sz, "%s", v ? v : "");
	} else {
		for (d = (double)n; d >= 1024 && u < 4; u++)
			d /= 1024;
		if (u < 0)
			r = snprintf(out, sz, "%s bytes", v);
		else
			r = snprintf(out, sz, "%s bytes (%.1f %s)", v, d, unit[u]);
	}
	if (r < 0 || (size_t)r >= sz)
		out[0] = '\0';
}

/* The sender: [notify] from (default the vendor contact). */
static const char *
mail_from(const struct config *c)
{
	if (c->mail_from && *c->mail_from)
		return c->mail_from;
	return c->vendor_contact;
}

static int
read_cert_file(const char *dir, const char *id, const char *ext, int optional,
    char **data, size_t *len, struct err *e)
{
	char path[4096];
	struct stat st;
	int n = snprintf(path, sizeof(path), "%s/%s%s", dir, id, ext);

	*data = NULL;
	*len = 0;
	if (n < 0 || (size_t)n >= sizeof(path))
		return err_set(e, "%s: certificate path too long", dir);
	if (optional && lstat(path, &st) == -1 && errno == ENOENT)
		return 0;
	return slurp(path, MAX_ATTACHMENT, data, len, e);
}

enum { F_CERT, F_P7S, F_MANIFEST, F_TSR, NFILES };


static void
cert_text(struct strbuf *b, const struct config *c, const char *id,
    const char *cert, int has_manifest, const char *no_manifest, int has_tsr)
{
	char v[1024], w[1200], lea[512], agr[256], vendor[512];
	const char *s;

	if (!ini_get(cert, "agreement", "lea", lea, sizeof(lea)))
		strbuf_fit(lea, sizeof(lea), "%s", "the LEA");
	if (!ini_get(cert, "agreement", "id", agr, sizeof(agr)))
		agr[0] = '\0';
	if (!ini_get(cert, "agreement", "vendor", vendor, sizeof(vendor)))
		strbuf_fit(vendor, sizeof(vendor), "%s",
		    c->vendor_name ? c->vendor_name : "The vendor");

	strbuf_puts(b, "To the privacy officer of ");
	strbuf_fit(w, sizeof(w), "%s,", lea);
	wrap(b, w, 26, 0);
	strbuf_puts(b, "\n");
	strbuf_fit(w, sizeof(w), "%s has destroyed student data it held under the "
	    "data privacy agreement \"%s\". This message is the written "
	    "confirmation of that destruction, with its date and method. The "
	    "signed certificate %s is attached.", vendor, agr, id);
	wrap(b, w, 0, 0);

	strbuf_puts(b, "\nWhat was destroyed\n");
	field(b, "Data categories", ini_get(cert, "data", "categories", v,
	    sizeof(v)));
	field(b, "Files", ini_get(cert, "data", "files", v, sizeof(v)));
	bytes_text(ini_get(cert, "data", "bytes", v, sizeof(v)), w, sizeof(w));
	field(b, "Size", w);
	if (ini_get(cert, "sanitization", "remaining_matches", v, sizeof(v)))
		strbuf_fit(w, sizeof(w), "%s files still matching, searched after "
		    "the destruction", v);
	else
		w[0] = '\0';
	field(b, "Found afterwards", w);
	field(b, "Retained (exempt)", ini_get(cert, "data", "retained", v,
	    sizeof(v)));
	field(b, "Legal holds", ini_get(cert, "data", "holds", v, sizeof(v)));

	strbuf_puts(b, "\nWhen\n");
	{
		char td[64];
		const char *t = ini_get(cert, "agreement", "trigger", v, sizeof(v));
		if (!ini_get(cert, "agreement", "trigger_date", td, sizeof(td)))
			strbuf_fit(td, sizeof(td), "%s", "(date not stated)");
		if (t && strcmp(t, "termination") == 0)
			strbuf_fit(w, sizeof(w), "termination of the service "
			    "agreement on %s", td);
		else if (t && strncmp(t, "directive", 9) == 0)
			strbuf_fit(w, sizeof(w), "the LEA's directive for "
			    "disposition of data%s (NDPA Exhibit D), received %s",
			    t + 9, td);
		else if (t && strcmp(t, "reappeared") == 0)
			strbuf_fit(w, sizeof(w), "data found again after an earlier "
			    "disposition, on %s", td);
		else
			strbuf_fit(w, sizeof(w), "%s (%s)", t ? t : "(not stated)",
			    td);
		field(b, "Reason", w);
	}
	field(b, "Started", ini_get(cert, "sanitization", "started", v,
	    sizeof(v)));
	field(b, "Completed", ini_get(cert, "sanitization", "completed", v,
	    sizeof(v)));
	{
		char met[32];
		const char *d = ini_get(cert, "agreement", "deadline", v,
		    sizeof(v));
		const char *m = ini_get(cert, "agreement", "deadline_met", met,
		    sizeof(met));
		int yes = m && (strcmp(m, "yes") == 0 || strcmp(m, "true") == 0);
		int no = m && (strcmp(m, "no") == 0 || strcmp(m, "false") == 0);
		strbuf_fit(w, sizeof(w), "%s, %s", d ? d : "(not stated)",
		    yes ? "met" : no ? "NOT met" : "(not stated whether met)");
		field(b, "Disposal deadline", w);
	}
	field(b, "Confirmation due", ini_get(cert, "delivery", "certify_by",
	    v, sizeof(v)));

	strbuf_puts(b, "\nHow\n");
	field(b, "Standard", ini_get(cert, "certificate", "standard", v,
	    sizeof(v)));
	field(b, "Method", ini_get(cert, "sanitization", "method_type", v,
	    sizeof(v)));
	field(b, "Technique", ini_get(cert, "sanitization", "technique", v,
	    sizeof(v)));
	field(b, "Details", ini_get(cert, "sanitization", "method_details", v,
	    sizeof(v)));
	field(b, "Verification", ini_get(cert, "sanitization", "verification",
	    v, sizeof(v)));
	if ((s = ini_get(cert, "sanitization", "exceptions", v, sizeof(v))))
		field(b, "Exceptions", s);
	field(b, "Performed by", ini_get(cert, "sanitization", "performed_by",
	    v, sizeof(v)));

	strbuf_puts(b, "\nAttached\n");
	strbuf_printf(b, "  %s.cert\n", id);
	strbuf_puts(b, "      the certificate: the fields above and more, as text\n");
	strbuf_printf(b, "  %s.cert.p7s\n", id);
	strbuf_puts(b, "      the vendor's digital signature over it (CMS, PEM)\n");
	if (has_manifest) {
		strbuf_printf(b, "  %s.manifest\n", id);
		strbuf_puts(b, "      each destroyed file's name, size and SHA-256 "
		    "digest before\n      destruction. It names student "
		    "records: keep it as you keep\n      the data, and give it "
		    "only to your auditor.\n");
	}
	if (has_tsr) {
		strbuf_printf(b, "  %s.cert.tsr\n", id);
		strbuf_puts(b, "      an RFC 3161 time-stamp token over the "
		    "signature\n");
	}
	if (!has_manifest) {
		strbuf_puts(b, "\n");
		wrap(b, no_manifest, 0, 0);
	}

	strbuf_puts(b, "\nHow to verify\n");
	wrap(b, "With the vendor's CA certificate (ca.pem, which the vendor "
	    "gives you once), run in the folder that holds the attachments:",
	    0, 0);
	strbuf_printf(b, "\n  openssl cms -verify -binary -inform PEM \\\n"
	    "    -in %s.cert.p7s -content %s.cert \\\n"
	    "    -CAfile ca.pem -out /dev/null\n\n", id, id);
	wrap(b, "It prints \"CMS Verification successful\" only if the "
	    "certificate is authentic and unchanged. Then", 0, 0);
	strbuf_printf(b, "\n  openssl dgst -sha256 %s.manifest\n\n", id);
	if (!ini_get(cert, "data", "manifest_sha256", v, sizeof(v)))
		strbuf_fit(v, sizeof(v), "%s", "(not stated)");
	strbuf_puts(b, "must show the manifest_sha256 of the certificate:\n");
	strbuf_printf(b, "  %s\n\n", v);
	strbuf_fit(w, sizeof(w), "Questions about this destruction: %s. Please "
	    "keep this message and its attachments; they are the record of "
	    "the destruction.", c->vendor_contact ? c->vendor_contact :
	    mail_from(c));
	wrap(b, w, 0, 0);
}

int
mime_cert_message(const struct config *c, struct cert_mail *cm, char **out,
    size_t *len, struct err *e)
{
	const char *id = cm->id, *to = cm->to;
	static const char *const ext[NFILES] = { ".cert", ".cert.p7s",
	    ".manifest", ".cert.tsr" };
	static const char *const ctype[NFILES] = {
	    "text/plain; charset=utf-8", "application/pkcs7-signature",
	    "text/tab-separated-values; charset=utf-8",
	    "application/timestamp-reply" };
	char dir[4096], names[NFILES][300], lea[512], subject[900];
	char *data[NFILES] = { 0 };
	size_t dlen[NFILES] = { 0 }, natt = 0;
	struct mail_attachment att[NFILES];
	struct mail m = { 0 };
	struct strbuf body = { 0 };
	int rc = -1, n;

	*out = NULL;
	*len = 0;
	if (!deliver_id_ok(id))
		return err_set(e, "certificate id '%s' is not valid", id);
	n = snprintf(dir, sizeof(dir), "%s/certificates", c->state_dir);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return err_set(e, "%s: path too long", c->state_dir);
	cm->with_manifest = 0;
	for (int i = 0; i < NFILES; i++) {
		/* a re-send after the manifest went may go without it */
		int optional = i == F_TSR || (i == F_MANIFEST &&
		    cm->no_manifest != NULL);
		if (read_cert_file(dir, id, ext[i], optional, &data[i],
		    &dlen[i], e) != 0)
			goto out;
		if (data[i] == NULL)
			continue;
		n = snprintf(names[i], sizeof(names[i]), "%s%s", id, ext[i]);
		if (n < 0 || (size_t)n >= sizeof(names[i])) {
			err_set(e, "certificate %s: name too long", id);
			goto out;
		}
		att[natt].filename = names[i];
		att[natt].ctype = ctype[i];
		att[natt].data = data[i];
		att[natt].len = dlen[i];
		natt++;
	}
	if (data[F_MANIFEST] != NULL) {
		char want[80], got[65];
		cert_sha256_hex(data[F_MANIFEST], dlen[F_MANIFEST], got);
		if (!ini_get(data[F_CERT], "data", "manifest_sha256", want,
		    sizeof(want)) || strcmp(want, got) != 0) {
			err_set(e, "%s/%s.manifest: its SHA-256 is not the "
			    "certificate's manifest_sha256: it was changed after "
			    "the certificate was issued", dir, id);
			goto out;
		}
		cm->with_manifest = 1;
	}
	if (!ini_get(data[F_CERT], "agreement", "lea", lea, sizeof(lea)))
		strbuf_fit(lea, sizeof(lea), "%s", "LEA not stated");
	n = snprintf(subject, sizeof(subject), "Certificate of data "
	    "destruction %s \xe2\x80\x94 %s", id, lea);
	if (n < 0 || (size_t)n >= sizeof(subject)) {
		err_set(e, "certificate %s: subject too long", id);
		goto out;
	}
	cert_text(&body, c, id, data[F_CERT], data[F_MANIFEST] != NULL,
	    cm->no_manifest, data[F_TSR] != NULL);
	if (body.oom) {
		err_set(e, "certificate %s: out of memory", id);
		goto out;
	}
	m.from = mail_from(c);
	m.from_name = c->vendor_name;
	m.reply_to = c->vendor_contact;
	m.to = to;
	m.subject = subject;
	m.body = body.p;
	m.host = c->host;
	m.tag = id;
	m.att = att;
	m.natt = natt;
	if (m.from == NULL) {
		err_set(e, "certificate %s: no sender: set [notify] from or "
		    "[vendor] contact", id);
		goto out;
	}
	if (mime_build(&m, out, len, e) != 0) {
		char why[sizeof(e->msg)];
		strbuf_fit(why, sizeof(why), "%s", e->msg);
		err_set(e, "certificate %s: %s", id, why);
		goto out;
	}
	rc = 0;
out:
	for (int i = 0; i < NFILES; i++)
		free(data[i]);
	free(body.p);
	return rc;
}

int
mime_notice_message(const struct config *c, const struct notice *nt,
    char **out, size_t *len, struct err *e)
{
	struct strbuf b = { 0 };
	struct mail m = { 0 };
	char subject[900], w[2048];
	const char *vendor = c->vendor_name ? c->vendor_name : "The vendor";
	const char *contact = c->vendor_contact ? c->vendor_contact :
	    mail_from(c);
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

	strbuf_puts(&b, "To the privacy officer of ");
	strbuf_fit(w, sizeof(w), "%s,", nt->lea ? nt->lea : "the LEA");
	wrap(&b, w, 26, 0);
	strbuf_puts(&b, "\n");
	strbuf_fit(w, sizeof(w), "This is the prior notice that the data "
	    "privacy agreement gives you (NDPA Article IV.6): the service "
	    "agreement ended on %s, and %s plans to dispose of the student "
	    "data it holds under the agreement \"%s\" on or after the date "
	    "below.", nt->terminated, vendor, nt->agreement);
	wrap(&b, w, 0, 0);
	strbuf_puts(&b, "\n");
	strbuf_fit(w, sizeof(w), "This notice is for the termination on %s "
	    "only. Should that date be corrected, you will receive a new "
	    "notice, and nothing is disposed of on the strength of this one.",
	    nt->terminated);
	wrap(&b, w, 0, 0);
	strbuf_puts(&b, "\n");
	field(&b, "Agreement", nt->agreement);
	field(&b, "LEA", nt->lea);
	field(&b, "Service ended", nt->terminated);
	field(&b, "Planned disposal", nt->disposal);
	field(&b, "Disposal deadline", nt->deadline);
	field(&b, "Data categories", nt->categories);
	strbuf_fit(w, sizeof(w), "%zu", nt->ndatasets);
	field(&b, "Datasets", w);
	if (nt->retained && *nt->retained)
		field(&b, "Retained (exempt)", nt->retained);
	strbuf_puts(&b, "\n");
	wrap(&b, "The data will be destroyed as NIST SP 800-88 describes, and a "
	    "signed certificate of destruction, with its date and method, will "
	    "be mailed to this address.", 0, 0);
	strbuf_puts(&b, "\n");
	strbuf_fit(w, sizeof(w), "How to respond, before %s:", nt->disposal);
	wrap(&b, w, 0, 0);
	strbuf_puts(&b, "  - ");
	wrap(&b, "To have the data transferred to you instead of destroyed, "
	    "send a Directive for Disposition of Data (NDPA Exhibit D) asking "
	    "for a transfer.", 4, 4);
	strbuf_puts(&b, "  - ");
	wrap(&b, "If any of the data is subject to a legal hold or other legal "
	    "process, tell us: nothing under a hold is destroyed.", 4, 4);
	strbuf_puts(&b, "  - ");
	strbuf_fit(w, sizeof(w), "For questions, reply to this message or "
	    "write to %s, quoting the agreement \"%s\".", contact ? contact :
	    "the vendor", nt->agreement);
	wrap(&b, w, 4, 4);
	strbuf_puts(&b, "\n");
	wrap(&b, "Without an answer, the disposal goes ahead as planned.", 0, 0);
	if (b.oom) {
		err_set(e, "notice for %s: out of memory", nt->agreement);
		goto out;
	}
	m.from = mail_from(c);
	m.from_name = c->vendor_name;
	m.reply_to = c->vendor_contact;
	m.to = nt->to;
	m.subject = subject;
	m.body = b.p;
	m.host = c->host;
	m.tag = nt->agreement;
	if (m.from == NULL) {
		err_set(e, "notice for %s: no sender: set [notify] from or "
		    "[vendor] contact", nt->agreement);
		goto out;
	}
	if (mime_build(&m, out, len, e) != 0) {
		char why[sizeof(e->msg)];
		strbuf_fit(why, sizeof(why), "%s", e->msg);
		err_set(e, "notice for %s: %s", nt->agreement, why);
		goto out;
	}
	rc = 0;
out:
	free(b.p);
	return rc;
}
