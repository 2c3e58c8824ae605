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
import time
import subprocess
import sys

import keeltest
from keeltest import test, fail, BUILD, FILES_DIR

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
	ip addr add 10.99.0.15/24 dev eth0
	ping -c 3 -W 5 10.99.0.2 && echo "linux-test: ping dom0 ok"
	ping -c 3 -W 5 10.99.0.1 && echo "linux-test: ping peer ok"
	nc 10.99.0.1 5000 </dev/null > /tmp/rx
	echo "linux-test: rx $(wc -c < /tmp/rx) $(sha256sum /tmp/rx | cut -d' ' -f1)"
	dd if=/dev/urandom of=/tmp/tx bs=64k count=32 2>/dev/null
	echo "linux-test: tx $(wc -c < /tmp/tx) $(sha256sum /tmp/tx | cut -d' ' -f1)"
	nc 10.99.0.1 5001 < /tmp/tx
	echo "linux-test: tx sent"
	poweroff -f
	;;
poweroff)
	poweroff -f
	;;
sh)
	# No console input (Bochs): the shell runs a command line itself.
	echo "linux-test: shell"
	sh -c 'echo "linux-test: sh says keel-$((6*7))"'
	poweroff -f
	;;
esac
# `xl shutdown`: Linux's xenbus sees control/shutdown = poweroff and runs
# the poweroff helper, busybox's poweroff, which signals PID 1 (this
# script) with SIGUSR2.
echo /bin/poweroff > /proc/sys/kernel/poweroff_cmd
trap 'echo; echo "linux-test: poweroff requested"; sync; poweroff -f' USR2
echo "linux-test: shell"
while true; do setsid cttyhack sh & wait; done
"""

SECTORS = 64 << 11  # a 64 MiB xvda


def setup(name, modules=("xen-blkfront", "xen-netfront")):
    info = debian.fetch()
    d = os.path.join(FILES_DIR, name)
    os.makedirs(d, exist_ok=True)
    rd = debian.initramfs(info, INIT, os.path.join(d, "initrd.cpio"), modules=modules)
    return info, d, rd


def linux_cfg(step, disk=True, vif=True, name="linux", memory=256):
    cfg = ('name = "%s"\ntype = "pvh"\nkernel = "/boot/vmlinuz"\nramdisk = "/boot/initrd"\n'
           'memory = %d\nvcpus = 1\n'
           'cmdline = "console=hvc0 earlyprintk=xen loglevel=7 linuxtest=%s"\n'
           'on_poweroff = "destroy"\n' % (name, memory, step))
    if disk:
        cfg += "disk = [ 'phy:vda,xvda,w' ]\n"
    if vif:
        cfg += "vif = [ 'mac=00:16:3e:4c:69:6e,bridge=xenbr0' ]\n"
    return cfg


def disk_args(img):
    return ["-drive", "if=none,id=kd0,format=raw,file=%s" % img,
            "-device", "virtio-blk-pci,drive=kd0,serial=LINUXDISK"]


def create(con, name="linux"):
    out = con.cmd("xl create /boot/%s.cfg" % name, timeout=180,
                  expect="created %s as domain" % name)
    return int(re.search(r"created %s as domain (\d+)" % name, out).group(1))


def free_pages(con):
    """The hypervisor's free pages, exactly (dom0's shell command `domains`)."""
    out = con.cmd("domains", expect="pages free")
    return int(re.search(r"hypervisor: (\d+) pages free", out).group(1))


def counts(con):
    """What the hypervisor and dom0 hold (dom0's shell command `counts`, the
    figures the teardown scenario compares): free pages, event-channel
    ports, grant mappings, domains, dom0's pool, xenstore nodes and bytes;
    blkback devices, netback vifs/mappings/channels, bridge ports."""
    out = con.cmd("counts", expect="bridge ports")
    lines = re.findall(r"counts: ((?:free pages|blkback devices) .*?)\r?$", out, re.M)
    if len(lines) != 2:
        fail("dom0's `counts` printed %d of its 2 lines" % len(lines), out)
    return "; ".join(lines)


def settled_counts(con, wait_s=20):
    """`counts` once two readings a second apart agree (a destroy's backend
    teardown may still be running in dom0's event loop)."""
    deadline = time.time() + wait_s
    last = counts(con)
    while time.time() < deadline:
        time.sleep(1)
        now = counts(con)
        if now == last:
            return now
        last = now
    fail("dom0's counts did not settle in %d s: %s" % (wait_s, last))


def counts_back(con, before, what, wait_s=20):
    """Polls `counts` until it reads `before` again (the backends finish
    their teardown in dom0's event loop after `xl destroy` returns); fails
    naming every figure that differs."""
    deadline = time.time() + wait_s
    while True:
        now = counts(con)
        if now == before or time.time() > deadline:
            break
        time.sleep(1)
    if now != before:
        diff = ["%s: %s before, %s after" % (n, a, b) for (n, a), (_, b) in
                zip(re.findall(r"([a-z ]+?) (\d+)", before), re.findall(r"([a-z ]+?) (\d+)", now))
                if a != b]
        fail("%s left different counts (after %d s): %s\n  before: %s\n  after:  %s"
             % (what, wait_s, ", ".join(d.strip() for d in diff), before, now))


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
        if re.search(r"^(\(d0\) )?linux\s", out, re.M):
            fail("linux is still listed after powering off with on_poweroff=destroy", out)
    finally:
        con.close()


@test("linux-pvh-disk", timeout=900)
def _():
    """An ext4 image made on the host (mke2fs -d) with a known file is the
    guest's xvda: Linux mounts it, the file's SHA-256 matches, it writes a
    new file with a known pattern, syncs, unmounts and powers off; the host
    reads the new file out of the image with debugfs and checks it. Both
    blkfront and blkback say they use persistent grants."""
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
    # Persistent grants (docs/pvblk.md): Linux's blkfront takes them as
    # soon as blkback offers them, and both ends say so.
    for want in (r"blkfront: xvda: .*persistent grants: enabled",
                 r"dom0: blkback: d%d/51712: connected to .*, persistent grants" % dom):
        if not re.search(want, log):
            fail("no persistent grants: the log lacks %r" % want, log[-5000:])
    out = subprocess.run(["debugfs", "-R", "cat /written.txt", img], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL).stdout
    if out != written:
        fail("written.txt read from the image by debugfs differs (%d bytes, want %d)"
             % (len(out), len(written)), out[:200].decode("latin-1"))


# In the test's network namespace (10.99.0.1): port 5000 sends RX_BYTES of a
# seeded pattern to the guest; port 5001 reads TX_BYTES from it and prints
# their SHA-256.
RX_BYTES = 3 << 20
TX_BYTES = 2 << 20
PEER = r"""
import hashlib, random, socket, sys, threading
rx, tx = int(sys.argv[1]), int(sys.argv[2])
data = random.Random(1234).randbytes(rx)
print("peer: rx-sha %s" % hashlib.sha256(data).hexdigest(), flush=True)
def serve_rx():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("10.99.0.1", 5000)); s.listen(1); s.settimeout(600)
    c, _ = s.accept(); c.sendall(data); c.close()
    print("peer: sent %d" % rx, flush=True)
t = threading.Thread(target=serve_rx); t.start()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.99.0.1", 5001)); s.listen(1); s.settimeout(600)
c, _ = s.accept(); c.settimeout(300); h = hashlib.sha256(); n = 0
while n < tx:
    b = c.recv(65536)
    if not b: break
    h.update(b); n += len(b)
c.close()
print("peer: got %d sha %s" % (n, h.hexdigest()), flush=True)
t.join()
"""


@test("linux-pvh-net", timeout=900)
def _():
    """Linux's eth0 (xen-netfront on a vif of xenbr0) is configured and pings
    dom0's bridge address (10.99.0.2) and a real Linux stack in the test's
    network namespace behind dom0's virtio-net NIC (10.99.0.1); then busybox
    nc moves 3 MiB from the namespace to the guest and 2 MiB back over TCP,
    with SHA-256 compared on both ends."""
    from netns import NetNs
    info, d, rd = setup(keeltest.CURRENT.name)
    with NetNs("lnx", prefix="keellnx") as ns:
        peer = subprocess.Popen(["ip", "netns", "exec", ns.name, sys.executable, "-c", PEER,
                                 str(RX_BYTES), str(TX_BYTES)], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, universal_newlines=True)
        con = guest.LinuxConsole(
            {"linux.cfg": linux_cfg("net", disk=False)}, rd, info["vmlinuz"],
            dom0_args="shell ip=10.99.0.2/24", run_args=["--netns", ns.name],
            extra_qemu=["-netdev", "tap,id=kn0,ifname=%s,script=no,downscript=no" % ns.tap,
                        "-device", "virtio-net-pci,netdev=kn0"])
        try:
            start = len(con.buf)
            dom = create(con)
            con.wait_for(re.compile(r"xl: linux \(%d\): poweroff" % dom), 700, start)
            log = con.text(start)
        finally:
            con.close()
            try:
                out, _ = peer.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                peer.kill()
                out, _ = peer.communicate()
    for want in ("linux-test: ping dom0 ok", "linux-test: ping peer ok"):
        if want not in log:
            fail("the guest did not print %r" % want, log[-5000:])
    rx_sha = re.search(r"peer: rx-sha (\w+)", out)
    got = re.search(r"linux-test: rx (\d+) (\w+)", log)
    if not rx_sha or not got or int(got.group(1)) != RX_BYTES or got.group(2) != rx_sha.group(1):
        fail("namespace -> guest over TCP: the guest got %s, the peer sent %d bytes with %s"
             % (got.group(0) if got else "nothing", RX_BYTES,
                rx_sha.group(1) if rx_sha else "?"), out + log[-3000:])
    sent = re.search(r"linux-test: tx (\d+) (\w+)", log)
    recv = re.search(r"peer: got (\d+) sha (\w+)", out)
    if not sent or not recv or int(recv.group(1)) != TX_BYTES or recv.group(2) != sent.group(2):
        fail("guest -> namespace over TCP: the guest sent %s, the peer got %s"
             % (sent.group(0) if sent else "nothing", recv.group(0) if recv else "nothing"),
             out + log[-3000:])


@test("linux-pvh-two-guests-destroy-leaks-nothing", timeout=900)
def _():
    """Two Linux guests run side by side (each to its shell on hvc0, each
    with a vif on xenbr0), `xl destroy` removes both while running, and
    nothing stays behind: after a first round (dom0's first foreign and
    grant mappings keep a few pages, docs/launcher.md) a second
    create/destroy of one guest ends with every count of dom0's `counts`
    where it was before the create: the hypervisor's free pages, event
    channels, grant mappings and domains, dom0's pool, the xenstore's nodes
    and bytes, the backends' devices, mappings and channels, the bridge's
    ports."""
    info, d, rd = setup(keeltest.CURRENT.name)
    cfgs = {"la.cfg": linux_cfg("shell", disk=False, name="la", memory=192),
            "lb.cfg": linux_cfg("shell", disk=False, name="lb", memory=192)}
    con = guest.LinuxConsole(cfgs, rd, info["vmlinuz"], mem="1536M",
                             dom0_args="shell ip=10.0.2.1/24")
    try:
        start = len(con.buf)
        a = create(con, "la")
        b = create(con, "lb")
        con.wait_for(re.compile(r"\(d%d\) linux-test: shell" % a), 500, start)
        con.wait_for(re.compile(r"\(d%d\) linux-test: shell" % b), 500, start)
        out = con.cmd("xl list")
        for n in ("la", "lb"):
            if not re.search(r"^(\(d0\) )?%s\s" % n, out, re.M):
                fail("%s is not listed while both run" % n, out)
        con.cmd("xl destroy la", timeout=60)
        con.cmd("xl destroy lb", timeout=60)
        first = settled_counts(con)
        before = free_pages(con)
        at = len(con.buf)
        a = create(con, "la")
        con.wait_for(re.compile(r"\(d%d\) linux-test: shell" % a), 500, at)
        running = counts(con)
        if running == first:
            fail("`counts` did not move while a Linux guest ran: %s" % running)
        con.cmd("xl destroy la", timeout=60)
        counts_back(con, first, "destroying a running Linux guest")
        after = free_pages(con)
        out = con.cmd("xl list")
        if re.search(r"^(\(d0\) )?l[ab]\s", out, re.M):
            fail("a Linux guest is still listed after destroy", out)
        if after != before:
            fail("destroying a running Linux guest leaked %d hypervisor pages (%d free before "
                 "its create, %d after its destroy)" % (before - after, before, after))
    finally:
        con.close()


@test("linux-pvh-xl-shutdown-clean", timeout=900)
def _():
    """`xl shutdown` of a running Linux guest goes through the xenbus
    control node: Linux's own shutdown watch runs its poweroff helper
    (the guest's PID 1 says so), the domain powers off and on_poweroff =
    destroy removes it."""
    info, d, rd = setup(keeltest.CURRENT.name)
    con = guest.LinuxConsole({"linux.cfg": linux_cfg("shell", disk=False, vif=False)}, rd,
                             info["vmlinuz"])
    try:
        start = len(con.buf)
        dom = create(con)
        con.wait_for("linux-test: shell", 400, start)
        at = len(con.buf)
        con.cmd("xl shutdown linux", timeout=60)
        # (after the guest shell's prompt, on a line of its own)
        con.wait_for(re.compile(r"^\(d%d\) linux-test: poweroff requested" % dom, re.M), 120, at)
        con.wait_for(re.compile(r"xl: linux \(%d\): poweroff; on_poweroff=destroy" % dom), 120, at)
        out = con.cmd("xl list")
        if re.search(r"^(\(d0\) )?linux\s", out, re.M):
            fail("linux is still listed after xl shutdown", out)
    finally:
        con.close()


TICKER_CFG = ('name = "ticker"\ntype = "pvh"\nkernel = "/boot/pvtest"\nmemory = 4\nvcpus = 1\n'
              'cmdline = "role=xs-ticker period_ms=50"\non_poweroff = "destroy"\n')


@test("linux-pvh-create-keeps-dom0-serving", timeout=900)
def _():
    """While dom0 unpacks and loads Debian's kernel for `xl create` (tens
    of MiB through XZ, seconds of dom0's time), its event loop keeps
    serving the other guests: a pvtest domU that writes to the xenstore
    every 50 ms (dom0's xenstored answers from the loop) and prints each
    tick on the hypervisor's console goes on ticking between the create
    command and its `created` line, instead of stopping until it ends."""
    info, d, rd = setup(keeltest.CURRENT.name)
    con = guest.LinuxConsole({"linux.cfg": linux_cfg("shell", disk=False, vif=False),
                              "ticker.cfg": TICKER_CFG}, rd, info["vmlinuz"],
                             files={"pvtest": os.path.join(BUILD, "pvtest.elf")})
    try:
        start = len(con.buf)
        t = create(con, "ticker")
        tick = re.compile(r"\(d%d\) pvtest: xs-tick (\d+) at (\d+) ms" % t)
        con.wait_for(re.compile(r"\(d%d\) pvtest: xs-tick 5 " % t), 60, start)
        at = len(con.buf)
        con.type("xl create /boot/linux.cfg")
        # Typed while the create runs: the loop holds the console's
        # handler during a build, so this runs after the create, not
        # inside it (a nested command would print before `created`).
        time.sleep(1)
        con.type("xl list")
        con.wait_for(re.compile(r"xl: created linux as domain \d+"), 300, at)
        con.wait_for(re.compile(r"^(\(d0\) )?linux\s+\d+", re.M), 60, at)
        during = con.text(at)
        listed = re.search(r"^(\(d0\) )?linux\s+\d+", during, re.M).start()
        if listed < during.index("xl: created linux"):
            fail("`xl list` typed during the create ran inside it", during[-4000:])
        # The window: from the kernel's unpacking to its `created` line.
        m = re.search(r"image: bzImage, xz payload", during)
        if not m:
            fail("dom0 did not report unpacking the bzImage", during[-3000:])
        window = during[:during.index("xl: created linux")]
        ticks = [(int(k), int(ms)) for k, ms in tick.findall(window)]
        span = ticks[-1][1] - ticks[0][1] if len(ticks) > 1 else 0
        print("linux create: %d xenstore ticks of the other guest during the create "
              "(%d ms of its clock)" % (len(ticks), span))
        if len(ticks) < 10:
            fail("the other guest's xenstore writes stalled while dom0 built the Linux "
                 "guest: %d ticks during the create" % len(ticks), window[-4000:])
        gaps = [b[1] - a[1] for a, b in zip(ticks, ticks[1:])]
        worst = max(gaps) if gaps else 0
        print("linux create: the longest gap between ticks was %d ms" % worst)
        con.wait_for(re.compile(r"linux-test: shell"), 500, at)
        con.cmd("xl destroy linux", timeout=60)
        con.cmd("xl destroy ticker", timeout=60)
    finally:
        con.close()


VMX_SECTORS = 32 << 11  # dom0's ramblk=32: a 32 MiB xvda


@test("linux-pvh-boots-vmx", timeout=900)
def _():
    """The same kernel and initramfs on VT-x (Bochs, corei7_skylake_x:
    VMX + EPT). Bochs's serial port takes no input, so dom0 creates the
    guest itself (autostart=, docs/cli.md); its xvda is a 32 MiB disk in
    dom0's memory (ramblk=32: Bochs has no disk controller dom0 drives).
    The kernel's own lines show Xen PVH detected, the hvc0 console,
    xen-blkfront finding xvda with the RAM disk's size; /init runs, a
    busybox shell runs a command, `poweroff -f` halts every CPU with
    interrupts off, the domain powers off and on_poweroff=destroy removes
    it, with no fault in the hypervisor and no MSR access Linux makes
    without _safe refused (Intel's microcode revision, 0x8b)."""
    info, d, rd = setup(keeltest.CURRENT.name, modules=("xen-blkfront",))
    cfg = linux_cfg("sh", disk=False, vif=False, memory=128) + "disk = [ 'phy:ram0,xvda,w' ]\n"
    r = keeltest.boot(
        "cmdline console=com1,115200 loglvl=info dom0_mem=256M\n"
        "module dom0 /dom0.elf shell ramblk=32 autostart=/boot/linux.cfg\n"
        "module vmlinuz /vmlinuz\nmodule initrd /initrd\nmodule linux.cfg /linux.cfg\n",
        modules={"vmlinuz": info["vmlinuz"], "initrd": rd, "linux.cfg": cfg.encode()},
        loader="bochs", mem="640M", timeout=840,
        stop_on=r"xl: linux \(\d+\): poweroff; on_poweroff=destroy", stop_after=1.0)
    keeltest.expect_no_line(r.log, r"^keel: .*(PANIC|FATAL|BUG at|killed|crash)",
                            "Linux must not hurt the hypervisor or die")
    # early_init_intel writes 0 to IA32_BIOS_SIGN_ID and reads it without
    # _safe: a #GP there is a warning with a stack trace.
    keeltest.expect_no_line(r.log, r"unchecked MSR access error",
                            "every MSR Linux touches unguarded must be answered")
    m = re.search(r"xl: created linux as domain (\d+)", r.log)
    if not m:
        fail("dom0's autostart did not create the guest", r.tail(60))
    dom = int(m.group(1))
    for want in (r"\(d%d\) .*Booting kernel on Xen PVH" % dom,
                 r"\(d%d\) .*Hypervisor detected: Xen HVM" % dom,
                 r"\(d%d\) .*printk: console \[hvc0\] enabled" % dom,
                 r"\(d%d\) .*blkfront: xvda: .*" % dom):
        if not re.search(want, r.log):
            fail("the guest's log lacks %r" % want, r.tail(80))
    keeltest.expect_lines_in_order(r.log, [
        r"^keel: virtualization: VMX \(",
        r"dom0: disk ram0: RAM disk, %d sectors" % VMX_SECTORS,
        r"xl: created linux as domain %d" % dom,
        r"\(d%d\) linux-test: init running" % dom,
        r"\(d%d\) linux-test: xvda %d sectors" % (dom, VMX_SECTORS),
        r"\(d%d\) linux-test: shell" % dom,
        r"\(d%d\) linux-test: sh says keel-42" % dom,
        r"^keel: d%dv0: HLT with interrupts off: vCPU offline, no vCPU left: domain powered off"
        % dom,
        r"xl: linux \(%d\): poweroff; on_poweroff=destroy" % dom,
    ])
