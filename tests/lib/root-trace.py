#!/usr/bin/env python3
"""Root's path calls in an strace of slurmd, checked against the rule of
docs/design.md's security model: root never resolves a path through a
directory a user can write.

    root-trace.py [--list] TRACE

TRACE is the output of
    strace -f -y -qq -s 4096 -o TRACE -e trace=SET -p <slurmd>
where SET holds %process, %creds, chdir, fchdir, unshare, setns and the
path calls below. slurmd and everything it forks (slurmstepd, the spank
prolog/epilog, the plugin's workers, the tasks) are in it.

Credentials come from the trace itself: every task strace attached to starts
as root (slurmd runs as root); clone/clone3/fork/vfork give the child its
parent's ids (threads too); setuid, setreuid, setresuid and setfsuid change
the calling thread's euid and fsuid (glibc's seteuid runs setresuid(-1, uid,
-1) on every thread, so each thread's own call is in the trace; slurmstepd's
user_init runs with euid = the user, sbx_as_user children call the raw
syscalls); a successful exec of a setuid file (checked now) takes its owner.
Group ids do not decide whether a call is root's, so they are not followed.
A task that enters a user namespace (clone, unshare or setns with
CLONE_NEWUSER) is not host root from then on: its ids are the namespace's.

Every call below made while fsuid == 0 is inspected, failed ones too (a
failed attempt is still root resolving through the directories):
    chown lchown fchownat chmod fchmodat unlink unlinkat rmdir
    open openat openat2 creat (with O_CREAT only) mkdir mkdirat
    rename renameat renameat2 (both paths) symlink symlinkat (the link)
    link linkat (both paths) mount (the target, and the source when it is a
    path) umount2 move_mount (the target) mknod mknodat
The full path is the absolute name, or the directory `-y` prints for the
dirfd (AT_FDCWD<cwd> included) joined with the name; an empty name with
AT_EMPTY_PATH (or MOVE_MOUNT_T_EMPTY_PATH) is the dirfd's own path. The
call is a violation when any directory above the last component is, now,
not owned by root or writable by its group or others; a root-owned symlink
on the way is followed and its target's directories checked the same way;
a missing directory (a tmpfs the job made and unmounted, a tree the epilog
removed) is skipped: the nearest existing one above it decides.

Exceptions: none. A root-owned 0755 directory (an images.cache_dir, the
named_dir) passes as it is; a sticky 1777 one such as /tmp does not (a user
may create there what root then walks into), and neither does anything
else a user could write. Known limits: paths are checked in this mount
namespace (root's calls happen in the host's); a relative name whose cwd the
trace never showed is reported as a violation, unresolved.

Output: "root-trace: inspected N root path calls, M violations", then one
line per violation (pid, the syscall line, the offending directories, and
"(failed)" when the call failed); with --list, every inspected call too.
Exit 0 when there are none, 1 when there are, 2 on bad input.
"""

import os
import re
import stat
import sys

LINE = re.compile(r'^(\d+)\s+(.*)$')
CALL = re.compile(r'^([a-z_0-9]+)\((.*)$', re.S)
RESUMED = re.compile(r'^<\.\.\. ([a-z_0-9]+) resumed>\s?(.*)$', re.S)
UNFINISHED = ' <unfinished ...>'

# name -> [(dirfd index or None, path index)] of the paths the call resolves
PATH_ARGS = {
    'chown': [(None, 0)], 'lchown': [(None, 0)], 'fchownat': [(0, 1)],
    'chmod': [(None, 0)], 'fchmodat': [(0, 1)], 'fchmodat2': [(0, 1)],
    'unlink': [(None, 0)], 'unlinkat': [(0, 1)], 'rmdir': [(None, 0)],
    'open': [(None, 0)], 'openat': [(0, 1)], 'openat2': [(0, 1)], 'creat': [(None, 0)],
    'mkdir': [(None, 0)], 'mkdirat': [(0, 1)],
    'rename': [(None, 0), (None, 1)], 'renameat': [(0, 1), (2, 3)],
    'renameat2': [(0, 1), (2, 3)],
    'symlink': [(None, 1)], 'symlinkat': [(1, 2)],
    'link': [(None, 0), (None, 1)], 'linkat': [(0, 1), (2, 3)],
    'mount': [(None, 1)], 'umount2': [(None, 0)], 'move_mount': [(2, 3)],
    'mknod': [(None, 0)], 'mknodat': [(0, 1)],
}
OPENS = {'open': 1, 'openat': 2, 'creat': None}
CLONES = {'clone', 'clone3', 'fork', 'vfork'}


def unescape(s):
    """strace's C escapes (\\n, \\", \\\\, \\xHH, \\ooo) back to bytes, as str."""
    out = bytearray()
    i = 0
    raw = s.encode('utf-8', 'surrogateescape')
    while i < len(raw):
        c = raw[i]
        if c != 0x5c or i + 1 >= len(raw):
            out.append(c)
            i += 1
            continue
        n = chr(raw[i + 1])
        simple = {'n': 10, 't': 9, 'r': 13, 'v': 11, 'f': 12, 'a': 7, 'b': 8,
                  '"': 34, '\\': 92, "'": 39}
        if n in simple:
            out.append(simple[n])
            i += 2
        elif n == 'x':
            out.append(int(raw[i + 2:i + 4], 16))
            i += 4
        elif n in '01234567':
            j = i + 1
            while j < len(raw) and j < i + 4 and chr(raw[j]) in '01234567':
                j += 1
            out.append(int(raw[i + 1:j], 8) & 0xff)
            i = j
        else:
            out.append(c)
            i += 1
    return out.decode('utf-8', 'surrogateescape')


def split_args(text):
    """The argument list of a call line (text after the '('), split at
    top-level commas, and what follows the closing ')'."""
    args, cur, depth, i = [], [], 0, 0
    while i < len(text):
        c = text[i]
        if c == '"':
            j = i + 1
            while j < len(text) and text[j] != '"':
                j += 2 if text[j] == '\\' else 1
            cur.append(text[i:j + 1])
            i = j + 1
            continue
        if c == '<':
            # -y's <path> after an fd: '<' and '>' inside are escaped.
            j = text.find('>', i)
            j = len(text) - 1 if j < 0 else j
            cur.append(text[i:j + 1])
            i = j + 1
            continue
        if c in '([{':
            depth += 1
        elif c in ')]}':
            if depth == 0 and c == ')':
                args.append(''.join(cur).strip())
                return ([] if args == [''] else args), text[i + 1:]
            depth -= 1
        elif c == ',' and depth == 0:
            args.append(''.join(cur).strip())
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    args.append(''.join(cur).strip())
    return args, ''


def string_arg(a):
    """The value of a quoted string argument, or None (NULL, an address)."""
    if len(a) >= 2 and a.startswith('"'):
        end = a.rfind('"')
        return unescape(a[1:end])
    return None


def fd_path(a):
    """The path -y shows for an fd argument (3</dir>, AT_FDCWD</cwd>)."""
    m = re.search(r'<(.*)>$', a, re.S)
    if not m:
        return None
    p = unescape(m.group(1))
    if p.endswith(' (deleted)'):
        p = p[:-len(' (deleted)')]
    return p if p.startswith('/') else None


def ret_of(rest):
    """(failed, value) from what follows the ')': ' = 3</x>', ' = -1 ENOENT (...)'."""
    m = re.match(r'\s*=\s*(\S+)', rest)
    if not m:
        return False, None
    v = m.group(1)
    if v == '?':
        return False, None
    if v.startswith('-1') and re.search(r'\bE[A-Z]+\b', rest):
        return True, -1
    m2 = re.match(r'-?\d+', v)
    return False, int(m2.group(0)) if m2 else None


def as_id(a):
    a = a.strip()
    if a in ('-1', '4294967295'):
        return -1
    m = re.match(r'-?\d+', a)
    return int(m.group(0)) if m else -1


class Task:
    __slots__ = ('r', 'e', 's', 'fs', 'userns', 'cwd', 'born')

    def __init__(self, born, parent=None):
        if parent:
            self.r, self.e, self.s, self.fs = parent.r, parent.e, parent.s, parent.fs
            self.userns, self.cwd = parent.userns, parent.cwd
        else:
            self.r = self.e = self.s = self.fs = 0
            self.userns, self.cwd = False, None
        self.born = born

    def root(self):
        return self.fs == 0 and not self.userns


def read_events(lines):
    """Whole calls, in the order they completed: (start line, end line,
    pid, name, text after '(' ), with unfinished/resumed pairs joined."""
    pending, events = {}, []
    for no, raw in enumerate(lines):
        m = LINE.match(raw.rstrip('\n'))
        if not m:
            continue
        pid, body = int(m.group(1)), m.group(2)
        r = RESUMED.match(body)
        if r:
            start = pending.pop(pid, None)
            if start is None or start[1] != r.group(1):
                continue
            body = start[1] + '(' + start[2] + r.group(2)
            begin = start[0]
        else:
            begin = no
        if body.endswith(UNFINISHED):
            c = CALL.match(body[:-len(UNFINISHED)])
            if c:
                pending[pid] = (no, c.group(1), c.group(2))
            continue
        c = CALL.match(body)
        if c:
            events.append((begin, no, pid, c.group(1), c.group(2)))
    return events


def trusted_dir(st):
    return st.st_uid == 0 and not (st.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


def offending_dirs(path):
    """The directories above path's last component that a user could write
    (or that are not root's), following root-owned symlinks."""
    bad = []
    parts = [p for p in path.split('/') if p not in ('', '.')]
    if not parts:
        return bad
    todo = parts[:-1]
    cur = '/'
    links = 0
    st = os.lstat('/')
    if not trusted_dir(st):
        bad.append('/ (uid %d, mode %04o)' % (st.st_uid, st.st_mode & 0o7777))
    while todo:
        comp = todo.pop(0)
        if comp == '..':
            cur = os.path.dirname(cur) or '/'
            continue
        nxt = os.path.join(cur, comp)
        try:
            st = os.lstat(nxt)
        except OSError:
            break   # gone: the nearest existing directory above decided
        if stat.S_ISLNK(st.st_mode):
            if st.st_uid != 0:
                bad.append('%s (a symlink of uid %d)' % (nxt, st.st_uid))
                break
            links += 1
            if links > 40:
                break
            target = os.readlink(nxt)
            if target.startswith('/'):
                cur = '/'
            todo = [p for p in target.split('/') if p not in ('', '.')] + todo
            continue
        if not stat.S_ISDIR(st.st_mode):
            break
        if not trusted_dir(st):
            bad.append('%s (uid %d, mode %04o)' % (nxt, st.st_uid, st.st_mode & 0o7777))
        cur = nxt
    return bad


def has_flag(a, flag):
    return re.search(r'(^|[|{ =])' + flag + r'($|[|} ,)])', a) is not None


def creates(name, args):
    """Whether an open-family call may create: O_CREAT in its flags."""
    if name == 'creat':
        return True
    if name == 'openat2':
        return len(args) > 2 and 'O_CREAT' in args[2]
    i = OPENS[name]
    return len(args) > i and has_flag(args[i], 'O_CREAT')


def full_path(task, args, fd_i, path_i, empty_ok):
    """The path a call resolves, or (None, why)."""
    if path_i >= len(args):
        return None, 'no path argument'
    p = string_arg(args[path_i])
    if p is None:
        return None, None   # NULL: nothing resolved
    if p.startswith('/'):
        return p, None
    base = None
    if fd_i is not None and fd_i < len(args):
        base = fd_path(args[fd_i])
        if base is None and not args[fd_i].startswith('AT_FDCWD'):
            return None, 'dirfd %s has no path' % args[fd_i]
    if base is None:
        base = task.cwd
    if base is None:
        return None, 'relative %r, cwd unknown' % p
    if p == '':
        return (base, None) if empty_ok else (None, None)
    return os.path.join(base, p), None


def update_creds(t, name, args):
    n = name[:-2] if name.endswith('32') else name
    ids = [as_id(a) for a in args]
    if n == 'setuid':
        if t.e == 0:
            t.r = t.s = ids[0]
        t.e = t.fs = ids[0]
    elif n == 'setreuid':
        old_r = t.r
        if ids[0] != -1:
            t.r = ids[0]
        if ids[1] != -1:
            t.e = ids[1]
        if ids[0] != -1 or (ids[1] != -1 and ids[1] != old_r):
            t.s = t.e
        t.fs = t.e
    elif n == 'setresuid':
        if ids[0] != -1:
            t.r = ids[0]
        if ids[1] != -1:
            t.e = ids[1]
        if ids[2] != -1:
            t.s = ids[2]
        t.fs = t.e
    elif n == 'setfsuid':
        f = ids[0]
        if f != -1 and (t.e == 0 or f in (t.r, t.e, t.s, t.fs)):
            t.fs = f


def setuid_exec(t, arg):
    """A successful exec of a setuid file (as it is now) takes its owner."""
    p = string_arg(arg)
    try:
        st = os.stat(p) if p and p.startswith('/') else None
    except OSError:
        st = None
    if st and st.st_mode & stat.S_ISUID:
        t.e = t.s = t.fs = st.st_uid


def main(argv):
    listing = '--list' in argv
    files = [a for a in argv[1:] if a != '--list']
    if len(files) != 1:
        print('usage: root-trace.py [--list] TRACE', file=sys.stderr)
        return 2
    try:
        with open(files[0], encoding='utf-8', errors='surrogateescape') as f:
            lines = f.readlines()
    except OSError as e:
        print('root-trace: %s' % e, file=sys.stderr)
        return 2
    events = read_events(lines)
    # child pid -> [(clone start line, parent pid)], for children whose
    # first calls complete before the parent's clone does.
    births = {}
    for begin, _end, pid, name, text in events:
        if name in CLONES:
            args, rest = split_args(text)
            failed, child = ret_of(rest)
            if not failed and child and child > 0:
                births.setdefault(child, []).append((begin, pid))
    tasks = {}

    def task_of(pid, begin):
        t = tasks.get(pid)
        born = [b for b in births.get(pid, []) if b[0] < begin]
        if born:
            start, parent = born[-1]
            if t is None or t.born < start:
                t = Task(start, task_of(parent, start))
                tasks[pid] = t
        if t is None:
            t = tasks[pid] = Task(-1)   # attached by strace: slurmd's, root
        return t

    inspected, violations, listed = 0, [], []
    for begin, end, pid, name, text in events:
        t = task_of(pid, begin)
        args, rest = split_args(text)
        failed, value = ret_of(rest)
        flat = ' '.join(args)
        m = re.search(r'AT_FDCWD<(/[^>]*)>', text)
        if m:
            t.cwd = unescape(m.group(1))
        if name in CLONES:
            if not failed and value and value > 0:
                c = tasks.get(value)
                if c is None or c.born < begin:
                    c = tasks[value] = Task(begin, t)
                if 'CLONE_NEWUSER' in flat:
                    c.userns = True
            continue
        if not failed:
            if (name == 'unshare' and 'CLONE_NEWUSER' in flat) or \
               (name == 'setns' and ('CLONE_NEWUSER' in flat or '<user:[' in flat)):
                t.userns = True
            elif name == 'chdir':
                p, _ = full_path(t, args, None, 0, False)
                if p:
                    t.cwd = os.path.normpath(p)
            elif name == 'fchdir':
                p = fd_path(args[0]) if args else None
                if p:
                    t.cwd = os.path.normpath(p)
            elif name in ('execve', 'execveat'):
                setuid_exec(t, args[0] if name == 'execve' else args[1] if len(args) > 1 else '')
            elif re.match(r'set(re|res|fs)?uid(32)?$', name):
                update_creds(t, name, args)
        if name not in PATH_ARGS or not t.root():
            continue
        if name in OPENS or name == 'openat2':
            if not creates(name, args):
                continue
        if name == 'mount' and args and (string_arg(args[0]) or '').startswith('/'):
            which = [(None, 0)] + PATH_ARGS[name]
        else:
            which = PATH_ARGS[name]
        empty_ok = has_flag(flat, 'AT_EMPTY_PATH') or has_flag(flat, 'MOVE_MOUNT_T_EMPTY_PATH')
        call_line = re.sub(r'\)\s+= ', ') = ', '%s(%s' % (name, text.rstrip()))
        for fd_i, path_i in which:
            path, why = full_path(t, args, fd_i, path_i, empty_ok)
            if path is None and why is None:
                continue
            inspected += 1
            tag = ' (failed)' if failed else ''
            if path is None:
                violations.append('pid %d: %s%s\n    unresolved: %s' % (pid, call_line, tag, why))
                continue
            path = os.path.normpath(path)
            listed.append('inspected: pid %d %s %s%s' % (pid, name, path, tag))
            bad = offending_dirs(path)
            if bad:
                violations.append('pid %d: %s%s\n    path %s: below %s' %
                                  (pid, call_line, tag, path, ', '.join(bad)))
    print('root-trace: inspected %d root path calls, %d violations' % (inspected, len(violations)))
    if listing:
        for line in listed:
            print(line)
    for v in violations:
        print('violation: ' + v)
    return 1 if violations else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
