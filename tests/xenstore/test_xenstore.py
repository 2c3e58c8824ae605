"""xenstored's host build (build/xenstored-host, docs/xenstore.md) driven by
Debian's xenstore-utils -- the standard clients, through XENSTORED_PATH --
and by a raw wire-protocol client (xsclient.py) that can also act as a
domain through the socket INTRODUCE creates.

The store code is the one dom0 runs (guest/dom0/xenstored/); its rules are
unit-tested in tests/unit/test_xenstore.c, these tests check that real
clients interoperate with it and that hostile streams leave it serving.
"""

import os
import random
import shutil
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from keeltest import test, fail, build_file, FILES_DIR  # noqa: E402
import xsclient  # noqa: E402
from xsclient import XsClient, XsError, HostStore  # noqa: E402


def _start(name, quota=()):
    binary = build_file("xenstored-host")
    if not shutil.which("xenstore-read"):
        fail("xenstore-utils is not installed (scripts/install-deps installs it)")
    work = os.path.join(FILES_DIR, name)
    shutil.rmtree(work, ignore_errors=True)
    return HostStore(binary, work, quota)


def _tool(store, *args, sock=None, check=True):
    """Runs one xenstore-* tool against the store (as dom0, or through a
    domain socket); returns (rc, stdout, stderr)."""
    env = dict(store.env)
    if sock:
        env["XENSTORED_PATH"] = sock
    p = subprocess.run(list(args), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=20)
    if check and p.returncode != 0:
        fail("%s exited with %d" % (" ".join(args), p.returncode), p.stderr)
    return p.returncode, p.stdout, p.stderr


def _expect(what, got, want):
    if got != want:
        fail("%s: got %r, expected %r" % (what, got, want))


def _expect_alive(store):
    if not store.alive():
        fail("xenstored-host died (status %s)" % store.proc.returncode, store.stderr_text())


@test("xenstore-host-utils-write-read-ls-rm-exists", timeout=60)
def _():
    s = _start("xenstore-host-utils-write-read-ls-rm-exists")
    try:
        _tool(s, "xenstore-write", "/local/domain/3/name", "guest3",
              "/local/domain/3/memory/target", "131072", "/vm/x", "")
        _expect("read", _tool(s, "xenstore-read", "/local/domain/3/name")[1], "guest3\n")
        _expect("read two", _tool(s, "xenstore-read", "/local/domain/3/memory/target",
                                  "/local/domain/3/name")[1], "131072\nguest3\n")
        _expect("list", _tool(s, "xenstore-list", "/local/domain/3")[1], "name\nmemory\n")
        ls = _tool(s, "xenstore-ls", "/local")[1].splitlines()
        _expect("ls", [l.rstrip() for l in ls],
                ['domain = ""', ' 3 = ""', '  name = "guest3"', '  memory = ""',
                 '   target = "131072"'])
        _expect("exists", _tool(s, "xenstore-exists", "/vm/x")[0], 0)
        rc, _, _ = _tool(s, "xenstore-exists", "/vm/y", check=False)
        _expect("exists (missing)", rc, 1)
        _tool(s, "xenstore-rm", "/local/domain/3")
        rc, _, err = _tool(s, "xenstore-read", "/local/domain/3/name", check=False)
        _expect("read after rm", rc, 1)
        _expect("list after rm", _tool(s, "xenstore-list", "/local/domain")[1], "")
        # the raw client sees the same store
        c = XsClient(s.socket)
        _expect("raw read", c.read("/vm/x"), "")
        _expect("raw ls", c.ls("/"), ["local", "vm"])
        c.close()
        _expect_alive(s)
    finally:
        s.stop()


@test("xenstore-host-utils-chmod-and-domain-permissions", timeout=60)
def _():
    s = _start("xenstore-host-utils-chmod-and-domain-permissions")
    try:
        d0 = XsClient(s.socket)
        d0.introduce(5)
        d0.introduce(6)
        for sock in (s.domain_socket(5), s.domain_socket(6)):
            if not os.path.exists(sock):
                fail("INTRODUCE did not create %s" % sock)
        _tool(s, "xenstore-write", "/local/domain/5/name", "five", "/local/domain/6/name", "six",
              "/shared/board", "hello")
        _tool(s, "xenstore-chmod", "/local/domain/5", "n5")
        _tool(s, "xenstore-chmod", "/local/domain/5/name", "n5")
        _tool(s, "xenstore-chmod", "/local/domain/6", "n6")
        _tool(s, "xenstore-chmod", "/local/domain/6/name", "n6")
        _tool(s, "xenstore-chmod", "/shared/board", "n0", "r5", "b6")
        _expect("ls -p", _tool(s, "xenstore-ls", "-p", "/shared")[1].split("(")[-1].strip(),
                "n0,r5,b6)")
        _expect("get_perms", d0.get_perms("/shared/board"), ["n0", "r5", "b6"])

        as5, as6 = s.domain_socket(5), s.domain_socket(6)
        # each domain reads its own nodes, relative paths included
        _expect("5 reads own", _tool(s, "xenstore-read", "name", sock=as5)[1], "five\n")
        _expect("6 reads own", _tool(s, "xenstore-read", "/local/domain/6/name", sock=as6)[1],
                "six\n")
        _tool(s, "xenstore-write", "data/x", "5wrote", sock=as5)
        _expect("dom0 sees 5's write", d0.read("/local/domain/5/data/x"), "5wrote")
        _expect("5 owns what it created", d0.get_perms("/local/domain/5/data/x"), ["n5"])
        # ... and is refused the other's
        rc, out, _ = _tool(s, "xenstore-read", "/local/domain/6/name", sock=as5, check=False)
        _expect("5 reads 6's node: exit status", rc, 1)
        rc, _, _ = _tool(s, "xenstore-write", "/local/domain/6/name", "pwned", sock=as5,
                         check=False)
        _expect("5 writes 6's node: exit status", rc, 1)
        rc, _, _ = _tool(s, "xenstore-rm", "/local/domain/6/name", sock=as5, check=False)
        _expect("5 removes 6's node: exit status", rc, 1)
        rc, _, _ = _tool(s, "xenstore-chmod", "/local/domain/6/name", "b5", sock=as5, check=False)
        _expect("5 chmods 6's node: exit status", rc, 1)
        _expect("6's node unchanged", d0.read("/local/domain/6/name"), "six")
        _expect("6's perms unchanged", d0.get_perms("/local/domain/6/name"), ["n6"])
        # the error names on the wire
        c5 = XsClient(as5)
        for what, fn in (("read", lambda: c5.read("/local/domain/6/name")),
                         ("write", lambda: c5.write("/local/domain/6/name", "x")),
                         ("introduce", lambda: c5.introduce(7))):
            try:
                fn()
                fail("domain 5 was allowed to %s" % what)
            except XsError as e:
                _expect("domain 5 %s: error" % what, e.name, "EACCES")
        # r5: read only; b6: read and write
        _expect("5 reads board", c5.read("/shared/board"), "hello")
        try:
            c5.write("/shared/board", "x")
            fail("r5 allowed a write")
        except XsError as e:
            _expect("r5 write", e.name, "EACCES")
        _tool(s, "xenstore-write", "/shared/board", "by6", sock=as6)
        _expect("board after 6", d0.read("/shared/board"), "by6")
        # RELEASE: the domain's socket goes and its connection is dropped
        d0.release(5)
        if os.path.exists(as5):
            fail("RELEASE left %s" % as5)
        try:
            c5.read("name")
            fail("domain 5's connection still served after RELEASE")
        except (ConnectionError, OSError):
            pass
        _expect("is introduced 5", d0.request(xsclient.IS_DOMAIN_INTRODUCED, b"5\0"), b"F\0")
        _expect("is introduced 6", d0.request(xsclient.IS_DOMAIN_INTRODUCED, b"6\0"), b"T\0")
        _expect_alive(s)
    finally:
        s.stop()


@test("xenstore-host-utils-watch-events", timeout=60)
def _():
    s = _start("xenstore-host-utils-watch-events")
    try:
        out = open(os.path.join(s.workdir, "watch.out"), "w+")
        w = subprocess.Popen(["xenstore-watch", "-n", "4", "/w"], env=s.env, stdout=out,
                             stderr=subprocess.STDOUT)
        # the registration event tells us the watch is in place
        end = time.monotonic() + 10
        while time.monotonic() < end:
            out.seek(0)
            if out.read():
                break
            time.sleep(0.05)
        _tool(s, "xenstore-write", "/other", "1")      # not below /w: no event
        _tool(s, "xenstore-write", "/w/a/b", "1")
        _tool(s, "xenstore-chmod", "/w/a", "r3")
        _tool(s, "xenstore-rm", "/w")
        try:
            w.wait(timeout=10)
        except subprocess.TimeoutExpired:
            w.kill()
            w.wait()
        out.seek(0)
        _expect("xenstore-watch output", out.read().splitlines(), ["/w", "/w/a/b", "/w/a", "/w"])

        # relative watches of a domain, and the special ones, with the raw client
        d0 = XsClient(s.socket)
        d0.watch("@introduceDomain", "in")
        d0.watch("@releaseDomain", "out")
        _expect("special registration", d0.wait_events(2),
                [("@introduceDomain", "in"), ("@releaseDomain", "out")])
        d0.mkdir("/local/domain/8")
        d0.set_perms("/local/domain/8", "n8")
        d0.introduce(8)
        _expect("@introduceDomain", d0.wait_events(1), [("@introduceDomain", "in")])
        c8 = XsClient(s.domain_socket(8))
        c8.watch("control", "ctl")
        _expect("relative registration", c8.wait_events(1), [("control", "ctl")])
        d0.write("/local/domain/8/control/shutdown", "poweroff")
        _expect("relative event", c8.wait_events(1), [("control/shutdown", "ctl")])
        d0.release(8)
        _expect("@releaseDomain", d0.wait_events(1), [("@releaseDomain", "out")])
        _expect_alive(s)
    finally:
        s.stop()


@test("xenstore-host-transactions-conflict-and-abort", timeout=60)
def _():
    s = _start("xenstore-host-transactions-conflict-and-abort")
    try:
        a, b = XsClient(s.socket), XsClient(s.socket)
        a.write("/counter", "0")
        ta, tb = a.tx_start(), b.tx_start()
        a.write("/counter", str(int(a.read("/counter", ta)) + 1), ta)
        b.write("/counter", str(int(b.read("/counter", tb)) + 1), tb)
        a.tx_end(ta)
        try:
            b.tx_end(tb)
            fail("the second of two conflicting transactions committed")
        except XsError as e:
            _expect("conflict", e.name, "EAGAIN")
        tb = b.tx_start()
        b.write("/counter", str(int(b.read("/counter", tb)) + 1), tb)
        b.tx_end(tb)
        _expect("counter after retry", _tool(s, "xenstore-read", "/counter")[1], "2\n")
        # a domain writing in a loop does not starve another's transactions
        a.mkdir("/local/domain/8")
        a.set_perms("/local/domain/8", "n8")
        a.write("/local/domain/8/device/vbd/0/state", "1")
        a.introduce(8)
        c8 = XsClient(s.domain_socket(8))
        for i in range(50):
            t = c8.tx_start()
            state = c8.read("device/vbd/0/state", t)
            a.write("/local/domain/0/noise", str(i))  # another domain's commit
            c8.write("device/vbd/0/ring-ref", str(i), t)
            a.write("/local/domain/0/noise-%d" % i, "x")
            c8.write("device/vbd/0/state", str(int(state) + 1), t)
            c8.tx_end(t)  # EAGAIN here would be starvation
        _expect("state after 50 transactions", a.read("/local/domain/8/device/vbd/0/state"),
                "51")
        t = a.tx_start()
        a.write("/aborted", "x", t)
        a.tx_end(t, commit=False)
        rc, _, _ = _tool(s, "xenstore-exists", "/aborted", check=False)
        _expect("aborted write visible", rc, 1)
        _expect_alive(s)
    finally:
        s.stop()


@test("xenstore-host-hostile-domain-stream", timeout=120)
def _():
    s = _start("xenstore-host-hostile-domain-stream", quota=("nodes=50",))
    try:
        d0 = XsClient(s.socket)
        d0.mkdir("/local/domain/9")
        d0.set_perms("/local/domain/9", "n9")
        d0.write("/local/domain/4/secret", "keep")
        d0.set_perms("/local/domain/4", "n4")
        d0.set_perms("/local/domain/4/secret", "n4")
        d0.introduce(9)
        rnd = random.Random(12)
        errors = {}
        sent = 0
        c = XsClient(s.domain_socket(9))
        # well-framed but hostile requests: every one must get a reply
        for i in range(3000):
            t = rnd.choice([rnd.randrange(0, 64), xsclient.WRITE, xsclient.READ,
                            xsclient.MKDIR, xsclient.WATCH, xsclient.TRANSACTION_START,
                            xsclient.SET_PERMS, 0xffff])
            n = rnd.choice([0, 1, 5, 40, 300, 4096])
            body = bytes(rnd.choice(b"ab/\0@-_.x9") for _ in range(n))
            if rnd.random() < 0.3:
                body = b"x%d/y%d\0" % (i % 97, i) + body[:100]
            try:
                c.request(t, body, tx=rnd.choice([0, 0, 0, 1, 2, 0xffffffff]))
            except XsError as e:
                errors[e.name] = errors.get(e.name, 0) + 1
            sent += 1
        print("hostile requests: %d, error replies: %s" % (sent, errors))
        if set(errors) - {"EINVAL", "EACCES", "ENOENT", "ENOSYS", "ENOSPC", "E2BIG", "EEXIST",
                          "EBUSY", "EAGAIN"}:
            fail("unexpected error names: %s" % errors)
        owned = len(d0.ls("/local/domain/9"))
        _expect("domain 9 within its node quota", owned <= 50, True)
        _expect("the other domain's node", d0.read("/local/domain/4/secret"), "keep")
        # an oversized header drops only that connection
        c.send_raw(struct.pack("<IIII", xsclient.READ, 1, 0, 4097))
        try:
            c.read("x")
            fail("a 4097-byte payload header did not drop the connection")
        except (ConnectionError, OSError):
            pass
        if "dropping" not in s.stderr_text():
            fail("no log line for the dropped connection", s.stderr_text())
        # a flood of requests without reading replies: input pauses, nothing is lost
        c = XsClient(s.domain_socket(9))
        burst = b"".join(struct.pack("<IIII", xsclient.GET_DOMAIN_PATH, i, 0, 2) + b"9\0"
                         for i in range(2000))
        c.sock.sendall(burst)
        got = 0
        while got < 2000:
            t, r, tx, body = c._recv_msg()
            _expect("flood reply %d" % got, (t, r, body), (xsclient.GET_DOMAIN_PATH, got,
                                                          b"/local/domain/9\0"))
            got += 1
        # dom0 and the real clients still work
        _expect("dom0 after the flood", _tool(s, "xenstore-read", "/local/domain/4/secret")[1],
                "keep\n")
        _expect_alive(s)
    finally:
        s.stop()
