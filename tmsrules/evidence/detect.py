"""Detect an evidence file's format from its content (magic numbers, BOM, header lines), never its name."""

from __future__ import annotations

from tmsrules.errors import InputError
from tmsrules.evidence.common import MAX_TEXT_BYTES, decode_text
from tmsrules.evidence.eventlog import looks_like_event_csv, looks_like_event_xml
from tmsrules.evidence.pcap import PCAP_MAGICS, PCAPNG_MAGIC
from tmsrules.evidence.registry import looks_like_reg

#: The formats read_evidence understands.
FORMATS = ("pcap", "pcapng", "reg", "event-csv", "event-xml")
ACCEPTED = ("a pcap/pcapng capture, a regedit export (Windows Registry Editor Version 5.00 / REGEDIT4), "
            "or an Event Viewer export (CSV or XML)")


def detect_format(data: bytes, name: str = "") -> str:
    """One of FORMATS for these bytes; InputError naming ``name`` when none fits."""
    if not data:
        raise InputError(name, "the file is empty", ACCEPTED)
    if data[:4] == PCAPNG_MAGIC:
        return "pcapng"
    if data[:4] in PCAP_MAGICS:
        return "pcap"
    if len(data) > MAX_TEXT_BYTES:
        raise InputError(name, f"file is too big for a text export ({len(data)} bytes; "
                               f"the limit is {MAX_TEXT_BYTES} bytes), and it is not a capture", ACCEPTED)
    chunk = data[:8192]                     # the first 8 KiB decide
    if chunk.startswith((b"\xff\xfe", b"\xfe\xff")):
        chunk = chunk[:len(chunk) // 2 * 2]   # whole UTF-16 code units: the reader reports a broken tail
    try:
        head = decode_text(chunk, name)
    except InputError:
        head = ""
    if "\x00" in head[:4096]:
        head = ""
    if looks_like_reg(head):
        return "reg"
    if looks_like_event_xml(head):
        return "event-xml"
    if looks_like_event_csv(head):
        return "event-csv"
    raise InputError(name, "unrecognized file format (checked the content, not the name)", ACCEPTED)
