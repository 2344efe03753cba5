"""Evidence in: packet captures, registry exports and event log exports as partial environments.

``read_evidence(*paths)`` reads each file, detects its format from its content
(``detect_format``) and returns the merged partial environment in contract v1
form, holding only the fields the files show::

    {"tms": {"schannel": {"TLS 1.0": {"client": "disabled", "server": "default"}}},
     "observations": {"client_hello": "TLS 1.0", "handshakes": [...], "sql_event_ids": [26011, 17182]}}

``merge(base, *partials)`` merges such partial environments into a base.
Every bad file raises ``tmsrules.InputError`` naming the file (and the offset
or line where it helps).
"""

from __future__ import annotations

import os

from tmsrules.errors import InputError
from tmsrules.evidence.common import MAX_CAPTURE_BYTES, MAX_TEXT_BYTES, read_bytes
from tmsrules.evidence.detect import FORMATS, detect_format
from tmsrules.evidence.eventlog import read_event_csv, read_event_xml
from tmsrules.evidence.merge import merge
from tmsrules.evidence.pcap import read_capture
from tmsrules.evidence.registry import read_reg

_READERS = {
    "pcap": read_capture,
    "pcapng": read_capture,
    "reg": read_reg,
    "event-csv": read_event_csv,
    "event-xml": read_event_xml,
}


def read_file(path) -> tuple[str, dict]:
    """``(format, partial environment)`` of one evidence file."""
    name = os.fspath(path)
    data = read_bytes(name, MAX_CAPTURE_BYTES)
    fmt = detect_format(data, name)
    if fmt not in ("pcap", "pcapng") and len(data) > MAX_TEXT_BYTES:
        raise InputError(name, f"file is too big for a text export (limit {MAX_TEXT_BYTES} bytes)")
    return fmt, _READERS[fmt](data, name)


def read_evidence(*paths) -> dict:
    """The merged partial environment (contract v1 form) that the files show."""
    if not paths:
        raise InputError("evidence", "no evidence file given", "one or more file paths")
    return merge({}, *(read_file(p)[1] for p in paths))


__all__ = ["read_evidence", "merge", "read_file", "detect_format", "FORMATS"]
