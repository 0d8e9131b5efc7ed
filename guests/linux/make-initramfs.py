#!/usr/bin/env python3
"""Builds a small initramfs (cpio "newc", gzip) for a Debian riscv64 kernel.

    make-initramfs.py --busybox BUSYBOX --kernel-root DIR [--module NAME]... -o OUT

BUSYBOX is a static busybox for rv64 (Debian's busybox-static: usr/bin/busybox);
DIR is an unpacked linux-image-* package (its usr/lib/modules/VERSION). Each
--module is loaded at boot, after the modules it depends on (the `depends=`
field of each module's .modinfo, what depmod writes to modules.dep). Debian
ships its modules xz-compressed (.ko.xz); they are stored decompressed, because
busybox's insmod hands the file to init_module(2) as it is and the kernel
decompresses only what finit_module(2) is told is compressed.

What the guest does at boot (/init, run by the kernel as PID 1):
  - installs busybox's applets, mounts /proc, /sys and devtmpfs on /dev;
  - loads the modules (`ferry-initramfs: insmod NAME failed` if one fails);
  - prints the marker line `ferry-initramfs: ready (kernel VERSION)`;
  - if the kernel command line sets ferry_cmd=... (quoted: ferry_cmd="a b"),
    runs it with sh -c, prints `ferry-initramfs: exit STATUS`, powers off;
  - otherwise hands over to busybox init (/etc/inittab): a root shell on the
    console (prompt `~ # `, respawned when it exits); `poweroff` and `reboot`
    work as on any system (init stops the processes, syncs, and asks the
    kernel to power off or restart the board).

`udhcpc -i eth0` configures eth0 from a DHCP lease (address, default route,
/etc/resolv.conf) through /etc/udhcpc/default.script.

The archive is reproducible: every entry has mtime 0 and uid/gid 0, in a fixed
order. Nothing here needs root (the /dev/console node is written into the
archive, not created on the host).
"""
import argparse
import gzip
import io
import lzma
import os
import stat
import struct
import sys

MARKER = "ferry-initramfs: ready"

INIT = r"""#!/bin/busybox sh
# ferry's Debian test initramfs (guests/linux/make-initramfs.py)
/bin/busybox mkdir -p /proc /sys /dev /sbin /usr/bin /usr/sbin /tmp /root
/bin/busybox --install -s
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /etc/modules-load); do
  insmod "/lib/modules/$(uname -r)/$m.ko" || echo "ferry-initramfs: insmod $m failed"
done
echo "@MARKER@ (kernel $(uname -r))"
if [ -n "$ferry_cmd" ]; then
  sh -c "$ferry_cmd"
  echo "ferry-initramfs: exit $?"
  sync
  poweroff -f
fi
unset ferry_cmd
exec /sbin/init
""".replace("@MARKER@", MARKER)

INITTAB = """\
::respawn:/bin/cttyhack /bin/sh -l
::ctrlaltdel:/sbin/reboot
::shutdown:/bin/umount -a -r
::restart:/sbin/init
"""

PROFILE = """\
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PS1='~ # '
"""

# What udhcpc runs at each DHCP event (Debian's busybox looks for
# /etc/udhcpc/default.script; /usr/share/udhcpc/default.script links to it, the
# path other builds use): the lease's address, default route and DNS servers.
UDHCPC_SCRIPT = r"""#!/bin/sh
# udhcpc's hook (guests/linux/make-initramfs.py); udhcpc sets $interface,
# $ip, $mask (prefix length), $router, $dns, $domain.
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    ;;
  bound|renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    ip link set "$interface" up
    while ip route del default dev "$interface" 2>/dev/null; do :; done
    for r in $router; do
      ip route add default via "$r" dev "$interface" && break
    done
    : >/etc/resolv.conf
    [ -n "$domain" ] && echo "search $domain" >>/etc/resolv.conf
    for d in $dns; do
      echo "nameserver $d" >>/etc/resolv.conf
    done
    echo "udhcpc: $interface $ip/$mask router $router dns $dns"
    ;;
esac
exit 0
"""


class Cpio:
    """Writes a cpio archive in the "newc" format (what the kernel unpacks)."""

    def __init__(self):
        self.out = io.BytesIO()
        self.ino = 1

    def _entry(self, name, mode, data=b"", rdev=(0, 0), nlink=1):
        name_b = name.encode() + b"\0"
        header = b"070701" + b"".join(b"%08X" % v for v in (
            self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1],
            len(name_b), 0))
        self.ino += 1
        self.out.write(header + name_b)
        self._pad()
        self.out.write(data)
        self._pad()

    def _pad(self):
        self.out.write(b"\0" * (-self.out.tell() % 4))

    def directory(self, name):
        self._entry(name, stat.S_IFDIR | 0o755, nlink=2)

    def file(self, name, data, mode=0o644):
        self._entry(name, stat.S_IFREG | mode, data)

    def symlink(self, name, target):
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def char_device(self, name, major, minor, mode=0o600):
        self._entry(name, stat.S_IFCHR | mode, rdev=(major, minor))

    def finish(self):
        self._entry("TRAILER!!!", 0, nlink=1)
        return self.out.getvalue()


def modules_dir(kernel_root):
    for base in ("usr/lib/modules", "lib/modules"):
        path = os.path.join(kernel_root, base)
        if os.path.isdir(path):
            versions = sorted(os.listdir(path))
            if len(versions) == 1:
                return versions[0], os.path.join(path, versions[0])
            raise SystemExit(f"make-initramfs.py: {path} holds {len(versions)} kernel "
                             "versions, expected one")
    raise SystemExit(f"make-initramfs.py: {kernel_root} holds no lib/modules/VERSION "
                     "(is it an unpacked linux-image package?)")


def index_modules(moddir):
    """Module name (dashes as underscores) -> path of its .ko/.ko.xz file."""
    index = {}
    for top, _, files in os.walk(os.path.join(moddir, "kernel")):
        for f in files:
            for ext in (".ko.xz", ".ko"):
                if f.endswith(ext):
                    index[f[:-len(ext)].replace("-", "_")] = os.path.join(top, f)
    return index


def read_module(path):
    with open(path, "rb") as f:
        data = f.read()
    return lzma.decompress(data) if path.endswith(".xz") else data


def modinfo_depends(data):
    """The modules named in the `depends=` field of a module's .modinfo."""
    i = data.find(b"\0depends=")
    if i < 0:
        return []
    value = data[i + 9:data.index(b"\0", i + 9)].decode()
    return [d.replace("-", "_") for d in value.split(",") if d]


def load_order(wanted, index, builtin):
    """Modules to load, each after the ones it depends on."""
    order, contents, visiting = [], {}, set()

    def visit(name):
        if name in contents or name in builtin:
            return
        if name in visiting:
            raise SystemExit(f"make-initramfs.py: modules depend on each other in a "
                             f"cycle through {name}")
        if name not in index:
            raise SystemExit(f"make-initramfs.py: no module '{name}' in this kernel")
        visiting.add(name)
        data = read_module(index[name])
        for dep in modinfo_depends(data):
            visit(dep)
        visiting.discard(name)
        contents[name] = data
        order.append(name)

    for name in wanted:
        visit(name.replace("-", "_"))
    return order, contents


def builtin_modules(moddir):
    path = os.path.join(moddir, "modules.builtin")
    if not os.path.exists(path):
        return set()
    with open(path) as f:
        return {os.path.basename(l.strip()).split(".ko")[0].replace("-", "_")
                for l in f if l.strip()}


def build(busybox, kernel_root, modules):
    with open(busybox, "rb") as f:
        bb = f.read()
    if bb[:4] != b"\x7fELF" or bb[4] != 2 or struct.unpack_from("<H", bb, 18)[0] != 243:
        raise SystemExit(f"make-initramfs.py: {busybox} is not a 64-bit RISC-V ELF program")
    version, moddir = modules_dir(kernel_root)
    order, contents = load_order(modules, index_modules(moddir), builtin_modules(moddir))

    a = Cpio()
    for d in ("bin", "dev", "etc", "lib", "lib/modules", f"lib/modules/{version}", "proc",
              "root", "sbin", "sys", "tmp", "usr", "usr/bin", "usr/sbin", "etc/udhcpc",
              "usr/share", "usr/share/udhcpc"):
        a.directory(d)
    a.char_device("dev/console", 5, 1)
    a.file("bin/busybox", bb, 0o755)
    a.symlink("bin/sh", "busybox")
    a.symlink("sbin/init", "../bin/busybox")
    a.file("init", INIT.encode(), 0o755)
    a.file("etc/inittab", INITTAB.encode())
    a.file("etc/profile", PROFILE.encode())
    a.file("etc/udhcpc/default.script", UDHCPC_SCRIPT.encode(), 0o755)
    a.symlink("usr/share/udhcpc/default.script", "../../../etc/udhcpc/default.script")
    a.file("etc/modules-load", "".join(m + "\n" for m in order).encode())
    for m in order:
        a.file(f"lib/modules/{version}/{m}.ko", contents[m])
    return a.finish(), version, order


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--busybox", required=True, help="static rv64 busybox binary")
    p.add_argument("--kernel-root", required=True, help="unpacked linux-image package")
    p.add_argument("--module", action="append", default=[], help="module to load at boot")
    p.add_argument("-o", "--output", required=True, help="the gzip-compressed cpio archive")
    args = p.parse_args()
    archive, version, order = build(args.busybox, args.kernel_root, args.module)
    tmp = f"{args.output}.{os.getpid()}.tmp"  # unique: other writers may run at once
    with open(tmp, "wb") as f:
        f.write(gzip.compress(archive, compresslevel=9, mtime=0))
    os.replace(tmp, args.output)
    print(f"{args.output}: kernel {version}, modules: {' '.join(order) or 'none'}")


if __name__ == "__main__":
    sys.exit(main())
