/*
 * fuzz_util.h: small helpers shared by the libFuzzer targets in
 * tests/fuzz/ (built by tests/fuzz/fuzz.mk, run by tests/fuzz/smoke.sh).
 *
 * Each target gets one private scratch directory per process (under
 * /dev/shm when it exists, so the per-input file writes stay cheap), made
 * on first use and removed at exit.  FZ_CHECK turns a broken invariant
 * into an abort, which libFuzzer reports as a crash and saves.
 */
#ifndef LETHE_FUZZ_UTIL_H
#define LETHE_FUZZ_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A broken invariant: say which, and crash so libFuzzer keeps the input. */
#define FZ_CHECK(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s: ",	\
		    __FILE__, __LINE__, #cond);				\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

/* The harness itself cannot go on (no temp dir, disk full): not a
 * finding about lethe, but nothing after it would mean anything. */
#define FZ_SETUP(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: fuzz setup failed: %s: %s\n",	\
		    __FILE__, __LINE__, #cond, strerror(errno));	\
		_exit(2);						\
	}								\
} while (0)

static char fz_dir_[64] __attribute__((unused));

static inline int
fz_rm_(const char *p, const struct stat *sb, int type, struct FTW *f)
{
	(void)sb;
	(void)type;
	(void)f;
	return remove(p) == 0 || errno == ENOENT ? 0 : -1;
}

static inline void
fz_cleanup_(void)
{
	if (fz_dir_[0] != '\0')
		(void)nftw(fz_dir_, fz_rm_, 16, FTW_DEPTH | FTW_PHYS);
}

/* This process's scratch directory (created once). */
static inline const char *
fz_dir(void)
{
	struct stat st;

	if (fz_dir_[0] != '\0')
		return fz_dir_;
	/* As root, lethe's StrictModes refuse a config below a directory
	 * others can write (/dev/shm, /tmp): then a root-owned base, as the
	 * tests use (testutil.h). */
	if (geteuid() == 0) {
		const char *base = getenv("LETHE_TEST_BASE");

		if (base == NULL || *base == '\0')
			base = "/var/lib/lethe-tests";
		FZ_SETUP(mkdir(base, 0755) == 0 || errno == EEXIST);
		snprintf(fz_dir_, sizeof(fz_dir_), "%s/lethe-fuzz.XXXXXX",
		    base);
	} else
		snprintf(fz_dir_, sizeof(fz_dir_), "%s/lethe-fuzz.XXXXXX",
		    stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
		    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	FZ_SETUP(mkdtemp(fz_dir_) != NULL);
	atexit(fz_cleanup_);
	return fz_dir_;
}

/* fz_dir()/name into buf (at least 4096 bytes). */
static inline char *
fz_path(char *buf, const char *name)
{
	int n = snprintf(buf, 4096, "%s/%s", fz_dir(), name);

	FZ_SETUP(n > 0 && n < 4096);
	return buf;
}

/* Replaces path's content with data[0..size), mode 0600. */
static inline void
fz_write(const char *path, const void *data, size_t size)
{
	const unsigned char *p = data;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	FZ_SETUP(fd != -1);
	while (size > 0) {
		ssize_t w = write(fd, p, size);

		if (w < 0 && errno == EINTR)
			continue;
		FZ_SETUP(w > 0);
		p += w;
		size -= (size_t)w;
	}
	FZ_SETUP(close(fd) == 0);
}

/* A NUL-terminated copy of the input (free it). */
static inline char *
fz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	FZ_SETUP(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Whether msg begins with "FILE:" (a diagnostic that names its file). */
static inline int
fz_names_file(const char *msg, const char *file)
{
	size_t n = strlen(file);

	return strncmp(msg, file, n) == 0 && msg[n] == ':';
}

#endif
