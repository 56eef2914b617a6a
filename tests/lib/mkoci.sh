#!/bin/sh
# Build container images of every kind sandbox-run imports, from a root
# filesystem directory (tests/lib/mkimage.sh makes one), with umoci (rootless
# when not root), skopeo and mksquashfs. Nothing is downloaded.
#
#   mkoci.sh all ROOTFS OUT
#       everything below, into the new directory OUT:
#         OUT/oci            OCI layout, tags "base" and "layered"
#         OUT/oci-layered    OCI layout holding "layered" only (tag "latest")
#         OUT/docker.tar     `docker save` archive of "layered" (sbx/layered:latest)
#         OUT/oci.tar        OCI archive of "layered" (tag "latest")
#         OUT/rootfs.tar.gz  ROOTFS as a gzip tarball (owner root)
#         OUT/rootfs.tar.zst ROOTFS as a zstd tarball (owner root)
#         OUT/image.sqfs     ROOTFS as a zstd squashfs
#   mkoci.sh layout ROOTFS LAYOUT
#       the OCI layout only:
#         LAYOUT:base     one layer: ROOTFS plus the files the upper layer
#                         deletes (/etc/sbx-delete-me, /opt/sbx-delete-dir/),
#                         /usr/local/bin/sbx-entrypoint, the image-only PATH
#                         dir /opt/sbx-imgbin (with sbx-only-in-image) and
#                         /srv/sbx-workdir; no config
#         LAYOUT:layered  base + a second layer that deletes that file and
#                         that dir (umoci writes the whiteouts) and adds
#                         /etc/sbx-layer2-added; config:
#                           Env        IMAGE_VAR=from-image,
#                                      PATH=/opt/sbx-imgbin:<usual dirs>,
#                                      HOME=/image-home, USER=image-user,
#                                      LOGNAME=image-user
#                           WorkingDir /srv/sbx-workdir
#                           Entrypoint /usr/local/bin/sbx-entrypoint (prints
#                                      "sbx-entrypoint ran", then execs "$@")
#                           Cmd        /bin/sh -c 'echo sbx-image-cmd ran'
#   mkoci.sh docker-archive LAYOUT:TAG FILE [NAME:TAG]
#   mkoci.sh oci-archive LAYOUT:TAG FILE     (tagged "latest" inside)
#   mkoci.sh oci-copy LAYOUT:TAG NEWLAYOUT    (that image alone, tag "latest")
#   mkoci.sh tarball ROOTFS FILE      (.tar, .tar.gz, .tar.zst, .tar.xz by name)
#   mkoci.sh squashfs ROOTFS FILE
set -eu

die() {
	echo "mkoci.sh: $*" >&2
	exit 1
}

usage() {
	die "usage: mkoci.sh all ROOTFS OUT | layout ROOTFS LAYOUT | docker-archive LAYOUT:TAG FILE [NAME:TAG] | oci-archive LAYOUT:TAG FILE | oci-copy LAYOUT:TAG NEWLAYOUT | tarball ROOTFS FILE | squashfs ROOTFS FILE"
}

need() {
	for tool in "$@"; do
		command -v "$tool" >/dev/null || die "$tool is missing (tests/install-deps.sh installs it)"
	done
}

# umoci keeps ownership only as root; an unprivileged user needs --rootless.
rootless() {
	[ "$(id -u)" -eq 0 ] || echo --rootless
}

# umoci wants a new bundle directory; it lives beside the layout so a
# failure leaves nothing elsewhere.
unpack() {
	# shellcheck disable=SC2046
	umoci unpack $(rootless) --image "$1" "$2" >/dev/null
}

build_layout() {
	rootfs=$1
	layout=$2
	[ -d "$rootfs" ] || die "$rootfs is not a directory"
	[ ! -e "$layout" ] || die "$layout exists"
	need umoci
	umoci init --layout "$layout"
	umoci new --image "$layout:base"
	bundle=$layout.bundle
	unpack "$layout:base" "$bundle"
	cp -a "$rootfs/." "$bundle/rootfs/"
	r=$bundle/rootfs
	mkdir -p "$r/usr/local/bin" "$r/opt/sbx-imgbin" "$r/opt/sbx-delete-dir/sub" "$r/srv/sbx-workdir"
	echo "doomed file" >"$r/etc/sbx-delete-me"
	echo "doomed dir" >"$r/opt/sbx-delete-dir/a"
	echo "doomed dir" >"$r/opt/sbx-delete-dir/sub/b"
	printf '#!/bin/sh\necho "sbx-entrypoint ran"\nexec "$@"\n' >"$r/usr/local/bin/sbx-entrypoint"
	printf '#!/bin/sh\necho "only in the image"\n' >"$r/opt/sbx-imgbin/sbx-only-in-image"
	chmod 0755 "$r/usr/local/bin/sbx-entrypoint" "$r/opt/sbx-imgbin/sbx-only-in-image"
	umoci repack --image "$layout:base" "$bundle" >/dev/null
	rm -rf "$bundle"

	unpack "$layout:base" "$bundle"
	rm -f "$bundle/rootfs/etc/sbx-delete-me"
	rm -rf "$bundle/rootfs/opt/sbx-delete-dir"
	echo "added by layer 2" >"$bundle/rootfs/etc/sbx-layer2-added"
	umoci repack --image "$layout:layered" "$bundle" >/dev/null
	rm -rf "$bundle"

	umoci config --image "$layout:layered" \
		--config.env IMAGE_VAR=from-image \
		--config.env PATH=/opt/sbx-imgbin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		--config.env HOME=/image-home \
		--config.env USER=image-user \
		--config.env LOGNAME=image-user \
		--config.workingdir /srv/sbx-workdir \
		--config.entrypoint /usr/local/bin/sbx-entrypoint \
		--config.cmd /bin/sh --config.cmd -c --config.cmd 'echo sbx-image-cmd ran'
	umoci gc --layout "$layout"
}

docker_archive() {
	need skopeo
	rm -f "$2"
	skopeo copy --quiet "oci:$1" "docker-archive:$2:${3:-sbx/layered:latest}"
}

oci_archive() {
	need skopeo
	rm -f "$2"
	skopeo copy --quiet "oci:$1" "oci-archive:$2:latest"
}

oci_copy() {
	need skopeo
	[ ! -e "$2" ] || die "$2 exists"
	skopeo copy --quiet "oci:$1" "oci:$2:latest"
}

tarball() {
	rootfs=$1
	file=$2
	[ -d "$rootfs" ] || die "$rootfs is not a directory"
	case $file in
	*.tar.gz | *.tgz) filter="gzip -n" ;;
	*.tar.zst) need zstd && filter="zstd -q -T0" ;;
	*.tar.xz) filter="xz -T0" ;;
	*.tar) filter="cat" ;;
	*) die "$file: name it .tar, .tar.gz, .tar.zst or .tar.xz" ;;
	esac
	# An image's files belong to its root, whoever built it.
	tar --numeric-owner --owner=0 --group=0 -C "$rootfs" -cf - . | $filter >"$file.tmp"
	mv "$file.tmp" "$file"
}

squashfs() {
	need mksquashfs
	[ -d "$1" ] || die "$1 is not a directory"
	rm -f "$2"
	mksquashfs "$1" "$2" -comp zstd -all-root -noappend -no-progress >/dev/null
}

all() {
	rootfs=$1
	out=$2
	[ ! -e "$out" ] || [ -z "$(ls -A "$out")" ] || die "$out exists and is not empty"
	mkdir -p "$out"
	build_layout "$rootfs" "$out/oci"
	oci_copy "$out/oci:layered" "$out/oci-layered"
	docker_archive "$out/oci:layered" "$out/docker.tar"
	oci_archive "$out/oci:layered" "$out/oci.tar"
	tarball "$rootfs" "$out/rootfs.tar.gz"
	tarball "$rootfs" "$out/rootfs.tar.zst"
	squashfs "$rootfs" "$out/image.sqfs"
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
all) [ $# -eq 2 ] || usage; all "$@" ;;
layout) [ $# -eq 2 ] || usage; build_layout "$@" ;;
docker-archive) [ $# -eq 2 ] || [ $# -eq 3 ] || usage; docker_archive "$@" ;;
oci-archive) [ $# -eq 2 ] || usage; oci_archive "$@" ;;
oci-copy) [ $# -eq 2 ] || usage; oci_copy "$@" ;;
tarball) [ $# -eq 2 ] || usage; tarball "$@" ;;
squashfs) [ $# -eq 2 ] || usage; squashfs "$@" ;;
*) usage ;;
esac
