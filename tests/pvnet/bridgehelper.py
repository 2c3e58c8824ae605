#!/usr/bin/env python3
"""Traffic for tests/pvnet/test_pvnet_bridge.py, run inside the test's
network namespace (`ip netns exec NS python3 bridgehelper.py ...`), with
that namespace's own Linux stack:

  udp IP PORT COUNT RATE
      COUNT UDP datagrams to IP:PORT at RATE per second (paced, not a
      burst: a sustained modest rate), each "KEEL" + u32 sequence + 60
      bytes of pattern; then one datagram "END" to PORT + 1, the marker
      that ends the receiver's side (dom0's test=bridge, or udprecv).
      Prints `udp: sent N of COUNT datagrams (B payload bytes) in S s`
      and exits 0 when every send succeeded.
  udprecv IP PORT SECONDS
      Counts datagrams to IP:PORT until one arrives on PORT + 1 or
      SECONDS pass; prints `udprecv: N datagrams (B payload bytes), D
      duplicates, end seen|time-out` and exits 0 when the end was seen.
"""

import select
import socket
import struct
import sys
import time


def udp(ip, port, count, rate):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent, nbytes = 0, 0
    t0 = time.monotonic()
    for seq in range(count):
        # Paced against the start time, so a late wake-up catches up
        # instead of slowing the whole stream.
        due = t0 + seq / rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        payload = b"KEEL" + struct.pack("!I", seq) + bytes((seq + i) & 0xFF for i in range(60))
        for _ in range(100):
            try:
                if s.sendto(payload, (ip, port)) == len(payload):
                    sent += 1
                    nbytes += len(payload)
                break
            except OSError:  # ENOBUFS: let the queue drain
                time.sleep(0.001)
    elapsed = time.monotonic() - t0
    time.sleep(0.5)  # the marker after the stream has been read
    s.sendto(b"END", (ip, port + 1))
    print("udp: sent %d of %d datagrams (%d payload bytes) in %.1f s"
          % (sent, count, nbytes, elapsed), flush=True)
    return 0 if sent == count else 1


def udprecv(ip, port, seconds):
    data_s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    data_s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    data_s.bind((ip, port))
    end_s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    end_s.bind((ip, port + 1))
    print("udprecv: listening on %s:%d" % (ip, port), flush=True)
    seen, nbytes, dups, ended = set(), 0, 0, False
    deadline = time.monotonic() + seconds
    while not ended and time.monotonic() < deadline:
        r, _, _ = select.select([data_s, end_s], [], [], 0.2)
        for s in r:
            data = s.recv(2048)
            if s is end_s:
                ended = True
            elif len(data) >= 8 and data[:4] == b"KEEL":
                seq = struct.unpack("!I", data[4:8])[0]
                if seq in seen:
                    dups += 1
                else:
                    seen.add(seq)
                    nbytes += len(data)
    # Datagrams that were queued behind the end marker.
    while True:
        r, _, _ = select.select([data_s], [], [], 0.1)
        if not r:
            break
        data = data_s.recv(2048)
        if len(data) >= 8 and data[:4] == b"KEEL":
            seq = struct.unpack("!I", data[4:8])[0]
            if seq not in seen:
                seen.add(seq)
                nbytes += len(data)
    print("udprecv: %d datagrams (%d payload bytes), %d duplicates, %s"
          % (len(seen), nbytes, dups, "end seen" if ended else "time-out"), flush=True)
    return 0 if ended else 1


def main(argv):
    if argv[:1] == ["udprecv"] and len(argv) == 4:
        return udprecv(argv[1], int(argv[2]), float(argv[3]))
    if argv[:1] == ["udp"] and len(argv) == 5:
        return udp(argv[1], int(argv[2]), int(argv[3]), float(argv[4]))
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
