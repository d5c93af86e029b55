/*
 * sendmail.c: handing one message to the configured sendmail(8) command
 * (see sendmail.h).
 *
 * MUST rules:
 *  - sendmail runs through spawn.h, never through a shell; its arguments
 *    are the configured words (spawn_parse), then "-i -f FROM -- TO";
 *  - it gets the message on its standard input and only its three
 *    descriptors, in its own process group;
 *  - an attempt that does not end within the time limit is killed (its
 *    whole process group: TERM, then KILL, spawn.h) and counts as failed.
 */
#include "deliver/sendmail.h"
#include "base/err.h"
#include "base/spawn.h"
#include "base/strbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARGS	32

int
sendmail_run(const char *cmd, const char *from, const char *to, int msgfd,
    int timeout_s, char *detail, size_t dsz)
{
	char **words = NULL, *argv[MAX_ARGS + 6], how[256];
	struct spawn_io io;
	struct err e;
	size_t argc = 0;
	int ok = 0;

	if (cmd == NULL || spawn_parse(cmd, "sendmail", &words, &e) != 0) {
		strbuf_fit(detail, dsz, "%s", cmd ? e.msg : "no sendmail "
		    "command");
		return 0;
	}
	for (; words[argc] != NULL; argc++) {
		if (argc == MAX_ARGS) {
			strbuf_fit(detail, dsz, "%s", "sendmail command has too "
			    "many words");
			goto out;
		}
		argv[argc] = words[argc];
	}
	argv[argc++] = (char *)"-i";
	argv[argc++] = (char *)"-f";
	argv[argc++] = (char *)from;
	argv[argc++] = (char *)"--";
	argv[argc++] = (char *)to;
	argv[argc] = NULL;
	if (lseek(msgfd, 0, SEEK_SET) == -1) {
		strbuf_fit(detail, dsz, "cannot start sendmail: %s",
		    strerror(errno));
		goto out;
	}
	memset(&io, 0, sizeof(io));
	io.infd = msgfd;
	io.outmax = 512;
	io.timeout_s = timeout_s;
	if (spawn_run(argv, &io, &e) != 0) {
		strbuf_fit(detail, dsz, "cannot start sendmail: %s", e.msg);
		goto out;
	}
	/* Its first line of output, when it said nothing on stderr. */
	if (io.errline[0] == '\0' && io.outlen > 0) {
		size_t k = 0;

		for (size_t i = 0; i < io.outlen && k < SPAWN_ERRLINE; i++) {
			unsigned char ch = io.out[i];

			if (ch == '\n' || ch == '\r') {
				if (k > 0)
					break;
				continue;
			}
			io.errline[k++] = ch >= 0x20 && ch < 0x7f ? (char)ch :
			    '?';
		}
		io.errline[k] = '\0';
	}
	free(io.out);
	if (WIFEXITED(io.status) && WEXITSTATUS(io.status) == 0) {
		/* even after a TERM: it says it has the message */
		strbuf_fit(detail, dsz, "%s", "sendmail exited 0");
		ok = 1;
	} else {
		spawn_describe(&io, how, sizeof(how));
		strbuf_fit(detail, dsz, "sendmail %s", how);
	}
out:
	spawn_argv_free(words);
	return ok;
}
