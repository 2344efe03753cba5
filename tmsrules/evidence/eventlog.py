"""``observations.sql_event_ids`` from Windows event log exports.

Formats, as Event Viewer writes them:

- CSV ("Save All Events As..." > CSV): the header names five columns
  (``Level,Date and Time,Source,Event ID,Task Category``) while every row
  carries a sixth, the description, often quoted over several lines. UTF-8
  (with or without BOM) or UTF-16 LE with BOM.
- XML ("Save All Events As..." > XML, or ``wevtutil qe /f:xml``):
  ``<Events><Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">
  <System><Provider Name='MSSQL$SQLTMS'/><EventID Qualifiers='49152'>26011</EventID>...``;
  a bare sequence of ``<Event>`` elements (wevtutil) is read too.

Only events of SQL Server providers count: ``MSSQLSERVER`` (default
instance) and ``MSSQL$<INSTANCE>`` (named instance), any case. IDs are
returned as ints in log order (= file order); an ID with the qualifiers
folded in (e.g. 3221251483) is reduced to its low 16 bits (26011).
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET

from tmsrules.errors import InputError
from tmsrules.evidence.common import decode_text

SQL_PROVIDER = re.compile(r"^MSSQL(?:SERVER|\$[^\s\\/]+)$", re.I)
_XML_HEAD = re.compile(r"^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<(Events|Event)[\s>/]", re.S)


def is_sql_provider(name: str) -> bool:
    """True for ``MSSQLSERVER`` and ``MSSQL$INSTANCE`` (case-insensitive)."""
    return bool(SQL_PROVIDER.match(name.strip()))


def looks_like_event_xml(text: str) -> bool:
    return bool(_XML_HEAD.match(text[:4096]))


def _csv_header(line: str) -> list[str] | None:
    cols = [c.strip().strip('"').lower() for c in line.split(",")]
    if "source" in cols and "event id" in cols:
        return cols
    return None


def looks_like_event_csv(text: str) -> bool:
    first = text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    return _csv_header(first) is not None


def _event_id(raw: str, where: str) -> int:
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10:   # an event ID is a 32-bit number at most
        raise InputError(where, f"event ID {raw[:40]!r} is not a number", "a decimal event ID such as 17182")
    value = int(raw)
    return value & 0xFFFF if value > 0xFFFF else value


def parse_event_csv(text: str, name: str) -> dict:
    """SQL Server event IDs from an Event Viewer CSV export."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise InputError(f"{name}:line 1", "no CSV header", "Level,Date and Time,Source,Event ID,Task Category") from None
    cols = [c.strip().lower() for c in header]
    if "source" not in cols or "event id" not in cols:
        raise InputError(f"{name}:line 1", "the CSV header has no 'Source' and 'Event ID' columns",
                         "Level,Date and Time,Source,Event ID,Task Category")
    i_source, i_id = cols.index("source"), cols.index("event id")
    ids: list[int] = []
    line = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise InputError(f"{name}:line {line}", f"malformed CSV ({exc})",
                             "Event Viewer's CSV export") from None
        where = f"{name}:line {line}"
        line = reader.line_num + 1
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) <= max(i_source, i_id):
            raise InputError(where, f"the row has {len(row)} columns, the header {len(header)}",
                             "Level,Date and Time,Source,Event ID,Task Category[,Description]")
        if is_sql_provider(row[i_source]):
            ids.append(_event_id(row[i_id], where))
    return {"observations": {"sql_event_ids": ids}} if ids else {}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_event_xml(text: str, name: str) -> dict:
    """SQL Server event IDs from an Event Viewer XML export (``<Events><Event>...``)."""
    if re.search(r"<!DOCTYPE|<!ENTITY", text[:65536], re.I):
        raise InputError(name, "XML with a DOCTYPE or entity declarations is not an event log export",
                         "Event Viewer's XML export")
    body = re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1)
    if re.match(r"^\s*(?:<!--.*?-->\s*)*<Event[\s>/]", body, re.S):
        body = "<Events>" + body + "</Events>"          # wevtutil: events without a root element
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        line = getattr(exc, "position", (0, 0))[0]
        reason = re.sub(r": line \d+, column \d+$", "", str(exc))
        raise InputError(f"{name}:line {line}", f"malformed XML ({reason})", "Event Viewer's XML export") from None
    if _local(root.tag) != "Events":
        raise InputError(name, f"the root element is <{_local(root.tag)}>, not <Events>", "Event Viewer's XML export")
    ids: list[int] = []
    for number, event in enumerate((e for e in root if _local(e.tag) == "Event"), start=1):
        system = next((c for c in event if _local(c.tag) == "System"), None)
        if system is None:
            continue
        provider = next((c for c in system if _local(c.tag) == "Provider"), None)
        event_id = next((c for c in system if _local(c.tag) == "EventID"), None)
        if provider is None or event_id is None:
            continue
        source = provider.get("Name") or provider.get("EventSourceName") or ""
        if is_sql_provider(source):
            ids.append(_event_id(event_id.text or "", f"{name}:event {number}"))
    return {"observations": {"sql_event_ids": ids}} if ids else {}


def read_event_csv(data: bytes, name: str) -> dict:
    return parse_event_csv(decode_text(data, name), name)


def read_event_xml(data: bytes, name: str) -> dict:
    return parse_event_xml(decode_text(data, name), name)
