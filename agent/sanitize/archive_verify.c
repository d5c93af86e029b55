/*
 * archive_verify.c: pass 3 over a rewritten tar or cpio archive
 * (archive_int.h).
 *
 * The new file is read back from the disk, not the page cache, by the
 * same pair of readers as pass 1, and must give: the same compression
 * (and as many gzip members, each with a matching checksum), exactly the
 * decompressed bytes pass 2 wrote, a stream the walker accepts whole, and
 * member by member the kept members of the old archive: names, kinds,
 * permissions, times, sizes and content digests (the digest chain of
 * pass 1), with each materialized hard link holding its target's content.
 */
#include "sanitize/archive_int.h"

#include "base/err.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

static int
mat_ok(const struct mat *m, struct archive_entry *ent, char kind, uint64_t n,
    const unsigned char *sha)
{
	const char *path = archive_entry_pathname(ent);
	const char *link = archive_entry_hardlink(ent);

	if (path == NULL || strcmp(path, m->self) != 0)
		return 0;
	if (m->relink != NULL)
		return kind == 'h' && link != NULL &&
		    strcmp(link, m->relink) == 0;
	return kind == 'f' && n == m->size && memcmp(sha, m->sha, 32) == 0;
}

int
verify_stream(int fd, uint64_t size, const struct aplan *p,
    const unsigned char emitted[32], struct actx *c)
{
	struct freader f;
	struct archive_entry *ent;
	struct unit u;
	struct digests d = { 0 };
	unsigned char sha[32], got[32], stream[32];
	uint64_t count = 0;
	size_t mi = 0, ngz = 0;
	int rc = -1, r;
	const char *why = NULL;

	memset(&f, 0, sizeof(f));
	if (digests_open(&d, c) != 0)
		goto out;
	/* Read what the disk holds, not the page cache. */
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	if (fr_open(&f, fd, size, DS_HASH | DS_CHECK, c) != 0)
		goto back;
	for (uint64_t i = 0; (r = fr_next(&f, &ent, &u, i, c)) != 0; i++) {
		uint64_t n = 0;
		char kind = entry_kind(ent);
		const char *link = archive_entry_hardlink(ent);
		if (r < 0)
			goto back;
		if (member_sha(&d, f.rd, 1, sparse_end(ent), &n, sha, c, i) != 0) {
			fr_explain(&f, c);
			goto back;
		}
		if (mi < p->nmat && p->mat[mi].new_idx == i) {
			if (!mat_ok(&p->mat[mi++], ent, kind, n, sha)) {
				why = "a kept hard link written as a file "
				    "differs";
				goto back;
			}
		} else
			chain_add(d.chain, ent, kind, kind == 'l' ?
			    archive_entry_symlink(ent) : link, n,
			    kind == 'f' || n > 0 ? sha : NULL);
		count++;
	}
	if (fr_finish(&f, stream, c) != 0)
		goto back;
	EVP_DigestFinal_ex(d.chain, got, NULL);
	if (f.ds.gz != NULL)
		(void)gz_members(f.ds.gz, &ngz);
	if (f.ds.filter != p->filter)
		why = "its compression differs";
	else if (ngz != (p->ngzm ? p->ngzm : ngz))
		why = "its gzip members differ";
	else if (memcmp(stream, emitted, 32) != 0)
		why = "its bytes differ from those written";
	else
		why = readback_members(p, count == p->kept && mi == p->nmat,
		    got);
	if (why == NULL) {
		rc = 0;
		goto out;
	}
back:
	/* The detail of a failure inside the readers is in c->e already. */
	readback_fail(c, why);
out:
	fr_close(&f);
	digests_close(&d);
	return rc;
}
