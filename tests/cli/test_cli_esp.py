"""Guests from the EFI system partition and the issue's walk-through, all
through scripts/keelctl (docs/cli.md, docs/fat.md "Mounts"): the host
builds a GPT disk with a FAT32 ESP (mkfs.fat, mtools) holding a guest
config and the pvtest kernel, dom0 mounts it as /esp, and `xl create
/esp/...` takes both from there."""

import os
import re
import subprocess
import uuid

import keeltest
from keeltest import test, fail, BUILD, FILES_DIR
from clicon import KeelCtl
from gptimage import write_gpt, ESP

MIB = 1 << 20
SECTOR = 512
# p1 ESP (FAT32, 40 MiB), p2 Linux data (8 MiB, a disk for guests),
# p3 basic data (FAT16, 16 MiB): a 72 MiB disk.
P1 = (2048, 2048 + 40 * MIB // SECTOR - 1)
P2 = (P1[1] + 1, P1[1] + 8 * MIB // SECTOR)
P3 = (P2[1] + 1, P2[1] + 16 * MIB // SECTOR)
DISK_BYTES = 72 * MIB
BASIC_DATA = uuid.UUID("ebd0a0a2-b9e5-4433-87c0-68b6b72699c7")

GUEST = ('name = "{name}"\ntype = "pvh"\nkernel = "{kernel}"\nmemory = {mem}\nvcpus = 1\n'
         'cmdline = "{cmdline}"\non_poweroff = "preserve"\n{extra}')


def guest(name, mem, kernel="/boot/pvtest", cmdline="role=guest", extra=""):
    return GUEST.format(name=name, mem=mem, kernel=kernel, cmdline=cmdline, extra=extra)


def run(*cmd):
    r = subprocess.run(cmd, capture_output=True, text=True,
                       env=dict(os.environ, MTOOLS_SKIP_CHECK="1"))
    if r.returncode:
        fail("%s failed: %s" % (" ".join(cmd), r.stderr))


def fat_volume(path, first, last, fat_bits, label, files):
    """A FAT file system of the partition's size in file path, holding
    files {"/dir/name": bytes}, made by mkfs.fat and mtools."""
    with open(path, "wb") as f:
        f.truncate((last - first + 1) * SECTOR)
    run("mkfs.fat", "-F", str(fat_bits), "-s", "1", "-n", label, path)
    dirs = sorted({os.path.dirname(p) for p in files} - {"/"})
    for d in dirs:
        run("mmd", "-i", path, "::" + d)
    for dest, data in files.items():
        src = path + ".tmp"
        with open(src, "wb") as f:
            f.write(data)
        run("mcopy", "-i", path, src, "::" + dest)
        os.unlink(src)


def esp_disk(esp_files, fat_files, corrupt=None):
    """The test's disk image: GPT with the three partitions. corrupt(bytes)
    may damage the ESP's file system before it is written."""
    d = os.path.join(FILES_DIR, keeltest.CURRENT.name)
    os.makedirs(d, exist_ok=True)
    img = bytearray(DISK_BYTES)
    for (first, last), bits, label, files in ((P1, 32, "KEELESP", esp_files),
                                               (P3, 16, "DATA", fat_files)):
        vol = os.path.join(d, "vol.img")
        fat_volume(vol, first, last, bits, label, files)
        with open(vol, "rb") as f:
            data = bytearray(f.read())
        os.unlink(vol)
        if corrupt and bits == 32:
            corrupt(data)
        img[first * SECTOR:first * SECTOR + len(data)] = data
    write_gpt(img, [(P1[0], P1[1], "EFI system", uuid.uuid4(), 1, ESP),
                    (P2[0], P2[1], "guestdisk", uuid.uuid4(), 2),
                    (P3[0], P3[1], "data", uuid.uuid4(), 3, BASIC_DATA)])
    path = os.path.join(d, "disk.img")
    with open(path, "wb") as f:
        f.write(img)
    return ["-drive", "if=none,id=esp,format=raw,file=%s" % path,
            "-device", "virtio-blk-pci,drive=esp,serial=ESPDISK"]


def pvtest():
    with open(os.path.join(BUILD, "pvtest.elf"), "rb") as f:
        return f.read()


def domid(out, name):
    m = re.search(r"created %s as domain (\d+)" % name, out)
    if not m:
        fail("no 'created %s as domain N'" % name, out)
    return int(m.group(1))


@test("cli-create-from-esp-fat32", timeout=600)
def _():
    """The issue's walk-through through keelctl: two guests from configs in
    the boot modules and one from the ESP (its config and kernel both
    there, under long names); list with their memory and a running or
    blocked state; list -l as JSON; pause/unpause flags; a guest's console
    output and input; block-list/network-list; block-attach and
    network-attach to a running guest; destroy leaves only Domain-0. ls
    shows /esp and a FAT16 basic-data partition under /fat."""
    esp_cfg = guest("espweb", 6, kernel="/esp/images/pvtest-kernel.elf",
                    extra="disk = [ 'phy:vda2,xvda,w' ]\n"
                          "vif = [ 'mac=00:16:3e:00:0e:5b,bridge=xenbr0' ]\n")
    bad = {  # each refused with file:line:key, nothing created
        "unknown-key.cfg": (guest("u1", 4) + "memroy = 4\n",
                            r"unknown-key\.cfg:8: key 'memroy': unknown key"),
        "bad-value.cfg": (guest("u2", 4).replace("memory = 4", 'memory = "lots"'),
                          r"bad-value\.cfg:4: key 'memory': "),
        "same-name.cfg": (guest("web", 4), r"same-name\.cfg:1: key 'name': a domain named "
                          r"web already exists"),
        "no-kernel.cfg": (guest("u3", 4, kernel="/esp/images/nosuch.elf"),
                          r"no-kernel\.cfg:3: key 'kernel': /esp/images/nosuch\.elf: .*nosuch"),
    }
    files = {"/guests/web-server-from-esp.cfg": esp_cfg.encode(),
             "/images/pvtest-kernel.elf": pvtest()}
    files.update({"/bad/" + n: text.encode() for n, (text, _) in bad.items()})
    disk = esp_disk(files,
                    {"/notes/a-long-file-name.txt": b"hello from a FAT16 volume\n"})
    k = KeelCtl({"web.cfg": guest("web", 4),
                 "db.cfg": guest("db", 5, cmdline="role=pvcons bytes=300 input=1")},
                extra_qemu=disk)
    try:
        k.wait_serial(re.compile(r"dom0: fs: /esp on vda1: FAT32, label \"KEELESP"), 5)
        k.ctl("ls", "/esp/guests", expect=r"^\s*\d+\s+web-server-from-esp\.cfg$")
        k.ctl("ls", "/esp/images", expect=r"^\s*%d\s+pvtest-kernel\.elf$" % len(pvtest()))
        k.ctl("ls", "/fat", expect=r"^\s*<DIR>\s+vda3/")
        k.ctl("ls", "/fat/vda3/notes", expect=r"^\s*26\s+a-long-file-name\.txt$")
        k.ctl("ls", "/esp/nosuch", status=1, expect=r"no nosuch")

        web = domid(k.ctl("xl", "create", "/boot/web.cfg"), "web")
        db = domid(k.ctl("xl", "create", "/boot/db.cfg"), "db")
        esp = domid(k.ctl("xl", "create", "/esp/guests/web-server-from-esp.cfg"), "espweb")
        k.wait_serial("(d%d) pvtest: guest: up" % web, 60)
        k.wait_serial("(d%d) pvtest: guest: up" % esp, 60)
        k.wait_serial("(d%d) pvtest: pvcons: waiting for input" % db, 60)

        rows = k.rows()
        for name, dom, mem in (("web", web, 4), ("db", db, 5), ("espweb", esp, 6)):
            row = rows.get(name)
            if not row or row[0] != dom or row[1] != mem or row[2] != 1:
                fail("xl list: %s should be domain %d with %d MiB and 1 vCPU" % (name, dom, mem),
                     str(rows))
            if row[3][0] != "r" and row[3][1] != "b":
                fail("xl list: %s is neither running nor blocked: %s" % (name, row[3]))
        js = k.json_list()
        if sorted(d["name"] for d in js) != ["Domain-0", "db", "espweb", "web"]:
            fail("xl list -l names the wrong domains", str(js))
        cfg = [d for d in js if d["name"] == "espweb"][0]
        if cfg["domid"] != esp:
            fail("xl list -l: espweb's domid is not %d" % esp, str(cfg))

        # bad configs: the message names file, line and key; list and the
        # hypervisor's free memory are unchanged
        free = k.free_pages()
        for name, (_, want) in bad.items():
            k.ctl("xl", "create", "/esp/bad/" + name, status=1, expect=want)
        if k.rows().keys() != rows.keys() or k.free_pages() != free:
            fail("a refused config changed the domains or the free memory")

        k.ctl("xl", "pause", "espweb")
        if k.rows()["espweb"][3][2] != "p":
            fail("espweb is not flagged p after xl pause")
        k.ctl("xl", "unpause", "espweb")
        if k.rows()["espweb"][3][2] != "-":
            fail("espweb is still flagged p after xl unpause")

        # the console: the guest's earlier output replayed, typed input
        # reaches the guest (its PV console, shown through dom0: "(d0) ")
        seen = k.typed([(b"xl console db\r", "console: --- live ---"),
                        (b"hello-keel\r", "pvtest: pvcons: got input 'hello-keel'"),
                        (b"\x1d", "dom0: console: detached from d%d" % db)], timeout=90)
        if "pvtest: pvcons: burst done" not in seen:
            fail("xl console db did not replay db's earlier output", seen[-3000:])

        out = k.ctl("xl", "block-list", "espweb")
        if not re.search(r"^51712\s+0\s+51712\s+\d\s+vda2\s", out, re.M):
            fail("xl block-list espweb does not show xvda on vda2", out)
        out = k.ctl("xl", "network-list", "espweb")
        if not re.search(r"^0\s+0\s+00:16:3e:00:0e:5b\s+0\s+\d\s+xenbr0\s", out, re.M):
            fail("xl network-list espweb does not show its vif", out)
        k.ctl("xl", "block-attach", "espweb", "phy:vda2,xvdb,r")
        if not re.search(r"^51728\s+0\s+51728\s", k.ctl("xl", "block-list", "espweb"), re.M):
            fail("block-attach: xvdb is not listed")
        k.ctl("xl", "network-attach", "espweb", "mac=00:16:3e:00:0e:5c", "bridge=xenbr0",
              expect="vif 1 attached to espweb")
        if not re.search(r"^1\s+0\s+00:16:3e:00:0e:5c\s",
                         k.ctl("xl", "network-list", "espweb"), re.M):
            fail("network-attach: vif 1 is not listed")

        for name in ("web", "db", "espweb"):
            k.ctl("xl", "destroy", name)
        if list(k.rows()) != ["Domain-0"]:
            fail("after destroying the three, list shows more than Domain-0")
    finally:
        k.close()


@test("fat-corrupt-esp-refused", timeout=300)
def _():
    """An ESP whose FAT32 claims more sectors than its partition has is
    refused at boot with the reason, and every /esp path says why; nothing
    is created."""
    def grow(vol):
        vol[32:36] = (0x7fffffff).to_bytes(4, "little")  # BPB_TotSec32

    disk = esp_disk({"/guests/web.cfg": guest("web", 4).encode()}, {}, corrupt=grow)
    k = KeelCtl({}, extra_qemu=disk)
    try:
        k.wait_serial("dom0: fs: vda1 (EFI system partition) refused: the file system claims", 5)
        k.ctl("xl", "create", "/esp/guests/web.cfg", status=1,
              expect=r"the EFI system partition vda1 was refused: the file system claims")
        k.ctl("ls", "/esp", status=1, expect="was refused")
        if list(k.rows()) != ["Domain-0"]:
            fail("a domain exists after the refused create")
    finally:
        k.close()
