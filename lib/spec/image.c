#include "spec/image.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REF_CHARS "abcdefghijklmnopqrstuvwxyz0123456789._-/"
#define TAG_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
#define REF_HINT "use docker://[REGISTRY/]REPO[:TAG|@sha256:DIGEST]"

static int valid_digest(const char *d)
{
	return strncmp(d, "sha256:", 7) == 0 && strlen(d + 7) == 64 &&
	       strspn(d + 7, "0123456789abcdef") == 64;
}

int sbx_registry_ref_parse(const char *ref, struct sbx_registry_ref *out, struct sbx_err *err)
{
	const char *p = ref + strlen(SBX_REGISTRY_PREFIX), *slash, *at, *colon;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (strncmp(ref, SBX_REGISTRY_PREFIX, strlen(SBX_REGISTRY_PREFIX)) != 0 || !*p)
		return sbx_err_set(err, 0, REF_HINT, "image '%s': not a registry reference", ref);
	/* The first component is a registry when it looks like a host. */
	slash = strchr(p, '/');
	if (slash && (memchr(p, '.', (size_t)(slash - p)) || memchr(p, ':', (size_t)(slash - p)) ||
		      ((size_t)(slash - p) == 9 && strncmp(p, "localhost", 9) == 0))) {
		len = (size_t)(slash - p);
		if (len >= sizeof(out->host) || strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") < len)
			return sbx_err_set(err, 0, REF_HINT, "image '%s': bad registry name", ref);
		memcpy(out->host, p, len);
		p = slash + 1;
	} else {
		snprintf(out->host, sizeof(out->host), "%s", SBX_DEFAULT_REGISTRY);
	}
	at = strchr(p, '@');
	colon = strrchr(p, ':');
	if (at) {
		if (!valid_digest(at + 1))
			return sbx_err_set(err, 0, "a digest is sha256: and 64 lowercase hex digits",
					   "image '%s': bad digest '%s'", ref, at + 1);
		snprintf(out->digest, sizeof(out->digest), "%s", at + 1);
		len = (size_t)(at - p);
	} else if (colon && !strchr(colon, '/')) {
		if (!colon[1] || strlen(colon + 1) >= sizeof(out->tag) ||
		    strspn(colon + 1, TAG_CHARS) != strlen(colon + 1))
			return sbx_err_set(err, 0, "a tag is up to 128 letters, digits, '.', '_' or '-'",
					   "image '%s': bad tag '%s'", ref, colon + 1);
		snprintf(out->tag, sizeof(out->tag), "%s", colon + 1);
		len = (size_t)(colon - p);
	} else {
		snprintf(out->tag, sizeof(out->tag), "latest");
		len = strlen(p);
	}
	if (len == 0 || len >= sizeof(out->repo) || p[0] == '/' || p[len - 1] == '/' ||
	    strspn(p, REF_CHARS) < len || memmem(p, len, "//", 2) || memmem(p, len, "..", 2))
		return sbx_err_set(err, 0, REF_HINT " (repository names are lowercase)",
				   "image '%s': bad repository name", ref);
	memcpy(out->repo, p, len);
	/* Docker Hub's official images live under library/. */
	if (strcmp(out->host, SBX_DEFAULT_REGISTRY) == 0 && !strchr(out->repo, '/')) {
		char tmp[sizeof(out->repo)];

		if (snprintf(tmp, sizeof(tmp), "library/%s", out->repo) >= (int)sizeof(tmp))
			return sbx_err_set(err, 0, REF_HINT, "image '%s': repository name too long", ref);
		memcpy(out->repo, tmp, sizeof(tmp));
	}
	return 0;
}

int sbx_registry_listed(const struct sbx_strv *list, const char *host)
{
	for (size_t i = 0; i < list->n; i++)
		if (fnmatch(list->v[i], host, 0) == 0)
			return 1;
	return 0;
}

static const char *policy_name(const struct sbx_policy *pol)
{
	return pol->path ? pol->path : "the built-in defaults";
}

/* What a file is, from its first bytes: squashfs ("hsqs"), else an archive
 * for libarchive to read (the helper reports what it cannot read). */
static int sniff_file(const char *path, const char *ref, enum sbx_image_kind *kind,
		      struct sbx_err *err)
{
	unsigned char head[4];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return sbx_err_sys(err, "check the path and its permissions", "image '%s'", ref);
	n = read(fd, head, sizeof(head));
	close(fd);
	if (n < 0)
		return sbx_err_sys(err, NULL, "image '%s'", ref);
	if (n == 4 && memcmp(head, "hsqs", 4) == 0)
		*kind = SBX_IMAGE_SQUASHFS;
	else if (n == 0)
		return sbx_err_set(err, 0, "give a directory, a squashfs file, a tar archive or docker://...",
				   "image '%s': empty file", ref);
	else
		*kind = SBX_IMAGE_ARCHIVE;
	return 0;
}

int sbx_image_resolve(const struct sbx_policy *pol, const char *ref,
		      enum sbx_image_kind *kind, char **resolved, struct sbx_err *err)
{
	struct sbx_registry_ref r;
	struct stat st;
	char *real = NULL;
	int rc = -1;

	*resolved = NULL;
	if (strncmp(ref, SBX_REGISTRY_PREFIX, strlen(SBX_REGISTRY_PREFIX)) == 0) {
		if (sbx_registry_ref_parse(ref, &r, err) < 0)
			return -1;
		if (!sbx_registry_listed(&pol->registries, r.host))
			return sbx_err_set(err, 0, NULL,
					   "image '%s': registry %s is not allowed (images.registries in %s)",
					   ref, r.host, policy_name(pol));
		*kind = SBX_IMAGE_REGISTRY;
		*resolved = strdup(ref);
		return *resolved ? 0 : sbx_err_set(err, ENOMEM, NULL, "out of memory");
	}
	if (strstr(ref, "://"))
		return sbx_err_set(err, 0, "use docker://... for registry images, or a path",
				   "image '%s': unknown transport", ref);
	real = realpath(ref, NULL);
	if (!real || stat(real, &st) < 0) {
		char hint[300];

		/* "ubuntu:22.04" is Pyxis's spelling of a registry image. */
		if (errno == ENOENT && ref[0] != '/' && ref[0] != '.' && strlen(ref) < 200)
			snprintf(hint, sizeof(hint), "check the path; for a registry image write docker://%s", ref);
		else
			snprintf(hint, sizeof(hint), "check the path");
		sbx_err_sys(err, hint, "image '%s'", ref);
		goto out;
	}
	if (!sbx_path_allowed(real, &pol->image_paths)) {
		sbx_err_set(err, 0, NULL,
			    "image '%s': outside the allowed image locations (images.allowed in %s)",
			    real, policy_name(pol));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		struct stat layout;
		int dfd = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);

		/* An OCI layout holds "oci-layout"; a root filesystem does not. */
		*kind = dfd >= 0 && fstatat(dfd, "oci-layout", &layout, AT_SYMLINK_NOFOLLOW) == 0 &&
			S_ISREG(layout.st_mode) ? SBX_IMAGE_OCI_DIR : SBX_IMAGE_DIR;
		if (dfd >= 0)
			close(dfd);
	} else if (S_ISREG(st.st_mode)) {
		if (sniff_file(real, ref, kind, err) < 0)
			goto out;
	} else {
		sbx_err_set(err, 0, "give a directory, a squashfs file, a tar archive or docker://...",
			    "image '%s': not a directory or a regular file", ref);
		goto out;
	}
	*resolved = real;
	real = NULL;
	rc = 0;
out:
	free(real);
	return rc;
}

const char *sbx_image_kind_name(enum sbx_image_kind kind)
{
	switch (kind) {
	case SBX_IMAGE_DIR:
		return "directory";
	case SBX_IMAGE_SQUASHFS:
		return "squashfs";
	case SBX_IMAGE_OCI_DIR:
		return "OCI layout";
	case SBX_IMAGE_ARCHIVE:
		return "archive";
	case SBX_IMAGE_REGISTRY:
		return "registry";
	}
	return "?";
}

void sbx_image_config_free(struct sbx_image_config *cfg)
{
	if (!cfg)
		return;
	sbx_strv_clear(&cfg->env);
	free(cfg->workdir);
	sbx_strv_clear(&cfg->entrypoint);
	sbx_strv_clear(&cfg->cmd);
	memset(cfg, 0, sizeof(*cfg));
}
