/* textlist.c: a bounded list that says what it left out (see textlist.h). */
#include "certify/textlist.h"

#include <stdarg.h>
#include <stdio.h>

void
textlist_init(struct textlist *l, char *buf, size_t len, const char *empty)
{
	l->buf = buf;
	l->len = len;
	l->off = l->left = 0;
	snprintf(buf, len, "%s", empty);
}

void
textlist_add(struct textlist *l, const char *fmt, ...)
{
	size_t room = l->len - l->off - TEXTLIST_ROOM;
	va_list ap;
	int w, k = -1;

	if (l->left > 0) {
		l->left++;
		return;
	}
	w = l->off ? snprintf(l->buf + l->off, room, ", ") : 0;
	if (w >= 0 && (size_t)w < room) {
		va_start(ap, fmt);
		k = vsnprintf(l->buf + l->off + (size_t)w, room - (size_t)w,
		    fmt, ap);
		va_end(ap);
	}
	if (k < 0 || (size_t)w + (size_t)k >= room) {
		l->buf[l->off] = '\0';
		l->left = 1;
		return;
	}
	l->off += (size_t)w + (size_t)k;
}

void
textlist_end(struct textlist *l, const char *noun)
{
	if (l->left > 0)
		snprintf(l->buf + l->off, l->len - l->off, "%s%zu more %s%s "
		    "(listed in the journal)", l->off ? ", and " : "", l->left,
		    noun, l->left == 1 ? "" : "s");
}
