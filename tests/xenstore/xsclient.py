"""A minimal xenstore wire-protocol client for the tests (docs/xenstore.md).

It speaks struct xsd_sockmsg framing (include/public/io/xs_wire.h) on a
Unix socket: build/xenstored-host's dom0 socket, or a domain socket it
created on INTRODUCE (then the client acts as that domain). Also starts and
stops the host build for a test.
"""

import os
import socket
import struct
import subprocess
import time

# message types (include/public/io/xs_wire.h)
CONTROL, DIRECTORY, READ, GET_PERMS, WATCH, UNWATCH = 0, 1, 2, 3, 4, 5
TRANSACTION_START, TRANSACTION_END, INTRODUCE, RELEASE = 6, 7, 8, 9
GET_DOMAIN_PATH, WRITE, MKDIR, RM, SET_PERMS, WATCH_EVENT, ERROR = 10, 11, 12, 13, 14, 15, 16
IS_DOMAIN_INTRODUCED, RESUME, SET_TARGET, RESET_WATCHES, DIRECTORY_PART = 17, 18, 19, 21, 22
PAYLOAD_MAX = 4096


class XsError(Exception):
    """An XS_ERROR reply; .name is the errno's name ("ENOENT")."""
    def __init__(self, name):
        super().__init__(name)
        self.name = name


class XsClient:
    def __init__(self, path, timeout=5):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.req_id = 0
        self.events = []  # (path, token) received while waiting for replies
        self.buf = b""

    def close(self):
        self.sock.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def _recv_msg(self):
        while True:
            if len(self.buf) >= 16:
                t, r, tx, n = struct.unpack("<IIII", self.buf[:16])
                if n > PAYLOAD_MAX:
                    raise AssertionError("server sent a %d-byte payload" % n)
                if len(self.buf) >= 16 + n:
                    body = self.buf[16:16 + n]
                    self.buf = self.buf[16 + n:]
                    return t, r, tx, body
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            self.buf += chunk

    def request(self, mtype, payload=b"", tx=0):
        """Sends one request; returns the reply payload (bytes) or raises
        XsError for an error reply. Watch events on the way are kept."""
        self.req_id += 1
        self.sock.sendall(struct.pack("<IIII", mtype, self.req_id, tx, len(payload)) + payload)
        while True:
            t, r, rtx, body = self._recv_msg()
            if t == WATCH_EVENT:
                p, tok = body.split(b"\0")[:2]
                self.events.append((p.decode(), tok.decode()))
                continue
            if r != self.req_id or rtx != tx:
                raise AssertionError("reply %d/%d to request %d/%d" % (r, rtx, self.req_id, tx))
            if t == ERROR:
                raise XsError(body.rstrip(b"\0").decode())
            if t != mtype:
                raise AssertionError("reply type %d to request type %d" % (t, mtype))
            return body

    def wait_events(self, n, timeout=5):
        """Waits until at least n watch events have arrived; returns and
        clears them."""
        end = time.monotonic() + timeout
        while len(self.events) < n:
            self.sock.settimeout(max(0.05, end - time.monotonic()))
            try:
                t, r, tx, body = self._recv_msg()
            except socket.timeout:
                break
            if t == WATCH_EVENT:
                p, tok = body.split(b"\0")[:2]
                self.events.append((p.decode(), tok.decode()))
        self.sock.settimeout(5)
        ev, self.events = self.events, []
        return ev

    # conveniences ---------------------------------------------------------
    def read(self, path, tx=0):
        return self.request(READ, path.encode() + b"\0", tx).decode()

    def write(self, path, value, tx=0):
        self.request(WRITE, path.encode() + b"\0" + value.encode(), tx)

    def mkdir(self, path, tx=0):
        self.request(MKDIR, path.encode() + b"\0", tx)

    def rm(self, path, tx=0):
        self.request(RM, path.encode() + b"\0", tx)

    def ls(self, path, tx=0):
        body = self.request(DIRECTORY, path.encode() + b"\0", tx)
        return [x.decode() for x in body.split(b"\0") if x]

    def set_perms(self, path, *perms):
        self.request(SET_PERMS, path.encode() + b"\0" + b"".join(p.encode() + b"\0" for p in perms))

    def get_perms(self, path):
        return [x.decode() for x in self.request(GET_PERMS, path.encode() + b"\0").split(b"\0") if x]

    def watch(self, path, token):
        self.request(WATCH, path.encode() + b"\0" + token.encode() + b"\0")

    def tx_start(self):
        return int(self.request(TRANSACTION_START, b"\0").rstrip(b"\0"))

    def tx_end(self, tx, commit=True):
        self.request(TRANSACTION_END, b"T\0" if commit else b"F\0", tx)

    def introduce(self, domid, mfn=0x1234, port=3):
        self.request(INTRODUCE, b"%d\0%d\0%d\0" % (domid, mfn, port))

    def release(self, domid):
        self.request(RELEASE, b"%d\0" % domid)


class HostStore:
    """build/xenstored-host running in `workdir`: .socket is dom0's socket,
    .domain_socket(N) the one INTRODUCE creates for domain N."""

    def __init__(self, binary, workdir, quota=()):
        os.makedirs(workdir, exist_ok=True)
        self.workdir = workdir
        self.socket = os.path.join(workdir, "socket")
        self.log = open(os.path.join(workdir, "xenstored.log"), "w")
        cmd = [binary, "--socket", self.socket, "--domain-dir", workdir]
        for q in quota:
            cmd += ["--quota", q]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log,
                                     universal_newlines=True)
        line = self.proc.stdout.readline()
        if "ready" not in line:
            raise AssertionError("xenstored-host did not start: %r" % line)
        self.env = dict(os.environ, XENSTORED_PATH=self.socket)

    def domain_socket(self, domid):
        return os.path.join(self.workdir, "domain-%d" % domid)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def stderr_text(self):
        with open(os.path.join(self.workdir, "xenstored.log")) as f:
            return f.read()
