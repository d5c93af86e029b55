/*
 * textlist.h: a ", "-separated list written into a fixed certificate
 * buffer, where what does not fit is counted and said ("..., and 3 more
 * holds (listed in the journal)"), never cut silently (SPEC §8: a
 * certificate's holds, its journal acceptances).
 */
#ifndef LETHE_TEXTLIST_H
#define LETHE_TEXTLIST_H

#include <stddef.h>

struct textlist {
	char *buf;
	size_t len;	/* of buf; more than TEXTLIST_ROOM */
	size_t off;	/* bytes of buf used */
	size_t left;	/* items that did not fit */
};

/* Bytes kept free for textlist_end's count. */
#define TEXTLIST_ROOM 64

/* Starts the list in buf (len bytes), which reads `empty` until an item
 * is added. */
void textlist_init(struct textlist *l, char *buf, size_t len,
    const char *empty);
/* Appends one item (", " before all but the first).  Once one item does
 * not fit, it and every later one are only counted. */
void textlist_add(struct textlist *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Ends the list: when items were left out, appends "N more NOUN(s)
 * (listed in the journal)" (after ", and " when something is listed). */
void textlist_end(struct textlist *l, const char *noun);

#endif
