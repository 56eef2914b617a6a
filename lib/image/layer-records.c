/* The layer unpacker's records of what the archives said (path -> mode,
 * uid, gid, mtime, and the layer that last touched it), used by layer.c as
 * it applies entries and by layer-pseudo.c as it writes the pseudo file;
 * and the one way both show an entry's name in a message. */
#include "image/layer-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- records: a chained hash table (path -> attributes) ---- */

static uint64_t hash_path(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

struct rec *sbx_layer_rec_find(struct sbx_unpack_priv *p, const char *path)
{
	uint64_t h = hash_path(path);
	struct rec *r;

	for (r = p->buckets[h & (p->nbuckets - 1)]; r; r = r->next)
		if (r->hash == h && strcmp(r->path, path) == 0)
			return r;
	return NULL;
}

static int rec_grow(struct sbx_unpack_priv *p)
{
	size_t n = p->nbuckets * 2, i;
	struct rec **b = calloc(n, sizeof(*b)), *r, *next;

	if (!b)
		return -1;
	for (i = 0; i < p->nbuckets; i++)
		for (r = p->buckets[i]; r; r = next) {
			next = r->next;
			r->next = b[r->hash & (n - 1)];
			b[r->hash & (n - 1)] = r;
		}
	free(p->buckets);
	p->buckets = b;
	p->nbuckets = n;
	return 0;
}

/* The record of path, created as a plain directory (0755 0 0) when missing. */
struct rec *sbx_layer_rec_get(struct sbx_unpack_priv *p, const char *path)
{
	struct rec *r = sbx_layer_rec_find(p, path);
	size_t len = strlen(path);

	if (r)
		return r;
	if (p->nrecs >= p->nbuckets && rec_grow(p) < 0)
		return NULL;
	r = calloc(1, sizeof(*r) + len + 1);
	if (!r)
		return NULL;
	memcpy(r->path, path, len + 1);
	r->hash = hash_path(path);
	r->mode = S_IFDIR | 0755;
	r->next = p->buckets[r->hash & (p->nbuckets - 1)];
	p->buckets[r->hash & (p->nbuckets - 1)] = r;
	p->nrecs++;
	return r;
}

void sbx_layer_rec_del(struct sbx_unpack_priv *p, const char *path)
{
	struct rec **pp = &p->buckets[hash_path(path) & (p->nbuckets - 1)], *r;

	for (; (r = *pp); pp = &r->next)
		if (strcmp(r->path, path) == 0) {
			*pp = r->next;
			free(r);
			p->nrecs--;
			return;
		}
}

/* Stamp path and every directory above it as written by this layer, so an
 * opaque marker keeps them (their lower-layer contents still go). */
int sbx_layer_rec_stamp(struct sbx_unpack_priv *p, const char *path)
{
	char *buf = strdup(path), *s;
	struct rec *r;
	int rc = -1;

	if (!buf)
		return -1;
	for (s = buf; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		r = sbx_layer_rec_get(p, buf);
		*s = '/';
		if (!r)
			goto out;
		r->stamp = p->stamp;
	}
	if (*buf) {
		r = sbx_layer_rec_get(p, buf);
		if (!r)
			goto out;
		r->stamp = p->stamp;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

int sbx_layer_recs_init(struct sbx_unpack_priv *p)
{
	p->nbuckets = 1 << 14;
	p->buckets = calloc(p->nbuckets, sizeof(*p->buckets));
	return p->buckets ? 0 : -1;
}

void sbx_layer_recs_free(struct sbx_unpack_priv *p)
{
	struct rec *r, *next;
	size_t i;

	for (i = 0; p->buckets && i < p->nbuckets; i++)
		for (r = p->buckets[i]; r; r = next) {
			next = r->next;
			free(r);
		}
	free(p->buckets);
	p->buckets = NULL;
}

/* Names go into one-line messages: control bytes become \xNN. */
void sbx_layer_show(const char *name, char *buf, size_t len)
{
	size_t n = 0;

	for (; *name && n + 8 < len; name++) {
		unsigned char c = (unsigned char)*name;

		if (c < 0x20 || c == 0x7f)
			n += (size_t)snprintf(buf + n, len - n, "\\x%02x", c);
		else
			buf[n++] = (char)c;
	}
	if (*name)
		n += (size_t)snprintf(buf + n, len - n, "...");
	buf[n] = '\0';
}
