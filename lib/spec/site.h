/* What the site adds to every sandbox from its policy: host device nodes
 * ([devices] expose), host files such as driver libraries and tools ([binds]
 * host), either always or only when a variable of the job is set
 * (CUDA_VISIBLE_DEVICES, which Slurm's GRES plugin sets for the task). The
 * policy loader checks each item with sbx_site_item_check; the helper
 * expands them with sbx_site_item_parse. */
#ifndef SBX_SITE_H
#define SBX_SITE_H

enum sbx_site_kind {
	SBX_SITE_DEVICE,        /* "/dev/GLOB" */
	SBX_SITE_DEVICE_IF,     /* "VAR:/dev/GLOB" */
	SBX_SITE_BIND,          /* "SRC[:DST][:ro|:rw]" */
	SBX_SITE_BIND_IF,       /* "VAR:SRC[:DST][:ro|:rw]" */
};

struct sbx_site_item {
	char var[128];          /* "" when unconditional */
	char src[4096];         /* a glob below /dev, or an absolute host path */
	char dst[4096];         /* binds: the destination ("" for devices) */
	int readonly;           /* binds: ":ro" (the default for host files) */
};

/* NULL when item is well formed, else what is wrong with it, for the
 * policy's "FILE:LINE: bad item" message; hint gets how to write it. */
const char *sbx_site_item_check(enum sbx_site_kind kind, const char *item, const char **hint);

/* Split a checked item. Returns 0, or -1 when it is not well formed. */
int sbx_site_item_parse(enum sbx_site_kind kind, const char *item, struct sbx_site_item *out);

/* 1 when the item applies: unconditional, or getenv(var) is set and not
 * empty (Slurm sets CUDA_VISIBLE_DEVICES="" on a node without the GRES in
 * some versions, so empty counts as unset). */
int sbx_site_item_applies(const struct sbx_site_item *it);

#endif
