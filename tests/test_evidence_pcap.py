"""Packet captures: real loopback TLS captured by tcpdump (tests/fixtures/evidence/make_captures.py)."""

from __future__ import annotations

import os
import struct
import warnings

import dpkt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tmsrules.errors import InputError
from tmsrules.evidence import read_evidence, read_file
from tmsrules.evidence.pcap import (
    client_offer,
    parse_client_hello,
    read_capture,
    server_answer,
)

warnings.simplefilter("ignore", UserWarning)

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "evidence")


def fx(name: str) -> str:
    return os.path.join(FIX, name)


def raw(name: str) -> bytes:
    with open(fx(name), "rb") as fh:
        return fh.read()


def summary(env: dict) -> list[tuple[str, str, str]]:
    return [(h["server"], h["offered"], h["answer"]) for h in env["observations"]["handshakes"]]


SITE = [
    ("127.0.0.10:443", "TLS 1.0", "TLS 1.0"),                 # Medium -> TC 7.3.3
    ("127.0.0.11:443", "TLS 1.0", "alert: protocol_version"),  # Medium -> TC 7.3.6
    ("127.0.0.12:443", "TLS 1.0", "reset"),                    # Medium -> TC 7.3.6 that resets
    ("127.0.0.11:443", "none", "alert: decode_error"),         # no ClientHello at all
    ("127.0.0.11:443", "TLS 1.2", "TLS 1.2"),                  # Medium-High -> TC 7.3.6
    ("127.0.0.13:443", "TLS 1.3", "TLS 1.3"),                  # modern client -> CE 9
    ("[::1]:443", "TLS 1.3", "TLS 1.3"),                       # the same over IPv6
]


# ------------------------------------------------------------------ fixtures ---

@pytest.mark.parametrize(
    "name, client_hello, handshakes",
    [
        ("tc733_medium.pcap", "TLS 1.0", [("127.0.0.10:443", "TLS 1.0", "TLS 1.0")]),
        ("tc736_medium_alert.pcap", "TLS 1.0", [("127.0.0.11:443", "TLS 1.0", "alert: protocol_version")]),
        ("tc736_medium_reset.pcap", "TLS 1.0", [("127.0.0.12:443", "TLS 1.0", "reset")]),
        ("tc736_medium_high.pcap", "TLS 1.2", [("127.0.0.11:443", "TLS 1.2", "TLS 1.2")]),
        ("no_client_hello.pcap", "none", [("127.0.0.11:443", "none", "alert: decode_error")]),
    ],
)
def test_single_scenario_captures(name, client_hello, handshakes):
    env = read_evidence(fx(name))
    assert set(env) == {"observations"}
    assert env["observations"]["client_hello"] == client_hello
    assert summary(env) == handshakes
    for h in env["observations"]["handshakes"]:
        host, port = h["client"].rsplit(":", 1)
        assert host == "127.0.0.2" and 1024 <= int(port) <= 65535


@pytest.mark.parametrize("name", ["site.pcap", "site_be.pcap", "site_raw.pcap", "site.pcapng"])
def test_site_capture_in_every_container(name):
    env = read_evidence(fx(name))
    assert env["observations"]["client_hello"] == "TLS 1.3"
    assert summary(env) == SITE


def test_site_variants_agree_exactly_including_ports():
    base = read_evidence(fx("site.pcap"))
    for name in ("site_be.pcap", "site_raw.pcap", "site.pcapng"):
        assert read_evidence(fx(name)) == base


def test_fixture_containers_are_what_they_claim():
    # pcap magic and link types, read straight from the headers
    assert raw("tc733_medium.pcap")[:4] == b"\xd4\xc3\xb2\xa1"          # usec, little endian
    assert raw("tc736_medium_alert.pcap")[:4] == b"\x4d\x3c\xb2\xa1"    # nsec, little endian
    assert raw("site_be.pcap")[:4] == b"\xa1\xb2\xc3\xd4"               # usec, big endian
    assert struct.unpack("<I", raw("tc736_medium_reset.pcap")[20:24])[0] == 276   # SLL2
    assert struct.unpack("<I", raw("tc736_medium_high.pcap")[20:24])[0] == 113    # SLL
    assert struct.unpack("<I", raw("site_raw.pcap")[20:24])[0] == 101             # raw IP
    assert struct.unpack(">I", raw("site_be.pcap")[20:24])[0] == 1                # Ethernet
    ng = raw("site.pcapng")
    assert ng[:4] == b"\x0a\x0d\x0d\x0a"
    linktypes, pos = [], 0
    while pos < len(ng):
        btype, blen = struct.unpack("<II", ng[pos:pos + 8])
        if btype == 1:
            linktypes.append(struct.unpack("<H", ng[pos + 8:pos + 10])[0])
        pos += blen
    assert linktypes == [1, 101]
    for name in ("tc733_medium.pcap", "site.pcapng", "site_be.pcap"):
        assert read_file(fx(name))[0] == ("pcapng" if name.endswith("ng") else "pcap")


def _client_hello_bytes(name: str) -> bytes:
    reader = dpkt.pcap.Reader(open(fx(name), "rb"))
    for _, buf in reader:
        frame = dpkt.sll.SLL(buf) if reader.datalink() == 113 else dpkt.ethernet.Ethernet(buf)
        payload = bytes(frame.data.data.data)
        if payload[:1] == b"\x16" and payload[5:6] == b"\x01":
            return payload
    raise AssertionError("no ClientHello")


def test_handshake_version_is_read_not_the_record_layer_version():
    hello = _client_hello_bytes("tc736_medium_high.pcap")
    assert hello[1:3] == b"\x03\x01"          # record layer says TLS 1.0 ...
    assert hello[9:11] == b"\x03\x03"         # ... the handshake says TLS 1.2
    assert client_offer(hello) == "TLS 1.2"
    parsed = parse_client_hello(hello[9:])
    assert parsed["supported_versions"] is None


def test_supported_versions_outranks_the_legacy_version():
    reader = dpkt.pcap.Reader(open(fx("site.pcap"), "rb"))
    hellos = []
    for _, buf in reader:
        ip = dpkt.ethernet.Ethernet(buf).data
        payload = bytes(ip.data.data)
        if payload[:1] == b"\x16" and payload[5:6] == b"\x01":
            hellos.append(parse_client_hello(payload[9:]))
    tls13 = [h for h in hellos if h["supported_versions"]]
    assert len(tls13) == 2
    for h in tls13:
        assert h["legacy"] == 0x0303
        assert 0x0304 in h["supported_versions"]
        assert h["offered"] == "TLS 1.3"


# ------------------------------------------------------------ TLS parsing ---

def _hello(legacy: int, versions: list[int] | None, msg_type: int = 1) -> bytes:
    body = struct.pack(">H", legacy) + bytes(32) + b"\x00" + b"\x00\x02\x00\x2f" + b"\x01\x00"
    exts = b""
    if versions is not None:
        if msg_type == 1:
            data = bytes([2 * len(versions)]) + b"".join(struct.pack(">H", v) for v in versions)
        else:
            data = struct.pack(">H", versions[0])
        exts += struct.pack(">HH", 43, len(data)) + data
    exts = struct.pack(">HH", 0x0A0A, 0) + exts          # a GREASE extension first
    if msg_type == 2:
        body = struct.pack(">H", legacy) + bytes(32) + b"\x00" + b"\x13\x01" + b"\x00"
    body += struct.pack(">H", len(exts)) + exts
    hs = bytes([msg_type]) + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack(">H", len(hs)) + hs


def test_grease_values_are_ignored():
    assert client_offer(_hello(0x0303, [0xFAFA, 0x0304, 0x0303])) == "TLS 1.3"
    assert client_offer(_hello(0x0303, [0x1A1A, 0x0303, 0x0302])) == "TLS 1.2"
    # only GREASE in supported_versions: fall back to the handshake version
    assert client_offer(_hello(0x0301, [0x2A2A])) == "TLS 1.0"
    assert client_offer(_hello(0x0300, None)) == "SSL 3.0"
    assert client_offer(_hello(0x0302, None)) == "TLS 1.1"


def test_client_hello_split_over_records():
    whole = _hello(0x0303, [0x0304])
    hs = whole[5:]
    split = b"".join(b"\x16\x03\x01" + struct.pack(">H", len(part)) + part for part in (hs[:7], hs[7:20], hs[20:]))
    assert client_offer(split) == "TLS 1.3"


def test_server_answers():
    assert server_answer(_hello(0x0303, [0x0304], msg_type=2)) == "TLS 1.3"
    assert server_answer(_hello(0x0301, None, msg_type=2)) == "TLS 1.0"
    assert server_answer(b"\x15\x03\x01\x00\x02\x02\x46") == "alert: protocol_version"
    assert server_answer(b"\x15\x03\x03\x00\x02\x02\x28") == "alert: handshake_failure"
    assert server_answer(b"HTTP/1.1 400 Bad Request\r\n") is None
    assert server_answer(b"") is None


def test_sslv2_compatible_client_hello():
    # SSLv2 record header (high bit), msg type 1, version 3.1
    assert client_offer(b"\x80\x2e\x01\x03\x01\x00\x15\x00\x00\x00\x10") == "TLS 1.0"


@given(st.binary(max_size=300))
@settings(max_examples=300)
def test_tls_parsers_never_raise(data):
    client_offer(data)
    server_answer(data)
    client_offer(b"\x16\x03\x01" + data)
    server_answer(b"\x16\x03\x03" + data)


# ---------------------------------------------------------- TCP reassembly ---

def _rewrite_segmented(tmp_path, order):
    """tc733_medium.pcap with its ClientHello cut into 3 TCP segments, written in ``order`` (with a duplicate)."""
    reader = dpkt.pcap.Reader(open(fx("tc733_medium.pcap"), "rb"))
    out = open(tmp_path / "segmented.pcap", "wb")
    writer = dpkt.pcap.Writer(out, snaplen=262144, linktype=1)
    for ts, buf in reader:
        eth = dpkt.ethernet.Ethernet(buf)
        tcp = eth.data.data
        payload = bytes(tcp.data)
        if payload[:1] == b"\x16" and payload[5:6] == b"\x01":
            cuts = [0, 3, 40, len(payload)]
            segs = []
            for i in range(3):
                e = dpkt.ethernet.Ethernet(buf)
                e.data.data.data = payload[cuts[i]:cuts[i + 1]]
                e.data.data.seq = (tcp.seq + cuts[i]) & 0xFFFFFFFF
                e.data.data.sum = 0
                e.data.len = e.data.hl * 4 + e.data.data.off * 4 + len(e.data.data.data)
                e.data.sum = 0
                segs.append(bytes(e))
            for i in order:
                writer.writepkt(segs[i], ts)
        else:
            writer.writepkt(buf, ts)
    out.close()
    return str(tmp_path / "segmented.pcap")


@pytest.mark.parametrize("order", [[0, 1, 2], [2, 0, 1, 1], [1, 2, 0, 0]])
def test_client_hello_reassembled_from_segments_in_any_order(tmp_path, order):
    env = read_evidence(_rewrite_segmented(tmp_path, order))
    assert summary(env) == [("127.0.0.10:443", "TLS 1.0", "TLS 1.0")]


def test_a_missing_segment_leaves_the_hello_unread_not_misread(tmp_path):
    env = read_evidence(_rewrite_segmented(tmp_path, [0, 2]))
    # only 3 bytes of the hello: no version can be read, and no guess is made
    assert env == {}


def test_snaplen_cut_packets_still_give_the_handshake_version(tmp_path):
    data = bytearray(raw("site.pcap"))
    out = bytearray(data[:24])
    struct.pack_into("<I", out, 16, 96)                     # snaplen 96
    pos = 24
    while pos < len(data):
        sec, usec, caplen, length = struct.unpack("<IIII", data[pos:pos + 16])
        keep = min(caplen, 96)
        out += struct.pack("<IIII", sec, usec, keep, length) + data[pos + 16:pos + 16 + keep]
        pos += 16 + caplen
    path = tmp_path / "snap96.pcap"
    path.write_bytes(bytes(out))
    env = read_evidence(str(path))
    got = {(s, o) for s, o, _ in summary(env)}
    assert ("127.0.0.10:443", "TLS 1.0") in got
    assert ("127.0.0.11:443", "TLS 1.2") in got


# ------------------------------------------------------------- bad files ---

def _record_offsets(data: bytes) -> list[int]:
    offs, pos = [], 24
    while pos < len(data):
        offs.append(pos)
        pos += 16 + struct.unpack("<I", data[pos + 8:pos + 12])[0]
    return offs


def test_truncated_pcap_names_file_and_record_offset(tmp_path):
    data = raw("site.pcap")
    offsets = _record_offsets(data)
    cut_record = offsets[5]
    path = tmp_path / "cut.pcap"
    path.write_bytes(data[:cut_record + 20])                # header of record 5 and 4 bytes of it
    with pytest.raises(InputError) as err:
        read_evidence(str(path))
    assert str(path) in str(err.value)
    assert f"offset {cut_record}" in str(err.value)
    assert "cut short" in str(err.value)


def test_pcap_cut_inside_a_record_header(tmp_path):
    data = raw("tc733_medium.pcap")
    second = _record_offsets(data)[1]
    path = tmp_path / "cut.pcap"
    path.write_bytes(data[:second + 7])
    with pytest.raises(InputError, match=rf"cut\.pcap:offset {second}: truncated packet header"):
        read_evidence(str(path))


def test_truncated_pcapng_names_offset(tmp_path):
    data = raw("site.pcapng")
    path = tmp_path / "cut.pcapng"
    path.write_bytes(data[:len(data) - 10])
    with pytest.raises(InputError) as err:
        read_evidence(str(path))
    last_block = len(data) - struct.unpack("<I", data[-4:])[0]
    assert f"cut.pcapng:offset {last_block}" in str(err.value)


def test_pcapng_with_corrupt_trailing_length(tmp_path):
    data = bytearray(raw("site.pcapng"))
    shb_len = struct.unpack("<I", data[4:8])[0]
    idb_len = struct.unpack("<I", data[shb_len + 4:shb_len + 8])[0]
    struct.pack_into("<I", data, shb_len + idb_len - 4, 9999)
    path = tmp_path / "bad.pcapng"
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match=rf"bad\.pcapng:offset {shb_len}: corrupt pcapng block"):
        read_evidence(str(path))


def test_garbage_after_a_pcap_header(tmp_path):
    path = tmp_path / "garbage.pcap"
    path.write_bytes(raw("tc733_medium.pcap")[:24] + b"\xff" * 200)
    with pytest.raises(InputError, match=r"garbage\.pcap:offset 24: invalid packet record"):
        read_evidence(str(path))


def test_truncated_pcap_file_header(tmp_path):
    path = tmp_path / "short.pcap"
    path.write_bytes(b"\xd4\xc3\xb2\xa1\x02\x00")
    with pytest.raises(InputError, match=r"short\.pcap:offset 0: truncated pcap file header"):
        read_evidence(str(path))


def test_garbage_file_is_not_recognised(tmp_path):
    path = tmp_path / "capture.pcap"                         # the name lies: content decides
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(InputError, match=r"capture\.pcap: unrecognized file format"):
        read_evidence(str(path))


def test_header_only_capture_shows_nothing(tmp_path):
    path = tmp_path / "empty.pcap"
    path.write_bytes(raw("tc733_medium.pcap")[:24])
    assert read_evidence(str(path)) == {}


def test_empty_file(tmp_path):
    path = tmp_path / "nothing.pcap"
    path.write_bytes(b"")
    with pytest.raises(InputError, match=r"nothing\.pcap: the file is empty"):
        read_evidence(str(path))


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"nope\.pcap: cannot read the file"):
        read_evidence(str(tmp_path / "nope.pcap"))


def test_huge_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.pcap"
    with open(path, "wb") as fh:
        fh.write(raw("tc733_medium.pcap")[:24])
        fh.truncate(65 * 1024 * 1024)                        # sparse: costs no disk
    with pytest.raises(InputError, match=r"huge\.pcap: file is too big"):
        read_evidence(str(path))


def test_unsupported_link_type(tmp_path):
    data = bytearray(raw("tc733_medium.pcap"))
    struct.pack_into("<I", data, 20, 105)                    # IEEE 802.11
    path = tmp_path / "wifi.pcap"
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"wifi\.pcap: unsupported link type 105"):
        read_evidence(str(path))


@given(st.data())
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_mutated_captures_give_a_result_or_input_error(data):
    name = data.draw(st.sampled_from(["site.pcap", "site.pcapng", "tc736_medium_reset.pcap"]))
    buf = bytearray(raw(name))
    for _ in range(data.draw(st.integers(1, 8))):
        i = data.draw(st.integers(0, len(buf) - 1))
        buf[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(buf)))
    try:
        result = read_capture(bytes(buf[:cut]), name)
    except InputError as exc:
        assert name in str(exc)
    else:
        assert isinstance(result, dict)


def test_connection_limit(monkeypatch, tmp_path):
    import tmsrules.evidence.pcap as pcap_module

    monkeypatch.setattr(pcap_module, "MAX_CONNECTIONS", 3)
    with pytest.raises(InputError, match=r"site\.pcap:offset \d+: more than 3 TCP connections"):
        read_evidence(fx("site.pcap"))
