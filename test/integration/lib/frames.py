#!/usr/bin/env python3
"""Frames on the wire, for the integration tests.

  frames.py list PCAP                 one line per weft frame: src dst sender epoch counter len
  frames.py unique PCAP               exit 1 if any (sender, epoch, counter) repeats
  frames.py hex PCAP SENDER [N]       hex of the Nth (default first) data frame from SENDER
  frames.py send HOST PORT HEX [MUT]  send one datagram; MUT: flip:BYTE:BIT | sender:ID
  frames.py tcp-recv ADDR PORT        accept one connection, print sha256 and size of all it got
  frames.py tcp-send ADDR PORT FILE   send FILE over TCP

Reads classic pcap (tcpdump -w) with Ethernet or Linux cooked framing, IPv4
or IPv6, UDP to or from port 3406.  Only the header of each frame is read:
the contents stay encrypted.  A datagram sent with UDP segmentation offload
(UDP_SEGMENT) is captured unsegmented on veth and bridges: consecutive
frames of one sender, all of one size but the last.  It is split where the
next frame's header follows (same sender and epoch, next counter).
"""
import hashlib
import socket
import struct
import sys

PORT = 3406


def packets(path):
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = struct.unpack('<I', data[:4])[0]
    endian = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
    linktype = struct.unpack(endian + 'I', data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + 'IIII', data[off:off + 16])
        off += 16
        pkt = data[off:off + incl]
        off += incl
        if linktype == 1:          # Ethernet
            etype, l3 = struct.unpack('>H', pkt[12:14])[0], pkt[14:]
        elif linktype == 113:      # Linux cooked
            etype, l3 = struct.unpack('>H', pkt[14:16])[0], pkt[16:]
        else:
            continue
        if etype == 0x0800 and len(l3) >= 20 and l3[9] == 17:
            ihl = (l3[0] & 15) * 4
            src, dst, udp = socket.inet_ntoa(l3[12:16]), socket.inet_ntoa(l3[16:20]), l3[ihl:]
        elif etype == 0x86dd and len(l3) >= 40 and l3[6] == 17:
            src, dst, udp = socket.inet_ntop(socket.AF_INET6, l3[8:24]), socket.inet_ntop(socket.AF_INET6, l3[24:40]), l3[40:]
        else:
            continue
        if len(udp) < 8:
            continue
        sport, dport = struct.unpack('>HH', udp[:4])
        if PORT not in (sport, dport):
            continue
        yield src, dst, udp[8:]


def split_run(payload):
    """The frames of one datagram: itself, or the segments of a GSO run."""
    if len(payload) < 64:
        return [payload]
    ftype, epoch, _, sender, counter = struct.unpack('>BBHIQ', payload[:16])
    needle = struct.pack('>IQ', sender, counter + 1)
    at = payload.find(needle, 36)
    while at != -1:
        size = at - 4
        if payload[size] in (1, 2) and payload[size + 1] == epoch and len(payload) - size >= 32:
            return [payload[i:i + size] for i in range(0, len(payload), size)]
        at = payload.find(needle, at + 1)
    return [payload]


def frames(path):
    for src, dst, datagram in packets(path):
        for payload in split_run(datagram):
            if len(payload) < 32:
                continue
            ftype, epoch, flags, sender, counter = struct.unpack('>BBHIQ', payload[:16])
            if ftype not in (1, 2):
                continue
            yield src, dst, ftype, epoch, sender, counter, payload


def main(argv):
    cmd = argv[1]
    if cmd == 'list':
        for src, dst, ftype, epoch, sender, counter, p in frames(argv[2]):
            print(src, dst, sender, epoch, counter, len(p))
    elif cmd == 'unique':
        seen, dups, total = set(), 0, 0
        per_sender = {}
        for src, dst, ftype, epoch, sender, counter, p in frames(argv[2]):
            total += 1
            key = (sender, epoch, counter)
            per_sender.setdefault(sender, set()).add(epoch)
            if key in seen:
                dups += 1
                if dups <= 5:
                    print('repeated (sender, epoch, counter):', key)
            seen.add(key)
        epochs = {s: sorted(e) for s, e in per_sender.items()}
        print(f'{total} frames, {len(seen)} distinct, {dups} repeated; epochs per sender {epochs}')
        return 1 if dups or total == 0 else 0
    elif cmd == 'hex':
        sender, n = int(argv[3]), int(argv[4]) if len(argv) > 4 else 0
        for src, dst, ftype, epoch, s, counter, p in frames(argv[2]):
            if s == sender and ftype == 1:
                if n == 0:
                    print(p.hex())
                    return 0
                n -= 1
        return 1
    elif cmd == 'send':
        host, port, frame = argv[2], int(argv[3]), bytearray(bytes.fromhex(argv[4]))
        if len(argv) > 5:
            kind, *args = argv[5].split(':')
            if kind == 'flip':
                frame[int(args[0])] ^= 1 << int(args[1])
            elif kind == 'sender':
                frame[4:8] = struct.pack('>I', int(args[0]))
        fam = socket.AF_INET6 if ':' in host else socket.AF_INET
        with socket.socket(fam, socket.SOCK_DGRAM) as s:
            s.sendto(bytes(frame), (host, port))
    elif cmd == 'tcp-recv':
        fam = socket.AF_INET6 if ':' in argv[2] else socket.AF_INET
        with socket.socket(fam, socket.SOCK_STREAM) as srv:
            srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            srv.bind((argv[2], int(argv[3])))
            srv.listen(1)
            srv.settimeout(60)
            conn, _ = srv.accept()
            conn.settimeout(60)
            h, size = hashlib.sha256(), 0
            while True:
                b = conn.recv(65536)
                if not b:
                    break
                h.update(b)
                size += len(b)
            print(h.hexdigest(), size)
    elif cmd == 'tcp-send':
        fam = socket.AF_INET6 if ':' in argv[2] else socket.AF_INET
        with socket.create_connection((argv[2], int(argv[3])), timeout=60) as s, open(argv[4], 'rb') as f:
            s.sendall(f.read())
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
