/* fdio.c: whole reads and writes on a descriptor (see fdio.h). */
#include "base/fdio.h"

#include <errno.h>
#include <unistd.h>

ssize_t
fdio_pread_full(int fd, void *buf, size_t n, off_t off, size_t *got)
{
	size_t have = 0;

	while (have < n) {
		ssize_t r = pread(fd, (char *)buf + have, n - have,
		    off + (off_t)have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			if (got != NULL)
				*got = have;
			return -1;
		}
		if (r == 0)
			break;
		have += (size_t)r;
	}
	if (got != NULL)
		*got = have;
	return (ssize_t)have;
}

/* write (off < 0) or pwrite at off, all of it. */
static int
put_all(int fd, const void *buf, size_t n, off_t off)
{
	size_t put = 0;

	while (put < n) {
		ssize_t w = off < 0 ? write(fd, (const char *)buf + put, n - put) :
		    pwrite(fd, (const char *)buf + put, n - put, off + (off_t)put);
		if (w < 0 && errno == EINTR)
			continue;
		if (w == 0)
			errno = EIO;	/* no progress: never spin */
		if (w <= 0)
			return -1;
		put += (size_t)w;
	}
	return 0;
}

int
fdio_write_all(int fd, const void *buf, size_t n)
{
	return put_all(fd, buf, n, -1);
}

int
fdio_pwrite_all(int fd, const void *buf, size_t n, off_t off)
{
	return off < 0 ? (errno = EINVAL, -1) : put_all(fd, buf, n, off);
}
