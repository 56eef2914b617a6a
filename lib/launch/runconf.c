#include "launch/runconf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The records are gathered in memory and written with one write: the
 * sandbox's init writes this file on every start. */
struct out {
	char *data;
	size_t len, cap;
	int failed;
};

static void put(struct out *o, const char *key, const char *value)
{
	size_t klen = strlen(key), vlen = strlen(value), need = klen + 1 + vlen + 1;

	if (o->failed)
		return;
	if (o->len + need > o->cap) {
		size_t cap = o->cap ? o->cap : 1024;
		char *grown;

		while (o->len + need > cap)
			cap *= 2;
		grown = realloc(o->data, cap);
		if (!grown) {
			o->failed = 1;
			return;
		}
		o->data = grown;
		o->cap = cap;
	}
	memcpy(o->data + o->len, key, klen);
	o->data[o->len + klen] = ':';
	memcpy(o->data + o->len + klen + 1, value, vlen + 1);
	o->len += need;
}

static void put_all(struct out *o, const char *key, const struct sbx_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		put(o, key, sv->v[i]);
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int sbx_runconf_write(const struct sbx_plan *plan, const struct sbx_image_config *img, int fd,
		     struct sbx_err *err)
{
	struct out o = { 0 };
	char num[32];
	int rc = 0;

	snprintf(num, sizeof(num), "%" PRIx64, plan->caps);
	put(&o, "caps", num);
	put(&o, "seccomp", plan->seccomp ? "1" : "0");
	put(&o, "clean", plan->env_clean ? "1" : "0");
	if (plan->per_task)
		put(&o, "per_task", "1");
	put_all(&o, "base", &plan->env_base);
	put_all(&o, "image", &img->env);
	put_all(&o, "passthrough", &plan->env_passthrough);
	put_all(&o, "deny", &plan->env_deny);
	put_all(&o, "identity", &plan->env_identity);
	put_all(&o, "user", &plan->env_user);
	if (img->workdir)
		put(&o, "workdir", img->workdir);
	if (plan->entrypoint)
		put_all(&o, "entrypoint", &img->entrypoint);
	put_all(&o, "cmd", &img->cmd);
	if (o.failed)
		rc = sbx_err_set(err, ENOMEM, NULL, "out of memory");
	else if (write_all(fd, o.data, o.len) < 0)
		rc = sbx_err_sys(err, NULL, "write the sandbox config");
	free(o.data);
	return rc;
}

int sbx_runconf_load(const char *path, struct sbx_runconf *c)
{
	struct stat st;
	size_t off = 0;
	int fd, saved;

	c->data = NULL;
	c->len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	c->data = malloc((size_t)st.st_size + 1);
	if (!c->data)
		goto fail;
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, c->data + off, (size_t)st.st_size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	c->data[off] = '\0';
	c->len = off;
	return 0;
fail:
	saved = errno;
	close(fd);
	free(c->data);
	c->data = NULL;
	errno = saved;
	return -1;
}

const char *sbx_runconf_next(const struct sbx_runconf *c, size_t *pos, const char *key)
{
	size_t klen = strlen(key);

	while (*pos < c->len) {
		const char *rec = c->data + *pos;

		*pos += strlen(rec) + 1;
		if (strncmp(rec, key, klen) == 0 && rec[klen] == ':')
			return rec + klen + 1;
	}
	return NULL;
}

const char *sbx_runconf_get(const struct sbx_runconf *c, const char *key)
{
	size_t pos = 0;

	return sbx_runconf_next(c, &pos, key);
}

uint64_t sbx_runconf_caps(const struct sbx_runconf *c)
{
	const char *v = sbx_runconf_get(c, "caps");

	return v ? strtoull(v, NULL, 16) : 0;
}

void sbx_runconf_free(struct sbx_runconf *c)
{
	free(c->data);
	c->data = NULL;
	c->len = 0;
}
