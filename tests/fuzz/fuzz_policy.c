/*
 * fuzz_policy.c: policy_load_file (agent/policy.c) and iniread_text
 * (agent/iniread.c) on arbitrary bytes.
 *
 * Invariants checked besides "no crash, no leak, no UB":
 *   - policy_load_file returns 0 exactly when it added no error, and every
 *     diagnostic names a file;
 *   - a policy that loads clean has an id, lea, contact and at least one
 *     dataset, and every dataset's path or archive glob is absolute,
 *     normalised and has its literal prefix inside an allowed root (the
 *     MUST rules atop policy.c, checked here independently);
 *   - loading the same file twice reports the duplicate id;
 *   - iniread hands the callbacks only lines of at most INIREAD_MAX_LINE
 *     bytes, at the right line number, and reports every longer line.
 */
#include "fuzz_util.h"

#include "conf/config.h"
#include "base/err.h"
#include "conf/iniread.h"
#include "conf/policy.h"

static struct config cfg;
static char policy_path[4096];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char conf[] =
	    "[agent]\n"
	    "state_dir = /var/lib/lethe\n"
	    "policy_dir = /etc/lethe/policies.d\n"
	    "allowed_roots = /srv/edtech /backups\n"
	    "host = app-1\n"
	    "[vendor]\n"
	    "name = Example Learning, Inc.\n"
	    "contact = privacy@example.com\n"
	    "[notify]\n"
	    "from = privacy@example.com\n";
	struct diags d = { 0 };
	char path[4096];

	(void)argc;
	(void)argv;
	fz_write(fz_path(path, "lethe.conf"), conf, sizeof(conf) - 1);
	if (config_load(path, &cfg, &d) != 0 || cfg.nroots != 2) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", d.v[i]);
		FZ_SETUP(!"the fixed config does not load");
	}
	diag_free(&d);
	fz_path(policy_path, "policy.ini");
	return 0;
}

static int
is_wild(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strchr("*?[\\", s[i]) != NULL)
			return 1;
	return 0;
}

/* The MUST rules of policy.c for one glob, checked from scratch. */
static void
check_glob(const char *what, const char *g)
{
	char prefix[4096] = "/";
	size_t plen = 0;
	int literal = 1;

	FZ_CHECK(g[0] == '/', "%s '%s' accepted but not absolute", what, g);
	for (const char *p = g + 1; *p != '\0';) {
		size_t n = strcspn(p, "/");

		FZ_CHECK(n > 0, "%s '%s' accepted with an empty component",
		    what, g);
		FZ_CHECK(!(n == 1 && p[0] == '.') &&
		    !(n == 2 && p[0] == '.' && p[1] == '.'),
		    "%s '%s' accepted with a '.' or '..' component", what, g);
		if (literal && is_wild(p, n))
			literal = 0;
		if (literal) {
			FZ_CHECK(plen + 1 + n < sizeof(prefix), "long prefix");
			prefix[plen++] = '/';
			memcpy(prefix + plen, p, n);
			plen += n;
			prefix[plen] = '\0';
		}
		p += n;
		if (*p == '/')
			p++;
	}
	FZ_CHECK(config_root_of(&cfg, prefix) >= 0,
	    "%s '%s' accepted though its literal prefix '%s' is outside the "
	    "allowed roots", what, g, prefix);
}

static int
has_dotdot(const char *s)
{
	for (const char *p = s; *p != '\0';) {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return 1;
		p += n;
		if (*p == '/')
			p++;
	}
	return 0;
}

static void
check_clean(const struct agreement *a)
{
	FZ_CHECK(a->id != NULL && a->lea != NULL && a->contact != NULL,
	    "clean policy without id, lea or contact");
	FZ_CHECK(a->nds > 0, "clean policy without datasets");
	for (size_t i = 0; i < a->nds; i++) {
		const struct dataset *ds = &a->ds[i];

		FZ_CHECK(ds->name != NULL && ds->name[0] != '\0', "no name");
		FZ_CHECK((ds->path != NULL) != (ds->archive != NULL),
		    "dataset '%s' needs exactly one of path and archive",
		    ds->name);
		if (ds->path != NULL)
			check_glob("path", ds->path);
		if (ds->archive != NULL) {
			check_glob("archive", ds->archive);
			FZ_CHECK(ds->members != NULL, "archive without members");
		}
		FZ_CHECK(ds->categories != 0 || ds->deidentified,
		    "dataset '%s' covers no category", ds->name);
		if (ds->members != NULL)
			FZ_CHECK(!has_dotdot(ds->members), "members '%s' accepted "
			    "with a '..' component", ds->members);
	}
}

static void
check_diags(const struct diags *d, int rc, size_t before)
{
	FZ_CHECK((rc == 0) == (diag_errors(d) == before),
	    "returned %d with %zu new errors", rc, diag_errors(d) - before);
	for (size_t i = 0; i < d->n; i++) {
		const char *m = d->v[i];

		if (strncmp(m, "warning: ", 9) == 0)
			m += 9;
		FZ_CHECK(fz_names_file(m, policy_path),
		    "diagnostic does not name the file: %s", d->v[i]);
	}
}

/* ---- iniread_text directly ---- */

struct ini {
	const char *text;
	int last_line;
	size_t pairs, sections;
};

/* Line n (1-based) of text, without its newline or a final '\r'. */
static const char *
nth_line(const char *text, int n, size_t *len)
{
	const char *p = text;

	for (int i = 1; i < n && p != NULL; i++) {
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	FZ_CHECK(p != NULL && (*p != '\0' || n == 1),
	    "callback for line %d, which does not exist", n);
	*len = strcspn(p, "\n");
	if (*len > 0 && p[*len - 1] == '\r')
		(*len)--;
	return p;
}

static int
on_ini_section(void *arg, const char *file, int line, const char *section)
{
	struct ini *x = arg;
	size_t len;
	const char *l = nth_line(x->text, line, &len);

	FZ_CHECK(strcmp(file, "fuzz.ini") == 0, "file '%s'", file);
	FZ_CHECK(line >= x->last_line, "line %d after %d", line,
	    x->last_line);
	x->last_line = line;
	FZ_CHECK(len <= INIREAD_MAX_LINE, "section from a %zu-byte line",
	    len);
	FZ_CHECK(strlen(section) <= INIREAD_MAX_SECTION, "section of %zu",
	    strlen(section));
	FZ_CHECK(memmem(l, len, section, strlen(section)) != NULL,
	    "section '%s' not on line %d", section, line);
	x->sections++;
	return 0;
}

static int
on_ini_pair(void *arg, const char *file, int line, const char *section,
    const char *name, const char *value)
{
	struct ini *x = arg;
	size_t len;
	const char *l = nth_line(x->text, line, &len);

	FZ_CHECK(strcmp(file, "fuzz.ini") == 0, "file '%s'", file);
	FZ_CHECK(line >= x->last_line, "line %d after %d", line,
	    x->last_line);
	x->last_line = line;
	FZ_CHECK(len <= INIREAD_MAX_LINE, "pair from a %zu-byte line %d",
	    len, line);
	FZ_CHECK(section != NULL && name != NULL && value != NULL, "NULL");
	FZ_CHECK(name[0] != '\0', "empty name on line %d", line);
	FZ_CHECK(memmem(l, len, name, strlen(name)) != NULL,
	    "name '%s' is not on line %d", name, line);
	FZ_CHECK(memmem(l, len, value, strlen(value)) != NULL,
	    "value '%s' is not on line %d", value, line);
	x->pairs++;
	return 0;
}

static void
fuzz_iniread(const uint8_t *data, size_t size)
{
	struct diags d = { 0 };
	struct ini x = { 0 };
	char *text = fz_strndup(data, size);
	const char *p = text;
	int rc, line = 0;

	x.text = text;
	x.last_line = 1;
	rc = iniread_text("fuzz.ini", text, on_ini_pair, on_ini_section, &x,
	    &d);
	FZ_CHECK((rc == 0) == (diag_errors(&d) == 0), "rc %d, %zu errors",
	    rc, diag_errors(&d));
	/* Every over-long line is reported at its number. */
	while (*p != '\0') {
		size_t len = strcspn(p, "\n"), raw = len;
		char want[64];
		int found = 0;

		line++;
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len > INIREAD_MAX_LINE) {
			snprintf(want, sizeof(want), "fuzz.ini:%d: line is ",
			    line);
			for (size_t i = 0; i < d.n && !found; i++)
				found = strncmp(d.v[i], want, strlen(want)) == 0;
			FZ_CHECK(found, "line %d (%zu bytes) not reported", line,
			    len);
		}
		p += raw;
		if (*p == '\n')
			p++;
	}
	diag_free(&d);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policyset ps = { 0 };
	struct diags d = { 0 };
	size_t before;
	int rc;

	fuzz_iniread(data, size);

	fz_write(policy_path, data, size);
	rc = policy_load_file(policy_path, &cfg, &ps, &d);
	check_diags(&d, rc, 0);
	FZ_CHECK(ps.n == 1, "%zu agreements from one file", ps.n);
	if (rc == 0) {
		check_clean(&ps.a[0]);
		/* The same file again: its id is now a duplicate. */
		before = diag_errors(&d);
		rc = policy_load_file(policy_path, &cfg, &ps, &d);
		check_diags(&d, rc, before);
		FZ_CHECK(rc != 0 && ps.n == 2, "a duplicate id went unnoticed");
		FZ_CHECK(policy_find(&ps, ps.a[0].id) == &ps.a[0], "find");
	}
	policy_free(&ps);
	diag_free(&d);
	return 0;
}
