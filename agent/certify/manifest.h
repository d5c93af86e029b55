/*
 * manifest.h: the manifest beside a certificate (SPEC §8;
 * lethe-certificate(5)): one row per destroyed name, TSV
 *     path<TAB>size<TAB>sha256
 * after the header line CERT_MANIFEST_HEADER.  In a path, '\\', tab,
 * newline and other control bytes are written as "\\\\", "\\t", "\\n" and
 * "\\xHH".  The digest column is 64 lowercase hex digits of the content
 * before destruction; "-" for a name with no content of its own (a
 * symlink, a special file, a further hard link of an inode listed above);
 * or "unavailable" where the digest was lost (a run killed mid-overwrite,
 * a file that changed while it was overwritten).  Never a guess.
 *
 * It names students' files: it is cleansed when freed and written 0600.
 */
#ifndef LETHE_MANIFEST_H
#define LETHE_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

struct cert;
struct err;

#define CERT_MANIFEST_HEADER "path\tsize\tsha256\n"

struct cert_manifest {
	char *text;
	size_t len, cap;
	uint64_t files, bytes;
};

/* Starts a manifest with its header.  Returns 0, or -1 with *e set. */
int cert_manifest_init(struct cert_manifest *m, struct err *e);
/* Adds a row (the path escaped as above); sha256 is a digest column as
 * above.  Returns 0, or -1 with *e set. */
int cert_manifest_add(struct cert_manifest *m, const char *path,
    uint64_t size, const char *sha256, struct err *e);
/* Cleanses and frees m's text; m is then empty. */
void cert_manifest_free(struct cert_manifest *m);

/* Reads manifest bytes: the header is right and every row well-formed
 * (three columns, a bounded size, a digest column as above, a final
 * newline).  Counts the rows into *files and sums their sizes into
 * *bytes.  Returns 0, or -1 with *e naming the first bad row. */
int cert_manifest_totals(const char *text, size_t len, uint64_t *files,
    uint64_t *bytes, struct err *e);
/* Checks manifest bytes against the certificate: SHA-256 equals
 * manifest_sha256, cert_manifest_totals accepts it, there are `files`
 * rows and their sizes sum to `bytes`.  Returns 0, or -1 with *e set. */
int cert_manifest_check(const struct cert *c, const char *text, size_t len,
    struct err *e);

#endif
