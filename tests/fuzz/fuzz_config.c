/*
 * fuzz_config.c: config_load (agent/config.c) on arbitrary bytes.
 *
 * Invariants besides "no crash, no leak, no UB":
 *   - config_load returns 0 exactly when it added no error, and every
 *     diagnostic names the file, but a StrictModes one (run as root),
 *     which names the path it is about;
 *   - a config that loads clean has every default filled, and each
 *     allowed root is absolute, normalised (no "//", "." or "..", no
 *     trailing '/'), not "/" and not in a system directory (the MUST rules
 *     atop config.c, checked here independently);
 *   - config_free leaves a struct that can be freed again.
 */
#include "fuzz_util.h"

#include "conf/config.h"
#include "base/err.h"

static char conf_path[4096];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_path(conf_path, "lethe.conf");
	return 0;
}

static void
check_root(const char *r)
{
	static const char *const sys[] = { "/etc", "/usr", "/bin", "/sbin",
	    "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/proc", "/sys",
	    "/dev", "/run" };
	size_t n = strlen(r);

	FZ_CHECK(r[0] == '/' && n > 1, "root '%s' accepted", r);
	FZ_CHECK(r[n - 1] != '/', "root '%s' has a trailing '/'", r);
	for (const char *p = r + 1; *p != '\0';) {
		size_t k = strcspn(p, "/");

		FZ_CHECK(k > 0, "root '%s' has '//'", r);
		FZ_CHECK(!(k == 1 && p[0] == '.') &&
		    !(k == 2 && p[0] == '.' && p[1] == '.'),
		    "root '%s' has a '.' or '..' component", r);
		p += k;
		if (*p == '/')
			p++;
	}
	for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++) {
		size_t k = strlen(sys[i]);

		FZ_CHECK(!(strncmp(r, sys[i], k) == 0 &&
		    (r[k] == '\0' || r[k] == '/')),
		    "root '%s' is in system directory %s", r, sys[i]);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	struct diags d = { 0 };
	int rc;

	memset(&c, 0, sizeof(c));
	fz_write(conf_path, data, size);
	rc = config_load(conf_path, &c, &d);
	FZ_CHECK((rc == 0) == (diag_errors(&d) == 0), "rc %d with %zu errors",
	    rc, diag_errors(&d));
	for (size_t i = 0; i < d.n; i++) {
		const char *m = d.v[i];

		if (strncmp(m, "warning: ", 9) == 0)
			m += 9;
		if (strstr(m, "(StrictModes") != NULL && m[0] == '/')
			continue;
		FZ_CHECK(fz_names_file(m, conf_path), "diagnostic does not "
		    "name the file: %s", d.v[i]);
	}
	if (rc == 0) {
		FZ_CHECK(c.state_dir != NULL && c.policy_dir != NULL &&
		    c.host != NULL && c.kek != NULL && c.sendmail != NULL,
		    "a default is missing");
		FZ_CHECK(c.nroots > 0, "clean config without allowed roots");
		for (size_t i = 0; i < c.nroots; i++) {
			check_root(c.roots[i]);
			FZ_CHECK(config_root_of(&c, c.roots[i]) >= 0,
			    "root '%s' is not inside itself", c.roots[i]);
		}
	}
	config_free(&c);
	config_free(&c);
	diag_free(&d);
	return 0;
}
