"""Event Viewer exports (CSV and XML) -> observations.sql_event_ids (knowledge.md §5)."""

from __future__ import annotations

import os

import pytest

from tmsrules.errors import InputError
from tmsrules.evidence import read_evidence, read_file
from tmsrules.evidence.eventlog import is_sql_provider

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "evidence")


def fx(name: str) -> str:
    return os.path.join(FIX, name)


def ids(path) -> list[int]:
    return read_evidence(str(path))["observations"]["sql_event_ids"]


# Event Viewer's default order is newest first; log order = file order.
CSV_IDS = [17120, 17826, 17182, 26011, 17101]


def test_csv_fixture_has_five_header_columns_and_six_per_row():
    with open(fx("application.csv"), "rb") as fh:
        data = fh.read()
    assert data.startswith(b"\xef\xbb\xbfLevel,Date and Time,Source,Event ID,Task Category\r\n")
    assert b'17182,Server,"TDSSNIClient initialization failed with error 0x80090331, status code' in data


def test_event_viewer_csv_utf8_bom():
    assert read_file(fx("application.csv"))[0] == "event-csv"
    # SQL Server Agent, Service Control Manager and TMS services are not SQL Server providers
    assert ids(fx("application.csv")) == CSV_IDS


def test_event_viewer_csv_utf16():
    with open(fx("application_utf16.csv"), "rb") as fh:
        assert fh.read(4) == b"\xff\xfeL\x00"
    assert ids(fx("application_utf16.csv")) == CSV_IDS


def test_event_viewer_xml():
    assert read_file(fx("application.xml"))[0] == "event-xml"
    assert ids(fx("application.xml")) == [26011, 17182, 17826, 17120]


def test_wevtutil_xml_without_root_and_lowercase_provider():
    assert read_file(fx("sql_wevtutil.xml"))[0] == "event-xml"
    assert ids(fx("sql_wevtutil.xml")) == [17182, 26011]


@pytest.mark.parametrize(
    "name, sql",
    [("MSSQLSERVER", True), ("mssqlserver", True), ("MSSQL$SQLTMS", True), ("MSSQL$tms_2", True),
     ("SQLAgent$SQLTMS", False), ("SQLSERVERAGENT", False), ("MSSQL$", False), ("MSSQLServerOLAPService", False),
     ("Service Control Manager", False), ("MSSQL$A B", False)],
)
def test_sql_providers(name, sql):
    assert is_sql_provider(name) is sql


HEADER = "Level,Date and Time,Source,Event ID,Task Category\r\n"


def test_csv_multiline_and_quotes_and_full_event_id(tmp_path):
    path = tmp_path / "log.txt"                                   # the name does not matter
    path.write_bytes((HEADER +
                      'Error,1/2/2020 1:00:00 PM,MSSQLSERVER,3221251483,Server,"line one,\r\n""quoted""\r\n'
                      'line three"\r\n'
                      "\r\n"
                      "Information,1/2/2020 1:00:01 PM,MSSQLSERVER,17182,Server,plain\r\n").encode())
    assert ids(path) == [26011, 17182]                           # 0xC000659B -> 26011


def test_csv_without_sql_events_shows_nothing(tmp_path):
    path = tmp_path / "log.csv"
    path.write_bytes((HEADER + "Information,1/2/2020 1:00:00 PM,Winlogon,7001,None,x\r\n").encode())
    assert read_evidence(str(path)) == {}


@pytest.mark.parametrize(
    "rows, line, message",
    [
        ("Error,1/2/2020,MSSQLSERVER,abc,Server,x\r\n", 2, "event ID 'abc' is not a number"),
        ("Error,1/2/2020,MSSQLSERVER,\u00b2,Server,x\r\n", 2, "is not a number"),   # isdigit() but not int()
        ("Error,1/2/2020,MSSQLSERVER," + "9" * 5000 + ",Server,x\r\n", 2, "is not a number"),  # int() digit limit
        ("Error,1/2/2020,MSSQLSERVER,1,Server,x\r\nError,1/2/2020\r\n", 3, "the row has 2 columns"),
        ('Error,1/2/2020,MSSQLSERVER,1,Server,"ok"\r\nError,1/2/2020,MSSQLSERVER,2,Server,"cut off\r\n',
         3, "malformed CSV"),
        ('Error,1/2/2020,MSSQLSERVER,1,Server,"a"b\r\n', 2, "malformed CSV"),
    ],
)
def test_malformed_csv_names_the_line(tmp_path, rows, line, message):
    path = tmp_path / "bad.csv"
    path.write_bytes((HEADER + rows).encode())
    with pytest.raises(InputError) as err:
        read_evidence(str(path))
    assert f"bad.csv:line {line}" in str(err.value)
    assert message in str(err.value)


def test_truncated_xml_names_the_line(tmp_path):
    with open(fx("application.xml"), "rb") as fh:
        data = fh.read()
    path = tmp_path / "cut.xml"
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(InputError, match=r"cut\.xml:line \d+: malformed XML"):
        read_evidence(str(path))


def test_xml_with_entities_is_refused(tmp_path):
    path = tmp_path / "bomb.xml"
    path.write_bytes(b'<?xml version="1.0"?><Events><!DOCTYPE x [<!ENTITY a "aaaa">]><Event/></Events>')
    with pytest.raises(InputError, match=r"bomb\.xml: XML with a DOCTYPE"):
        read_evidence(str(path))


def test_xml_event_id_not_a_number(tmp_path):
    path = tmp_path / "e.xml"
    path.write_bytes(b"<Events><Event><System><Provider Name='MSSQLSERVER'/><EventID>x1</EventID></System>"
                     b"</Event></Events>")
    with pytest.raises(InputError, match=r"e\.xml:event 1: event ID 'x1' is not a number"):
        read_evidence(str(path))


def test_other_xml_is_not_an_event_export(tmp_path):
    path = tmp_path / "other.xml"
    path.write_bytes(b'<?xml version="1.0"?><configuration><appSettings/></configuration>')
    with pytest.raises(InputError, match="unrecognized file format"):
        read_evidence(str(path))
