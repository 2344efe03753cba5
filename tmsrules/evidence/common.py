"""Shared helpers of the evidence readers: versions, bounded file reading, text decoding."""

from __future__ import annotations

import os

from tmsrules.errors import InputError

#: Protocol names of the contract (``tms.schannel`` keys, ``client_hello`` values), lowest first.
PROTOCOLS = ("SSL 3.0", "TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3")

#: Wire version numbers (ClientHello/ServerHello, supported_versions) to contract names.
WIRE_VERSIONS = {
    0x0300: "SSL 3.0",
    0x0301: "TLS 1.0",
    0x0302: "TLS 1.1",
    0x0303: "TLS 1.2",
    0x0304: "TLS 1.3",
}

#: Order of ``observations.client_hello`` values: "none" (no ClientHello) is the lowest.
HELLO_ORDER = ("none",) + PROTOCOLS

#: Size limits: a capture bigger than this is refused, so is a text export.
MAX_CAPTURE_BYTES = 64 * 1024 * 1024
MAX_TEXT_BYTES = 16 * 1024 * 1024


def version_rank(name: str) -> int:
    """Rank of a ``client_hello`` value (``"none"`` < ``"SSL 3.0"`` < ... < ``"TLS 1.3"``); -1 if unknown."""
    try:
        return HELLO_ORDER.index(name)
    except ValueError:
        return -1


def read_bytes(path: str, limit: int = MAX_CAPTURE_BYTES) -> bytes:
    """Read a whole file, refusing missing, unreadable, empty and too big files with InputError."""
    name = os.fspath(path)
    try:
        size = os.stat(name).st_size
    except OSError as exc:
        raise InputError(name, f"cannot read the file: {exc.strerror or exc}") from None
    if os.path.isdir(name):
        raise InputError(name, "is a directory, not a file", "a packet capture, registry export or event log export")
    if size > limit:
        raise InputError(name, f"file is too big ({size} bytes; the limit is {limit} bytes)")
    try:
        with open(name, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise InputError(name, f"cannot read the file: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise InputError(name, f"file is too big (more than {limit} bytes)")
    if not data:
        raise InputError(name, "the file is empty", "a packet capture, registry export or event log export")
    return data


def decode_text(data: bytes, name: str) -> str:
    """Decode a Windows text export: UTF-16 LE/BE with BOM, UTF-8 (with or without BOM), else ANSI (cp1252).

    UTF-16 LE without a BOM is recognised by its NUL high bytes.
    """
    if len(data) > MAX_TEXT_BYTES:
        raise InputError(name, f"file is too big for a text export ({len(data)} bytes; the limit is {MAX_TEXT_BYTES} bytes)")
    try:
        if data.startswith(b"\xff\xfe"):
            return data[2:].decode("utf-16-le")
        if data.startswith(b"\xfe\xff"):
            return data[2:].decode("utf-16-be")
        if data.startswith(b"\xef\xbb\xbf"):
            return data[3:].decode("utf-8")
        head = data[:200]
        if len(head) >= 4 and head[1::2].count(0) > len(head) // 4 and head[0::2].count(0) == 0:
            return data.decode("utf-16-le")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}:offset {exc.start}", f"text cannot be decoded ({exc.reason})",
                         "UTF-16 LE with BOM, UTF-8 or ANSI text") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")
