"""``tms.schannel`` from a Windows registry export (.reg) of the SCHANNEL Protocols key.

Formats: "Windows Registry Editor Version 5.00" (regedit writes it in UTF-16
LE with a BOM; UTF-8 and ANSI copies are read too) and "REGEDIT4" (ANSI);
CRLF or LF line ends; ``;`` comment lines; values continued over several
lines with a trailing ``\\``; deleted keys ``[-HKEY...]`` and deleted values
``"Name"=-``. Keys and values other than the protocols' ``Enabled`` and
``DisabledByDefault`` are ignored (their syntax is still checked).

State of one protocol side, knowledge.md §4 [ms-schannel]:

==========================  ===========================  ==========
``Enabled``                 ``DisabledByDefault``        state
==========================  ===========================  ==========
0                           any or absent                disabled
≠0 (``ffffffff`` too)       0 or absent                  enabled
≠0                          ≠0                           disabled (disabled by default: not offered)
absent                      ≠0                           disabled
absent                      0                            enabled (the documented way to turn on
                                                         TLS 1.1/1.2 on Windows Server 2008 R2)
absent                      absent                       default (key without the values)
key deleted / not exported                               default
==========================  ===========================  ==========

Output: ``{"tms": {"schannel": {protocol: {"client": S, "server": S}}}}`` for
the protocols the export shows ("SSL 3.0", "TLS 1.0" ... "TLS 1.3"; SSL 2.0,
PCT, DTLS ... are outside the contract and ignored). When the export contains
the ``Protocols`` key itself (or ``SCHANNEL`` above it), it covers every
protocol, so the protocols it does not list are reported as ``"default"``
(no key). Only the ``CurrentControlSet`` path is read.
"""

from __future__ import annotations

import re

from tmsrules.errors import InputError
from tmsrules.evidence.common import PROTOCOLS, decode_text

HEADERS = ("Windows Registry Editor Version 5.00", "REGEDIT4")
SCHANNEL = r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL"
PROTOCOLS_KEY = SCHANNEL + r"\Protocols"
SIDES = ("client", "server")

_ROOTS = {"HKLM": "HKEY_LOCAL_MACHINE"}
# Quoted strings are scanned by _quoted_end, not by a regex: a repeated alternation on a
# multi-megabyte value costs the regex engine gigabytes of backtracking state.
_DATA = re.compile(r'^(?:-|dword:[0-9a-fA-F]{1,8}|hex(?:\([0-9a-fA-F]{1,8}\))?:[0-9a-fA-F,\s]*)$', re.S | re.I)
_QUOTE_OR_ESCAPE = re.compile(r'\\.|"', re.S)
_PROTO_NAMES = {p.lower(): p for p in PROTOCOLS}
_ACCEPTED = 'regedit syntax: [KEY], [-KEY], "Name"=dword:XXXXXXXX, "Name"=hex(4):..., "Name"=-, ; comments'


def looks_like_reg(text: str) -> bool:
    """True when the first non-blank line is a regedit header."""
    for line in text.splitlines()[:5]:
        if line.strip():
            return line.strip() in HEADERS
    return False


def _logical_lines(text: str, name: str):
    """``(line number, text)`` with ``\\`` continuations joined; comment lines dropped."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        start = i
        part = lines[i].rstrip()
        i += 1
        if part.lstrip().startswith((";", "[")):
            yield start + 1, part
            continue
        parts = []                           # joined once at the end: a long continued value stays linear
        while part.endswith("\\"):
            if i >= len(lines):
                raise InputError(f"{name}:line {start + 1}", "the value is continued with '\\' past the end of the file",
                                 _ACCEPTED)
            parts.append(part[:-1])
            part = lines[i].strip()
            i += 1
        parts.append(part)
        yield start + 1, "".join(parts)


def _quoted_end(text: str, start: int) -> int:
    """Index just after the string that opens with the quote at ``start``; -1 when it is not closed."""
    for m in _QUOTE_OR_ESCAPE.finditer(text, start + 1):
        if m.group() == '"':
            return m.end()
    return -1


def _split_value(line: str) -> tuple[str | None, str] | None:
    """``(name, data)`` of a value line (name None for the default value ``@``); None when it is not one."""
    if line.startswith("@"):
        name, rest = None, line[1:]
    elif line.startswith('"'):
        end = _quoted_end(line, 0)
        if end < 0:
            return None
        name, rest = line[1:end - 1], line[end:]
    else:
        return None
    rest = rest.lstrip()
    if not rest.startswith("="):
        return None
    return name, rest[1:].strip()


def _valid_data(data: str) -> bool:
    if data.startswith('"'):
        return _quoted_end(data, 0) == len(data)
    return bool(_DATA.match(data))


def _normalize_key(path: str) -> str:
    parts = [p for p in path.strip().split("\\") if p]
    if parts and parts[0].upper() in _ROOTS:
        parts[0] = _ROOTS[parts[0].upper()]
    return "\\".join(parts)


def _dword(data: str, where: str) -> int | None:
    """The DWORD of a value's data; None for a deleted value or another type (not a DWORD for SCHANNEL)."""
    low = data.lower()
    if low.startswith("dword:"):
        return int(low[6:], 16)
    if low.startswith("hex(4):"):
        raw = [b for b in re.split(r"[,\s]+", low[7:]) if b]
        if len(raw) != 4:
            raise InputError(where, f"REG_DWORD written as hex(4) needs 4 bytes, found {len(raw)}", _ACCEPTED)
        bad = next((b for b in raw if not re.fullmatch(r"[0-9a-f]{1,2}", b)), None)
        if bad is not None:
            raise InputError(where, f"hex(4) byte {bad[:20]!r} is not a byte (00..ff)", _ACCEPTED)
        return int.from_bytes(bytes(int(b, 16) for b in raw), "little")
    return None


def state_of(values: dict) -> str:
    """SCHANNEL state of one side from its ``{"enabled": int|None, "disabledbydefault": int|None}``."""
    enabled, dbd = values.get("enabled"), values.get("disabledbydefault")
    if enabled is not None:
        if enabled == 0:
            return "disabled"
        return "disabled" if dbd else "enabled"
    if dbd is None:
        return "default"
    return "disabled" if dbd else "enabled"


def parse_reg(text: str, name: str) -> dict:
    """``tms.schannel`` partial environment from the text of a .reg export."""
    schannel = {proto: {side: state_of(values[side]) if side in values else "default" for side in SIDES}
                for proto, values in parse_reg_values(text, name).items()}
    if not schannel:
        return {}
    return {"tms": {"schannel": schannel}}


def parse_reg_values(text: str, name: str) -> dict:
    """The raw SCHANNEL values of a .reg export: ``{protocol: {side: {"enabled": int|None, "disabledbydefault": int|None}}}``.

    Holds the protocols the export shows (every protocol when it holds the
    ``Protocols`` key itself); a side is present when its key is, with the
    DWORDs it holds (a missing value is absent from the dict). This is what
    a rollback restores, value for value (``parse_reg`` reduces it to states).
    """
    lines = _logical_lines(text, name)
    header = None
    for lineno, line in lines:
        if line.strip():
            header = line.strip()
            break
    if header not in HEADERS:
        raise InputError(f"{name}:line 1", "not a registry export (no regedit header line)",
                         "'Windows Registry Editor Version 5.00' or 'REGEDIT4' as the first line")
    # side values: (protocol, side) -> {"enabled": v, "disabledbydefault": v}; present keys only
    sides: dict[tuple[str, str], dict] = {}
    seen: set[str] = set()                  # protocols whose keys the export shows (or deletes)
    covers_all = False
    current: tuple[str, str] | None = None
    in_key = False
    for lineno, line in lines:
        where = f"{name}:line {lineno}"
        stripped = line.strip()
        if not stripped or stripped.startswith(";"):
            continue
        if stripped.startswith("["):
            if not stripped.endswith("]"):
                raise InputError(where, f"unterminated key line {stripped[:80]!r}", _ACCEPTED)
            delete = stripped.startswith("[-")
            key = _normalize_key(stripped[2 if delete else 1:-1])
            in_key = True
            current = None
            low = key.lower()
            if low in (SCHANNEL.lower(), PROTOCOLS_KEY.lower()):
                covers_all = True
                if delete:
                    sides.clear()
                continue
            if not low.startswith(PROTOCOLS_KEY.lower() + "\\"):
                continue
            rest = key[len(PROTOCOLS_KEY) + 1:].split("\\")
            proto = _PROTO_NAMES.get(rest[0].lower())
            if proto is None:
                continue
            seen.add(proto)
            if len(rest) == 1:
                if delete:
                    for side in SIDES:
                        sides.pop((proto, side), None)
                continue
            side = rest[1].lower()
            if len(rest) > 2 or side not in SIDES:
                continue
            if delete:
                sides.pop((proto, side), None)
            else:
                current = (proto, side)
                sides.setdefault(current, {})
            continue
        value_line = _split_value(stripped)
        if value_line is None:
            raise InputError(where, f"not a key, value or comment: {stripped[:80]!r}", _ACCEPTED)
        vname, data = value_line
        if not _valid_data(data):
            raise InputError(where, f"unreadable value data {data[:60]!r}", _ACCEPTED)
        if not in_key:
            raise InputError(where, "a value before any [key] line", _ACCEPTED)
        if current is None or vname is None:
            continue
        vname = vname.lower()
        if vname not in ("enabled", "disabledbydefault"):
            continue
        if data == "-":
            sides[current].pop(vname, None)
            continue
        value = _dword(data, where)
        if value is None:
            continue                         # not a DWORD: SCHANNEL ignores it
        sides[current][vname] = value

    protocols = set(seen)
    if covers_all:
        protocols |= set(PROTOCOLS)
    return {proto: {side: dict(sides[(proto, side)]) for side in SIDES if (proto, side) in sides}
            for proto in PROTOCOLS if proto in protocols}


def read_reg(data: bytes, name: str) -> dict:
    """``tms.schannel`` partial environment from the bytes of a .reg file."""
    return parse_reg(decode_text(data, name), name)


def read_reg_values(data: bytes, name: str) -> dict:
    """``parse_reg_values`` of the bytes of a .reg file."""
    return parse_reg_values(decode_text(data, name), name)
