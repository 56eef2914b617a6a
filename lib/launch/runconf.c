#include "launch/runconf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int put(int fd, const char *key, const char *value)
{
	size_t klen = strlen(key), vlen = strlen(value);

	if (write(fd, key, klen) != (ssize_t)klen || write(fd, ":", 1) != 1 ||
	    write(fd, value, vlen + 1) != (ssize_t)(vlen + 1))
		return -1;
	return 0;
}

static int put_all(int fd, const char *key, const struct sbx_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		if (put(fd, key, sv->v[i]) < 0)
			return -1;
	return 0;
}

int sbx_runconf_write(const struct sbx_plan *plan, const struct sbx_image_config *img, int fd,
		     struct sbx_err *err)
{
	char num[32];

	snprintf(num, sizeof(num), "%" PRIx64, plan->caps);
	if (put(fd, "caps", num) < 0 || put(fd, "seccomp", plan->seccomp ? "1" : "0") < 0 ||
	    put(fd, "clean", plan->env_clean ? "1" : "0") < 0 ||
	    (plan->per_task && put(fd, "per_task", "1") < 0))
		goto fail;
	if (put_all(fd, "base", &plan->env_base) < 0 || put_all(fd, "image", &img->env) < 0 ||
	    put_all(fd, "passthrough", &plan->env_passthrough) < 0 ||
	    put_all(fd, "deny", &plan->env_deny) < 0 ||
	    put_all(fd, "identity", &plan->env_identity) < 0 || put_all(fd, "user", &plan->env_user) < 0 ||
	    (img->workdir && put(fd, "workdir", img->workdir) < 0) ||
	    (plan->entrypoint && put_all(fd, "entrypoint", &img->entrypoint) < 0) ||
	    put_all(fd, "cmd", &img->cmd) < 0)
		goto fail;
	return 0;
fail:
	return sbx_err_sys(err, NULL, "write the sandbox config");
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
