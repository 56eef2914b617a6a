/* libFuzzer target: registry image references (lib/spec/image.c), strings
 * only, no filesystem: sbx_registry_ref_parse, sbx_registry_listed, and
 * sbx_image_resolve for docker:// references. The input is tried as given
 * and behind "docker://". */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spec/image.h"
#include "spec/policy.h"

static struct sbx_policy pol;

static void check_ref(const char *ref)
{
	struct sbx_registry_ref r;
	struct sbx_err err = { 0 };
	enum sbx_image_kind kind;
	char *resolved = NULL;

	if (sbx_registry_ref_parse(ref, &r, &err) == 0) {
		/* A parsed reference has a host, a repository and exactly one
		 * of a tag and a digest, each a terminated string. */
		if (!memchr(r.host, '\0', sizeof(r.host)) || !memchr(r.repo, '\0', sizeof(r.repo)) ||
		    !memchr(r.tag, '\0', sizeof(r.tag)) || !memchr(r.digest, '\0', sizeof(r.digest)))
			abort();
		if (!r.host[0] || !r.repo[0] || !r.tag[0] == !r.digest[0])
			abort();
		sbx_registry_listed(&pol.registries, r.host);
	}
	if (strncmp(ref, SBX_REGISTRY_PREFIX, strlen(SBX_REGISTRY_PREFIX)) == 0 &&
	    sbx_image_resolve(&pol, ref, &kind, &resolved, &err) == 0) {
		if (kind != SBX_IMAGE_REGISTRY || !resolved || strcmp(resolved, ref) != 0)
			abort();
	}
	free(resolved);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t plen = strlen(SBX_REGISTRY_PREFIX);
	char *buf;

	if (!pol.registries.n) {
		struct sbx_err err = { 0 };

		if (sbx_policy_init_defaults(&pol, &err) < 0)
			abort();
		sbx_strv_clear(&pol.registries);
		if (sbx_strv_push_list(&pol.registries, "docker.io *.example.org localhost:* [::1]:5000") < 0)
			abort();
	}
	buf = malloc(plen + size + 1);
	if (!buf)
		return 0;
	memcpy(buf, SBX_REGISTRY_PREFIX, plen);
	memcpy(buf + plen, data, size);
	buf[plen + size] = '\0';
	check_ref(buf + plen);
	check_ref(buf);
	free(buf);
	return 0;
}
