/*
 * fdio.h: whole reads and writes on a descriptor: a short count is
 * continued and EINTR retried, so a caller never mistakes a partial
 * transfer for the end of its data.
 */
#ifndef LETHE_FDIO_H
#define LETHE_FDIO_H

#include <stddef.h>
#include <sys/types.h>

/* Reads until n bytes are in buf or the file ends.  Returns the count (n,
 * or less at end of file), or -1 with errno set. */
ssize_t fdio_read_full(int fd, void *buf, size_t n);
/* The same from offset off (pread: the file offset does not move). */
ssize_t fdio_pread_full(int fd, void *buf, size_t n, off_t off);
/* Writes all n bytes of buf.  Returns 0, or -1 with errno set (some bytes
 * may have been written). */
int fdio_write_full(int fd, const void *buf, size_t n);

#endif
