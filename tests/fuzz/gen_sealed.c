/*
 * gen_sealed.c: writes the sealed-stream seeds of tests/fuzz/corpus/unseal
 * through the real seal API, under fuzz_unseal's constant test DEK:
 *     build/fuzz/gen_sealed OUTDIR
 * Each seed is one mode byte (0: raw stream) followed by the stream.  Not
 * a fuzz target; built by `make -f Makefile -f tests/fuzz/fuzz.mk
 * build/fuzz/gen_sealed`.
 */
#include "base/err.h"
#include "keys/seal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The same bytes as test_dek in fuzz_unseal.c. */
static const unsigned char test_dek[DEK_LEN] = {
	0x6c, 0x65, 0x74, 0x68, 0x65, 0x2d, 0x66, 0x75, 0x7a, 0x7a, 0x2d, 0x74,
	0x65, 0x73, 0x74, 0x2d, 0x64, 0x65, 0x6b, 0x2d, 0x6e, 0x6f, 0x74, 0x2d,
	0x61, 0x2d, 0x73, 0x65, 0x63, 0x72, 0x65, 0x74,
};

static int
gen(const char *dir, const char *name, const char *id, size_t n)
{
	char path[4096];
	struct dek k;
	struct err e;
	unsigned char mode = 0;
	int in = memfd_create("plain", MFD_CLOEXEC), out;

	if (in == -1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)("student record "[i % 15]);
		if (write(in, &c, 1) != 1)
			return -1;
	}
	if (lseek(in, 0, SEEK_SET) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out == -1 || write(out, &mode, 1) != 1)
		return -1;
	memcpy(k.key, test_dek, DEK_LEN);
	snprintf(k.id, sizeof(k.id), "%s", id);
	if (seal_stream(in, out, &k, NULL, NULL, &e) != 0) {
		fprintf(stderr, "%s: %s\n", name, e.msg);
		return -1;
	}
	close(in);
	return close(out);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_sealed OUTDIR\n");
		return 2;
	}
	if (gen(argv[1], "sealed-empty", "osde-2024/assessment/1", 0) != 0 ||
	    gen(argv[1], "sealed-small", "osde-2024/attendance/2", 100) != 0 ||
	    gen(argv[1], "sealed-one-chunk", "k", 65535) != 0 ||
	    gen(argv[1], "sealed-two-chunks", "osde-2024/assessment/1",
	    65536) != 0 ||
	    gen(argv[1], "sealed-unknown-key", "x-unknown/1", 10) != 0) {
		perror("gen_sealed");
		return 1;
	}
	return 0;
}
