/*
 * fdio.h: whole reads and writes on a descriptor.  read(2) and write(2)
 * may do less than asked (a signal, a pipe, a full disk), so every caller
 * that needs all of it loops; this is that loop, written once: EINTR is
 * retried, a short count continues, and no call spins without progress.
 */
#ifndef LETHE_FDIO_H
#define LETHE_FDIO_H

#include <stddef.h>
#include <sys/types.h>

/* Reads n bytes at offset off (pread) until all are read or the file
 * ends.  Returns the count (below n only at the end of the file), or -1
 * with errno set; *got (may be NULL) then holds the bytes read before
 * the failing call. */
ssize_t fdio_pread_full(int fd, void *buf, size_t n, off_t off, size_t *got);
/* Writes all n bytes at the file position (write).  Returns 0, or -1
 * with errno set (EIO when a write makes no progress). */
int fdio_write_all(int fd, const void *buf, size_t n);
/* Writes all n bytes at offset off (pwrite).  The same returns. */
int fdio_pwrite_all(int fd, const void *buf, size_t n, off_t off);

#endif
