/*
 * transfer_int.h: what transfer.c (packing) and transfer_check.c (reading
 * back) share: the manifest's format and the digest chain both sides of
 * the check build.  Not for other modules: transfer.h is the contract.
 */
#ifndef LETHE_TRANSFER_INT_H
#define LETHE_TRANSFER_INT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

struct strbuf;

/* Bytes per read and write of file data. */
#define TR_IOBUF (1024 * 1024)

/* Appends one manifest line as sha256sum writes it: a name holding '\\'
 * or '\n' gets them escaped and the line a leading '\\'.  An allocation
 * failure shows in t->oom. */
void tr_manifest_line(struct strbuf *t, const unsigned char sha[32],
    const char *path);
/* Adds one member (its path, len bytes, and content digest) to the
 * order-sensitive chain both sides of the check build. */
void tr_chain_add(EVP_MD_CTX *chain, const char *path, size_t len,
    const unsigned char sha[32]);
/* Adds every line of the manifest text m (len bytes) to chain, counting
 * them into *n.  0, or -1 when a line is malformed. */
int tr_chain_manifest(EVP_MD_CTX *chain, const char *m, size_t len,
    uint64_t *n);

#endif
