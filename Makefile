# slurm-sandbox — build, test and install.
#   make                 build everything (-Wall -Wextra -Werror)
#   make check           unit tests (cmocka) + integration tests (bats), as an unprivileged user,
#                        then the fault suites, short form (check-faults)
#   make check-long      the long suites, as root: every failure point and action
#                        (check-faults-long) and the load suite (check-load, tests/load/)
#   make check-asan      the same suite against an ASan+UBSan build
#   make check-vm        both VM lanes: cgroup v2 under qemu (tests/vm/)
#   make check-vm-bookworm the Debian 12 lane (kernel 6.1, Slurm 22.05)
#   make check-vm-trixie the Debian 13 lane (kernel 6.12, Slurm 24.11; TRIXIE_SUITES=all: every Slurm suite)
#   make lint            cppcheck and clang-tidy (.clang-tidy, tests/lint/)
#   make check-valgrind  memcheck on the helper, shim and sandbox-run
#   make bench           the performance benchmark (tests/bench/run.sh; not part of check)
#   make bench-doc       the same, and its output into docs/performance.md
#   make install PREFIX=/usr/local DESTDIR=
#   make deb [DIST=trixie]  Debian packages in build-deb/<dist>/ (debian/)
#   make check-deb       build, install, test and purge the bookworm package (root)
#   make check-deb-trixie  build the trixie package, install and purge it in the trixie root

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec
SYSCONFDIR ?= $(PREFIX)/etc
SLURM_PLUGINDIR ?= $(PREFIX)/lib/slurm
DOCDIR     ?= $(PREFIX)/share/doc/slurm-sandbox
MANDIR     ?= $(PREFIX)/share/man
DESTDIR    ?=

SANITIZE ?= 0
# FAILPOINTS=1: a test build with failure points (lib/util/failpoint.h), in
# its own directory; never installed, never the build the main suite tests.
FAILPOINTS ?= 0
ifeq ($(FAILPOINTS),1)
BUILD    ?= build-fault
FPFLAGS  := -DSBX_FAILPOINTS
else
FPFLAGS  :=
endif
ifeq ($(SANITIZE),1)
BUILD    ?= build-asan
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD    ?= build
SANFLAGS :=
endif

CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
HARDEN   := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIC
DEFS     := -D_GNU_SOURCE \
            -DSBX_DEFAULT_POLICY='"$(SYSCONFDIR)/slurm/sandbox.conf"' \
            -DSBX_HELPER_PATH='"$(LIBEXECDIR)/sandbox-helper"' \
            -DSBX_PROBE_PATH='"$(LIBEXECDIR)/sandbox-probe"' $(FPFLAGS)
# Includes name their layer: #include "util/error.h". Each object lists the
# headers it includes in its .d file (-MMD -MP).
DEPFLAGS  := -MMD -MP
ALL_CFLAGS = $(WARN) $(HARDEN) $(DEFS) $(SANFLAGS) $(CFLAGS) -Ilib
LDLIBS_ALL := -linih -lseccomp -lcap
# Image import (archives, OCI JSON, digests): the helper and sandbox-run only,
# never loaded into slurmstepd/srun with the plugin.
LDLIBS_IMAGE := -larchive -ljson-c -lnettle
# The helper and sandbox-run start on every sandbox: their libraries are
# linked in statically (the dynamic loader took 4 of their 7 ms per exec:
# libarchive's shared object pulls in libxml2, ICU and libstdc++ for formats
# we never read; docs/performance.md), and so are the compression libraries
# libarchive's tar reader and its filters use, wherever their static archive
# is installed: then libc is the only object the loader maps. libxml2 (ICU,
# libstdc++) and libacl stay shared, for a libarchive that should need them;
# --as-needed drops what nothing uses.
ARCHIVE_DEPS := $(filter-out -larchive -lnettle -lxml2 -lacl,$(shell pkg-config --static --libs-only-l libarchive))
# STATIC_COMPRESSION=0 (the Debian package: zlib, bzip2 and the rest then
# get their security updates from the distribution) links them shared.
STATIC_COMPRESSION ?= 1
ARCHIVE_DEPS_STATIC := $(if $(filter 1,$(STATIC_COMPRESSION)),$(foreach l,$(ARCHIVE_DEPS),$(if $(filter /%,$(shell $(CC) -print-file-name=lib$(l:-l%=%).a)),$(l))))
LDLIBS_EXE := -Wl,--as-needed -Wl,-Bstatic -larchive -ljson-c -lnettle -linih -lseccomp -lcap \
	$(ARCHIVE_DEPS_STATIC) -Wl,-Bdynamic $(filter-out $(ARCHIVE_DEPS_STATIC),$(ARCHIVE_DEPS)) -lacl -lxml2
ALL_LDFLAGS = $(SANFLAGS) -Wl,-z,relro,-z,now $(LDFLAGS)

# lib/ in layers (docs/design.md): util <- spec <- launch make the core
# library; the image pipeline (lib/image, on util and spec) is the other.
CORE_SRC   := $(wildcard lib/util/*.c lib/spec/*.c lib/launch/*.c)
IMAGE_SRC  := $(wildcard lib/image/*.c)
SHIM_SRC   := $(wildcard shim/*.c)
HELPER_SRC := $(wildcard helper/*.c)
CLI_SRC    := $(wildcard cli/*.c)
PLUGIN_SRC := $(wildcard plugin/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)

CORE_OBJ   := $(CORE_SRC:%.c=$(BUILD)/%.o)
IMAGE_OBJ  := $(IMAGE_SRC:%.c=$(BUILD)/%.o)
HELPER_OBJ := $(HELPER_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ    := $(CLI_SRC:%.c=$(BUILD)/%.o)
PLUGIN_OBJ := $(PLUGIN_SRC:%.c=$(BUILD)/%.o)
# The companion plugin (the job epilog's cleanup of named sandboxes): its
# entry point and the two plugin files that cleanup needs, the same objects.
NAMED_OBJ  := $(BUILD)/plugin/spank_sandbox_named.o
MAIN_PLUGIN_OBJ := $(filter-out $(NAMED_OBJ),$(PLUGIN_OBJ))
NAMED_PLUGIN_OBJ := $(NAMED_OBJ) $(BUILD)/plugin/named.o $(BUILD)/plugin/args.o
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
# The shim and its own copy of the core, built static and without sanitizers.
STATIC     := $(BUILD)/static
SHIM_OBJ   := $(SHIM_SRC:%.c=$(STATIC)/%.o)
SHIM_CORE_OBJ := $(CORE_SRC:%.c=$(STATIC)/%.o)

LIBCORE    := $(BUILD)/libsandbox-core.a
LIBIMAGE   := $(BUILD)/libsandbox-image.a
SHIM_LIBCORE := $(STATIC)/libsandbox-core.a
HELPER     := $(BUILD)/sandbox-helper
SHIM       := $(BUILD)/sandbox-exec
SANDBOX_RUN:= $(BUILD)/sandbox-run
PLUGIN     := $(if $(PLUGIN_SRC),$(BUILD)/spank_sandbox.so)
NAMED_PLUGIN := $(if $(PLUGIN_SRC),$(BUILD)/spank_sandbox_named.so)
SANDBOX_PROBE := $(BUILD)/sandbox-probe
PROBE      := $(BUILD)/tests/sbx-probe
RACE       := $(BUILD)/tests/race/racer $(BUILD)/tests/race/fake-stepd
VALGRIND_DIR := $(BUILD)/tests/valgrind
VALGRIND_AIDS := $(VALGRIND_DIR)/sandbox-exec $(VALGRIND_DIR)/sandbox-helper $(VALGRIND_DIR)/vg-syscalls
# The launchers of the host's Slurm client inside a sandbox (plugin/slurm-client.c),
# beside the helper: one script, the commands as symlinks to it.
SLURM_CLIENT_CMDS := srun sbatch salloc scontrol squeue scancel sinfo sacct sstat sattach sbcast
SLURM_CLIENT := $(BUILD)/slurm-client/slurm-client

all: $(HELPER) $(SHIM) $(SANDBOX_RUN) $(SANDBOX_PROBE) $(PLUGIN) $(NAMED_PLUGIN) $(SLURM_CLIENT)

$(SLURM_CLIENT): plugin/slurm-client.sh
	@mkdir -p $(@D)
	install -m 0755 $< $@
	@for c in $(SLURM_CLIENT_CMDS); do ln -sf slurm-client $(@D)/$$c; done

# The install paths are compiled in: a build made for another PREFIX is
# rebuilt, not installed as it is.
CONFIG_STAMP := $(BUILD)/.paths-$(shell printf '%s|%s|%s' '$(PREFIX)' '$(SYSCONFDIR)' '$(LIBEXECDIR)' | md5sum | cut -c1-12)
$(CONFIG_STAMP):
	@mkdir -p $(BUILD)
	@rm -f $(BUILD)/.paths-*
	@touch $@

# The shim runs inside images that may have no libc at all: static, and
# without sanitizers (ASan cannot link statically).
$(STATIC)/%.o: %.c $(CONFIG_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC $< (static)"
	@$(CC) $(WARN) -fstack-protector-strong -D_FORTIFY_SOURCE=2 $(DEFS) $(CFLAGS) -Ilib $(DEPFLAGS) \
		-c -o $@ $<

$(BUILD)/%.o: %.c $(CONFIG_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(CC) $(ALL_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(LIBCORE): $(CORE_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIBIMAGE): $(IMAGE_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(SHIM_LIBCORE): $(SHIM_CORE_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(HELPER): $(HELPER_OBJ) $(LIBIMAGE) $(LIBCORE)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS_EXE)

# The seccomp filters of the built-in deny list, compiled at build time by
# the helper's own compiler (helper/seccomp.c) and the same static
# libseccomp: a sandbox under the default policy writes them as they are.
SECCOMP_GEN := $(BUILD)/gen/seccomp-bpf
SECCOMP_H   := $(BUILD)/gen/seccomp-default.h
$(SECCOMP_GEN): helper/gen/seccomp-bpf.c $(BUILD)/helper/seccomp.o $(LIBCORE)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS_EXE)

$(SECCOMP_H): $(SECCOMP_GEN)
	$< >$@.tmp && mv $@.tmp $@

$(BUILD)/helper/seccomp-default.o: $(SECCOMP_H)
$(BUILD)/helper/seccomp-default.o: ALL_CFLAGS += -I$(BUILD)/gen

$(SHIM): $(SHIM_OBJ) $(SHIM_LIBCORE)
	$(CC) $(CFLAGS) -static -o $@ $^ -lcap

$(SANDBOX_RUN): $(CLI_OBJ) $(LIBIMAGE) $(LIBCORE)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS_EXE)

# The plugin resolves Slurm's symbols from slurmstepd/srun at load time. It
# links the core only: no archive, JSON or digest code in slurmstepd/srun.
# Its two libraries are linked in (PIC archives): srun and every
# slurmstepd load the plugin, with or without a --sandbox-* option, and the
# loader's work for more objects was most of what it cost them. No
# libseccomp: the policy checks syscall names against lib/spec/syscalls.c.
# No slurm_spank_job_epilog in the main plugin: it is the companion's
# (spank_sandbox_named.c), linked the same way.
$(BUILD)/spank_sandbox.so: $(MAIN_PLUGIN_OBJ) $(LIBCORE)
$(BUILD)/spank_sandbox_named.so: $(NAMED_PLUGIN_OBJ) $(LIBCORE)
$(BUILD)/spank_sandbox.so $(BUILD)/spank_sandbox_named.so:
	$(CC) $(ALL_LDFLAGS) -shared -Wl,--version-script=plugin/spank_sandbox.map -o $@ $^ \
		-Wl,--as-needed -Wl,-Bstatic -linih -lcap -Wl,-Bdynamic

# Fails when a plugin holds or needs libarchive, json-c or nettle symbols,
# or when the job prolog/epilog symbols are in the wrong one.
check-plugin-symbols: $(PLUGIN) $(NAMED_PLUGIN)
	$(if $(PLUGIN),tests/plugin-symbols.sh $(PLUGIN) $(NAMED_PLUGIN))

# A static probe copied into test images (syscalls, fds, /proc/self/status):
# installed for `sandbox-run selftest`, and the test suite's sbx-probe.
$(SANDBOX_PROBE): probe/sandbox-probe.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -Wall -Wextra -Werror -O2 -static -o $@ $<

$(PROBE): $(SANDBOX_PROBE)
	@mkdir -p $(dir $@)
	cp $< $@

# The root-race harness (tests/race/): a job user's racer, and a mini
# slurmstepd that loads the plugin and gives it Slurm's symbols (-rdynamic);
# built with the plugin's sanitizers so that it can load an ASan plugin.
$(BUILD)/tests/race/%: tests/race/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -Wall -Wextra -Werror -O2 $(SANFLAGS) -rdynamic -o $@ $< -ldl

race: $(RACE)

# make check-valgrind's aids: the shim linked dynamically (memcheck replaces
# malloc only in a dynamic program; the same objects and static libcap as
# the shipped one, only libc shared), beside a link to the helper, since
# sandbox-run finds the shim beside the helper; and the probe of which
# syscalls valgrind knows.
$(VALGRIND_DIR)/sandbox-exec: $(SHIM_OBJ) $(SHIM_LIBCORE)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -Wl,-Bstatic -lcap -Wl,-Bdynamic

$(VALGRIND_DIR)/sandbox-helper: $(HELPER)
	@mkdir -p $(@D)
	ln -sf ../../sandbox-helper $@

$(VALGRIND_DIR)/vg-syscalls: tests/valgrind/syscalls.c
	@mkdir -p $(@D)
	$(CC) $(WARN) -O2 -o $@ $<

$(BUILD)/tests/unit/%: tests/unit/%.c $(LIBIMAGE) $(LIBCORE)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -MF $@.d $(ALL_LDFLAGS) -o $@ $< $(filter $(BUILD)/helper/%.o,$^) \
		$(LIBIMAGE) $(LIBCORE) $(LDLIBS_ALL) $(LDLIBS_IMAGE) -lcmocka

# Unit tests of helper code link the helper's objects: the filter and the
# precompiled default filters (test_seccomp loads the filter in a child;
# test_seccomp_precompiled compares the precompiled filters with what the
# helper's compiler makes now).
SECCOMP_TESTS := $(BUILD)/tests/unit/test_seccomp $(BUILD)/tests/unit/test_seccomp_precompiled
$(SECCOMP_TESTS): $(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/helper/seccomp.o \
		$(BUILD)/helper/seccomp-default.o $(LIBIMAGE) $(LIBCORE)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -MF $@.d $(ALL_LDFLAGS) -o $@ $< $(BUILD)/helper/seccomp.o \
		$(BUILD)/helper/seccomp-default.o $(LIBCORE) $(LDLIBS_ALL) -lcmocka

unit: $(UNIT_BIN)

-include $(CORE_OBJ:.o=.d) $(IMAGE_OBJ:.o=.d) $(HELPER_OBJ:.o=.d) $(CLI_OBJ:.o=.d) \
	$(PLUGIN_OBJ:.o=.d) $(SHIM_OBJ:.o=.d) $(SHIM_CORE_OBJ:.o=.d) $(UNIT_BIN:=.d)

# The man pages and docs name every option and policy key the code has, and
# nothing else (tests/docs-drift.sh).
# sandbox-run: the examples of the pages are parsed by the real policy parser.
check-docs: $(SANDBOX_RUN)
	BUILD=$(abspath $(BUILD)) tests/docs-drift.sh
	BUILD=$(abspath $(BUILD)) tests/docs-drift.sh --self-test

check: all unit $(PROBE) $(RACE) check-plugin-symbols check-docs
	tests/install-check.sh
	BUILD=$(abspath $(BUILD)) tests/run-all
	$(if $(filter 1,$(SANITIZE)),,$(MAKE) check-faults)

# The fault suites (tests/faults/) on the test build with failure points:
# its own build directory, never the release build the suite above tested.
FAULT_BUILD := build-fault
fault-build:
	$(MAKE) FAILPOINTS=1 BUILD=$(FAULT_BUILD) all $(FAULT_BUILD)/tests/sbx-probe

check-faults: fault-build
	BUILD=$(abspath $(FAULT_BUILD)) tests/run-faults

check-faults-long: fault-build
	BUILD=$(abspath $(FAULT_BUILD)) tests/run-faults --long

check-long: check-faults-long check-load

# The VM lanes (tests/vm/README.md): pure cgroup v2 kernels under qemu, with
# Slurm's cgroup/v2 plugin. As root. Debian 12 (kernel 6.1, Slurm 22.05) runs
# the host's build; Debian 13 (6.12, Slurm 24.11) a build of its own made in
# a trixie root (build-trixie). check-vm runs both.
check-vm: check-vm-bookworm check-vm-trixie

check-vm-bookworm: all $(PROBE)
	tests/vm/prepare.sh
	tests/vm/run.sh --timeout 600 tests/vm/selftest.sh
	tests/vm/run.sh --timeout 600 tests/vm/sandbox-smoke.sh
	tests/vm/run.sh --timeout 900 tests/vm/sandbox-selftest.sh
	tests/vm/run.sh --timeout 600 tests/vm/cgroup-standalone.sh
	tests/vm/run.sh --timeout 600 tests/vm/slurm-cgroup.sh

# The load suite, as root, part of check-long (minutes, not seconds): 500
# sequential and 50 concurrent sandboxed steps on the local cluster, with
# fds, RSS, threads, mounts and cgroups sampled (tests/load/).
check-load: all $(PROBE)
	BUILD=$(abspath $(BUILD)) tests/load/run.sh

# Static analysis: cppcheck and clang-tidy with the build's own flags
# (tests/lint/run.sh; the checks are .clang-tidy, tests/lint/cppcheck.supp).
lint: $(SECCOMP_H)
	LINT_FLAGS='$(WARN) $(subst ',,$(DEFS)) -D_FORTIFY_SOURCE=2 -O2 -Ilib -I$(BUILD)/gen' tests/lint/run.sh

# valgrind memcheck on the unit tests and on sandbox-run, the helper, the
# sandbox's init and the shim, for a directory, a squashfs and an imported
# image (tests/valgrind/run.sh).
check-valgrind: all unit $(PROBE) $(VALGRIND_AIDS)
	BUILD=$(abspath $(BUILD)) tests/valgrind/run.sh

# Prints tables of times and ratios against peers measured in the same run
# (bwrap, crun, ch-run, unshare, plain srun); never asserts a timing. As root.
bench: all $(PROBE)
	BUILD=$(abspath $(BUILD)) tests/bench/run.sh $(BENCH_SECTIONS)

bench-doc: all $(PROBE)
	BUILD=$(abspath $(BUILD)) tests/bench/run.sh --doc docs/performance.md $(BENCH_SECTIONS)

# TRIXIE_SUITES: the Slurm bats suites the Debian 13 lane runs. The default
# keeps CI within its time (every suite takes too long under TCG:
# tests/vm/README.md): the plugin and images suites; slurm-cgroup.sh and
# cgroup-standalone.sh cover the cgroup limits. TRIXIE_SUITES=all runs every
# tests/slurm/*.bats.
TRIXIE_SUITES ?= tests/slurm/plugin.bats tests/slurm/images.bats
trixie_suites = $(if $(filter all,$(TRIXIE_SUITES)),$(wildcard tests/slurm/*.bats),$(TRIXIE_SUITES))
check-vm-trixie:
	tests/vm/trixie-prepare.sh
	tests/vm/trixie-build.sh
	tests/vm/trixie-run.sh --timeout 600 tests/vm/selftest.sh
	tests/vm/trixie-run.sh --timeout 600 tests/vm/sandbox-smoke.sh
	tests/vm/trixie-run.sh --timeout 900 tests/vm/sandbox-selftest.sh
	tests/vm/trixie-run.sh --timeout 600 tests/vm/cgroup-standalone.sh
	tests/vm/trixie-run.sh --timeout 600 tests/vm/slurm-cgroup.sh
	tests/vm/trixie-run.sh --timeout 3600 tests/vm/slurm-suite.sh $(trixie_suites)

demo: all $(PROBE)
	BUILD=$(abspath $(BUILD)) tests/demo.sh

# The same suite on an ASan+UBSan build. Not the Slurm suites: slurmctld and
# srun cannot load a plugin built with ASan (its runtime must come first);
# the plugin's library code runs under ASan through sandbox-run. The LD_PRELOAD
# test would otherwise trip ASan's own check of the library order.
check-asan:
	SBX_SLURM_TESTS=0 ASAN_OPTIONS=verify_asan_link_order=0 $(MAKE) SANITIZE=1 check

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(SYSCONFDIR)/slurm $(DESTDIR)$(DOCDIR)
	install -m 0755 $(SANDBOX_RUN) $(DESTDIR)$(BINDIR)/sandbox-run
	install -m 0755 $(HELPER) $(DESTDIR)$(LIBEXECDIR)/sandbox-helper
	install -m 0755 $(SHIM) $(DESTDIR)$(LIBEXECDIR)/sandbox-exec
	install -m 0755 $(SANDBOX_PROBE) $(DESTDIR)$(LIBEXECDIR)/sandbox-probe
	install -d $(DESTDIR)$(LIBEXECDIR)/slurm-client
	cp -P $(BUILD)/slurm-client/* $(DESTDIR)$(LIBEXECDIR)/slurm-client/
	install -m 0644 conf/sandbox.conf $(DESTDIR)$(SYSCONFDIR)/slurm/sandbox.conf
	install -m 0644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 man/sandbox-run.1 $(DESTDIR)$(MANDIR)/man1/sandbox-run.1
	install -m 0644 man/sandbox.conf.5 $(DESTDIR)$(MANDIR)/man5/sandbox.conf.5
	install -m 0644 man/spank_sandbox.8 $(DESTDIR)$(MANDIR)/man8/spank_sandbox.8
	$(if $(PLUGIN),install -d $(DESTDIR)$(SLURM_PLUGINDIR) && install -m 0755 $(PLUGIN) $(DESTDIR)$(SLURM_PLUGINDIR)/spank_sandbox.so \
		&& install -m 0755 $(NAMED_PLUGIN) $(DESTDIR)$(SLURM_PLUGINDIR)/spank_sandbox_named.so)

# Debian packages (debian/): bookworm on this machine, trixie inside the
# root tests/vm/trixie-root.sh makes. The .debs land in build-deb/<dist>/.
DIST ?= bookworm
deb:
	tests/deb/build-deb.sh $(DIST)

deb-trixie:
	tests/deb/build-deb.sh trixie

# As root, slow (builds, installs, runs the Slurm suite on the installed
# files, purges): not part of check.
check-deb:
	tests/deb/test-package.sh

# The trixie package installed and purged in an overlay of the trixie root
# (no Slurm suite there: the trixie VM lane runs Slurm 24.11). As root.
check-deb-trixie: deb-trixie
	tests/deb/test-package-trixie.sh

# The AppArmor profiles of conf/apparmor/ parse with AppArmor 4 (Debian 13's
# parser in the trixie root when this host's is older).
check-apparmor:
	tests/deb/check-apparmor.sh

clean:
	rm -rf build build-asan build-fuzz build-deb build-fault build-trixie

.PHONY: all unit race check check-docs check-plugin-symbols check-asan check-vm check-vm-bookworm check-vm-trixie check-long check-load \
	check-valgrind lint bench bench-doc demo install clean deb deb-trixie check-deb check-deb-trixie check-apparmor \
	fault-build check-faults check-faults-long

# Fuzzing (tests/fuzz/): libFuzzer targets for the parsers of untrusted input,
# against the libraries built with clang and the fuzzer's instrumentation in
# their own directory. Not part of all or check: make fuzz FUZZ_SECONDS=60.
FUZZ_BUILD   ?= build-fuzz
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 10
FUZZ_SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
FUZZ_CFLAGS  := $(WARN) $(DEFS) -fPIC -O1 -g $(FUZZ_SAN) -Ilib
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN     := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_CORE_OBJ  := $(CORE_SRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_IMAGE_OBJ := $(IMAGE_SRC:%.c=$(FUZZ_BUILD)/%.o)

$(FUZZ_BUILD)/lib/%.o: lib/%.c
	@mkdir -p $(dir $@)
	@echo "  CC $< (fuzz)"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(DEPFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/libsandbox-core.a: $(FUZZ_CORE_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_BUILD)/libsandbox-image.a: $(FUZZ_IMAGE_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_BUILD)/libsandbox-image.a $(FUZZ_BUILD)/libsandbox-core.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -MMD -MP -MF $@.d -o $@ $< \
		$(FUZZ_BUILD)/libsandbox-image.a $(FUZZ_BUILD)/libsandbox-core.a $(LDLIBS_ALL) $(LDLIBS_IMAGE)

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	FUZZ_BUILD=$(abspath $(FUZZ_BUILD)) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh

-include $(FUZZ_CORE_OBJ:.o=.d) $(FUZZ_IMAGE_OBJ:.o=.d) $(FUZZ_BIN:=.d)

.PHONY: fuzz fuzz-build
