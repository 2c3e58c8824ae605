"""Debian 12's stock kernel (linux-image-amd64, unmodified) as a PVH domU on
Keel, created from dom0's CLI with `xl create`, with its own xen-blkfront,
xen-netfront and hvc console against Keel's backends (docs/linux-guest.md).
The package and busybox-static come from Debian with apt-get download
(tests/linux/debian.py, cached under build/linux/); the initramfs holds
busybox, the two frontend modules and an /init that does what the test
asks through the kernel command line (linuxtest=...)."""
import hashlib
import os
import re
import subprocess
import sys

import keeltest
from keeltest import test, fail, FILES_DIR

sys.path.insert(0, os.path.dirname(__file__))
import debian  # noqa: E402
import guest  # noqa: E402

# /init: mounts, loads the frontends, then runs the step the command line
# names, and ends in a shell on hvc0 (or powers off).
INIT = r"""#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "linux-test: init running"
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m.ko || echo "linux-test: insmod $m failed"; done
step=$(sed -n 's/.*linuxtest=\([a-z]*\).*/\1/p' /proc/cmdline)
for i in $(seq 50); do [ -b /dev/xvda ] && break; sleep 0.2; done
[ -b /dev/xvda ] && echo "linux-test: xvda $(cat /sys/block/xvda/size) sectors"
[ -e /sys/class/net/eth0 ] && echo "linux-test: eth0 $(cat /sys/class/net/eth0/address)"
case "$step" in
disk)
	mkdir -p /mnt/d
	if mount -t ext4 /dev/xvda /mnt/d; then
		echo "linux-test: known $(sha256sum /mnt/d/known.bin | cut -d' ' -f1)"
		i=0; while [ $i -lt 4096 ]; do printf 'keel-linux-%06d\n' $i; i=$((i+1)); done > /mnt/d/written.txt
		echo "linux-test: written $(sha256sum /mnt/d/written.txt | cut -d' ' -f1)"
		sync
		umount /mnt/d && echo "linux-test: unmounted"
	else
		echo "linux-test: mount failed"
	fi
	poweroff -f
	;;
net)
	ip link set eth0 up
	ip addr add 10.0.2.15/24 dev eth0
	if ping -c 3 -W 5 10.0.2.1; then echo "linux-test: ping ok"; else echo "linux-test: ping failed"; fi
	poweroff -f
	;;
poweroff)
	poweroff -f
	;;
esac
echo "linux-test: shell"
exec setsid cttyhack sh
"""

SECTORS = 64 << 11  # a 64 MiB xvda


def setup(name, modules=("xen-blkfront", "xen-netfront")):
    info = debian.fetch()
    d = os.path.join(FILES_DIR, name)
    os.makedirs(d, exist_ok=True)
    rd = debian.initramfs(info, INIT, os.path.join(d, "initrd.cpio"), modules=modules)
    return info, d, rd


def linux_cfg(step, disk=True, vif=True):
    cfg = ('name = "linux"\ntype = "pvh"\nkernel = "/boot/vmlinuz"\nramdisk = "/boot/initrd"\n'
           'memory = 256\nvcpus = 1\n'
           'cmdline = "console=hvc0 earlyprintk=xen loglevel=7 linuxtest=%s"\n'
           'on_poweroff = "destroy"\n' % step)
    if disk:
        cfg += "disk = [ 'phy:vda,xvda,w' ]\n"
    if vif:
        cfg += "vif = [ 'mac=00:16:3e:4c:69:6e,bridge=xenbr0' ]\n"
    return cfg


def disk_args(img):
    return ["-drive", "if=none,id=kd0,format=raw,file=%s" % img,
            "-device", "virtio-blk-pci,drive=kd0,serial=LINUXDISK"]


def create(con):
    out = con.cmd("xl create /boot/linux.cfg", timeout=180, expect="created linux as domain")
    return int(re.search(r"created linux as domain (\d+)", out).group(1))


@test("linux-pvh-boots-to-initramfs-shell", timeout=900)
def _():
    """`xl create linux.cfg` boots Debian's kernel to a busybox shell on hvc0:
    the kernel's own lines show Xen PVH detected, the hvc0 console, the
    xen-blkfront finding xvda with the exported disk's size, xen-netfront
    binding eth0 with the configured MAC; a command typed through
    `xl console` runs in the guest's shell."""
    info, d, rd = setup(keeltest.CURRENT.name)
    img = os.path.join(d, "disk.img")
    with open(img, "wb") as f:
        f.truncate(SECTORS * 512)
    con = guest.LinuxConsole({"linux.cfg": linux_cfg("shell")}, rd, info["vmlinuz"],
                             dom0_args="shell ip=10.0.2.1/24", extra_qemu=disk_args(img))
    try:
        start = len(con.buf)
        dom = create(con)
        con.wait_for("linux-test: shell", 400, start)
        log = con.text(start)
        for want in (r"\(d%d\) .*Booting kernel on Xen PVH" % dom,
                     r"\(d%d\) .*Hypervisor detected: Xen HVM" % dom,
                     r"\(d%d\) .*printk: console \[hvc0\] enabled" % dom,
                     r"\(d%d\) .*blkfront: xvda: .*" % dom,
                     r"\(d%d\) linux-test: xvda %d sectors" % (dom, SECTORS),
                     r"\(d%d\) linux-test: eth0 00:16:3e:4c:69:6e" % (dom,)):
            if not re.search(want, log):
                fail("the guest's log lacks %r" % want, log[-6000:])
        con.type("xl console linux")
        con.wait_for("console: --- live ---", 30, start)
        at = len(con.buf)
        con.type("echo keel-$((6*7))-shell")
        con.wait_for("keel-42-shell", 60, at)
        con.proc.stdin.write(b"\x1d")
        con.proc.stdin.flush()
        con.wait_for("detached from d%d" % dom, 20, at)
        con.wait_for("dom0> ", 20, con.buf.rfind(b"detached from"))
        con.cmd("xl destroy linux", timeout=60)
    finally:
        con.close()


@test("linux-pvh-poweroff-removes-domain", timeout=900)
def _():
    """`poweroff -f` inside Linux (every CPU halts with interrupts off, no
    ACPI S5) powers the domain off, and on_poweroff=destroy removes it:
    `xl list` no longer shows it."""
    info, d, rd = setup(keeltest.CURRENT.name)
    con = guest.LinuxConsole({"linux.cfg": linux_cfg("poweroff", disk=False, vif=False)}, rd,
                             info["vmlinuz"])
    try:
        start = len(con.buf)
        dom = create(con)
        con.wait_for("linux-test: init running", 400, start)
        con.wait_for(re.compile(r"xl: linux \(%d\): poweroff; on_poweroff=destroy" % dom), 120, start)
        log = con.text(start)
        if not re.search(r"keel: d%dv0: HLT with interrupts off: vCPU offline, no vCPU left: "
                         r"domain powered off" % dom, log):
            fail("no power-off by HLT with interrupts off", log[-4000:])
        out = con.cmd("xl list")
        if re.search(r"^linux\s", out, re.M):
            fail("linux is still listed after powering off with on_poweroff=destroy", out)
    finally:
        con.close()


@test("linux-pvh-disk", timeout=900)
def _():
    """An ext4 image made on the host (mke2fs -d) with a known file is the
    guest's xvda: Linux mounts it, the file's SHA-256 matches, it writes a
    new file with a known pattern, syncs, unmounts and powers off; the host
    reads the new file out of the image with debugfs and checks it."""
    # ext4 is a module in Debian's kernel; mke2fs's default metadata_csum
    # needs the crc32c hash, also a module.
    info, d, rd = setup(keeltest.CURRENT.name,
                        ("xen-blkfront", "xen-netfront", "crc32c_generic", "ext4"))
    src = os.path.join(d, "fs")
    os.makedirs(src, exist_ok=True)
    known = hashlib.sha256(b"keel").digest() * 20000
    with open(os.path.join(src, "known.bin"), "wb") as f:
        f.write(known)
    img = os.path.join(d, "ext4.img")
    if os.path.exists(img):
        os.unlink(img)
    subprocess.run(["mke2fs", "-q", "-t", "ext4", "-d", src, img, "64M"], check=True)
    con = guest.LinuxConsole({"linux.cfg": linux_cfg("disk", vif=False)}, rd, info["vmlinuz"],
                             extra_qemu=disk_args(img))
    try:
        start = len(con.buf)
        dom = create(con)
        con.wait_for(re.compile(r"xl: linux \(%d\): poweroff" % dom), 500, start)
        log = con.text(start)
    finally:
        con.close()
    want_known = hashlib.sha256(known).hexdigest()
    written = "".join("keel-linux-%06d\n" % i for i in range(4096)).encode()
    want_written = hashlib.sha256(written).hexdigest()
    for want in ("linux-test: known %s" % want_known, "linux-test: written %s" % want_written,
                 "linux-test: unmounted"):
        if want not in log:
            fail("the guest did not print %r" % want, log[-5000:])
    out = subprocess.run(["debugfs", "-R", "cat /written.txt", img], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL).stdout
    if out != written:
        fail("written.txt read from the image by debugfs differs (%d bytes, want %d)"
             % (len(out), len(written)), out[:200].decode("latin-1"))


@test("linux-pvh-net", timeout=900)
def _():
    """Linux's eth0 (xen-netfront on a vif of xenbr0) is configured and pings
    dom0's bridge address 10.0.2.1 (dom0 started with ip=10.0.2.1/24)."""
    info, d, rd = setup(keeltest.CURRENT.name)
    con = guest.LinuxConsole({"linux.cfg": linux_cfg("net", disk=False)}, rd, info["vmlinuz"],
                             dom0_args="shell ip=10.0.2.1/24")
    try:
        start = len(con.buf)
        dom = create(con)
        con.wait_for(re.compile(r"xl: linux \(%d\): poweroff" % dom), 500, start)
        log = con.text(start)
    finally:
        con.close()
    if "linux-test: ping ok" not in log or not re.search(r"3 packets transmitted, 3 (packets )?received", log):
        fail("Linux's ping of dom0's bridge address did not get 3 replies", log[-5000:])
