#!/usr/bin/env python3
"""Write hostile image archives for the import tests.

    hostile.py list
        the case names, one a line
    hostile.py CASE OUT --victim DIR [--base ROOTFS] [--probe FILE]
        write one case to OUT (a .tar file, or an OCI layout directory for
        the oci-* cases)
    hostile.py all OUTDIR --victim DIR [--base ROOTFS] [--probe FILE]
        every case, as OUTDIR/CASE.tar or OUTDIR/CASE/

VICTIM is an absolute host directory the archives try to write into, delete
from or link to; it should hold a file named "existing". ROOTFS (a directory
image, tests/lib/mkimage.sh) is put first in every archive so that an import
that neutralises the hostile entries still gives a runnable image; the
hostile entries follow it. PROBE is the binary copied setuid-root.

Rootfs tarballs (every entry after the base is hostile):
    dotdot         "../sbx-escape-1", "../../sbx-escape-2", ... (8 levels) and
                   "etc/../../sbx-escape-etc"
    absolute       "/VICTIM/sbx-absolute" (an absolute member name)
    symlink-abs    "sbx-evil" -> VICTIM, then a file "sbx-evil/sbx-pwned"
    symlink-climb  "sbx-evil" -> "../../(x20)VICTIM", then "sbx-evil/sbx-pwned"
    hardlink       "sbx-hardlink" hard link to "../../(x20)VICTIM/existing",
                   then a regular file "sbx-hardlink" (a write through it)
    hardlink-abs   the same with the link target "VICTIM/existing"
    devices        "sbx-dev/chr" (char 1,3) and "sbx-dev/blk" (block 8,0)
    setuid         "bin/sbx-suid-probe": PROBE, owner 0:0, mode 6755
    sparse         "sbx-huge": a 1 TiB pax (GNU 1.0) sparse file; the archive
                   is a few KiB
OCI layouts (layer 1: ROOTFS, layer 2: the hostile whiteouts; tag "latest"):
    oci-wh-dotdot   layer 2 holds ".wh.."
    oci-wh-parent   layer 2 holds "../.wh.existing"
    oci-wh-climb    layer 2 holds "../../(x20)VICTIM/.wh.existing"
    oci-wh-symlink  layer 1 adds "sbx-evil" -> VICTIM, layer 2 holds
                    "sbx-evil/.wh.existing"
    oci-wh-opaque   layer 1 adds "sbx-evil" -> VICTIM, layer 2 holds
                    "sbx-evil/.wh..wh..opq" (would empty VICTIM)
"""

import argparse
import hashlib
import io
import json
import os
import platform
import sys
import tarfile
import tempfile

UP = "../" * 20
TIB = 1 << 40

TAR_CASES = ["dotdot", "absolute", "symlink-abs", "symlink-climb", "hardlink",
             "hardlink-abs", "devices", "setuid", "sparse"]
OCI_CASES = ["oci-wh-dotdot", "oci-wh-parent", "oci-wh-climb", "oci-wh-symlink",
             "oci-wh-opaque"]


def die(msg):
    print(f"hostile.py: {msg}", file=sys.stderr)
    sys.exit(1)


def as_root(info):
    """An image's files belong to its root, whoever builds the archive."""
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def add_base(tar, base):
    if base:
        tar.add(base, arcname=".", filter=as_root)


def add_file(tar, name, data=b"", mode=0o644, uid=0):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.uid = info.gid = uid
    tar.addfile(info, io.BytesIO(data))


def add_special(tar, name, kind, target="", major=0, minor=0, mode=0o777):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    info.devmajor = major
    info.devminor = minor
    info.mode = mode
    tar.addfile(as_root(info))


def add_sparse(tar, name, realsize):
    """A pax 1.0 sparse member (GNU tar's --sparse-version=1.0): the map is
    the start of the member's data, so only one small region is stored."""
    region = b"sbx sparse tail\n".ljust(512, b"\0")
    offset = realsize - len(region)
    sparse_map = f"1\n{offset}\n{len(region)}\n".encode().ljust(512, b"\0")
    data = sparse_map + region
    info = tarfile.TarInfo(f"GNUSparseFile.0/{name}")
    info.size = len(data)
    info.mode = 0o644
    info.pax_headers = {
        "GNU.sparse.major": "1",
        "GNU.sparse.minor": "0",
        "GNU.sparse.name": name,
        "GNU.sparse.realsize": str(realsize),
    }
    tar.addfile(as_root(info), io.BytesIO(data))


def tar_case(case, tar, victim, probe):
    if case == "dotdot":
        for depth in range(1, 9):
            add_file(tar, "../" * depth + f"sbx-escape-{depth}", b"escaped\n")
        add_file(tar, "etc/../../sbx-escape-etc", b"escaped\n")
    elif case == "absolute":
        add_file(tar, f"{victim}/sbx-absolute", b"absolute\n")
    elif case in ("symlink-abs", "symlink-climb"):
        target = victim if case == "symlink-abs" else UP + victim.lstrip("/")
        add_special(tar, "sbx-evil", tarfile.SYMTYPE, target)
        add_file(tar, "sbx-evil/sbx-pwned", b"pwned through a symlink\n")
    elif case in ("hardlink", "hardlink-abs"):
        target = f"{victim}/existing"
        if case == "hardlink":
            target = UP + target.lstrip("/")
        add_special(tar, "sbx-hardlink", tarfile.LNKTYPE, target, mode=0o644)
        add_file(tar, "sbx-hardlink", b"pwned through a hard link\n")
    elif case == "devices":
        add_special(tar, "sbx-dev", tarfile.DIRTYPE, mode=0o755)
        add_special(tar, "sbx-dev/chr", tarfile.CHRTYPE, major=1, minor=3, mode=0o666)
        add_special(tar, "sbx-dev/blk", tarfile.BLKTYPE, major=8, minor=0, mode=0o666)
    elif case == "setuid":
        if not probe:
            die("the setuid case needs --probe FILE")
        with open(probe, "rb") as f:
            add_file(tar, "bin/sbx-suid-probe", f.read(), mode=0o6755)
    elif case == "sparse":
        add_sparse(tar, "sbx-huge", TIB)


def write_tar_case(case, out, victim, base, probe):
    tmp = out + ".tmp"
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        add_base(tar, base)
        tar_case(case, tar, victim, probe)
    os.replace(tmp, out)


class Layout:
    """An OCI image layout written by hand, so a layer may hold what no
    image tool would write."""

    def __init__(self, path):
        self.path = path
        os.makedirs(os.path.join(path, "blobs", "sha256"))
        with open(os.path.join(path, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)

    def blob(self, data, media_type):
        digest = hashlib.sha256(data).hexdigest()
        with open(os.path.join(self.path, "blobs", "sha256", digest), "wb") as f:
            f.write(data)
        return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}

    def finish(self, layers):
        arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
        descs = [self.blob(layer, "application/vnd.oci.image.layer.v1.tar") for layer in layers]
        config = {
            "architecture": arch,
            "os": "linux",
            "config": {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [d["digest"] for d in descs]},
        }
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": self.blob(json.dumps(config).encode(),
                                "application/vnd.oci.image.config.v1+json"),
            "layers": descs,
        }
        mdesc = self.blob(json.dumps(manifest).encode(),
                          "application/vnd.oci.image.manifest.v1+json")
        mdesc["annotations"] = {"org.opencontainers.image.ref.name": "latest"}
        with open(os.path.join(self.path, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "manifests": [mdesc]}, f)


def layer(fill):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        fill(tar)
    return buf.getvalue()


def whiteout(tar, name):
    add_file(tar, name)


def write_oci_case(case, out, victim, base):
    if os.path.exists(out):
        die(f"{out} exists")
    evil_link = case in ("oci-wh-symlink", "oci-wh-opaque")

    def lower(tar):
        add_base(tar, base)
        if evil_link:
            add_special(tar, "sbx-evil", tarfile.SYMTYPE, victim)

    def upper(tar):
        if case == "oci-wh-dotdot":
            whiteout(tar, ".wh..")
        elif case == "oci-wh-parent":
            whiteout(tar, "../.wh.existing")
        elif case == "oci-wh-climb":
            whiteout(tar, UP + victim.lstrip("/") + "/.wh.existing")
        elif case == "oci-wh-symlink":
            whiteout(tar, "sbx-evil/.wh.existing")
        elif case == "oci-wh-opaque":
            whiteout(tar, "sbx-evil/.wh..wh..opq")

    tmp = tempfile.mkdtemp(prefix=os.path.basename(out) + ".", dir=os.path.dirname(out) or ".")
    os.rmdir(tmp)
    lay = Layout(tmp)
    lay.finish([layer(lower), layer(upper)])
    os.rename(tmp, out)


def write_case(case, out, args):
    if case in TAR_CASES:
        write_tar_case(case, out, args.victim, args.base, args.probe)
    elif case in OCI_CASES:
        write_oci_case(case, out, args.victim, args.base)
    else:
        die(f"unknown case {case!r} (hostile.py list)")


def main():
    if sys.argv[1:] == ["list"]:
        print("\n".join(TAR_CASES + OCI_CASES))
        return
    p = argparse.ArgumentParser(description="write hostile image archives")
    p.add_argument("case")
    p.add_argument("out")
    p.add_argument("--victim", required=True)
    p.add_argument("--base")
    p.add_argument("--probe")
    args = p.parse_args()
    if not os.path.isabs(args.victim):
        die(f"--victim must be an absolute path: {args.victim}")
    args.victim = os.path.normpath(args.victim)
    if args.base and not os.path.isdir(args.base):
        die(f"--base {args.base} is not a directory")
    if args.case == "all":
        os.makedirs(args.out, exist_ok=True)
        for case in TAR_CASES:
            write_case(case, os.path.join(args.out, case + ".tar"), args)
        for case in OCI_CASES:
            write_case(case, os.path.join(args.out, case), args)
    else:
        write_case(args.case, args.out, args)


if __name__ == "__main__":
    main()
