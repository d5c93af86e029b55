/*
 * scope.c: a scope as a value (see scope.h): sets of objects by (device,
 * inode), freeing, and what a scope says to people.  How a scope is
 * decided is scope_resolve.c (objects and verdicts), scope_guard.c (what
 * protects them), scope_index.c (which datasets can meet) and keyscope.c
 * (keys); they all build on this file, which calls none of them.
 */
#include "plan/scope.h"
#include "plan/scope_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t
scope_hash(dev_t d, ino_t i)
{
	uint64_t h = (uint64_t)d * 0x9e3779b97f4a7c15ULL ^ (uint64_t)i;

	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ULL;
	return (size_t)(h ^ (h >> 29));
}

int
scope_set_has(const struct scope_set *set, dev_t dev, ino_t ino)
{
	if (set == NULL || set->cap == 0)
		return 0;
	for (size_t h = scope_hash(dev, ino) & (set->cap - 1);
	    set->dev[h] != 0 || set->ino[h] != 0; h = (h + 1) & (set->cap - 1))
		if (set->dev[h] == dev && set->ino[h] == ino)
			return 1;
	return 0;
}

static int
set_put(struct scope_set *set, dev_t dev, ino_t ino)
{
	size_t h;

	if (scope_set_has(set, dev, ino))
		return 0;
	if ((set->n + 1) * 2 > set->cap) {
		struct scope_set bigger = { 0 };
		bigger.cap = set->cap ? set->cap * 2 : 1024;
		bigger.dev = calloc(bigger.cap, sizeof(*bigger.dev));
		bigger.ino = calloc(bigger.cap, sizeof(*bigger.ino));
		if (bigger.dev == NULL || bigger.ino == NULL) {
			scope_set_free(&bigger);
			return -1;
		}
		for (size_t k = 0; k < set->cap; k++)
			if ((set->dev[k] != 0 || set->ino[k] != 0) &&
			    set_put(&bigger, set->dev[k], set->ino[k]) != 0) {
				scope_set_free(&bigger);
				return -1;
			}
		scope_set_free(set);
		*set = bigger;
	}
	for (h = scope_hash(dev, ino) & (set->cap - 1); set->dev[h] != 0 ||
	    set->ino[h] != 0; h = (h + 1) & (set->cap - 1))
		;
	set->dev[h] = dev;
	set->ino[h] = ino;
	set->n++;
	return 0;
}

int
scope_set_add_one(struct scope_set *set, dev_t dev, ino_t ino)
{
	return set_put(set, dev, ino);
}

int
scope_set_add(struct scope_set *set, const struct scope *s)
{
	for (size_t k = 0; k < s->n; k++)
		if (s->v[k].verdict == SV_DESTROY && s->v[k].kind != SK_ARCHIVE &&
		    set_put(set, s->v[k].dev, s->v[k].ino) != 0)
			return -1;
	return 0;
}

void
scope_set_free(struct scope_set *set)
{
	free(set->dev);
	free(set->ino);
	memset(set, 0, sizeof(*set));
}

void
scope_obj_free(struct scope_obj *o)
{
	for (size_t n = 0; n < o->nnames; n++)
		free(o->names[n].rel);
	free(o->names);
	free(o->dss);
}

void
scope_free(struct scope *s)
{
	for (size_t k = 0; k < s->n; k++)
		scope_obj_free(&s->v[k]);
	free(s->v);
	free(s->keys);
	memset(s, 0, sizeof(*s));
}

void
scope_why(const struct scope_obj *o, char *buf, size_t len)
{
	switch (o->verdict) {
	case SV_DESTROY:
		snprintf(buf, len, "destroyed");
		break;
	case SV_OWN:
		snprintf(buf, len, "kept: %s; lethe's own files are never data",
		    o->by_own ? o->by_own : "lethe's own file");
		break;
	case SV_EXEMPT:
		snprintf(buf, len, "kept: de-identified dataset %s",
		    o->by_dataset);
		break;
	case SV_HELD:
		snprintf(buf, len, "kept: dataset %s is held by %s",
		    o->by_dataset, o->by_hold ? o->by_hold : "a hold");
		break;
	case SV_KEPT_OTHER:
		snprintf(buf, len, "kept: agreement %s retains it (dataset %s, "
		    "%s)", o->by_agreement, o->by_dataset, o->by_hold ?
		    o->by_hold : "de-identified");
		break;
	case SV_CONFLICT:
		snprintf(buf, len, "refused: agreement %s's dataset %s also "
		    "matches it, and is not due", o->by_agreement,
		    o->by_dataset);
		break;
	case SV_FOREIGN_KEY:
		snprintf(buf, len, "refused: sealed under agreement %s's key: "
		    "it is that agreement's data, and this disposition cannot "
		    "crypto-erase it", o->by_agreement);
		break;
	case SV_KEY_KEPT:
		snprintf(buf, len, "refused: its key is kept: %s", o->by_own);
		break;
	case SV_LOCKED:
		snprintf(buf, len, "refused: immutable (chattr +i) or "
		    "append-only (chattr +a), itself or its directory: it can "
		    "be neither overwritten nor unlinked; clear the flag "
		    "(chattr -i, chattr -a) to let it be destroyed");
		break;
	default:
		snprintf(buf, len, "refused: %ju hard links, %zu of them in "
		    "this disposition; its data lives on under another name",
		    (uintmax_t)o->nlink, o->nnames);
		break;
	}
}

size_t
scope_nrefused(const struct scope *s)
{
	return s->count[SV_CONFLICT] + s->count[SV_LINKS] +
	    s->count[SV_FOREIGN_KEY] + s->count[SV_KEY_KEPT] +
	    s->count[SV_LOCKED] + s->skipped_mounts + s->matched_dirs;
}

void
scope_refusals(const struct scope *s, char *buf, size_t len)
{
	const struct scope_obj *conflict = NULL, *kept = NULL;
	char part[7][1400];
	int np = 0;
	size_t off;

	buf[0] = '\0';
	if (scope_nrefused(s) == 0)
		return;
	for (size_t k = 0; k < s->n; k++) {
		if (s->v[k].verdict == SV_CONFLICT && conflict == NULL)
			conflict = &s->v[k];
		if (s->v[k].verdict == SV_KEY_KEPT && kept == NULL)
			kept = &s->v[k];
	}
	if (conflict != NULL)
		snprintf(part[np++], sizeof(part[0]), "%zu also matched by "
		    "another agreement's data that is not due (first: agreement "
		    "%s, dataset %s)", s->count[SV_CONFLICT],
		    conflict->by_agreement, conflict->by_dataset);
	if (s->count[SV_LINKS] > 0)
		snprintf(part[np++], sizeof(part[0]), "%zu with a hard link "
		    "outside the disposition", s->count[SV_LINKS]);
	if (s->count[SV_FOREIGN_KEY] > 0)
		snprintf(part[np++], sizeof(part[0]), "%zu sealed under another "
		    "agreement's key", s->count[SV_FOREIGN_KEY]);
	if (kept != NULL)
		snprintf(part[np++], sizeof(part[0]), "%zu sealed under a key "
		    "that must be kept: %.200s", s->count[SV_KEY_KEPT],
		    kept->by_own);
	if (s->count[SV_LOCKED] > 0)
		snprintf(part[np++], sizeof(part[0]), "%zu immutable "
		    "(chattr +i) or append-only (chattr +a)", s->count[SV_LOCKED]);
	if (s->skipped_mounts > 0)
		snprintf(part[np++], sizeof(part[0]), "%zu mount point%s inside "
		    "the datasets (never crossed; add it to allowed_roots or "
		    "unmount it)", s->skipped_mounts,
		    s->skipped_mounts == 1 ? "" : "s");
	if (s->matched_dirs > 0)
		snprintf(part[np++], sizeof(part[0]), "%zu director%s matched "
		    "whose files the glob does not name (first: %.1100s): a "
		    "dataset names files; name them in the glob (DIR/**/*.csv, "
		    "or DIR/** for all it holds)", s->matched_dirs,
		    s->matched_dirs == 1 ? "y" : "ies", s->first_dir);
	off = (size_t)snprintf(buf, len, "%zu refused", scope_nrefused(s));
	for (int i = 0; i < np && off < len; i++) {
		int w = snprintf(buf + off, len - off, "%s%s", i ? ", " : ": ",
		    part[i]);
		off += w > 0 ? (size_t)w : 0;
	}
}
