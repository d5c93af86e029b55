/*
 * owtool.c: a test-only driver of the sanitization engine (locate.c,
 * overwrite.c, media.c), so the forensic tests and benchmarks can prove
 * the engine on loop images without the rest of `lethe run`.
 *
 *   owtool destroy [-r] [-s] ROOT GLOB   locate, overwrite, remove names,
 *                                        remove emptied dirs, purge journal
 *   owtool file [-r] [-s] DIR NAME       overwrite + remove one file
 *   owtool locate [-n] ROOT GLOB         print matches (kind, rel); -n:
 *                                        LOCATE_NOSTAT
 *   owtool probe DIR                     print media facts
 *   owtool purge DIR                     purge the filesystem journal
 *
 * -r: pattern random; -s: sample verification; -t: print the time (s)
 * at which each stage ended on stderr.  Exit 0 all done, 1 any
 * failure (each printed on stderr), 2 usage.
 */
#include "base/err.h"
#include "locate/locate.h"
#include "locate/media.h"
#include "sanitize/overwrite.h"
#include "conf/policy.h"
#include "locate/resolve.h"

#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct timespec t0;

static double
since(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0.tv_sec) +
	    (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
}

/* -t: stage times on stderr, for bench/overwrite.sh. */
static void
phase(int ph, void *arg)
{
	(void)arg;
	fprintf(stderr, "%s %.3f\n", ph == OW_PHASE_WRITTEN ? "written" :
	    "verified", since());
}

static int
usage(void)
{
	fprintf(stderr, "usage: owtool destroy|file|locate|probe|purge ...\n");
	return 2;
}

static int
purge(int fd)
{
	struct media m;
	struct err e = { "" };
	char detail[512];
	int rc;

	if (media_probe(fd, &m, &e) == -1) {
		fprintf(stderr, "owtool: %s\n", e.msg);
		return 1;
	}
	rc = media_purge_journal(fd, &m, detail, sizeof(detail), &e);
	printf("journal: %s\n", detail);
	if (rc == -1)
		fprintf(stderr, "owtool: %s\n", e.msg);
	return rc == -1;
}

/* Removes the now-empty directories on the way from rel's parent up to
 * (not including) the glob's literal prefix depth `keep`. */
static void
prune(const struct rootdir *r, const char *rel, size_t keep)
{
	char dir[4096];
	struct err e = { "" };

	snprintf(dir, sizeof(dir), "%s", rel);
	for (;;) {
		char *slash = strrchr(dir, '/');
		size_t depth = 0;
		const char *base;
		int dfd;

		if (slash == NULL)
			return;
		*slash = '\0';
		for (char *p = dir; *p; p++)
			depth += *p == '/';
		if (depth + 1 <= keep)
			return;
		dfd = resolve_parent(r, dir, &base, &e);
		if (dfd == -1)
			return;
		int rc = ow_rmdir_if_empty(dfd, base, dir, &e);
		close(dfd);
		if (rc != 1)
			return;
	}
}

static int
destroy(const char *root, const char *glob, struct ow_opts *o, size_t keep)
{
	const char *roots[1] = { root };
	struct foundlist l = { 0 };
	struct rootdir r;
	struct err e = { "" };
	int failed = 0;
	uint64_t bytes = 0, files = 0, names = 0;

	if (locate(roots, 1, glob, &l, &e) == -1 ||
	    resolve_root(root, &r, &e) == -1) {
		fprintf(stderr, "owtool: %s\n", e.msg);
		foundlist_free(&l);
		return 1;
	}
	foundlist_sort(&l);
	for (size_t i = 0; i < l.n; i++) {
		const struct found *f = &l.v[i];
		struct ow_result res;
		const char *base;
		int dfd = resolve_parent(&r, f->rel, &base, &e), rc;

		if (dfd == -1) {
			fprintf(stderr, "owtool: %s\n", e.msg);
			failed = 1;
			continue;
		}
		o->dev = f->dev;
		o->ino = f->ino;
		o->links_ok = f->nlink > 1 &&
		    foundlist_links(&l, f->dev, f->ino) >= f->nlink ?
		    f->nlink : 1;
		if (f->kind == FOUND_FILE) {
			rc = ow_file(dfd, base, f->rel, o, &res, &e);
			if (rc == 0) {
				files++;
				bytes += res.size;
			}
		} else {
			rc = ow_unlink_name(dfd, base, f->rel, o, &e);
			if (rc == 0)
				names++;
		}
		close(dfd);
		if (rc == -1) {
			fprintf(stderr, "owtool: %s\n", e.msg);
			failed = 1;
		} else
			prune(&r, f->rel, keep);
	}
	printf("files %llu bytes %llu names %llu mounts-skipped %zu\n",
	    (unsigned long long)files, (unsigned long long)bytes,
	    (unsigned long long)names, l.skipped_mounts);
	failed |= purge(r.fd);
	resolve_root_close(&r);
	foundlist_free(&l);
	return failed;
}

int
main(int argc, char **argv)
{
	struct ow_opts o = { .pattern = PATTERN_ZERO, .verify = VERIFY_FULL,
	    .links_ok = 1 };
	struct err e = { "" };
	const char *cmd;
	int ch, lflags = 0;

	if (argc < 2)
		return usage();
	cmd = argv[1];
	optind = 2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((ch = getopt(argc, argv, "nrst")) != -1) {
		if (ch == 'n')
			lflags |= LOCATE_NOSTAT;
		else if (ch == 't')
			o.phase = phase;
		else if (ch == 'r')
			o.pattern = PATTERN_RANDOM;
		else if (ch == 's')
			o.verify = VERIFY_SAMPLE;
		else
			return usage();
	}
	argc -= optind;
	argv += optind;
	if (strcmp(cmd, "destroy") == 0 && argc == 2) {
		/* Directories down to the glob's first wildcard are kept. */
		const char *rel = argv[1] + strlen(argv[0]);
		size_t keep = 0;
		while (*rel == '/')
			rel++;
		for (const char *p = rel; *p && !strchr("*?[", *p); p++)
			keep += *p == '/';
		return destroy(argv[0], argv[1], &o, keep);
	}
	if (strcmp(cmd, "file") == 0 && argc == 2) {
		struct ow_result r;
		int dfd = open(argv[0], O_RDONLY | O_DIRECTORY), rc;
		if (dfd == -1) {
			perror(argv[0]);
			return 1;
		}
		rc = ow_file(dfd, argv[1], argv[1], &o, &r, &e);
		close(dfd);
		if (o.phase != NULL)
			fprintf(stderr, "removed %.3f\n", since());
		if (rc == -1) {
			fprintf(stderr, "owtool: %s\n", e.msg);
			return 1;
		}
		printf("size %llu verified %llu renamed %d\n",
		    (unsigned long long)r.size,
		    (unsigned long long)r.verified, r.renamed);
		return 0;
	}
	if (strcmp(cmd, "locate") == 0 && argc == 2) {
		const char *roots[1] = { argv[0] };
		struct foundlist l = { 0 };
		static const char *kinds[] = { "file", "symlink", "other" };
		if (locate_ex(roots, 1, argv[1], lflags, &l, &e) == -1) {
			fprintf(stderr, "owtool: %s\n", e.msg);
			return 1;
		}
		for (size_t i = 0; i < l.n; i++)
			printf("%s\t%s\n", kinds[l.v[i].kind], l.v[i].rel);
		foundlist_free(&l);
		return 0;
	}
	if ((strcmp(cmd, "probe") == 0 || strcmp(cmd, "purge") == 0) &&
	    argc == 1) {
		struct media m;
		int fd = open(argv[0], O_RDONLY | O_DIRECTORY), rc = 0;
		if (fd == -1) {
			perror(argv[0]);
			return 1;
		}
		if (strcmp(cmd, "purge") == 0)
			rc = purge(fd);
		else if (media_probe(fd, &m, &e) == -1) {
			fprintf(stderr, "owtool: %s\n", e.msg);
			rc = 1;
		} else
			printf("type %s\nuuid %s\ndevice %s\nmodel %s\nserial %s\n"
			    "rotational %d\nrefusal %s\n", m.fstype, m.uuid,
			    m.device, m.model, m.serial, m.rotational,
			    media_overwrite_refusal(m.fstype) ?
			    media_overwrite_refusal(m.fstype) : "none");
		close(fd);
		return rc;
	}
	return usage();
}
