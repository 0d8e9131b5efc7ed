#!/bin/bash
# Puts together the Debian riscv64 guest: Debian's kernel and a busybox initramfs.
#
#   guests/linux/debian-guest.sh OUTDIR
#
# Fetches linux-image-riscv64 and busybox-static (fetch-debian.sh, cached), then
# writes into OUTDIR:
#   Image       Debian's kernel (a RISC-V Linux Image with an EFI stub; a symlink
#               into the cache)
#   initrd.gz   the initramfs from make-initramfs.py, with virtio_mmio,
#               virtio_blk, virtio_net, ext4 and what they depend on (ext4:
#               jbd2, mbcache, crc16, from their depends= fields; crc32c_generic
#               is named here because jbd2 and ext4 ask for it only at run time,
#               by the alias crypto-crc32c, which the initramfs cannot resolve:
#               it has no modprobe database)
#   versions    "linux-image-… VERSION" and "busybox-static VERSION"
# Boot it with:
#   qemu-system-riscv64 -M virt -m 512M -nographic -kernel OUTDIR/Image \
#       -initrd OUTDIR/initrd.gz -append "console=ttyS0"
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out=$1
mkdir -p "$out"
# Test modules run in parallel and may put the guest together at the same time.
exec 9>"$out/.lock"
flock 9

fetched=$("$here/fetch-debian.sh" linux-image-riscv64 busybox-static)
kernel_root= busybox_root=
while read -r asked name version dir; do
  case $asked in
    linux-image-riscv64) kernel_root=$dir; kernel_line="$name $version" ;;
    busybox-static) busybox_root=$dir; busybox_line="$name $version" ;;
  esac
done <<<"$fetched"

image=$(ls "$kernel_root"/boot/vmlinu[xz]-* 2>/dev/null | head -1)
[ -n "$image" ] || { echo "$0: no kernel image in $kernel_root/boot" >&2; exit 1; }
ln -sfn "$image" "$out/Image"
python3 "$here/make-initramfs.py" --busybox "$busybox_root/usr/bin/busybox" \
    --kernel-root "$kernel_root" --module virtio_mmio --module virtio_blk \
    --module virtio_net --module crc32c_generic --module ext4 -o "$out/initrd.gz" >&2
printf '%s\n%s\n' "$kernel_line" "$busybox_line" >"$out/versions"
echo "$out/Image"
echo "$out/initrd.gz"
