/*
 * cert_int.h: the certificate's field table, shared by cert.c (the
 * checks) and cert_text.c (writing and reading the text).  Internal to
 * certify/: everything else uses cert.h.
 */
#ifndef LETHE_CERT_INT_H
#define LETHE_CERT_INT_H

#include <stddef.h>

enum ftype { F_STR, F_HEX, F_TIME, F_DATE, F_U64, F_BOOL };

/* One key of a section, and where its value lives in a struct cert (or,
 * for [media], in a struct cert_media). */
struct cert_field {
	const char *sec;
	const char *key;
	enum ftype type;
	size_t off;
	int optional;	/* absent in certificates issued before it existed */
};

#define CERT_NFIELDS 35		/* in the order they are written */
#define CERT_MEDIA_BEFORE 16	/* index of the first field after [media] */
#define CERT_NMFIELDS 7		/* of each [media] section */
extern const struct cert_field cert_fields[CERT_NFIELDS];
extern const struct cert_field cert_mfields[CERT_NMFIELDS];

/* The field f of the struct at base, as an lvalue of type. */
#define AT(base, f, type) (*(type *)((char *)(base) + (f)->off))
#define CAT(base, f, type) (*(const type *)((const char *)(base) + (f)->off))

/* Whether field f of the struct at base is set (see cert_init). */
int cert_field_present(const void *base, const struct cert_field *f);

#endif
