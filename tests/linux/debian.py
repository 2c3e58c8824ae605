"""Debian 12's stock kernel and busybox for the linux-* tests (issue: an
unmodified distribution kernel as a PVH domU).

fetch() downloads `linux-image-amd64` (through its dependency, the real
`linux-image-6.1.0-N-amd64`) and `busybox-static` with `apt-get download`
into build/linux/debs/ once, and unpacks them into build/linux/root/.
Nothing from the packages is committed; a second run finds the cache and
does not touch the network.

initramfs() writes a newc cpio archive (the format Linux's initramfs
unpacker reads: Documentation/driver-api/early-userspace/buffer-format.rst)
holding busybox, its applet links, the named kernel modules of the same
package and an /init script given by the caller.
"""
import fcntl
import glob
import os
import re
import shutil
import stat
import subprocess

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CACHE = os.path.join(ROOT, "build", "linux")
DEBS = os.path.join(CACHE, "debs")
TREE = os.path.join(CACHE, "root")


class FetchError(Exception):
    pass


def _run(cmd, cwd=None):
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode:
        raise FetchError("%s failed (%d): %s" % (" ".join(cmd), p.returncode, p.stdout.strip()[-400:]))
    return p.stdout


def _kernel_package():
    """The versioned package linux-image-amd64 depends on, e.g.
    linux-image-6.1.0-57-amd64 (the metapackage holds no kernel)."""
    out = _run(["apt-cache", "depends", "linux-image-amd64"])
    m = re.search(r"Depends:\s*(linux-image-[0-9][^\s]*-amd64)", out)
    if not m:
        raise FetchError("apt-cache depends linux-image-amd64: no linux-image-*-amd64 dependency in:\n" + out)
    return m.group(1)


def _download(pkg):
    have = glob.glob(os.path.join(DEBS, pkg + "_*.deb"))
    if have:
        return sorted(have)[-1]
    os.makedirs(DEBS, exist_ok=True)
    _run(["apt-get", "download", pkg], cwd=DEBS)
    have = glob.glob(os.path.join(DEBS, pkg + "_*.deb"))
    if not have:
        raise FetchError("apt-get download %s left no .deb in %s" % (pkg, DEBS))
    return sorted(have)[-1]


def fetch():
    """Returns a dict: version, vmlinuz, modules (dir of the .ko tree),
    busybox. Downloads and unpacks only what is not cached yet. Tests run
    in parallel: one holds build/linux/.lock while it fetches, the others
    wait and then find the cache."""
    os.makedirs(CACHE, exist_ok=True)
    with open(os.path.join(CACHE, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _fetch_locked()


def _fetch_locked():
    stamp = os.path.join(CACHE, "kernel-package")
    if os.path.exists(stamp):
        kpkg = open(stamp).read().strip()
    else:
        kpkg = _kernel_package()
    debs = [_download(kpkg), _download("busybox-static")]
    done = os.path.join(TREE, ".unpacked")
    want = "\n".join(os.path.basename(d) for d in debs)
    if not os.path.exists(done) or open(done).read() != want:
        # Unpack beside the tree and swap it in, so an interrupted unpack
        # never looks finished.
        tmp = TREE + ".new"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        for d in debs:
            _run(["dpkg-deb", "-x", d, tmp])
        open(os.path.join(tmp, ".unpacked"), "w").write(want)
        shutil.rmtree(TREE, ignore_errors=True)
        os.rename(tmp, TREE)
    open(stamp, "w").write(kpkg + "\n")
    version = kpkg[len("linux-image-"):]
    info = {
        "version": version,
        "vmlinuz": os.path.join(TREE, "boot", "vmlinuz-" + version),
        "modules": os.path.join(TREE, "lib", "modules", version),
        "busybox": os.path.join(TREE, "bin", "busybox"),
    }
    for k in ("vmlinuz", "busybox"):
        if not os.path.exists(info[k]):
            raise FetchError("%s missing after unpacking: %s" % (k, info[k]))
    return info


def find_module(info, name):
    """Path of NAME.ko (or .ko.xz) in the package's module tree."""
    for ext in (".ko", ".ko.xz"):
        hits = glob.glob(os.path.join(info["modules"], "kernel", "**", name + ext), recursive=True)
        if hits:
            return hits[0]
    raise FetchError("module %s not in %s" % (name, info["modules"]))


def module_depends(path):
    """The `depends=` list of a module's .modinfo (no depmod needed)."""
    data = open(path, "rb").read()
    m = re.search(rb"\x00depends=([^\x00]*)\x00", data)
    return [d for d in (m.group(1).decode().split(",") if m else []) if d]


def _cpio_entry(name, mode, data=b"", ino=[1000]):
    ino[0] += 1
    name_b = name.encode() + b"\x00"
    hdr = "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X" % (
        ino[0], mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name_b), 0)
    out = hdr.encode() + name_b
    out += b"\x00" * ((4 - len(out) % 4) % 4)
    out += data
    out += b"\x00" * ((4 - len(data) % 4) % 4)
    return out


def initramfs(info, init_script, out_path, modules=("xen-blkfront", "xen-netfront"), extra_files=None):
    """Writes a newc cpio to out_path: /bin/busybox with links for its
    applets, /init (init_script, a shell script run by busybox sh),
    /lib/modules/NAME.ko for each module and its dependencies, and
    extra_files {path_in_archive: bytes}. Returns out_path."""
    entries = []
    for d in ("bin", "sbin", "dev", "proc", "sys", "tmp", "mnt", "lib", "lib/modules", "etc"):
        entries.append(_cpio_entry(d, stat.S_IFDIR | 0o755))
    entries.append(_cpio_entry("bin/busybox", stat.S_IFREG | 0o755, open(info["busybox"], "rb").read()))
    applets = subprocess.run([info["busybox"], "--list"], stdout=subprocess.PIPE, text=True).stdout.split()
    for a in applets:
        if a != "busybox":
            entries.append(_cpio_entry("bin/" + a, stat.S_IFLNK | 0o777, b"busybox"))
    seen = []

    def add(mod):
        if mod in seen:
            return
        path = find_module(info, mod)
        for dep in module_depends(path):
            add(dep)
        seen.append(mod)
        entries.append(_cpio_entry("lib/modules/%s.ko" % mod, stat.S_IFREG | 0o644, open(path, "rb").read()))

    for m in modules:
        add(m)
    order = "".join("%s\n" % m for m in seen).encode()
    entries.append(_cpio_entry("lib/modules/order", stat.S_IFREG | 0o644, order))
    entries.append(_cpio_entry("dev/console", stat.S_IFCHR | 0o600))  # replaced by devtmpfs
    entries.append(_cpio_entry("init", stat.S_IFREG | 0o755, init_script.encode()))
    for p, data in (extra_files or {}).items():
        entries.append(_cpio_entry(p.lstrip("/"), stat.S_IFREG | 0o644, data))
    entries.append(_cpio_entry("TRAILER!!!", 0))
    blob = b"".join(entries)
    blob += b"\x00" * ((512 - len(blob) % 512) % 512)
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with open(out_path, "wb") as f:
        f.write(blob)
    return out_path


if __name__ == "__main__":
    i = fetch()
    print(i)
    out = initramfs(i, "#!/bin/sh\necho hello\n", os.path.join(CACHE, "initrd-test.cpio"))
    print(out, os.path.getsize(out))
