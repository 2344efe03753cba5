"""TLS handshakes from packet captures (pcap and pcapng), parsed with dpkt.

What is read (knowledge.md §6): each TCP connection's first bytes in both
directions are reassembled (up to ``STREAM_LIMIT`` bytes each way); the
client's ClientHello gives the highest version offered, from the
``supported_versions`` extension (type 43) when present, else the HANDSHAKE
version, never the record-layer version (RFC 5246 appendix E.1). GREASE
values are ignored. The server's answer is the ServerHello's negotiated
version (its own ``supported_versions`` when present, else its version
field), ``"alert: <description>"`` when its first record is an alert,
``"reset"`` when it sent a TCP RST before either, or ``"none"``.

A TCP connection to port 443 (or to a port that carries a ClientHello
elsewhere in the same capture) whose three-way handshake completed but on
which the client sent no ClientHello is listed too, with ``"offered":
"none"``: that is the seed's symptom (TMS at Medium with the SCHANNEL client's
TLS 1.0 disabled sends no ClientHello). When the capture holds such
connections and no ClientHello at all, ``observations.client_hello`` is
``"none"``.

SSL 3.0: a ClientHello whose highest offer is SSL 3.0 is listed under
``handshakes`` with ``"offered": "SSL 3.0"``, but never becomes
``observations.client_hello`` (contract v1: "TLS 1.0" .. "TLS 1.3" or
"none"). TMS offers TLS 1.0 at least, so an SSL 3.0-only hello comes from
another client (a scanner, an old tool): it says nothing about what TMS
offers. ``client_hello`` is the highest TLS offer in the capture; with SSL
3.0 hellos only, it is ``"none"`` when the capture also holds silent HTTPS
connections, and left out (unknown) otherwise.

Link types: Ethernet, Linux cooked (SLL and SLL2), raw IP (101, 12, 14, 228,
229), BSD/Npcap loopback (0, 108). IPv4 and IPv6. IP fragments are skipped.
A truncated or garbage capture raises ``InputError`` naming the file and the
byte offset of the bad record.
"""

from __future__ import annotations

import io
import socket
import struct
from typing import Iterator

import dpkt
from dpkt import pcapng as _ng

from tmsrules.errors import InputError
from tmsrules.evidence.common import WIRE_VERSIONS, version_rank

#: Bytes reassembled per direction and connection: enough for any ClientHello and ServerHello.
STREAM_LIMIT = 64 * 1024
#: A single packet record bigger than this is garbage (tcpdump's maximum snaplen is 262144).
MAX_RECORD = 256 * 1024
#: TCP connections tracked in one capture; more is refused (filter the capture to the TMS traffic).
MAX_CONNECTIONS = 100_000

PCAP_MAGICS = {
    b"\xa1\xb2\xc3\xd4", b"\xd4\xc3\xb2\xa1",  # microseconds, big / little endian
    b"\xa1\xb2\x3c\x4d", b"\x4d\x3c\xb2\xa1",  # nanoseconds
    b"\xa1\xb2\xcd\x34", b"\x34\xcd\xb2\xa1",  # Kuznetzov's modified pcap
}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"

ALERTS = {
    0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 21: "decryption_failed",
    22: "record_overflow", 30: "decompression_failure", 40: "handshake_failure",
    41: "no_certificate", 42: "bad_certificate", 43: "unsupported_certificate",
    44: "certificate_revoked", 45: "certificate_expired", 46: "certificate_unknown",
    47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied", 50: "decode_error",
    51: "decrypt_error", 60: "export_restriction", 70: "protocol_version",
    71: "insufficient_security", 80: "internal_error", 86: "inappropriate_fallback",
    90: "user_canceled", 100: "no_renegotiation", 109: "missing_extension",
    110: "unsupported_extension", 111: "certificate_unobtainable", 112: "unrecognized_name",
    113: "bad_certificate_status_response", 114: "bad_certificate_hash_value",
    115: "unknown_psk_identity", 116: "certificate_required", 120: "no_application_protocol",
}

LINKTYPES = {
    0: "BSD loopback", 1: "Ethernet", 12: "raw IP", 14: "raw IP", 101: "raw IP",
    108: "OpenBSD loopback", 113: "Linux cooked (SLL)", 228: "raw IPv4", 229: "raw IPv6",
    276: "Linux cooked v2 (SLL2)",
}
_ACCEPTED_LINKS = "link types Ethernet (1), Linux SLL (113), SLL2 (276), raw IP (101, 228, 229), loopback (0, 108)"


# ---------------------------------------------------------------- versions ---

def is_grease(v: int) -> bool:
    """GREASE values (RFC 8701): 0x0A0A, 0x1A1A, ... 0xFAFA."""
    return (v & 0x0F0F) == 0x0A0A and (v >> 8) == (v & 0xFF)


def version_name(v: int) -> str | None:
    """Contract name of a wire version; TLS 1.3 drafts (0x7fNN) count as TLS 1.3; None if unknown."""
    if v in WIRE_VERSIONS:
        return WIRE_VERSIONS[v]
    if 0x7F00 <= v <= 0x7FFF:
        return "TLS 1.3"
    return None


def _highest(names: list[str]) -> str | None:
    names = [n for n in names if n]
    return max(names, key=version_rank) if names else None


# --------------------------------------------------------------- TLS bytes ---

def _u16(b: bytes, i: int) -> int:
    return (b[i] << 8) | b[i + 1]


def _first_handshake(stream: bytes) -> tuple[int, bytes] | None:
    """The first handshake message in a TLS stream: ``(type, body)``.

    The body may be cut short when the stream is (it is parsed as far as it
    goes). Handshake bytes are gathered across consecutive handshake records.
    Returns None when the stream does not start with a handshake record.
    """
    hs = bytearray()
    pos = 0
    while pos + 5 <= len(stream):
        ctype = stream[pos]
        if ctype != 22 or stream[pos + 1] != 3:
            break
        length = _u16(stream, pos + 3)
        hs += stream[pos + 5:pos + 5 + length]
        pos += 5 + length
        if len(hs) >= 4 and len(hs) >= 4 + int.from_bytes(hs[1:4], "big"):
            break
    if len(hs) < 6:
        return None
    want = int.from_bytes(hs[1:4], "big")
    return hs[0], bytes(hs[4:4 + want])


def _extensions(body: bytes, pos: int) -> Iterator[tuple[int, bytes]]:
    """Extensions from ``pos`` (the 2-byte extensions length) on; stops quietly where bytes end."""
    if pos + 2 > len(body):
        return
    end = min(len(body), pos + 2 + _u16(body, pos))
    pos += 2
    while pos + 4 <= end:
        etype, elen = _u16(body, pos), _u16(body, pos + 2)
        data = body[pos + 4:pos + 4 + elen]
        if len(data) < elen:
            return
        yield etype, data
        pos += 4 + elen


def parse_client_hello(body: bytes) -> dict:
    """Versions a ClientHello body offers.

    Returns ``{"legacy": int, "supported_versions": [int] | None, "offered": name | None}``;
    ``offered`` is the highest known, non-GREASE version of ``supported_versions``
    when the extension is present, else the handshake (legacy) version.
    """
    legacy = _u16(body, 0)
    supported = None
    pos = 2 + 32
    try:
        pos += 1 + body[pos]                 # session id
        pos += 2 + _u16(body, pos)           # cipher suites
        pos += 1 + body[pos]                 # compression methods
    except IndexError:
        pos = len(body)
    for etype, data in _extensions(body, pos):
        if etype == 43 and data:
            n = data[0]
            raw = data[1:1 + n]
            supported = [_u16(raw, i) for i in range(0, len(raw) - 1, 2)]
    offered = None
    if supported is not None:
        offered = _highest([version_name(v) for v in supported if not is_grease(v)])
    if offered is None:
        offered = version_name(legacy)
    return {"legacy": legacy, "supported_versions": supported, "offered": offered}


def parse_server_hello(body: bytes) -> str | None:
    """Negotiated version of a ServerHello body: its supported_versions if present, else its version."""
    if len(body) < 2:
        return None
    version = _u16(body, 0)
    pos = 2 + 32
    try:
        pos += 1 + body[pos]    # session id
        pos += 2 + 1            # cipher suite, compression method
    except IndexError:
        pos = len(body)
    for etype, data in _extensions(body, pos):
        if etype == 43 and len(data) >= 2:
            version = _u16(data, 0)
    return version_name(version) or f"0x{version:04x}"


def client_offer(stream: bytes) -> str | None:
    """Highest version offered by the ClientHello that starts ``stream``; None when there is none.

    An SSLv2-compatible ClientHello (the 2-byte record header with the high
    bit set) is read too: its version field is the offer.
    """
    if len(stream) >= 5 and stream[0] & 0x80 and stream[2] == 1:
        return version_name(_u16(stream, 3))
    first = _first_handshake(stream)
    if first is None or first[0] != 1 or len(first[1]) < 2:
        return None
    return parse_client_hello(first[1])["offered"]


def server_answer(stream: bytes) -> str | None:
    """The server's first TLS answer: a version name, ``"alert: <name>"``, or None when none is readable."""
    pos = 0
    for _ in range(64):
        if pos + 5 > len(stream):
            return None
        ctype = stream[pos]
        if stream[pos + 1] != 3:
            return None
        if ctype == 21:
            payload = stream[pos + 5:pos + 7]
            if len(payload) < 2:
                return None
            return "alert: " + ALERTS.get(payload[1], f"unknown({payload[1]})")
        if ctype == 22:
            first = _first_handshake(stream[pos:])
            if first is not None and first[0] == 2:
                return parse_server_hello(first[1])
            return None
        if ctype != 20:                     # change_cipher_spec before the hello: skip it
            return None
        pos += 5 + _u16(stream, pos + 3)
    return None


# ------------------------------------------------------------- file reading ---

def _bad(name: str, offset: int, message: str) -> InputError:
    return InputError(f"{name}:offset {offset}", message, "a complete pcap or pcapng capture")


def _pcap_packets(data: bytes, name: str) -> Iterator[tuple[int, int, bytes]]:
    """``(linktype, offset, frame)`` of each record of a classic pcap file."""
    if len(data) < 24:
        raise _bad(name, 0, f"truncated pcap file header ({len(data)} of 24 bytes)")
    try:
        reader = dpkt.pcap.Reader(io.BytesIO(data))
    except (ValueError, dpkt.UnpackError, struct.error) as exc:
        raise _bad(name, 0, f"invalid pcap file header ({exc})") from None
    linktype = reader.datalink()
    little = data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\x34\xcd\xb2\xa1")
    modified = data[:4] in (b"\xa1\xb2\xcd\x34", b"\x34\xcd\xb2\xa1")
    if modified:
        hdr_cls = dpkt.pcap.LEPktModHdr if little else dpkt.pcap.PktModHdr
    else:
        hdr_cls = dpkt.pcap.LEPktHdr if little else dpkt.pcap.PktHdr
    hlen = hdr_cls.__hdr_len__
    pos = 24
    while pos < len(data):
        if pos + hlen > len(data):
            raise _bad(name, pos, f"truncated packet header ({len(data) - pos} of {hlen} bytes): "
                                  "the capture was cut short")
        hdr = hdr_cls(data[pos:pos + hlen])
        if hdr.caplen > MAX_RECORD or hdr.caplen > hdr.len:
            raise _bad(name, pos, f"invalid packet record (captured length {hdr.caplen}, "
                                  f"original length {hdr.len}): not a pcap record")
        end = pos + hlen + hdr.caplen
        if end > len(data):
            raise _bad(name, pos, f"truncated packet: the record declares {hdr.caplen} bytes, "
                                  f"the file holds {len(data) - pos - hlen}: the capture was cut short")
        yield linktype, pos, data[pos + hlen:end]
        pos = end


def _pcapng_packets(data: bytes, name: str) -> Iterator[tuple[int, int, bytes]]:
    """``(linktype, offset, frame)`` of each packet block of a pcapng file (every section and interface)."""
    pos = 0
    little = True
    interfaces: list[int] = []
    while pos < len(data):
        if pos + 12 > len(data):
            raise _bad(name, pos, f"truncated pcapng block ({len(data) - pos} bytes left)")
        raw_type = data[pos:pos + 4]
        if raw_type == PCAPNG_MAGIC:
            bom = data[pos + 8:pos + 12]
            if bom == b"\x4d\x3c\x2b\x1a":
                little = True
            elif bom == b"\x1a\x2b\x3c\x4d":
                little = False
            else:
                raise _bad(name, pos, "invalid pcapng section header (unknown byte-order magic)")
            interfaces = []
        fmt = "<I" if little else ">I"
        btype = struct.unpack(fmt, raw_type)[0]
        blen = struct.unpack(fmt, data[pos + 4:pos + 8])[0]
        if blen < 12 or blen % 4:
            raise _bad(name, pos, f"invalid pcapng block length {blen}")
        if pos + blen > len(data):
            raise _bad(name, pos, f"truncated pcapng block: it declares {blen} bytes, the file holds "
                                  f"{len(data) - pos}: the capture was cut short")
        block = data[pos:pos + blen]
        if struct.unpack(fmt, block[-4:])[0] != blen:
            raise _bad(name, pos, "corrupt pcapng block (its trailing length differs)")
        try:
            if btype == _ng.PCAPNG_BT_SHB:
                shb = (_ng.SectionHeaderBlockLE if little else _ng.SectionHeaderBlock)(block)
                if shb.v_major != _ng.PCAPNG_VERSION_MAJOR:
                    raise _bad(name, pos, f"unsupported pcapng version {shb.v_major}.{shb.v_minor}")
            elif btype == _ng.PCAPNG_BT_IDB:
                idb = (_ng.InterfaceDescriptionBlockLE if little else _ng.InterfaceDescriptionBlock)(block)
                interfaces.append(idb.linktype)
            elif btype in (_ng.PCAPNG_BT_EPB, _ng.PCAPNG_BT_PB):
                if btype == _ng.PCAPNG_BT_EPB:
                    pkt = (_ng.EnhancedPacketBlockLE if little else _ng.EnhancedPacketBlock)(block)
                    iface = pkt.iface_id
                else:
                    pkt = (_ng.PacketBlockLE if little else _ng.PacketBlock)(block)
                    iface = pkt.iface_id & 0xFFFF
                if iface >= len(interfaces):
                    raise _bad(name, pos, f"packet block for interface {iface}, which is not described")
                if pkt.caplen > blen:
                    raise _bad(name, pos, f"invalid packet block (captured length {pkt.caplen})")
                yield interfaces[iface], pos, pkt.pkt_data
            elif btype == _ng.PCAPNG_BT_SPB:
                if not interfaces:
                    raise _bad(name, pos, "simple packet block before any interface description")
                orig = struct.unpack(fmt, block[8:12])[0]
                yield interfaces[0], pos, block[12:min(12 + orig, blen - 4)]
        except (dpkt.UnpackError, struct.error, ValueError, IndexError) as exc:
            if isinstance(exc, InputError):
                raise
            raise _bad(name, pos, f"corrupt pcapng block type 0x{btype:08x} ({exc or type(exc).__name__})") from None
        pos += blen


def _network_layer(linktype: int, frame: bytes):
    """The dpkt IP/IP6 object of a frame, or None when it carries something else."""
    if linktype == 1:
        l3 = dpkt.ethernet.Ethernet(frame).data
    elif linktype == 113:
        l3 = dpkt.sll.SLL(frame).data
    elif linktype == 276:
        l3 = dpkt.sll2.SLL2(frame).data
    elif linktype in (12, 14, 101, 228, 229):
        l3 = _raw_ip(frame)
    elif linktype in (0, 108):
        l3 = _raw_ip(frame[4:])
    else:
        raise ValueError(f"unsupported link type {linktype}")
    if isinstance(l3, (dpkt.ip.IP, dpkt.ip6.IP6)):
        return l3
    return None


def _raw_ip(buf: bytes):
    if not buf:
        return None
    if buf[0] >> 4 == 4:
        return dpkt.ip.IP(buf)
    if buf[0] >> 4 == 6:
        return dpkt.ip6.IP6(buf)
    return None


def _addr(ip, raw: bytes, port: int) -> str:
    if isinstance(ip, dpkt.ip6.IP6):
        return f"[{socket.inet_ntop(socket.AF_INET6, raw)}]:{port}"
    return f"{socket.inet_ntop(socket.AF_INET, raw)}:{port}"


class _Half:
    """One direction of a TCP connection: the first STREAM_LIMIT bytes, by offset from the first byte."""

    __slots__ = ("base", "segments", "syn", "rst", "stored")

    def __init__(self):
        self.base: int | None = None
        self.segments: dict[int, bytes] = {}
        self.syn = False
        self.rst = False
        self.stored = 0

    def add(self, seq: int, payload: bytes) -> None:
        if not payload:
            return
        if self.base is None:
            self.base = seq
        off = (seq - self.base) & 0xFFFFFFFF
        if off >= 0x80000000:                      # starts before the stream's first byte
            cut = 0x100000000 - off
            if cut >= len(payload):
                return
            payload, off = payload[cut:], 0
        if off >= STREAM_LIMIT or self.stored >= 4 * STREAM_LIMIT:
            return
        payload = payload[:STREAM_LIMIT - off]
        if len(payload) > len(self.segments.get(off, b"")):
            self.stored += len(payload)
            self.segments[off] = payload

    def stream(self) -> bytes:
        out = bytearray()
        for off in sorted(self.segments):
            if off > len(out):
                break
            seg = self.segments[off]
            if off + len(seg) > len(out):
                out += seg[len(out) - off:]
        return bytes(out)


class _Conn:
    __slots__ = ("a", "b", "halves", "client", "established", "client_isn", "synack")

    def __init__(self, a: tuple[str, bytes, int], b: tuple[str, bytes, int]):
        self.a, self.b = a, b
        self.halves = {a: _Half(), b: _Half()}
        self.client: tuple | None = None
        self.client_isn: int | None = None
        self.synack = False
        self.established = False


def read_capture(data: bytes, name: str) -> dict:
    """Partial environment from a pcap/pcapng capture's bytes (``name`` is used in errors).

    Returns ``{"observations": {"client_hello": ..., "handshakes": [...]}}`` or
    ``{}`` when the capture shows no TLS and no silent HTTPS connection.
    """
    if data[:4] == PCAPNG_MAGIC:
        packets = _pcapng_packets(data, name)
    elif data[:4] in PCAP_MAGICS:
        packets = _pcap_packets(data, name)
    else:
        raise _bad(name, 0, "not a pcap or pcapng capture (unknown magic number)")

    conns: dict[tuple, _Conn] = {}
    order: list[_Conn] = []
    for linktype, offset, frame in packets:
        if linktype not in LINKTYPES:
            raise InputError(name, f"unsupported link type {linktype}", _ACCEPTED_LINKS)
        try:
            ip = _network_layer(linktype, frame)
        except (dpkt.UnpackError, struct.error, ValueError, IndexError):
            continue                                # a frame too short or mangled: not ours
        if ip is None or ip.p != 6:
            continue
        if isinstance(ip, dpkt.ip.IP) and (ip.mf or ip.offset):
            continue
        tcp = ip.data
        if not isinstance(tcp, dpkt.tcp.TCP):
            continue
        payload = bytes(tcp.data)
        if isinstance(ip, dpkt.ip.IP):               # Ethernet pads short frames: trust ip.len
            expected = ip.len - ip.hl * 4 - tcp.off * 4
            if 0 <= expected < len(payload):
                payload = payload[:expected]
        src = (_addr(ip, ip.src, tcp.sport), ip.src, tcp.sport)
        dst = (_addr(ip, ip.dst, tcp.dport), ip.dst, tcp.dport)
        key = (src, dst) if src <= dst else (dst, src)
        conn = conns.get(key)
        syn, ack = tcp.flags & dpkt.tcp.TH_SYN, tcp.flags & dpkt.tcp.TH_ACK
        if syn and not ack and conn is not None and conn.client_isn is not None and conn.client_isn != tcp.seq:
            conn = None                             # the 4-tuple is reused by a new connection
        if conn is None:
            if len(order) >= MAX_CONNECTIONS:
                raise InputError(f"{name}:offset {offset}", f"more than {MAX_CONNECTIONS} TCP connections",
                                 "a capture filtered to the TMS server's HTTPS traffic (e.g. tcp port 443)")
            conn = _Conn(src, dst)
            conns[key] = conn
            order.append(conn)
        half = conn.halves[src]
        if syn:
            half.syn = True
            if not half.segments:
                half.base = (tcp.seq + 1) & 0xFFFFFFFF
            if not ack:
                conn.client, conn.client_isn = src, tcp.seq
            elif conn.client == dst:
                conn.synack = True
        elif ack and conn.synack and src == conn.client:
            conn.established = True
        if tcp.flags & dpkt.tcp.TH_RST:
            half.rst = True
        half.add(tcp.seq, payload)

    hellos: list[str] = []
    found: list[tuple[_Conn, tuple, tuple, str | None]] = []   # (conn, client, server, offered)
    tls_ports: set[int] = set()
    for conn in order:
        client = conn.client
        offered = None
        if client is not None:
            offered = client_offer(conn.halves[client].stream())
        else:                                       # no SYN seen: the side that sends a ClientHello
            for side in (conn.a, conn.b):
                offered = client_offer(conn.halves[side].stream())
                if offered:
                    client = side
                    break
        if client is None:
            continue
        server = conn.b if client == conn.a else conn.a
        if offered is not None:
            tls_ports.add(server[2])
            hellos.append(offered)
            found.append((conn, client, server, offered))
        elif conn.established and not conn.halves[client].stream():
            found.append((conn, client, server, None))     # TCP handshake done, no byte from the client
    handshakes = [
        {"client": client[0], "server": server[0], "offered": offered or "none",
         "answer": _answer(conn, server)}
        for conn, client, server, offered in found
        if offered is not None or server[2] == 443 or server[2] in tls_ports
    ]
    if not handshakes:
        return {}
    observations: dict = {"handshakes": handshakes}
    tls_hellos = [h for h in hellos if h != "SSL 3.0"]     # TMS never offers SSL 3.0: see the module doc
    if tls_hellos:
        observations["client_hello"] = _highest(tls_hellos)
    elif any(h["offered"] == "none" for h in handshakes):
        observations["client_hello"] = "none"
    return {"observations": observations}


def _answer(conn: _Conn, server: tuple) -> str:
    half = conn.halves[server]
    answer = server_answer(half.stream())
    if answer:
        return answer
    if half.rst:
        return "reset"
    return "none"
