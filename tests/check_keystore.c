/* check_keystore.c: DEKs, the KEK, destruction and crash recovery. */
#include "testutil.h"

#include "conf/config.h"
#include "state/durable.h"
#include "base/err.h"
#include "keys/kek.h"
#include "keys/keystore.h"
#include "conf/policy.h"
#include "keys/seal.h"
#include "base/secmem.h"

#include <openssl/rand.h>

#include <errno.h>
#include <fcntl.h>
#include <time.h>

static char *dir, *state, *kek, *ksp;
static const char *const disp = "osde-2024-20261123-42";

static void
setup(void)
{
	dir = tu_tmpdir();
	ck_assert_int_ge(asprintf(&state, "%s/state", dir), 0);
	ck_assert_int_ge(asprintf(&kek, "%s/state/kek", dir), 0);
	ck_assert_int_ge(asprintf(&ksp, "%s/state/keys/keystore", dir), 0);
}

static void
teardown(void)
{
	free(state);
	free(kek);
	free(ksp);
	tu_rmtree(dir);
}

static char *
path(const char *suffix)
{
	char *p;

	ck_assert_int_ge(asprintf(&p, "%s/state/%s", dir, suffix), 0);
	return p;
}

static int
gone(const char *suffix)
{
	char *p = path(suffix);
	struct stat st;
	int r = lstat(p, &st) == -1 && errno == ENOENT;

	free(p);
	return r;
}

/* The whole content of a file, which must exist (its length in *n). */
static char *
grab(const char *p, size_t *n)
{
	char *b = tu_readall(p, n);

	ck_assert_msg(b != NULL, "cannot read %s", p);
	return b;
}

static void
put(const char *p, const void *b, size_t n)
{
	struct err e;

	ck_assert_msg(durable_write(p, b, n, 0600, &e) == 0, "%s", e.msg);
}

static void
today(char out[11])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Seals text for (agreement, category) as `lethe seal` does; returns an fd
 * holding the sealed stream (offset 0) and the key id in id. */
static int
seal_text(const char *agreement, const char *category, const char *text,
    char *id)
{
	struct keystore ks;
	struct dek *k;
	struct err e = { "" };
	int in = tu_tmpfd(dir), out = tu_tmpfd(dir);

	ck_assert_int_eq(write(in, text, strlen(text)), (ssize_t)strlen(text));
	ck_assert_int_eq(lseek(in, 0, SEEK_SET), 0);
	k = secmem_alloc(sizeof(*k), &e);
	ck_assert_ptr_nonnull(k);
	ck_assert_msg(keystore_open(state, kek, KS_WRITE, &ks, &e) == 0, "%s",
	    e.msg);
	ck_assert_msg(keystore_key_for(&ks, agreement, category, 1, k, &e) ==
	    0, "%s", e.msg);
	keystore_close(&ks);
	ck_assert_int_eq(seal_stream(in, out, k, NULL, NULL, &e), 0);
	if (id != NULL)
		strcpy(id, k->id);
	secmem_free(k, sizeof(*k));
	close(in);
	ck_assert_int_eq(lseek(out, 0, SEEK_SET), 0);
	return out;
}

/* Unseals fd (rewound) with a read-only keystore.  Returns 0 with the
 * plaintext in buf, or -1 with e. */
static int
unseal_text(int fd, char *buf, size_t len, struct err *e)
{
	struct keystore ks;
	int out = tu_tmpfd(dir), rc = -1;
	ssize_t n;

	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	if (keystore_open(state, kek, KS_READ, &ks, e) == 0)
		rc = unseal_stream(fd, out, keystore_lookup, &ks, NULL, NULL, e);
	keystore_close(&ks);
	n = pread(out, buf, len - 1, 0);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	close(out);
	return rc;
}

START_TEST(a_key_wrapped_under_the_kek_unwraps_only_under_it_and_unaltered)
{
	unsigned char kek1[KEK_LEN], kek2[KEK_LEN], dek[32], w[40], u[40];

	ck_assert_int_eq(RAND_bytes(kek1, sizeof(kek1)), 1);
	ck_assert_int_eq(RAND_bytes(kek2, sizeof(kek2)), 1);
	ck_assert_int_eq(RAND_bytes(dek, sizeof(dek)), 1);
	ck_assert_int_eq(KEK_WRAP_LEN(32), 40);
	ck_assert_int_eq(kek_wrap(kek1, dek, 32, w), 40);
	ck_assert_int_ne(memcmp(w, dek, 32), 0);
	ck_assert_int_eq(kek_unwrap(kek1, w, 40, u), 32);
	ck_assert_int_eq(memcmp(u, dek, 32), 0);
	ck_assert_int_eq(kek_unwrap(kek2, w, 40, u), -1);
	w[17] ^= 1;
	ck_assert_int_eq(kek_unwrap(kek1, w, 40, u), -1);
	/* RFC 5649 pads odd lengths too. */
	ck_assert_int_eq(kek_wrap(kek1, dek, 20, w), 32);
	ck_assert_int_eq(kek_unwrap(kek1, w, 32, u), 20);
	ck_assert_int_eq(memcmp(u, dek, 20), 0);
}
END_TEST

START_TEST(the_first_seal_creates_a_private_kek_and_keystore_and_round_trips)
{
	char id[SEAL_KEYID_MAX + 1], buf[100];
	struct err e = { "" };
	struct stat st;
	int fd;

	fd = seal_text("osde-2024", NULL, "student,score\nana,91\n", id);
	ck_assert_str_eq(id, "osde-2024/all/1");
	ck_assert_int_eq(lstat(kek, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(st.st_size, 32);
	ck_assert_int_eq(lstat(ksp, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_msg(unseal_text(fd, buf, sizeof(buf), &e) == 0, "%s", e.msg);
	ck_assert_str_eq(buf, "student,score\nana,91\n");
	close(fd);
}
END_TEST

START_TEST(keys_are_per_agreement_and_category_and_stored_only_wrapped)
{
	struct keystore ks;
	struct dek *a, *b;
	struct err e = { "" };
	char *text, hex[65];

	a = secmem_alloc(sizeof(*a), &e);
	b = secmem_alloc(sizeof(*b), &e);
	ck_assert_int_eq(keystore_open(state, kek, KS_WRITE, &ks, &e), 0);
	ck_assert_int_eq(keystore_key_for(&ks, "osde-2024", "assessment", 1, a,
	    &e), 0);
	ck_assert_str_eq(a->id, "osde-2024/assessment/1");
	ck_assert_int_eq(keystore_key_for(&ks, "osde-2024", "ASSESSMENT", 0, b,
	    &e), 0);
	ck_assert_str_eq(b->id, a->id);
	ck_assert_int_eq(memcmp(a->key, b->key, DEK_LEN), 0);
	ck_assert_int_eq(keystore_key_for(&ks, "osde-2024", "Parent/Guardian "
	    "ID", 1, b, &e), 0);
	ck_assert_str_eq(b->id, "osde-2024/parent-guardian-id/1");
	ck_assert_int_ne(memcmp(a->key, b->key, DEK_LEN), 0);
	ck_assert_int_eq(keystore_key_for(&ks, "osde-2024", "Atendance", 1, b,
	    &e), -1);
	ck_assert_int_eq(keystore_key_for(&ks, "nyc-doe", NULL, 0, b, &e), -1);
	ck_assert_str_eq(keystore_find(&ks, a->id)->category, "Assessment");
	keystore_close(&ks);
	/* The file holds wrapped keys, never the keys themselves. */
	text = grab(ksp, NULL);
	for (int i = 0; i < DEK_LEN; i++)
		sprintf(hex + 2 * i, "%02x", a->key[i]);
	ck_assert_ptr_null(strstr(text, hex));
	ck_assert_ptr_nonnull(strstr(text, "key\tosde-2024/assessment/1\t"
	    "osde-2024\tAssessment\t1\t"));
	/* And a reopened keystore unwraps the same key. */
	ck_assert_int_eq(keystore_open(state, kek, KS_READ, &ks, &e), 0);
	ck_assert_int_eq(keystore_lookup("osde-2024/assessment/1", b, &ks, &e),
	    0);
	ck_assert_int_eq(memcmp(a->key, b->key, DEK_LEN), 0);
	keystore_close(&ks);
	free(text);
	secmem_free(a, sizeof(*a));
	secmem_free(b, sizeof(*b));
}
END_TEST

START_TEST(a_kek_with_mode_0644_a_symlink_or_a_wrong_size_is_refused)
{
	struct keystore ks;
	struct err e = { "" };
	char *other = path("kek2");
	int fd = seal_text("osde-2024", NULL, "x", NULL);

	close(fd);
	ck_assert_int_eq(chmod(kek, 0644), 0);
	ck_assert_int_eq(keystore_open(state, kek, KS_READ, &ks, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "mode 0644"));
	keystore_close(&ks);
	ck_assert_int_eq(keystore_open(state, kek, KS_WRITE, &ks, &e), -1);
	keystore_close(&ks);
	ck_assert_int_eq(chmod(kek, 0600), 0);
	ck_assert_int_eq(rename(kek, other), 0);
	ck_assert_int_eq(symlink(other, kek), 0);
	ck_assert_int_eq(keystore_open(state, kek, KS_READ, &ks, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "symbolic link"));
	keystore_close(&ks);
	ck_assert_int_eq(keystore_open(state, kek, KS_WRITE, &ks, &e), -1);
	keystore_close(&ks);
	ck_assert_int_eq(unlink(kek), 0);
	put(kek, "short", 5);
	ck_assert_int_eq(keystore_open(state, kek, KS_READ, &ks, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "exactly 32 bytes"));
	keystore_close(&ks);
	free(other);
}
END_TEST

START_TEST(a_tampered_keystore_is_refused)
{
	struct keystore ks;
	struct err e = { "" };
	char *text, *p;
	size_t n;
	int fd = seal_text("osde-2024", NULL, "x", NULL);

	close(fd);
	close(seal_text("nyc-doe", NULL, "y", NULL));
	text = grab(ksp, &n);
	/* Swap the two wrapped keys' agreements: still well-formed. */
	p = strstr(text, "\tnyc-doe\t");
	ck_assert_ptr_nonnull(p);
	memcpy(p + 1, "nyc-dox", 7);
	put(ksp, text, n);
	ck_assert_int_eq(keystore_open(state, kek, KS_READ, &ks, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "does not verify"));
	keystore_close(&ks);
	free(text);
}
END_TEST

START_TEST(destroying_one_agreements_key_leaves_the_others_readable_under_a_new_kek)
{
	char id[SEAL_KEYID_MAX + 1], buf[100], want[200], day[11];
	struct ks_entry *list;
	struct err e = { "" };
	char *k1, *k2;
	size_t n;
	int a, b;

	a = seal_text("osde-2024", NULL, "osde rows\n", id);
	b = seal_text("nyc-doe", NULL, "nyc rows\n", NULL);
	k1 = grab(kek, NULL);
	ck_assert_msg(keystore_destroy(state, kek, "osde-2024", NULL, disp,
	    &list, &n, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(list[0].id, "osde-2024/all/1");
	ck_assert_int_eq(list[0].destroyed, 1);
	ck_assert_str_eq(list[0].disp_id, disp);
	today(day);
	ck_assert_str_eq(list[0].destroyed_on, day);
	free(list);
	/* A new KEK, and nothing of the old state left beside it. */
	k2 = grab(kek, NULL);
	ck_assert_int_ne(memcmp(k1, k2, 32), 0);
	ck_assert(gone("kek.new") && gone("kek.old"));
	ck_assert(gone("keys/keystore.new") && gone("keys/keystore.old"));
	/* The destroyed agreement says when and by which certificate. */
	ck_assert_int_eq(unseal_text(a, buf, sizeof(buf), &e), -1);
	snprintf(want, sizeof(want), "key %s destroyed on %s (certificate %s)",
	    id, day, disp);
	ck_assert_str_eq(e.msg, want);
	ck_assert_str_eq(buf, "");
	/* The other agreement's data, wrapped under the old KEK before,
	 * still unseals. */
	ck_assert_msg(unseal_text(b, buf, sizeof(buf), &e) == 0, "%s", e.msg);
	ck_assert_str_eq(buf, "nyc rows\n");
	close(a);
	close(b);
	free(k1);
	free(k2);
}
END_TEST

START_TEST(a_copy_of_keys_restored_after_destruction_does_not_unseal)
{
	char buf[100];
	struct ks_entry *list;
	struct keystore ks;
	struct err e = { "" };
	char *old, *oldkek;
	size_t n, on;
	int a;

	a = seal_text("osde-2024", NULL, "osde rows\n", NULL);
	old = grab(ksp, &on);		/* the backup of keys/ */
	oldkek = grab(kek, NULL);
	ck_assert_int_eq(keystore_destroy(state, kek, "osde-2024", NULL, disp,
	    &list, &n, &e), 0);
	free(list);
	put(ksp, old, on);		/* restored */
	ck_assert_int_eq(unseal_text(a, buf, sizeof(buf), &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "does not verify under the KEK"));
	ck_assert_str_eq(buf, "");
	/* A writer does not "recover" it either. */
	ck_assert_int_eq(keystore_open(state, kek, KS_WRITE, &ks, &e), -1);
	keystore_close(&ks);
	/* No file in state_dir holds the old KEK any more. */
	{
		char *cur = grab(kek, NULL);
		ck_assert_int_ne(memcmp(cur, oldkek, 32), 0);
		free(cur);
		ck_assert(gone("kek.old"));
	}
	close(a);
	free(old);
	free(oldkek);
}
END_TEST

START_TEST(destroying_again_for_the_same_disposition_reports_without_rotating)
{
	struct ks_entry *list;
	struct err e = { "" };
	char *k1, *k2;
	size_t n;

	close(seal_text("osde-2024", NULL, "x", NULL));
	close(seal_text("nyc-doe", NULL, "x", NULL));
	ck_assert_int_eq(keystore_destroy(state, kek, "osde-2024", NULL, disp,
	    &list, &n, &e), 0);
	free(list);
	k1 = grab(kek, NULL);
	ck_assert_int_eq(keystore_destroy(state, kek, "osde-2024", NULL, disp,
	    &list, &n, &e), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(list[0].id, "osde-2024/all/1");
	free(list);
	k2 = grab(kek, NULL);
	ck_assert_int_eq(memcmp(k1, k2, 32), 0);
	/* Another disposition finds nothing to destroy. */
	ck_assert_int_eq(keystore_destroy(state, kek, "osde-2024", NULL,
	    "other-1", &list, &n, &e), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(list);
	free(k1);
	free(k2);
}
END_TEST

START_TEST(destroying_a_category_spares_the_agreements_other_keys)
{
	char buf[100], id[SEAL_KEYID_MAX + 1];
	struct ks_entry *list;
	struct err e = { "" };
	size_t n;
	int all, att, ass;

	all = seal_text("osde-2024", NULL, "all\n", NULL);
	att = seal_text("osde-2024", "Attendance", "att\n", NULL);
	ass = seal_text("osde-2024", "Assessment", "ass\n", NULL);
	ck_assert_int_eq(keystore_destroy(state, kek, "osde-2024",
	    "assessment", disp, &list, &n, &e), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(list[0].id, "osde-2024/assessment/1");
	free(list);
	ck_assert_int_eq(unseal_text(ass, buf, sizeof(buf), &e), -1);
	ck_assert_int_eq(unseal_text(all, buf, sizeof(buf), &e), 0);
	ck_assert_str_eq(buf, "all\n");
	ck_assert_int_eq(unseal_text(att, buf, sizeof(buf), &e), 0);
	ck_assert_str_eq(buf, "att\n");
	/* Data sealed for the category afterwards gets a new generation. */
	close(seal_text("osde-2024", "Assessment", "new\n", id));
	ck_assert_str_eq(id, "osde-2024/assessment/2");
	close(all);
	close(att);
	close(ass);
}
END_TEST

START_TEST(plaintext_sealed_after_the_fact_is_recorded_through_destruction)
{
	struct keystore ks;
	struct ks_entry *list;
	struct err e = { "" };
	char id[SEAL_KEYID_MAX + 1], day[11];
	size_t n;

	close(seal_text("osde-2024", NULL, "x", id));
	ck_assert_int_eq(keystore_open(state, kek, KS_WRITE, &ks, &e), 0);
	ck_assert_str_eq(keystore_find(&ks, id)->sealed_after, "");
	ck_assert_int_eq(keystore_mark_sealed_after(&ks, id, NULL, &e), 0);
	keystore_close(&ks);
	ck_assert_int_eq(keystore_open(state, kek, KS_READ, &ks, &e), 0);
	today(day);
	ck_assert_str_eq(keystore_find(&ks, id)->sealed_after, day);
	ck_assert_int_eq(keystore_mark_sealed_after(&ks, id, NULL, &e), -1);
	keystore_close(&ks);
	ck_assert_int_eq(keystore_destroy(state, kek, "osde-2024", NULL, disp,
	    &list, &n, &e), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(list[0].sealed_after, day);
	free(list);
}
END_TEST

/* Two agreements sealed, osde destroyed: the before and after states. */
struct snap {
	char *k1, *s1, *k2, *s2;
	size_t s1n, s2n;
	int a, b;
};

static void
snap_take(struct snap *s)
{
	struct ks_entry *list;
	struct err e = { "" };
	size_t n;

	s->a = seal_text("osde-2024", NULL, "osde rows\n", NULL);
	s->b = seal_text("nyc-doe", NULL, "nyc rows\n", NULL);
	s->k1 = grab(kek, NULL);
	s->s1 = grab(ksp, &s->s1n);
	ck_assert_int_eq(keystore_destroy(state, kek, "osde-2024", NULL, disp,
	    &list, &n, &e), 0);
	free(list);
	s->k2 = grab(kek, NULL);
	s->s2 = grab(ksp, &s->s2n);
}

static void
snap_free(struct snap *s)
{
	close(s->a);
	close(s->b);
	free(s->k1);
	free(s->s1);
	free(s->k2);
	free(s->s2);
}

static void
put_at(const char *suffix, const void *b, size_t n)
{
	char *p = path(suffix);

	put(p, b, n);
	free(p);
}

static void
assert_clean(void)
{
	ck_assert(gone("kek.new") && gone("kek.old"));
	ck_assert(gone("keys/keystore.new") && gone("keys/keystore.old"));
}

START_TEST(a_destruction_killed_after_its_commit_is_finished_on_open)
{
	struct snap s;
	struct keystore ks;
	struct err e = { "" };
	char buf[100], *k;

	snap_take(&s);
	/* Killed between steps 4 and 5: keystore new, KEK still old. */
	put(kek, s.k1, 32);
	put(ksp, s.s2, s.s2n);
	put_at("kek.new", s.k2, 32);
	put_at("keys/keystore.old", s.s1, s.s1n);
	/* A reader copes without changing anything. */
	ck_assert_msg(unseal_text(s.b, buf, sizeof(buf), &e) == 0, "%s",
	    e.msg);
	ck_assert(!gone("kek.new"));
	/* A writer finishes the job. */
	ck_assert_msg(keystore_open(state, kek, KS_WRITE, &ks, &e) == 0, "%s",
	    e.msg);
	keystore_close(&ks);
	assert_clean();
	k = grab(kek, NULL);
	ck_assert_int_eq(memcmp(k, s.k2, 32), 0);
	free(k);
	ck_assert_int_eq(unseal_text(s.b, buf, sizeof(buf), &e), 0);
	ck_assert_str_eq(buf, "nyc rows\n");
	ck_assert_int_eq(unseal_text(s.a, buf, sizeof(buf), &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "destroyed on"));
	snap_free(&s);
}
END_TEST

START_TEST(a_destruction_killed_between_linking_and_renaming_the_kek_is_finished)
{
	struct snap s;
	struct keystore ks;
	struct err e = { "" };
	char buf[100], *old = path("kek.old"), *k;

	snap_take(&s);
	/* Killed between steps 5 and 6: KEK.old is a second name of KEK. */
	put(kek, s.k1, 32);
	ck_assert_int_eq(link(kek, old), 0);
	put(ksp, s.s2, s.s2n);
	put_at("kek.new", s.k2, 32);
	put_at("keys/keystore.old", s.s1, s.s1n);
	put_at(".kek.new.tmp.4242", s.k1, 32);	/* a torn durable write */
	ck_assert_msg(keystore_open(state, kek, KS_WRITE, &ks, &e) == 0, "%s",
	    e.msg);
	keystore_close(&ks);
	assert_clean();
	ck_assert(gone(".kek.new.tmp.4242"));
	k = grab(kek, NULL);
	ck_assert_int_eq(memcmp(k, s.k2, 32), 0);
	free(k);
	ck_assert_int_eq(unseal_text(s.b, buf, sizeof(buf), &e), 0);
	free(old);
	snap_free(&s);
}
END_TEST

START_TEST(a_destruction_killed_before_its_commit_is_rolled_back_on_open)
{
	struct snap s;
	struct keystore ks;
	struct err e = { "" };
	char buf[100], *old = path("keys/keystore.old"), *k, *text;
	size_t n;

	snap_take(&s);
	/* Killed between steps 3 and 4: all old, plus the new files. */
	put(kek, s.k1, 32);
	put(ksp, s.s1, s.s1n);
	put_at("kek.new", s.k2, 32);
	put_at("keys/keystore.new", s.s2, s.s2n);
	ck_assert_int_eq(link(ksp, old), 0);
	ck_assert_msg(keystore_open(state, kek, KS_WRITE, &ks, &e) == 0, "%s",
	    e.msg);
	keystore_close(&ks);
	assert_clean();
	/* The live files were only unlinked from, never overwritten. */
	k = grab(kek, NULL);
	ck_assert_int_eq(memcmp(k, s.k1, 32), 0);
	text = grab(ksp, &n);
	ck_assert_uint_eq(n, s.s1n);
	ck_assert_int_eq(memcmp(text, s.s1, n), 0);
	/* Nothing was destroyed: both agreements unseal (the retry will
	 * destroy osde's key). */
	ck_assert_int_eq(unseal_text(s.a, buf, sizeof(buf), &e), 0);
	ck_assert_str_eq(buf, "osde rows\n");
	ck_assert_int_eq(unseal_text(s.b, buf, sizeof(buf), &e), 0);
	free(k);
	free(text);
	free(old);
	snap_free(&s);
}
END_TEST

START_TEST(lethe_check_warns_about_a_kek_inside_keys_or_a_dataset_root)
{
	struct config c = { 0 };
	struct dataset ds = { 0 };
	struct agreement a = { 0 };
	struct policyset ps = { .a = &a, .n = 1 };
	struct diags d = { 0 };

	c.path = "lethe.conf";
	c.state_dir = "/var/lib/lethe";
	c.kek = "/var/lib/lethe/keys/kek";
	keystore_check_kek_location(&c, &ps, &d);
	ck_assert_uint_eq(d.nwarn, 1);
	ck_assert_ptr_nonnull(strstr(d.v[0], "inside /var/lib/lethe/keys"));
	diag_free(&d);
	a.id = "osde-2024";
	a.file = "osde.ini";
	a.ds = &ds;
	a.nds = 1;
	ds.name = "backups";
	ds.line = 7;
	ds.archive = "/backups/edtech-*.tar.gz";
	c.kek = "/backups/lethe/kek";
	keystore_check_kek_location(&c, &ps, &d);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(d.v[0], "osde.ini:7: warning: the KEK /backups/"
	    "lethe/kek lies under /backups, the root of dataset backups: move "
	    "it out of dataset and backed-up paths");
	diag_free(&d);
	c.kek = "/etc/lethe/kek";
	keystore_check_kek_location(&c, &ps, &d);
	ck_assert_uint_eq(d.n, 0);
	diag_free(&d);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("keystore");
	TCase *t = tcase_create("keystore");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 60);
	tcase_add_test(t, a_key_wrapped_under_the_kek_unwraps_only_under_it_and_unaltered);
	tcase_add_test(t, the_first_seal_creates_a_private_kek_and_keystore_and_round_trips);
	tcase_add_test(t, keys_are_per_agreement_and_category_and_stored_only_wrapped);
	tcase_add_test(t, a_kek_with_mode_0644_a_symlink_or_a_wrong_size_is_refused);
	tcase_add_test(t, a_tampered_keystore_is_refused);
	tcase_add_test(t, destroying_one_agreements_key_leaves_the_others_readable_under_a_new_kek);
	tcase_add_test(t, a_copy_of_keys_restored_after_destruction_does_not_unseal);
	tcase_add_test(t, destroying_again_for_the_same_disposition_reports_without_rotating);
	tcase_add_test(t, destroying_a_category_spares_the_agreements_other_keys);
	tcase_add_test(t, plaintext_sealed_after_the_fact_is_recorded_through_destruction);
	tcase_add_test(t, a_destruction_killed_after_its_commit_is_finished_on_open);
	tcase_add_test(t, a_destruction_killed_between_linking_and_renaming_the_kek_is_finished);
	tcase_add_test(t, a_destruction_killed_before_its_commit_is_rolled_back_on_open);
	tcase_add_test(t, lethe_check_warns_about_a_kek_inside_keys_or_a_dataset_root);
	suite_add_tcase(s, t);
	return tu_run(s);
}
