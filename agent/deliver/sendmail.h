/*
 * sendmail.h: one hand-off to the configured sendmail(8) command (SPEC §8
 * "Delivery"; external commands: SPEC §3).
 */
#ifndef LETHE_SENDMAIL_H
#define LETHE_SENDMAIL_H

#include <stddef.h>

/* Runs `cmd -i -f from -- to` (cmd: words by spawn_parse, the first an
 * absolute path; never through a shell) with msgfd, from offset 0, as its
 * standard input, for at most timeout_s seconds (spawn.h: own process
 * group, only its three descriptors).  Returns 1 when it exited 0
 * (accepted), 0 otherwise; detail says how it ended ("sendmail exited 75:
 * queue full", "sendmail timed out after 60 s and was killed"). */
int sendmail_run(const char *cmd, const char *from, const char *to,
    int msgfd, int timeout_s, char *detail, size_t dsz);

#endif
