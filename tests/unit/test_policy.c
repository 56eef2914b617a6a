/* The site policy as an admin writes it: defaults, every key, and the
 * FILE:LINE error an admin sees for each kind of mistake. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spec/policy.h"

#define GIB (UINT64_C(1) << 30)

struct fixture {
	char paths[2][64];        /* temp INI files; "" when unused */
	int n_paths;
	struct sbx_policy pol;    /* starts as the built-in defaults */
	struct sbx_policy defaults;
	struct sbx_err err;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx || sbx_policy_init_defaults(&fx->pol, &fx->err) < 0 ||
	    sbx_policy_init_defaults(&fx->defaults, &fx->err) < 0)
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	for (int i = 0; i < fx->n_paths; i++)
		unlink(fx->paths[i]);
	sbx_policy_free(&fx->pol);
	sbx_policy_free(&fx->defaults);
	free(fx);
	return 0;
}

/* A fresh temp file holding text; removed by teardown. */
static const char *write_conf(struct fixture *fx, const char *text)
{
	char *path;
	size_t len = strlen(text);
	int fd;

	assert_true(fx->n_paths < 2);
	path = fx->paths[fx->n_paths++];
	strcpy(path, "/tmp/sbx-policy-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static void assert_str_or_null(const char *got, const char *want)
{
	if (!got || !want)
		assert_ptr_equal(got, want);
	else
		assert_string_equal(got, want);
}

/* sv holds exactly the blank-separated items of want, in order. */
static void assert_list(const struct sbx_strv *sv, const char *want)
{
	struct sbx_strv w = { 0 };

	assert_int_equal(sbx_strv_push_list(&w, want), 0);
	assert_int_equal(sv->n, w.n);
	for (size_t i = 0; i < w.n; i++)
		assert_string_equal(sv->v[i], w.v[i]);
	sbx_strv_clear(&w);
}

static void assert_strv_same(const struct sbx_strv *a, const struct sbx_strv *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++)
		assert_string_equal(a->v[i], b->v[i]);
}

/* Every setting equal; the file name is compared separately. */
static void assert_same_settings(const struct sbx_policy *a,
				 const struct sbx_policy *b)
{
	assert_strv_same(&a->image_paths, &b->image_paths);
	assert_strv_same(&a->registries, &b->registries);
	assert_strv_same(&a->insecure_registries, &b->insecure_registries);
	assert_str_or_null(a->cache_dir, b->cache_dir);
	assert_int_equal(a->cache_max_size, b->cache_max_size);
	assert_int_equal(a->cache_wait, b->cache_wait);
	assert_int_equal(a->tag_ttl, b->tag_ttl);
	assert_int_equal(a->max_unpacked_size, b->max_unpacked_size);
	assert_str_or_null(a->unpack_dir, b->unpack_dir);
	assert_int_equal(a->unpack_max_size, b->unpack_max_size);
	assert_int_equal(a->unpack_max_age, b->unpack_max_age);
	assert_int_equal(a->entrypoint, b->entrypoint);
	assert_strv_same(&a->kernel_squashfs, &b->kernel_squashfs);
	assert_strv_same(&a->mount_sources, &b->mount_sources);
	assert_int_equal(a->mount_home, b->mount_home);
	assert_int_equal(a->allow_mount_home, b->allow_mount_home);
	assert_int_equal(a->writable, b->writable);
	assert_int_equal(a->allow_writable, b->allow_writable);
	assert_int_equal(a->writable_size, b->writable_size);
	assert_int_equal(a->tmp_size, b->tmp_size);
	assert_int_equal(a->sys, b->sys);
	assert_int_equal(a->tmp, b->tmp);
	assert_int_equal(a->shm, b->shm);
	assert_int_equal(a->slurm_net, b->slurm_net);
	assert_int_equal(a->sandbox_run_net, b->sandbox_run_net);
	assert_int_equal(a->allow_net_host, b->allow_net_host);
	assert_str_or_null(a->hostname, b->hostname);
	assert_int_equal(a->allow_hostname, b->allow_hostname);
	assert_int_equal(a->remap_root, b->remap_root);
	assert_int_equal(a->allow_remap_root, b->allow_remap_root);
	assert_int_equal(a->env_clean, b->env_clean);
	assert_strv_same(&a->env_passthrough, &b->env_passthrough);
	assert_strv_same(&a->env_deny, &b->env_deny);
	assert_int_equal(a->allow_user_env, b->allow_user_env);
	assert_strv_same(&a->capabilities, &b->capabilities);
	assert_int_equal(a->seccomp, b->seccomp);
	assert_strv_same(&a->seccomp_allow, &b->seccomp_allow);
	assert_strv_same(&a->seccomp_deny, &b->seccomp_deny);
	assert_int_equal(a->slurm_client, b->slurm_client);
	assert_strv_same(&a->slurm_client_paths, &b->slurm_client_paths);
	assert_strv_same(&a->dev_expose, &b->dev_expose);
	assert_strv_same(&a->dev_expose_if_set, &b->dev_expose_if_set);
	assert_strv_same(&a->host_binds, &b->host_binds);
	assert_strv_same(&a->host_binds_if_set, &b->host_binds_if_set);
	assert_str_or_null(a->hooks_dir, b->hooks_dir);
}

/* Loading text fails with "FILE:LINE: what" and the policy stays the
 * built-in one. */
static void assert_load_fails(struct fixture *fx, const char *text, int line,
			      const char *what)
{
	const char *path = write_conf(fx, text);
	char want[SBX_ERR_MAX];

	snprintf(want, sizeof(want), "%s:%d: %s", path, line, what);
	assert_int_equal(sbx_policy_load(&fx->pol, path, 1, &fx->err), -1);
	assert_string_equal(fx->err.msg, want);
	assert_null(fx->pol.path);
	assert_same_settings(&fx->pol, &fx->defaults);
}

static void load_ok(struct fixture *fx, const char *text)
{
	const char *path = write_conf(fx, text);

	if (sbx_policy_load(&fx->pol, path, 1, &fx->err) != 0)
		fail_msg("%s", fx->err.msg);
	assert_string_equal(fx->pol.path, path);
}

static void defaults_are_the_documented_ones(void **state)
{
	struct sbx_policy *p = &((struct fixture *)*state)->pol;

	assert_null(p->path);
	assert_list(&p->image_paths, "/");
	assert_list(&p->registries, "*");
	assert_int_equal(p->insecure_registries.n, 0);
	assert_null(p->cache_dir);
	assert_int_equal(p->cache_max_size, 20 * GIB);
	assert_int_equal(p->cache_wait, 600);
	assert_int_equal(p->tag_ttl, 60);
	assert_int_equal(p->max_unpacked_size, 64 * GIB);
	assert_int_equal(p->entrypoint, 0);
	assert_list(&p->mount_sources, "/");
	assert_int_equal(p->mount_home, 0);
	assert_int_equal(p->allow_mount_home, 1);
	assert_int_equal(p->writable, 0);
	assert_int_equal(p->allow_writable, 1);
	assert_int_equal(p->writable_size, GIB);
	assert_int_equal(p->tmp_size, GIB);
	assert_int_equal(p->sys, SBX_SYS_RO);
	assert_int_equal(p->tmp, SBX_SHARE_PRIVATE);
	assert_int_equal(p->shm, SBX_SHARE_PRIVATE);
	assert_int_equal(p->slurm_net, SBX_NET_HOST);
	assert_int_equal(p->sandbox_run_net, SBX_NET_NONE);
	assert_int_equal(p->allow_net_host, 1);
	assert_null(p->hostname);
	assert_int_equal(p->allow_hostname, 1);
	assert_int_equal(p->remap_root, 0);
	assert_int_equal(p->allow_remap_root, 1);
	assert_int_equal(p->env_clean, 0);
	assert_int_equal(p->env_deny.n, 0);
	assert_list(&p->env_passthrough,
		    "TERM LANG LANGUAGE LC_* TZ SLURM_* SLURMD_* PMI_* PMIX_* OMPI_* "
		    "I_MPI_* CUDA_VISIBLE_DEVICES NVIDIA_VISIBLE_DEVICES "
		    "OMP_NUM_THREADS TMPDIR");
	assert_int_equal(p->allow_user_env, 1);
	assert_int_equal(p->capabilities.n, 0);
	assert_int_equal(p->seccomp, 1);
	assert_int_equal(p->seccomp_allow.n, 0);
	assert_int_equal(p->seccomp_deny.n, 0);
	assert_int_equal(p->slurm_client, 1);
	assert_list(&p->slurm_client_paths, "/run/munge");
}

static void no_file_at_the_default_path_means_builtin_defaults(void **state)
{
	struct fixture *fx = *state;
	struct sbx_policy pol = { 0 };

	assert_int_equal(sbx_policy_load(&pol, "/nonexistent/slurm/sandbox.conf",
					 0, &fx->err), 0);
	assert_null(pol.path);
	assert_same_settings(&pol, &fx->defaults);
	sbx_policy_free(&pol);
}

static void a_missing_config_file_named_by_the_user_is_refused(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(sbx_policy_load(&fx->pol, "/nonexistent/my.conf", 1,
					 &fx->err), -1);
	assert_string_equal(fx->err.msg,
			    "config /nonexistent/my.conf: No such file or directory "
			    "(pass an existing file to --config)");
	assert_same_settings(&fx->pol, &fx->defaults);
}

static void a_directory_as_config_is_refused(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(sbx_policy_load(&fx->pol, "/tmp", 1, &fx->err), -1);
	assert_string_equal(fx->err.msg, "config /tmp: Is a directory");
	assert_same_settings(&fx->pol, &fx->defaults);
}

/* The shipped example, found from the source tree or build/tests/unit. */
static const char *example_conf(void)
{
	static const char *const candidates[] = {
		"conf/sandbox.conf", "../conf/sandbox.conf", "../../conf/sandbox.conf",
		"../../../conf/sandbox.conf", NULL,
	};

	for (int i = 0; candidates[i]; i++)
		if (access(candidates[i], R_OK) == 0)
			return candidates[i];
	fail_msg("conf/sandbox.conf not found; run from the source tree");
	return NULL;
}

static int count_key(void *user, const char *section, const char *name,
		     const char *value)
{
	struct sbx_strv *seen = user;
	char key[128];

	(void)value;
	snprintf(key, sizeof(key), "%s.%s", section, name);
	return sbx_strv_contains(seen, key) || sbx_strv_push(seen, key) == 0;
}

static void the_example_config_shows_every_key_at_its_default(void **state)
{
	struct fixture *fx = *state;
	const char *path = example_conf();
	struct sbx_strv seen = { 0 };

	if (sbx_policy_load(&fx->pol, path, 1, &fx->err) != 0)
		fail_msg("%s", fx->err.msg);
	assert_same_settings(&fx->pol, &fx->defaults);

	assert_int_equal(ini_parse(path, count_key, &seen), 0);
	assert_list(&seen,
		    "images.allowed images.registries images.insecure_registries "
		    "images.cache_dir images.cache_max_size images.cache_wait images.tag_ttl "
		    "images.max_unpacked_size images.unpack_dir images.unpack_max_size "
		    "images.unpack_max_age images.entrypoint images.kernel_squashfs "
		    "mounts.allowed_sources mounts.mount_home "
		    "mounts.allow_mount_home rootfs.writable rootfs.allow_writable "
		    "rootfs.writable_size rootfs.tmp_size rootfs.sys rootfs.tmp "
		    "rootfs.shm namespaces.slurm_net namespaces.sandbox_run_net namespaces.allow_net_host "
		    "namespaces.hostname namespaces.allow_hostname "
		    "namespaces.remap_root namespaces.allow_remap_root "
		    "environment.mode environment.passthrough environment.deny "
		    "environment.allow_user_env security.capabilities "
		    "security.seccomp security.seccomp_allow security.seccomp_deny "
		    "cgroups.memory cgroups.max_memory cgroups.swap cgroups.memory_high "
		    "cgroups.cpus cgroups.max_cpus cgroups.pids cgroups.max_pids "
		    "cgroups.when_unavailable cgroups.parent slurm.client slurm.client_paths devices.expose devices.expose_if_set "
		    "binds.host binds.host_if_set hooks.dir");
	sbx_strv_clear(&seen);
}

static void the_slurm_client_keys_are_read(void **state)
{
	struct fixture *fx = *state;

	load_ok(fx, "[slurm]\nclient = no\nclient_paths = /var/run/munge /opt/slurm/etc\n");
	assert_int_equal(fx->pol.slurm_client, 0);
	assert_list(&fx->pol.slurm_client_paths, "/var/run/munge /opt/slurm/etc");
}

static void the_cgroup_keys_are_read(void **state)
{
	struct fixture *fx = *state;

	load_ok(fx, "[cgroups]\nmemory = 512M\nmax_memory = 4G\nswap = 0B\n"
		    "cpus = 1.5\nmax_cpus = 4\npids = 256\nmax_pids = 4096\n"
		    "when_unavailable = error\nparent = /sandbox.slice\n");
	assert_int_equal(fx->pol.cg_memory, 512ULL << 20);
	assert_int_equal(fx->pol.cg_max_memory, 4ULL << 30);
	assert_int_equal(fx->pol.cg_swap, 0);
	assert_int_equal(fx->pol.cg_swap_set, 1);
	assert_int_equal(fx->pol.cg_cpus, 1500);
	assert_int_equal(fx->pol.cg_max_cpus, 4000);
	assert_int_equal(fx->pol.cg_pids, 256);
	assert_int_equal(fx->pol.cg_max_pids, 4096);
	assert_int_equal(fx->pol.cg_required, 1);
	assert_string_equal(fx->pol.cg_parent, "/sandbox.slice");
}

static void the_image_keys_are_read(void **state)
{
	struct fixture *fx = *state;

	load_ok(fx, "[images]\nregistries = registry.example.org, *.hpc.example.org:5000\n"
		    "insecure_registries = 127.0.0.1:5000\ncache_dir = /var/cache//sbx/\n"
		    "cache_max_size = 100G\ncache_wait = 30\ntag_ttl = \nmax_unpacked_size = 8G\n"
		    "entrypoint = yes\nkernel_squashfs = /opt/images\n");
	assert_list(&fx->pol.registries, "registry.example.org *.hpc.example.org:5000");
	assert_list(&fx->pol.insecure_registries, "127.0.0.1:5000");
	assert_string_equal(fx->pol.cache_dir, "/var/cache/sbx");
	assert_int_equal(fx->pol.cache_max_size, 100ULL << 30);
	assert_int_equal(fx->pol.cache_wait, 30);
	assert_int_equal(fx->pol.tag_ttl, 0);
	assert_int_equal(fx->pol.max_unpacked_size, 8ULL << 30);
	assert_int_equal(fx->pol.entrypoint, 1);
	assert_list(&fx->pol.kernel_squashfs, "/opt/images");
}

static void the_site_keys_are_read(void **state)
{
	struct fixture *fx = *state;

	load_ok(fx, "[devices]\nexpose = /dev/fuse /dev/infiniband/*\n"
		    "expose_if_set = CUDA_VISIBLE_DEVICES:/dev/nvidia*\n"
		    "[binds]\nhost = /usr/bin/nvidia-smi /opt/lib:/usr/lib/site:rw\n"
		    "host_if_set = SLURM_JOB_GPUS:/usr/lib/libcuda.so.1\n[hooks]\ndir = /etc/slurm//hooks/\n");
	assert_list(&fx->pol.dev_expose, "/dev/fuse /dev/infiniband/*");
	assert_list(&fx->pol.dev_expose_if_set, "CUDA_VISIBLE_DEVICES:/dev/nvidia*");
	assert_list(&fx->pol.host_binds, "/usr/bin/nvidia-smi /opt/lib:/usr/lib/site:rw");
	assert_list(&fx->pol.host_binds_if_set, "SLURM_JOB_GPUS:/usr/lib/libcuda.so.1");
	assert_string_equal(fx->pol.hooks_dir, "/etc/slurm/hooks");
}

static void a_device_glob_outside_dev_is_refused(void **state)
{
	assert_load_fails(*state, "[devices]\nexpose = /dev/../etc/*\n", 2,
			  "bad item '/dev/../etc/*' in devices.expose (use globs of device nodes "
			  "below /dev, such as /dev/nvidia*)");
}

static void a_conditional_item_without_its_variable_is_refused(void **state)
{
	assert_load_fails(*state, "[binds]\nhost_if_set = /usr/lib/libcuda.so.1\n", 2,
			  "bad item '/usr/lib/libcuda.so.1' in binds.host_if_set (use "
			  "VARIABLE:SRC[:DST][:ro|:rw] with absolute paths without '..')");
}

static void a_bad_registry_name_is_refused(void **state)
{
	assert_load_fails(*state, "[images]\nregistries = https://evil/\n", 2,
			  "bad registry 'https://evil/' in images.registries (use host names or "
			  "host:port, globs allowed (registry.example.org, *.example.org))");
}

static void a_relative_cache_dir_is_refused(void **state)
{
	assert_load_fails(*state, "[images]\ncache_dir = cache\n", 2,
			  "relative path 'cache' in images.cache_dir (use an absolute directory, "
			  "or nothing for the default)");
}

static void a_zero_cpu_count_is_refused(void **state)
{
	assert_load_fails(*state, "[cgroups]\ncpus = 0\n", 2,
			  "bad CPU count '0' for cgroups.cpus (use a CPU count such as 2 or 0.5, "
			  "or nothing for no limit)");
}

static void a_negative_pids_count_is_refused(void **state)
{
	assert_load_fails(*state, "[cgroups]\npids = -3\n", 2,
			  "bad count '-3' for cgroups.pids (use a whole number above 0, "
			  "or nothing for no limit)");
}

static void an_unknown_when_unavailable_is_refused(void **state)
{
	assert_load_fails(*state, "[cgroups]\nwhen_unavailable = maybe\n", 2,
			  "bad value 'maybe' for cgroups.when_unavailable (use error or warn)");
}

static void a_relative_cgroup_parent_is_refused(void **state)
{
	assert_load_fails(*state, "[cgroups]\nparent = sandbox\n", 2,
			  "bad cgroup path 'sandbox' for cgroups.parent (use a cgroup path such as "
			  "/sandbox.slice)");
}

static void every_key_is_read(void **state)
{
	struct fixture *fx = *state;
	struct sbx_policy *p = &fx->pol;

	load_ok(fx,
		"[images]\n"
		"allowed = /srv/images, /scratch/images\n"
		"[mounts]\n"
		"allowed_sources = /home /scratch\n"
		"mount_home = yes\n"
		"allow_mount_home = no\n"
		"[rootfs]\n"
		"writable = yes\n"
		"allow_writable = no\n"
		"writable_size = 512M\n"
		"tmp_size = 2G\n"
		"sys = none\n"
		"tmp = host\n"
		"shm = host\n"
		"[namespaces]\n"
		"net = host\n"
		"allow_net_host = no\n"
		"hostname = sandbox.example.org\n"
		"allow_hostname = no\n"
		"remap_root = yes\n"
		"allow_remap_root = no\n"
		"[environment]\n"
		"mode = clean\n"
		"passthrough = HOME PATH\n"
		"deny = AWS_* *_TOKEN\n"
		"allow_user_env = no\n"
		"[security]\n"
		"capabilities = CAP_SYS_PTRACE\n"
		"seccomp = no\n"
		"seccomp_allow = ptrace\n"
		"seccomp_deny = mount, umount2\n");
	assert_list(&p->image_paths, "/srv/images /scratch/images");
	assert_list(&p->mount_sources, "/home /scratch");
	assert_int_equal(p->mount_home, 1);
	assert_int_equal(p->allow_mount_home, 0);
	assert_int_equal(p->writable, 1);
	assert_int_equal(p->allow_writable, 0);
	assert_int_equal(p->writable_size, 512 << 20);
	assert_int_equal(p->tmp_size, 2 * GIB);
	assert_int_equal(p->sys, SBX_SYS_NONE);
	assert_int_equal(p->tmp, SBX_SHARE_HOST);
	assert_int_equal(p->shm, SBX_SHARE_HOST);
	assert_int_equal(p->slurm_net, SBX_NET_HOST);
	assert_int_equal(p->sandbox_run_net, SBX_NET_HOST);
	assert_int_equal(p->allow_net_host, 0);
	assert_string_equal(p->hostname, "sandbox.example.org");
	assert_int_equal(p->allow_hostname, 0);
	assert_int_equal(p->remap_root, 1);
	assert_int_equal(p->allow_remap_root, 0);
	assert_int_equal(p->env_clean, 1);
	assert_list(&p->env_passthrough, "HOME PATH");
	assert_list(&p->env_deny, "AWS_* *_TOKEN");
	assert_int_equal(p->allow_user_env, 0);
	assert_list(&p->capabilities, "CAP_SYS_PTRACE");
	assert_int_equal(p->seccomp, 0);
	assert_list(&p->seccomp_allow, "ptrace");
	assert_list(&p->seccomp_deny, "mount umount2");
}

static void a_list_key_replaces_the_default_list(void **state)
{
	struct fixture *fx = *state;

	load_ok(fx, "[environment]\npassthrough = SLURM_*\n");
	assert_list(&fx->pol.env_passthrough, "SLURM_*");
}

static void an_indented_line_continues_a_list(void **state)
{
	struct fixture *fx = *state;

	load_ok(fx, "[environment]\n"
		    "passthrough = TERM LANG\n"
		    "  ; a comment inside the list\n"
		    "    SLURM_*, TERM\n"
		    "mode = clean\n");
	assert_list(&fx->pol.env_passthrough, "TERM LANG SLURM_*");
}

static void an_empty_list_allows_nothing(void **state)
{
	struct fixture *fx = *state;

	load_ok(fx, "[mounts]\nallowed_sources =\n");
	assert_int_equal(fx->pol.mount_sources.n, 0);
	assert_false(sbx_path_allowed("/home/alice", &fx->pol.mount_sources));
}

static void list_paths_are_normalised(void **state)
{
	struct fixture *fx = *state;

	load_ok(fx, "[images]\nallowed = /srv//images/ /scratch/./x ///\n");
	assert_list(&fx->pol.image_paths, "/srv/images /scratch/x /");
}

static void capability_names_are_normalised(void **state)
{
	struct fixture *fx = *state;

	load_ok(fx, "[security]\n"
		    "capabilities = sys_ptrace, Cap_Net_Admin CAP_CHOWN cap_sys_ptrace\n");
	assert_list(&fx->pol.capabilities, "CAP_SYS_PTRACE CAP_NET_ADMIN CAP_CHOWN");
}

static void each_front_end_has_its_own_network_default(void **state)
{
	struct fixture *fx = *state;

	load_ok(fx, "[namespaces]\nslurm_net = none\nsandbox_run_net = host\n");
	assert_int_equal(fx->pol.slurm_net, SBX_NET_NONE);
	assert_int_equal(fx->pol.sandbox_run_net, SBX_NET_HOST);
}

static void net_sets_both_front_ends_in_the_files_order(void **state)
{
	struct fixture *fx = *state;

	/* A later per-front-end key wins over net, and net over an earlier one. */
	load_ok(fx, "[namespaces]\nsandbox_run_net = host\nnet = none\nslurm_net = host\n");
	assert_int_equal(fx->pol.slurm_net, SBX_NET_HOST);
	assert_int_equal(fx->pol.sandbox_run_net, SBX_NET_NONE);
}

static void booleans_and_choices_take_any_case(void **state)
{
	struct fixture *fx = *state;

	load_ok(fx, "[rootfs]\nwritable = TRUE\nallow_writable = Off\n"
		    "sys = NONE\n[namespaces]\nnet = Host\n");
	assert_int_equal(fx->pol.writable, 1);
	assert_int_equal(fx->pol.allow_writable, 0);
	assert_int_equal(fx->pol.sys, SBX_SYS_NONE);
	assert_int_equal(fx->pol.slurm_net, SBX_NET_HOST);
	assert_int_equal(fx->pol.sandbox_run_net, SBX_NET_HOST);
}

static void an_empty_hostname_keeps_the_hosts(void **state)
{
	struct fixture *fx = *state;

	load_ok(fx, "[namespaces]\nhostname = node\nhostname =\n");
	assert_null(fx->pol.hostname);
}

static void comments_may_follow_a_value_after_a_semicolon(void **state)
{
	struct fixture *fx = *state;

	load_ok(fx, "# site policy\n; for the lab\n[rootfs]\n"
		    "tmp_size = 4G ; big jobs\n");
	assert_int_equal(fx->pol.tmp_size, 4 * GIB);
}

static void an_unknown_section_is_refused(void **state)
{
	/* Reported at the heading, not at its first key. */
	assert_load_fails(*state, "[rootfs]\nwritable = no\n[bogus]\nfoo = 1\n", 3,
			  "unknown section [bogus] (use images, mounts, rootfs, "
			  "namespaces, environment, security, cgroups, devices, binds or hooks)");
}

static void an_empty_misspelled_section_is_refused(void **state)
{
	assert_load_fails(*state, "[rootfss]\n[rootfs]\nwritable = no\n", 1,
			  "unknown section [rootfss] (use images, mounts, rootfs, "
			  "namespaces, environment, security, cgroups, devices, binds or hooks)");
}

static void an_unknown_key_is_refused(void **state)
{
	assert_load_fails(*state, "\n[rootfs]\nfoo = 1\n", 3,
			  "unknown key 'foo' in [rootfs] "
			  "(see docs/policy.md for the keys)");
}

static void a_key_outside_any_section_is_refused(void **state)
{
	assert_load_fails(*state, "writable = yes\n[rootfs]\n", 1,
			  "key 'writable' outside any section "
			  "(put it under a [section] heading)");
}

static void a_bad_boolean_is_refused(void **state)
{
	assert_load_fails(*state, "[namespaces]\n\n\n\nallow_net_host = maybe\n", 5,
			  "bad value 'maybe' for namespaces.allow_net_host "
			  "(use yes or no)");
}

static void a_bad_choice_is_refused(void **state)
{
	assert_load_fails(*state, "[namespaces]\nnet = bridge\n", 2,
			  "bad value 'bridge' for namespaces.net (use none or host)");
}

static void the_environment_mode_is_inherit_or_clean(void **state)
{
	struct fixture *fx = *state;

	load_ok(fx, "[environment]\nmode = clean\n");
	assert_int_equal(fx->pol.env_clean, 1);
	load_ok(fx, "[environment]\nmode = Inherit\n");
	assert_int_equal(fx->pol.env_clean, 0);
}

static void a_bad_environment_mode_is_refused(void **state)
{
	assert_load_fails(*state, "[environment]\nmode = empty\n", 2,
			  "bad value 'empty' for environment.mode (use inherit or clean)");
}

static void the_old_clean_key_names_its_replacement(void **state)
{
	assert_load_fails(*state, "[environment]\nclean = yes\n", 2,
			  "key 'clean' in [environment] is now 'mode' (write mode = clean, "
			  "or mode = inherit for the job's whole environment)");
}

static void a_deny_list_takes_names_and_globs_only(void **state)
{
	assert_load_fails(*state, "[environment]\ndeny = AWS_* FOO=1\n", 2,
			  "bad name 'FOO=1' in environment.deny "
			  "(use variable names or globs such as SLURM_*)");
}

static void bad_sizes_are_refused(void **state)
{
	static const char *const bad[] = { "lots", "1.5G", "-1", "12X", "G",
					   "99999999999999999999", NULL };
	struct fixture *fx = *state;

	for (int i = 0; bad[i]; i++) {
		char text[128], what[256];

		snprintf(text, sizeof(text), "[rootfs]\nwritable_size = %s\n", bad[i]);
		snprintf(what, sizeof(what), "bad size '%s' for rootfs.writable_size "
			 "(use a number with an optional K, M, G or T suffix)", bad[i]);
		fx->n_paths = 0;
		assert_load_fails(fx, text, 2, what);
		unlink(fx->paths[0]);
	}
}

static void a_zero_size_is_refused(void **state)
{
	assert_load_fails(*state, "[rootfs]\ntmp_size = 0\n", 2,
			  "bad size '0' for rootfs.tmp_size (use a size greater than 0)");
}

static void a_relative_image_directory_is_refused(void **state)
{
	assert_load_fails(*state, "[images]\nallowed = /srv/images, images\n", 2,
			  "relative path 'images' in images.allowed "
			  "(use an absolute directory)");
}

static void a_relative_mount_source_is_refused(void **state)
{
	assert_load_fails(*state, "[mounts]\nallowed_sources = ./data\n", 2,
			  "relative path './data' in mounts.allowed_sources "
			  "(use an absolute directory)");
}

static void a_dotdot_in_a_list_path_is_refused(void **state)
{
	assert_load_fails(*state, "[mounts]\nallowed_sources = /home/../etc\n", 2,
			  "path '/home/../etc' in mounts.allowed_sources has a '..' "
			  "component (write the path without '..')");
}

static void an_unknown_capability_is_refused(void **state)
{
	assert_load_fails(*state, "[security]\ncapabilities = CAP_SYS_PTRACE cap_bogus\n", 2,
			  "unknown capability 'cap_bogus' in security.capabilities "
			  "(use names from capabilities(7), such as CAP_SYS_PTRACE)");
}

static void a_capability_number_is_refused(void **state)
{
	assert_load_fails(*state, "[security]\ncapabilities = 21\n", 2,
			  "unknown capability '21' in security.capabilities "
			  "(use names from capabilities(7), such as CAP_SYS_PTRACE)");
}

static void an_unknown_syscall_is_refused(void **state)
{
	assert_load_fails(*state, "[security]\nseccomp_allow = ptrace\nseccomp_deny = frobnicate\n", 3,
			  "unknown system call 'frobnicate' in security.seccomp_deny "
			  "(use names from syscalls(2), such as ptrace)");
}

static void a_bad_variable_name_is_refused(void **state)
{
	assert_load_fails(*state, "[environment]\npassthrough = TERM FOO=1\n", 2,
			  "bad name 'FOO=1' in environment.passthrough "
			  "(use variable names or globs such as SLURM_*)");
}

static void bad_hostnames_are_refused(void **state)
{
	static const char *const bad[] = {
		"-node", "my_node", "node:1",
		"a12345678901234567890123456789012345678901234567890123456789012345",
		NULL,
	};
	struct fixture *fx = *state;

	for (int i = 0; bad[i]; i++) {
		char text[256], what[256];

		snprintf(text, sizeof(text), "[namespaces]\nhostname = %s\n", bad[i]);
		snprintf(what, sizeof(what), "bad hostname '%s' for namespaces.hostname "
			 "(use 1-64 letters, digits, '.' or '-', not starting with '-')",
			 bad[i]);
		fx->n_paths = 0;
		assert_load_fails(fx, text, 2, what);
		unlink(fx->paths[0]);
	}
}

static void a_64_character_hostname_is_accepted(void **state)
{
	struct fixture *fx = *state;

	load_ok(fx, "[namespaces]\nhostname = "
		    "a123456789012345678901234567890123456789012345678901234567890123\n");
	assert_int_equal(strlen(fx->pol.hostname), 64);
}

static void a_line_without_equals_is_a_syntax_error(void **state)
{
	assert_load_fails(*state, "[rootfs]\nwritable\n", 2,
			  "syntax error (use [section] headings and key = value lines)");
}

static void an_unclosed_heading_is_a_syntax_error(void **state)
{
	assert_load_fails(*state, "# policy\n[rootfs\nwritable = no\n", 2,
			  "syntax error (use [section] headings and key = value lines)");
}

/* "[environment]" then a passthrough line of exactly len characters. */
static void long_line_conf(char *text, size_t size, int len)
{
	int n = snprintf(text, size, "[environment]\npassthrough = ");

	memset(text + n, 'A', (size_t)(len - 14));
	strcpy(text + n + len - 14, "\n");
}

static void a_line_of_197_characters_fits(void **state)
{
	struct fixture *fx = *state;
	char text[512];

	long_line_conf(text, sizeof(text), 197);
	load_ok(fx, text);
	assert_int_equal(strlen(fx->pol.env_passthrough.v[0]), 197 - 14);
}

static void a_longer_line_is_refused(void **state)
{
	char text[512];

	long_line_conf(text, sizeof(text), 198);
	assert_load_fails(*state, text, 2,
			  "line longer than 197 characters "
			  "(continue a long list on indented lines)");
}

static void dos_line_endings_are_accepted(void **state)
{
	struct fixture *fx = *state;

	load_ok(fx, "[rootfs]\r\nwritable = yes\r\n\r\nsys = none\r\n");
	assert_int_equal(fx->pol.writable, 1);
	assert_int_equal(fx->pol.sys, SBX_SYS_NONE);
}

static void only_the_first_error_is_reported(void **state)
{
	assert_load_fails(*state,
			  "; comments and blank lines count\n\n"
			  "[rootfs]\n"
			  "writable = yes\n"
			  "tmp_size = huge\n"
			  "sys = rw\n"
			  "[bogus]\n", 5,
			  "bad size 'huge' for rootfs.tmp_size "
			  "(use a number with an optional K, M, G or T suffix)");
}

static void a_syntax_error_before_a_bad_value_comes_first(void **state)
{
	assert_load_fails(*state, "[rootfs]\noops\nwritable = maybe\n", 2,
			  "syntax error (use [section] headings and key = value lines)");
}

static void a_failed_load_keeps_the_previous_policy(void **state)
{
	struct fixture *fx = *state;
	const char *good = write_conf(fx, "[namespaces]\nnet = host\n"
				      "[environment]\npassthrough = FOO\n");
	const char *bad = write_conf(fx, "[namespaces]\nnet = none\nhostname = x\n"
				     "[environment]\npassthrough = BAR\n"
				     "[rootfs]\nwritable = perhaps\n");
	struct sbx_policy expected = { 0 };

	assert_int_equal(sbx_policy_load(&fx->pol, good, 1, &fx->err), 0);
	assert_int_equal(sbx_policy_load(&expected, good, 1, &fx->err), 0);
	assert_int_equal(sbx_policy_load(&fx->pol, bad, 1, &fx->err), -1);
	assert_string_equal(fx->pol.path, good);
	assert_same_settings(&fx->pol, &expected);
	assert_int_equal(fx->pol.sandbox_run_net, SBX_NET_HOST);
	assert_list(&fx->pol.env_passthrough, "FOO");
	sbx_policy_free(&expected);
}

static void free_is_safe_twice_and_on_a_zeroed_policy(void **state)
{
	struct sbx_policy pol = { 0 };

	(void)state;
	sbx_policy_free(&pol);
	assert_int_equal(sbx_policy_init_defaults(&pol, NULL), 0);
	sbx_policy_free(&pol);
	sbx_policy_free(&pol);
	assert_null(pol.image_paths.v);
	sbx_policy_free(NULL);
}

static void booleans_have_eight_spellings(void **state)
{
	(void)state;
	assert_int_equal(sbx_parse_bool("yes"), 1);
	assert_int_equal(sbx_parse_bool("true"), 1);
	assert_int_equal(sbx_parse_bool("on"), 1);
	assert_int_equal(sbx_parse_bool("1"), 1);
	assert_int_equal(sbx_parse_bool("YES"), 1);
	assert_int_equal(sbx_parse_bool("no"), 0);
	assert_int_equal(sbx_parse_bool("false"), 0);
	assert_int_equal(sbx_parse_bool("off"), 0);
	assert_int_equal(sbx_parse_bool("0"), 0);
	assert_int_equal(sbx_parse_bool("No"), 0);
	assert_int_equal(sbx_parse_bool("maybe"), -1);
	assert_int_equal(sbx_parse_bool(""), -1);
	assert_int_equal(sbx_parse_bool("yes "), -1);
	assert_int_equal(sbx_parse_bool("2"), -1);
	assert_int_equal(sbx_parse_bool(NULL), -1);
}

static void a_directory_contains_itself_and_what_is_below(void **state)
{
	(void)state;
	assert_true(sbx_path_within("/home", "/home"));
	assert_true(sbx_path_within("/home/x", "/home"));
	assert_true(sbx_path_within("/home/x/y", "/home"));
	assert_true(sbx_path_within("/home/x", "/home/"));
	assert_false(sbx_path_within("/homer", "/home"));
	assert_false(sbx_path_within("/hom", "/home"));
	assert_false(sbx_path_within("/", "/home"));
	assert_false(sbx_path_within("/etc/passwd", "/home"));
	assert_true(sbx_path_within("/", "/"));
	assert_true(sbx_path_within("/anything/at/all", "/"));
	assert_false(sbx_path_within("home/x", "/"));
	assert_false(sbx_path_within(NULL, "/"));
	assert_false(sbx_path_within("/home", NULL));
}

static void a_path_is_allowed_inside_any_listed_directory(void **state)
{
	struct sbx_strv dirs = { 0 };

	(void)state;
	assert_false(sbx_path_allowed("/home/alice", &dirs));
	assert_int_equal(sbx_strv_push_list(&dirs, "/srv/images /scratch"), 0);
	assert_true(sbx_path_allowed("/srv/images/centos", &dirs));
	assert_true(sbx_path_allowed("/scratch", &dirs));
	assert_false(sbx_path_allowed("/srv/imagesX", &dirs));
	assert_false(sbx_path_allowed("/home/alice", &dirs));
	assert_int_equal(sbx_strv_push(&dirs, "/"), 0);
	assert_true(sbx_path_allowed("/home/alice", &dirs));
	assert_false(sbx_path_allowed("/home/alice", NULL));
	sbx_strv_clear(&dirs);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(defaults_are_the_documented_ones),
		T(no_file_at_the_default_path_means_builtin_defaults),
		T(a_missing_config_file_named_by_the_user_is_refused),
		T(a_directory_as_config_is_refused),
		T(the_example_config_shows_every_key_at_its_default),
		T(every_key_is_read),
		T(the_image_keys_are_read),
		T(the_site_keys_are_read),
		T(a_device_glob_outside_dev_is_refused),
		T(a_conditional_item_without_its_variable_is_refused),
		T(a_bad_registry_name_is_refused),
		T(a_relative_cache_dir_is_refused),
		T(a_list_key_replaces_the_default_list),
		T(an_indented_line_continues_a_list),
		T(an_empty_list_allows_nothing),
		T(list_paths_are_normalised),
		T(capability_names_are_normalised),
		T(each_front_end_has_its_own_network_default),
		T(net_sets_both_front_ends_in_the_files_order),
		T(booleans_and_choices_take_any_case),
		T(an_empty_hostname_keeps_the_hosts),
		T(comments_may_follow_a_value_after_a_semicolon),
		T(the_cgroup_keys_are_read),
		T(the_slurm_client_keys_are_read),
		T(a_zero_cpu_count_is_refused),
		T(a_negative_pids_count_is_refused),
		T(an_unknown_when_unavailable_is_refused),
		T(a_relative_cgroup_parent_is_refused),
		T(an_unknown_section_is_refused),
		T(an_empty_misspelled_section_is_refused),
		T(an_unknown_key_is_refused),
		T(a_key_outside_any_section_is_refused),
		T(a_bad_boolean_is_refused),
		T(a_bad_choice_is_refused),
		T(the_environment_mode_is_inherit_or_clean),
		T(a_bad_environment_mode_is_refused),
		T(the_old_clean_key_names_its_replacement),
		T(a_deny_list_takes_names_and_globs_only),
		T(bad_sizes_are_refused),
		T(a_zero_size_is_refused),
		T(a_relative_image_directory_is_refused),
		T(a_relative_mount_source_is_refused),
		T(a_dotdot_in_a_list_path_is_refused),
		T(an_unknown_capability_is_refused),
		T(a_capability_number_is_refused),
		T(an_unknown_syscall_is_refused),
		T(a_bad_variable_name_is_refused),
		T(bad_hostnames_are_refused),
		T(a_64_character_hostname_is_accepted),
		T(a_line_without_equals_is_a_syntax_error),
		T(an_unclosed_heading_is_a_syntax_error),
		T(a_line_of_197_characters_fits),
		T(a_longer_line_is_refused),
		T(dos_line_endings_are_accepted),
		T(only_the_first_error_is_reported),
		T(a_syntax_error_before_a_bad_value_comes_first),
		T(a_failed_load_keeps_the_previous_policy),
		cmocka_unit_test(free_is_safe_twice_and_on_a_zeroed_policy),
		cmocka_unit_test(booleans_have_eight_spellings),
		cmocka_unit_test(a_directory_contains_itself_and_what_is_below),
		cmocka_unit_test(a_path_is_allowed_inside_any_listed_directory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
