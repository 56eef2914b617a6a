#!/usr/bin/env python3
"""mkdeb.py OUT.deb: a tiny Debian package, sbx-hello 1.0, built without
dpkg or fakeroot: /usr/bin/sbx-hello (root's), /var/lib/sbx-hello/state owned
by uid 100, gid 101 (ids a single-id user namespace cannot map), and a
postinst that chowns it to _apt, as many packages' maintainer scripts do."""
import io
import sys
import tarfile
import time


def add(tar, name, data=None, mode=0o644, uid=0, gid=0, kind=tarfile.REGTYPE):
    info = tarfile.TarInfo(name)
    info.mode, info.uid, info.gid, info.mtime, info.type = mode, uid, gid, int(time.time()), kind
    if data is not None:
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    else:
        tar.addfile(info)


def targz(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.GNU_FORMAT) as tar:
        for e in entries:
            add(tar, **e)
    return buf.getvalue()


def ar_member(name, data):
    head = "%-16s%-12d%-6d%-6d%-8s%-10d`\n" % (name, int(time.time()), 0, 0, "100644", len(data))
    return head.encode() + data + (b"\n" if len(data) % 2 else b"")


D = tarfile.DIRTYPE
data = targz([
    dict(name="./", mode=0o755, kind=D),
    dict(name="./usr/", mode=0o755, kind=D),
    dict(name="./usr/bin/", mode=0o755, kind=D),
    dict(name="./usr/bin/sbx-hello", data=b"#!/bin/sh\necho hello from sbx-hello\n", mode=0o755),
    dict(name="./var/", mode=0o755, kind=D),
    dict(name="./var/lib/", mode=0o755, kind=D),
    dict(name="./var/lib/sbx-hello/", mode=0o755, uid=100, gid=101, kind=D),
    dict(name="./var/lib/sbx-hello/state", data=b"fresh\n", uid=100, gid=101),
])
control = targz([
    dict(name="./", mode=0o755, kind=D),
    dict(name="./control", data=b"Package: sbx-hello\nVersion: 1.0\nArchitecture: all\n"
         b"Maintainer: slurm-sandbox tests <nobody@example.org>\n"
         b"Description: a test package with files of unmappable owners\n"),
    dict(name="./postinst", data=b"#!/bin/sh\nset -e\nchown _apt:nogroup /var/lib/sbx-hello/state\n",
         mode=0o755),
])
with open(sys.argv[1], "wb") as out:
    out.write(b"!<arch>\n")
    out.write(ar_member("debian-binary", b"2.0\n"))
    out.write(ar_member("control.tar.gz", control))
    out.write(ar_member("data.tar.gz", data))
