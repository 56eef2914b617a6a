#!/bin/bash
# Prepare the VM lane: qemu, Debian 12's kernel and a busybox initramfs, all
# from Debian's archive, cached outside the git tree. Idempotent: a second run
# only checks that everything is still current.
#
#   tests/vm/prepare.sh
#
# Environment:
#   SBX_VM_CACHE   cache directory (default /var/cache/slurm-sandbox-vm)
#   SBX_VM_APT_CONFIG  an apt configuration (APT_CONFIG) naming another
#                  distribution's archive, to take the kernel from there
#                  (tests/vm/trixie-prepare.sh); the host's apt otherwise
#   SBX_VM_ROOT    the guest's root for vm.env (default /, the host's)
#
# The cache holds kernel/<package>_<version>/ (the kernel package, extracted),
# initramfs.img, and vm.env: the kernel, initramfs and kernel release that
# tests/vm/run.sh boots. Installing packages and downloading need root; a
# prepared cache does not.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=${SBX_VM_CACHE:-/var/cache/slurm-sandbox-vm}

# The initramfs loads these in this order, each after the modules it depends
# on (wrong order: "Unknown symbol"). The optional ones are for tests that
# need them; they are skipped if this kernel has none.
required_modules="dummy virtio_pci 9pnet_virtio 9p overlay"
optional_modules="fuse squashfs loop"

die() {
	echo "prepare: $*" >&2
	exit 1
}

is_installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

apt_get() {
	DEBIAN_FRONTEND=noninteractive apt-get -qq "$@"
}

ensure_host_packages() {
	local missing=() pkg
	for pkg in qemu-system-x86 busybox-static; do
		is_installed "$pkg" || missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "installing ${missing[*]}: not root (run tests/install-deps.sh --vm as root)"
	echo "prepare: installing ${missing[*]}"
	# A fresh machine may have no package lists yet, or stale ones.
	if ! apt_get install -y --no-install-recommends "${missing[@]}" >/dev/null; then
		apt_get update
		apt_get install -y --no-install-recommends "${missing[@]}" >/dev/null
	fi
}

# apt for the kernel: the host's, or the one SBX_VM_APT_CONFIG configures.
kernel_apt() {
	if [ -n "${SBX_VM_APT_CONFIG:-}" ]; then
		APT_CONFIG=$SBX_VM_APT_CONFIG "$@"
	else
		"$@"
	fi
}

# The versioned kernel package Debian's metapackage points at, and its
# version: "linux-image-6.1.0-56-amd64 6.1.192-2" (what `apt-cache depends
# linux-image-amd64` names; bookworm pins the exact version). One apt-cache
# call, as each costs a second here.
kernel_package() {
	local pkg ver
	read -r pkg ver < <(kernel_apt apt-cache show --no-all-versions linux-image-amd64 2>/dev/null |
		sed -n 's/^Depends:.*\(linux-image-[0-9][^ ,]*-amd64\)\( (= \([^)]*\))\)\{0,1\}.*/\1 \3/p' |
		head -n 1)
	[ -n "$pkg" ] || return 0
	if [ -z "$ver" ]; then
		ver=$(kernel_apt apt-cache show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1)
	fi
	echo "$pkg $ver"
}

# Downloads and extracts the kernel package into $cache/kernel unless it is
# already there; sets kernel_dir.
ensure_kernel() {
	local pkg ver tmp deb
	read -r pkg ver < <(kernel_package)
	if [ -z "$pkg" ]; then
		[ "$(id -u)" -eq 0 ] || die "apt-cache names no kernel for linux-image-amd64 (no package lists; run as root)"
		kernel_apt apt_get update
		read -r pkg ver < <(kernel_package)
		[ -n "$pkg" ] || die "apt-cache show linux-image-amd64: no linux-image-*-amd64 dependency"
	fi
	[ -n "$ver" ] || die "apt-cache show $pkg: no version"
	kernel_dir=$cache/kernel/${pkg}_$ver
	kernel_package_name=$pkg
	kernel_package_version=$ver
	[ -e "$kernel_dir/.complete" ] && return 0

	[ "$(id -u)" -eq 0 ] || die "downloading $pkg $ver into $cache: not root"
	echo "prepare: downloading $pkg $ver"
	tmp=$(mktemp -d "$cache/download.XXXXXX")
	# apt's download sandbox user (_apt) cannot write into a root-only cache.
	(cd "$tmp" && kernel_apt apt-get -qq -o APT::Sandbox::User=root download "$pkg=$ver") ||
		{ rm -rf "$tmp"; die "apt-get download $pkg=$ver failed"; }
	deb=$(ls "$tmp"/*.deb)
	rm -rf "$kernel_dir"
	mkdir -p "$kernel_dir"
	dpkg-deb -x "$deb" "$kernel_dir" || { rm -rf "$tmp"; die "dpkg-deb -x $deb failed"; }
	rm -rf "$tmp"
	touch "$kernel_dir/.complete"
	# Only the current kernel is kept: an older one is ~400 MB unpacked.
	find "$cache/kernel" -mindepth 1 -maxdepth 1 ! -path "$kernel_dir" -exec rm -rf {} +
}

# The kernel package ships no modules.dep (its postinst runs depmod), so each
# module's "depends=" is read from its .modinfo section: NUL-separated
# key=value strings.
declare -A module_path module_seen
load_order=()

index_modules() {
	local moddir=$1 path name
	while IFS= read -r path; do
		name=${path##*/}
		name=${name%%.ko*}
		module_path[${name//-/_}]=$path
	done < <(find "$moddir/kernel" -name '*.ko*')
}

# Copies module $1 to $2, uncompressed: busybox insmod reads plain .ko only.
copy_module() {
	local src=$1 dst=$2
	case $src in
	*.ko) cp "$src" "$dst" ;;
	*.ko.xz) xz -dc "$src" >"$dst" ;;
	*.ko.zst) zstd -qdc "$src" >"$dst" ;;
	*.ko.gz) gzip -dc "$src" >"$dst" ;;
	*) die "module $src: unknown compression" ;;
	esac
}

# Stages module $1 into $2 after the modules it needs, so that loading
# load_order front to back never hits "Unknown symbol".
stage_with_deps() {
	local name=${1//-/_} stage=$2 dep deps
	[ -n "${module_seen[$name]:-}" ] && return 0
	module_seen[$name]=1
	[ -n "${module_path[$name]:-}" ] || die "module $name: not in the kernel package"
	copy_module "${module_path[$name]}" "$stage/lib/modules/$name.ko"
	deps=$(tr '\0' '\n' <"$stage/lib/modules/$name.ko" | sed -n 's/^depends=//p' | head -n 1)
	for dep in ${deps//,/ }; do
		stage_with_deps "$dep" "$stage"
	done
	load_order+=("$name")
}

is_builtin() {
	grep -q "/$2\.ko\$" "$1/modules.builtin"
}

# The uncompressed ELF kernel inside bzImage $1, written to $2. qemu boots an
# ELF with a PVH note directly, skipping the decompressor, which takes ~4 s
# under TCG. Offsets from Documentation/x86/boot.rst: the protected-mode code
# starts at (setup_sects + 1) * 512, the payload at payload_offset from there,
# and the payload's last 4 bytes are the uncompressed size, not data.
extract_vmlinux() {
	local bzimage=$1 out=$2 setup_sects payload_offset payload_length start magic
	setup_sects=$(od -An -tu1 -j $((0x1f1)) -N1 "$bzimage" | tr -d ' ')
	payload_offset=$(od -An -tu4 -j $((0x248)) -N4 "$bzimage" | tr -d ' ')
	payload_length=$(od -An -tu4 -j $((0x24c)) -N4 "$bzimage" | tr -d ' ')
	[ "$setup_sects" -eq 0 ] && setup_sects=4
	start=$(((setup_sects + 1) * 512 + payload_offset + 1))
	magic=$(tail -c +"$start" "$bzimage" | od -An -tx1 -N4 | tr -d ' ')
	local decompress
	case $magic in
	fd377a58) decompress="xz -dc" ;;
	28b52ffd) decompress="zstd -qdc" ;;
	1f8b*) decompress="gzip -dc" ;;
	*) return 1 ;;
	esac
	tail -c +"$start" "$bzimage" | head -c $((payload_length - 4)) | $decompress >"$out.tmp" &&
		[ "$(od -An -c -N4 "$out.tmp" | tr -d ' ')" = '177ELF' ] &&
		mv "$out.tmp" "$out"
}

build_initramfs() {
	local moddir=$1 out=$2 stage name
	stage=$(mktemp -d "$cache/initramfs.XXXXXX")
	mkdir -p "$stage"/{bin,dev,etc,proc,sys,lower,rw,newroot,lib/modules}
	cp /bin/busybox "$stage/bin/busybox"
	cp "$here/initramfs-init.sh" "$stage/init"
	chmod 0755 "$stage/init"
	index_modules "$moddir"
	for name in $required_modules; do
		is_builtin "$moddir" "$name" || stage_with_deps "$name" "$stage"
	done
	for name in $optional_modules; do
		[ -n "${module_path[$name]:-}" ] && stage_with_deps "$name" "$stage"
	done
	printf '%s\n' "${load_order[@]}" >"$stage/etc/sbx-modules"
	# The kernel opens /dev/console for init before anything is mounted.
	if [ "$(id -u)" -eq 0 ]; then
		mknod -m 0600 "$stage/dev/console" c 5 1
	fi
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
		busybox cpio -o -H newc -R 0:0 2>/dev/null | gzip -6) >"$out.tmp"
	rm -rf "$stage"
	mv "$out.tmp" "$out"
	echo "prepare: initramfs built, modules: ${load_order[*]}"
}

main() {
	local release moddir vmlinuz kernel stamp_want stamp_have lock_fd start=$SECONDS
	ensure_host_packages
	mkdir -p "$cache"
	# Two prepares at once would unpack into the same directories.
	exec {lock_fd}>"$cache/.lock"
	flock "$lock_fd"
	ensure_kernel

	vmlinuz=$(ls "$kernel_dir"/boot/vmlinuz-* 2>/dev/null | head -n 1)
	[ -n "$vmlinuz" ] || die "$kernel_dir: no boot/vmlinuz-*"
	release=${vmlinuz##*/vmlinuz-}
	# Debian 13 ships modules below /usr (merged /usr), Debian 12 below /lib.
	moddir=$kernel_dir/usr/lib/modules/$release
	[ -d "$moddir" ] || moddir=$kernel_dir/lib/modules/$release
	kernel=$kernel_dir/vmlinux
	if [ ! -s "$kernel" ] && ! extract_vmlinux "$vmlinuz" "$kernel"; then
		rm -f "$kernel.tmp"
		echo "prepare: cannot unpack $vmlinuz; booting it compressed (~4 s slower)"
		kernel=$vmlinuz
	fi

	# Rebuild the initramfs when anything that goes into it changes.
	stamp_want=$( {
		echo "$kernel_dir $required_modules $optional_modules"
		dpkg-query -W -f='${Version}\n' busybox-static
		cat "$here/initramfs-init.sh"
	} | sha256sum | cut -d' ' -f1)
	stamp_have=$(cat "$cache/initramfs.stamp" 2>/dev/null || true)
	if [ "$stamp_want" != "$stamp_have" ] || [ ! -s "$cache/initramfs.img" ]; then
		build_initramfs "$moddir" "$cache/initramfs.img"
		echo "$stamp_want" >"$cache/initramfs.stamp"
	fi

	cat >"$cache/vm.env.tmp" <<-EOF
	SBX_VM_KERNEL=$kernel
	SBX_VM_INITRD=$cache/initramfs.img
	SBX_VM_KERNEL_RELEASE=$release
	SBX_VM_KERNEL_PACKAGE=$kernel_package_name $kernel_package_version
	SBX_VM_ROOT=${SBX_VM_ROOT:-/}
	EOF
	mv "$cache/vm.env.tmp" "$cache/vm.env"
	echo "prepare: kernel $release ($kernel_package_name $kernel_package_version), cache $cache ($((SECONDS - start)) s)"
}

main "$@"
