/*
 * strict.h: StrictModes (SPEC §3), the one check of everything lethe
 * trusts when it runs as root: the config file, the policy directory and
 * each policy, the sendmail and tsa_command programs, the signing key,
 * certificate and chain, the KEK and state_dir.
 *
 * The rule, as sshd(8) applies it to a user's files: the file and every
 * directory above it, up to "/", must be owned by root (or the running
 * user, which as root is the same) and not writable by group or others.
 * Whoever could write any of them could make root destroy data, run a
 * program, or sign as the vendor.  There is no exception for a sticky
 * directory such as /tmp: a file below it is refused, as sshd refuses a
 * home directory there (and tmp cleaners remove what lies in /tmp).
 * Symbolic links are followed, and every directory on the way to each
 * link's target is checked too, so a link cannot lead around the rule.
 * A path that does not exist (yet) is checked as far as it exists: only
 * whoever may write its deepest existing directory can create the rest.
 */
#ifndef LETHE_STRICT_H
#define LETHE_STRICT_H

#include <sys/stat.h>
#include <sys/types.h>

struct config;
struct diags;

/* When euid is 0, checks path (absolute, or relative to the working
 * directory) and everything above it by the rule above, adding one error
 * "COMPONENT: why" to *d for each component that breaks it, naming `what`
 * (e.g. "sendmail", "the signing key") and path.  A component already
 * reported in *d is not reported again.  Returns 0 when trusted (always
 * when euid is not 0), else -1. */
int strict_path(const char *path, const char *what, uid_t euid,
    struct diags *d);

/* The same rule for one object already open (st from fstat), so that the
 * file lethe parses is the file that was checked.  Returns 0 or -1. */
int strict_stat(const char *path, const char *what, const struct stat *st,
    uid_t euid, struct diags *d);

/* strict_path over everything a loaded config makes root trust besides
 * the config file itself (config_load checks that) and the policies
 * (policy_load.c checks those as it reads them): state_dir, the KEK, the
 * signing key, certificate and chain, and the sendmail and tsa_command
 * programs (their first word, split as spawn_parse splits it).  Returns 0
 * when all are trusted (always when euid is not 0), else -1. */
int strict_config(const struct config *c, uid_t euid, struct diags *d);

#endif
