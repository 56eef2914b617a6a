/* Directories root may act in. The plugin runs as root and every job user
 * is an attacker to it: root never resolves a path through a directory a
 * user can write. These functions walk an admin's path from "/" one
 * component at a time, on fds, and accept only directories (and symlinks)
 * that root owns and nobody else can write; below such an anchor root
 * works with *at() calls on fds. Anything in a user's own space is done
 * with the user's credentials instead (util/asuser.h). */
#ifndef SBX_ROOTDIR_H
#define SBX_ROOTDIR_H

#include <sys/types.h>
#include "util/error.h"

/* The last directory may be root's and sticky though others can write it
 * (mode 1777, a shared cache): nobody can rename or remove what root or
 * another user made there. */
#define SBX_ROOTDIR_STICKY 1

/* Open the absolute directory path as an anchor: every component from "/"
 * must be a directory or symlink owned by root and not writable by group
 * or others (symlinks in such directories are followed: only root can have
 * made them). With create_mode != 0 missing components are made, owned by
 * root, with that mode. what names the path in messages (a policy key or a
 * plugstack argument). Returns an O_DIRECTORY|O_CLOEXEC fd, or -1. */
int sbx_rootdir_open(const char *path, mode_t create_mode, int flags, const char *what,
		     struct sbx_err *err);

/* In the anchor at (as sbx_rootdir_open gave it), make or reuse the
 * directory name, owned by uid:gid with mode, by fd: a non-directory, or
 * a directory owned by anyone but root or uid, is refused. Returns an
 * O_DIRECTORY|O_CLOEXEC fd, or -1. */
int sbx_rootdir_subdir(int at, const char *name, uid_t uid, gid_t gid, mode_t mode,
		       const char *what, struct sbx_err *err);

#endif
