"""Tests of tmsrules.parse: every accepted input form, and the refused ones."""

from __future__ import annotations

import functools
from typing import Any, Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from tmsrules.errors import InputError
from tmsrules.parse import (
    FAMILIES,
    MANAGEMENT,
    PROTOCOLS,
    SCHANNEL_STATES,
    SECURITY_LEVELS,
    SQL_PRODUCTS,
    TLS_VERSIONS,
    WINDOWS,
    Software,
    SqlVersion,
    parse_management,
    parse_protocol,
    parse_schannel_state,
    parse_security,
    parse_software,
    parse_sql_version,
    parse_tls_version,
    parse_tms_version,
    parse_windows,
    version_key,
)

V = Version


# --------------------------------------------------------------------------
# constants


def test_constants() -> None:
    assert WINDOWS == ("2008", "2008r2", "2012", "2012r2", "2016", "2019", "2022")
    assert SECURITY_LEVELS == ("low", "medium", "medium-high", "high")
    assert PROTOCOLS == ("SSL 3.0", "TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3")
    assert TLS_VERSIONS == ("TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3")
    assert SCHANNEL_STATES == ("enabled", "disabled", "default")
    assert MANAGEMENT == ("https", "http", "telnet", "snmp")
    assert SQL_PRODUCTS == (
        "2005", "2008", "2008r2", "2012", "2014", "2016", "2017", "2019", "2022",
    )
    assert FAMILIES == ("tc", "ce", "roomos", "polycom", "tandberg")


def test_input_error_is_value_error() -> None:
    assert issubclass(InputError, ValueError)
    with pytest.raises(ValueError):
        parse_tms_version("abc", "tms.version")


# --------------------------------------------------------------------------
# good forms


TMS_GOOD = [
    ("14.6.2", V("14.6.2")),
    ("15.2.1", V("15.2.1")),
    ("TMS 15.13", V("15.13")),
    ("15.0", V("15.0")),
    ("tms15.13.1", V("15.13.1")),
    ("15.2.1.0", V("15.2.1.0")),
    ("v15.3", V("15.3")),
    ("V15.3", V("15.3")),
    ("TMS v15.3", V("15.3")),
    ("tms 14.6.2", V("14.6.2")),
    ("Cisco TMS 15.13", V("15.13")),
    ("  15.2.1\n", V("15.2.1")),
    ("015.02", V("15.2")),
]


@pytest.mark.parametrize(("value", "expected"), TMS_GOOD)
def test_tms_version_good(value: str, expected: Version) -> None:
    result = parse_tms_version(value, "tms.version")
    assert isinstance(result, Version)
    assert result == expected
    assert result.release == expected.release


def test_tms_version_ordering() -> None:
    assert parse_tms_version("14.6.2", "p") < parse_tms_version("15.0", "p")
    assert parse_tms_version("15.13", "p") > parse_tms_version("15.2.1", "p")
    assert parse_tms_version("15.0", "p") == V("15")


def test_tms_version_accepts_version() -> None:
    assert parse_tms_version(V("15.2.1"), "tms.version") == V("15.2.1")


SECURITY_GOOD = [
    ("low", "low"),
    ("medium", "medium"),
    ("medium-high", "medium-high"),
    ("high", "high"),
    ("LOW", "low"),
    ("Medium", "medium"),
    ("HIGH", "high"),
    ("Medium-High", "medium-high"),
    ("MEDIUM-HIGH", "medium-high"),
    ("medium high", "medium-high"),
    ("Medium High", "medium-high"),
    ("medium_high", "medium-high"),
    ("MediumHigh", "medium-high"),
    ("mediumhigh", "medium-high"),
    ("medium - high", "medium-high"),
    ("  medium  ", "medium"),
]


@pytest.mark.parametrize(("value", "expected"), SECURITY_GOOD)
def test_security_good(value: str, expected: str) -> None:
    assert parse_security(value, "tms.communication_security") == expected


WINDOWS_GOOD = [
    # names (contract and brief)
    ("Windows Server 2008 R2", "2008r2"),
    ("2012 R2", "2012r2"),
    ("Server 2016", "2016"),
    ("2022", "2022"),
    ("2008 R2", "2008r2"),
    ("2008R2", "2008r2"),
    ("2008r2", "2008r2"),
    ("Windows Server 2012 R2 Standard", "2012r2"),
    ("Windows Server 2008 SP2", "2008"),
    ("2008", "2008"),
    ("2012", "2012"),
    ("2016", "2016"),
    ("2019", "2019"),
    ("2012r2", "2012r2"),
    ("Windows Server 2019", "2019"),
    ("windows server 2022", "2022"),
    ("WINDOWS SERVER 2012", "2012"),
    ("Windows 2012", "2012"),
    ("Win2012R2", "2012r2"),
    ("Microsoft Windows Server 2016 Datacenter", "2016"),
    ("Windows Server 2022 Datacenter: Azure Edition", "2022"),
    ("Windows Server 2008 R2 Enterprise SP1", "2008r2"),
    ("Windows Server 2008 Service Pack 2", "2008"),
    ("Windows Server 2012 R2 Standard (x64)", "2012r2"),
    ("Windows Server 2019 Essentials", "2019"),
    ("  2016 \t", "2016"),
    # NT versions and builds
    ("6.0", "2008"),
    ("6.0.6002", "2008"),
    ("6.0.6003", "2008"),
    ("6.1", "2008r2"),
    ("6.1.7601", "2008r2"),
    ("6.1.7600", "2008r2"),
    ("6.2", "2012"),
    ("6.2.9200", "2012"),
    ("6.3", "2012r2"),
    ("6.3.9600", "2012r2"),
    ("10.0.14393", "2016"),
    ("10.0.17763", "2019"),
    ("10.0.20348", "2022"),
    ("10.0.17763.1234", "2019"),
    ("10.0.14393.5582", "2016"),
    ("10.0.20348.2113", "2022"),
    ("6.1.7601.24545", "2008r2"),
    ("Microsoft Windows [Version 10.0.17763.1234]", "2019"),
    ("Version 6.3.9600", "2012r2"),
]


@pytest.mark.parametrize(("value", "expected"), WINDOWS_GOOD)
def test_windows_good(value: str, expected: str) -> None:
    result = parse_windows(value, "tms.windows")
    assert result == expected
    assert result in WINDOWS


PROTOCOL_GOOD = [
    ("SSL 3.0", "SSL 3.0"),
    ("TLS 1.0", "TLS 1.0"),
    ("TLS 1.1", "TLS 1.1"),
    ("TLS 1.2", "TLS 1.2"),
    ("TLS 1.3", "TLS 1.3"),
    ("tls1.2", "TLS 1.2"),
    ("TLSv1.2", "TLS 1.2"),
    ("TLS1.2", "TLS 1.2"),
    ("tls 1.2", "TLS 1.2"),
    ("tlsv1.3", "TLS 1.3"),
    ("TLS v1.1", "TLS 1.1"),
    ("tls1_2", "TLS 1.2"),
    ("TLSv1", "TLS 1.0"),
    ("TLS1", "TLS 1.0"),
    ("SSL3", "SSL 3.0"),
    ("SSLv3", "SSL 3.0"),
    ("ssl 3", "SSL 3.0"),
    ("sslv3.0", "SSL 3.0"),
    (" TLS 1.0 ", "TLS 1.0"),
]


@pytest.mark.parametrize(("value", "expected"), PROTOCOL_GOOD)
def test_protocol_good(value: str, expected: str) -> None:
    assert parse_protocol(value, "tms.schannel") == expected


TLS_GOOD = [
    ("TLS 1.0", "TLS 1.0"),
    ("TLS 1.1", "TLS 1.1"),
    ("TLS 1.2", "TLS 1.2"),
    ("TLS 1.3", "TLS 1.3"),
    ("TLSv1.2", "TLS 1.2"),
    ("tls 1.2", "TLS 1.2"),
    ("tls1.2", "TLS 1.2"),
    ("TLSv1", "TLS 1.0"),
    ("tls1_3", "TLS 1.3"),
    ("1.0", "TLS 1.0"),
    ("1.2", "TLS 1.2"),
    ("1.3", "TLS 1.3"),
    ("0x0301", "TLS 1.0"),
    ("0x0302", "TLS 1.1"),
    ("0x0303", "TLS 1.2"),
    ("0X0304", "TLS 1.3"),
    ("  TLS 1.1  ", "TLS 1.1"),
]


@pytest.mark.parametrize(("value", "expected"), TLS_GOOD)
def test_tls_version_good(value: str, expected: str) -> None:
    assert parse_tls_version(value, "observations.client_hello") == expected
    assert parse_tls_version(value, "observations.client_hello", allow_none=True) == expected


@pytest.mark.parametrize("value", ["none", "None", "NONE", " none "])
def test_tls_version_none(value: str) -> None:
    assert parse_tls_version(value, "observations.client_hello", allow_none=True) == "none"


@pytest.mark.parametrize("value", ["none", "None"])
def test_tls_version_none_refused_by_default(value: str) -> None:
    with pytest.raises(InputError) as info:
        parse_tls_version(value, "endpoints[0].accepts[1]")
    assert info.value.path == "endpoints[0].accepts[1]"
    assert "'none'" not in (info.value.accepted or "")


SCHANNEL_GOOD = [
    ("enabled", "enabled"),
    ("disabled", "disabled"),
    ("default", "default"),
    ("Enabled", "enabled"),
    ("DISABLED", "disabled"),
    ("Default", "default"),
    (" enabled ", "enabled"),
]


@pytest.mark.parametrize(("value", "expected"), SCHANNEL_GOOD)
def test_schannel_state_good(value: str, expected: str) -> None:
    assert parse_schannel_state(value, "tms.schannel.TLS 1.2.client") == expected


MANAGEMENT_GOOD = [
    ("https", "https"),
    ("http", "http"),
    ("telnet", "telnet"),
    ("snmp", "snmp"),
    ("HTTPS", "https"),
    ("Http", "http"),
    ("Telnet", "telnet"),
    ("SNMP", "snmp"),
    ("tls", "https"),
    ("TLS", "https"),
    (" https ", "https"),
]


@pytest.mark.parametrize(("value", "expected"), MANAGEMENT_GOOD)
def test_management_good(value: str, expected: str) -> None:
    assert parse_management(value, "endpoints[0].management") == expected


SOFTWARE_GOOD = [
    # value, family, version, str()
    ("TC7.3.6", "tc", "7.3.6", "TC 7.3.6"),
    ("tc7.3.3.1c5b7d7", "tc", "7.3.3", "TC 7.3.3"),
    ("TC7.3.6.4a9f0cc", "tc", "7.3.6", "TC 7.3.6"),
    ("tc7.3.3", "tc", "7.3.3", "TC 7.3.3"),
    ("TC 7.3.11", "tc", "7.3.11", "TC 7.3.11"),
    ("TC7.3.4", "tc", "7.3.4", "TC 7.3.4"),
    ("TC7.3.6 (4a9f0cc)", "tc", "7.3.6", "TC 7.3.6"),
    ("tc7.3.3.1234567", "tc", "7.3.3", "TC 7.3.3"),
    ("ce8.1.0", "ce", "8.1.0", "CE 8.1.0"),
    ("CE8.0.1", "ce", "8.0.1", "CE 8.0.1"),
    ("CE9.15.3.17", "ce", "9.15.3.17", "CE 9.15.3.17"),
    ("CE 9.15.3.17 a1b2c3d", "ce", "9.15.3.17", "CE 9.15.3.17"),
    ("ce9.15.3.17.be8ae8d5fd8", "ce", "9.15.3.17", "CE 9.15.3.17"),
    ("CE9.1.3", "ce", "9.1.3", "CE 9.1.3"),
    ("ce 9.15", "ce", "9.15", "CE 9.15"),
    ("RoomOS 11.5.2.4", "roomos", "11.5.2.4", "RoomOS 11.5.2.4"),
    ("roomos11.5.2.4 2d7fc6c3dfd", "roomos", "11.5.2.4", "RoomOS 11.5.2.4"),
    ("RoomOS 11.5.2.4 (abc1234)", "roomos", "11.5.2.4", "RoomOS 11.5.2.4"),
    ("ROOMOS 10.19.1.2", "roomos", "10.19.1.2", "RoomOS 10.19.1.2"),
    ("Room OS 11.14.1.5", "roomos", "11.14.1.5", "RoomOS 11.14.1.5"),
    ("Release - 3.1.10-51067", "polycom", "3.1.10", "Polycom 3.1.10"),
    ("release 3.1.10", "polycom", "3.1.10", "Polycom 3.1.10"),
    ("Release-3.1.10-51067", "polycom", "3.1.10", "Polycom 3.1.10"),
    ("Polycom 3.1.10", "polycom", "3.1.10", "Polycom 3.1.10"),
    ("Polycom HDX 3.1.10", "polycom", "3.1.10", "Polycom 3.1.10"),
    ("Polycom Release - 3.1.10-51067", "polycom", "3.1.10", "Polycom 3.1.10"),
    ("F9.3.1", "tandberg", "9.3.1", "TANDBERG F9.3.1"),
    ("f8.3", "tandberg", "8.3", "TANDBERG F8.3"),
    ("TANDBERG F9.3.1", "tandberg", "9.3.1", "TANDBERG F9.3.1"),
    ("MXP F9.3.1", "tandberg", "9.3.1", "TANDBERG F9.3.1"),
    ("TE4.1.3", "tandberg", "4.1.3", "TANDBERG TE4.1.3"),
    ("  TC7.3.6  ", "tc", "7.3.6", "TC 7.3.6"),
]


@pytest.mark.parametrize(("value", "family", "version", "display"), SOFTWARE_GOOD)
def test_software_good(value: str, family: str, version: str, display: str) -> None:
    result = parse_software(value, "endpoints[0].software")
    assert isinstance(result, Software)
    assert result.family == family
    assert result.version == V(version)
    assert result.version.release == V(version).release
    assert result.raw == value.strip()
    assert str(result) == display


def test_software_equality_ignores_raw() -> None:
    a = parse_software("TC7.3.6", "p")
    b = parse_software("tc7.3.6.4a9f0cc", "p")
    assert a == b
    assert hash(a) == hash(b)
    assert a.raw != b.raw
    assert parse_software("TC7.3.6", "p") != parse_software("CE7.3.6", "p")


def test_software_versions_compare_as_versions() -> None:
    assert parse_software("TC7.3.11", "p").version > parse_software("TC7.3.6", "p").version
    assert parse_software("CE9.15.3.17", "p").version > parse_software("ce9.15.3", "p").version
    assert parse_software("ce8.1.0", "p").version == V("8.1")


def test_software_accepts_software() -> None:
    software = parse_software("CE9.15.3.17", "p")
    assert parse_software(software, "p") is software


def test_software_is_frozen_and_validated() -> None:
    software = parse_software("TC7.3.6", "p")
    with pytest.raises(AttributeError):
        software.family = "ce"  # type: ignore[misc]
    with pytest.raises(ValueError):
        Software("vcs", V("1.0"), "x")
    with pytest.raises(TypeError):
        Software("tc", "7.3.6", "x")  # type: ignore[arg-type]
    assert str(Software("tandberg", V("9.3.1"), "9.3.1")) == "TANDBERG 9.3.1"


SQL_GOOD = [
    # value, product, build, service_pack, str()
    ("11.0.5058.0", "2012", "11.0.5058.0", None, "SQL Server 2012 (11.0.5058.0)"),
    ("9.0.5000.0", "2005", "9.0.5000.0", None, "SQL Server 2005 (9.0.5000.0)"),
    ("10.0.6547.0", "2008", "10.0.6547.0", None, "SQL Server 2008 (10.0.6547.0)"),
    ("10.50.6542.0", "2008r2", "10.50.6542.0", None, "SQL Server 2008 R2 (10.50.6542.0)"),
    ("10.5.6542.0", "2008r2", "10.50.6542.0", None, "SQL Server 2008 R2 (10.50.6542.0)"),
    ("11.0.5644.2", "2012", "11.0.5644.2", None, "SQL Server 2012 (11.0.5644.2)"),
    ("12.0.4439.1", "2014", "12.0.4439.1", None, "SQL Server 2014 (12.0.4439.1)"),
    ("13.0.5026.0", "2016", "13.0.5026.0", None, "SQL Server 2016 (13.0.5026.0)"),
    ("14.0.1000.169", "2017", "14.0.1000.169", None, "SQL Server 2017 (14.0.1000.169)"),
    ("15.0.2000.5", "2019", "15.0.2000.5", None, "SQL Server 2019 (15.0.2000.5)"),
    ("16.0.1000.6", "2022", "16.0.1000.6", None, "SQL Server 2022 (16.0.1000.6)"),
    ("11.0.5058", "2012", "11.0.5058", None, "SQL Server 2012 (11.0.5058)"),
    ("11.00.5058.00", "2012", "11.0.5058.0", None, "SQL Server 2012 (11.0.5058.0)"),
    (" 11.0.5058.0 ", "2012", "11.0.5058.0", None, "SQL Server 2012 (11.0.5058.0)"),
    # names
    ("SQL Server 2012 SP2", "2012", None, 2, "SQL Server 2012 SP2"),
    ("SQL Server 2008 R2", "2008r2", None, None, "SQL Server 2008 R2"),
    ("2008 R2", "2008r2", None, None, "SQL Server 2008 R2"),
    ("2008R2 SP3", "2008r2", None, 3, "SQL Server 2008 R2 SP3"),
    ("Microsoft SQL Server 2014 SP1", "2014", None, 1, "SQL Server 2014 SP1"),
    ("2016", "2016", None, None, "SQL Server 2016"),
    ("SQL 2012 RTM", "2012", None, 0, "SQL Server 2012 RTM"),
    ("sql server 2005", "2005", None, None, "SQL Server 2005"),
    ("SQL Server 2008", "2008", None, None, "SQL Server 2008"),
    ("SQL Server 2008 SP4", "2008", None, 4, "SQL Server 2008 SP4"),
    ("SQL Server 2017", "2017", None, None, "SQL Server 2017"),
    ("SQL Server 2019", "2019", None, None, "SQL Server 2019"),
    ("SQL Server 2022", "2022", None, None, "SQL Server 2022"),
    ("MSSQL 2014", "2014", None, None, "SQL Server 2014"),
    ("SQL Server 2012 Service Pack 3", "2012", None, 3, "SQL Server 2012 SP3"),
    ("SQL Server 2012 Express", "2012", None, None, "SQL Server 2012"),
    ("SQL Server 2008 R2 Express SP2", "2008r2", None, 2, "SQL Server 2008 R2 SP2"),
    ("SQL Server 2014 SP1-CU4", "2014", None, 1, "SQL Server 2014 SP1"),
    # names with a build
    ("SQL Server 2012 SP2 (11.0.5058.0)", "2012", "11.0.5058.0", 2,
     "SQL Server 2012 SP2 (11.0.5058.0)"),
    ("SQL Server 2008 R2 SP3 (10.50.6000.34)", "2008r2", "10.50.6000.34", 3,
     "SQL Server 2008 R2 SP3 (10.50.6000.34)"),
    ("Microsoft SQL Server 2012 (SP2) (KB2958429) - 11.0.5058.0 (X64)", "2012",
     "11.0.5058.0", 2, "SQL Server 2012 SP2 (11.0.5058.0)"),
    ("SQL Server 2014 - 12.0.2000.8", "2014", "12.0.2000.8", None,
     "SQL Server 2014 (12.0.2000.8)"),
]


@pytest.mark.parametrize(("value", "product", "build", "service_pack", "display"), SQL_GOOD)
def test_sql_version_good(
    value: str, product: str, build: str | None, service_pack: int | None, display: str
) -> None:
    result = parse_sql_version(value, "tms.sql.version")
    assert isinstance(result, SqlVersion)
    assert result.product == product
    assert result.product in SQL_PRODUCTS
    if build is None:
        assert result.build is None
    else:
        assert isinstance(result.build, Version)
        assert result.build == V(build)
    assert result.service_pack == service_pack
    assert result.raw == value.strip()
    assert str(result) == display


def test_sql_builds_compare_as_versions() -> None:
    def build(text: str) -> Version:
        result = parse_sql_version(text, "p").build
        assert result is not None
        return result

    assert build("11.0.5644.1") < build("11.0.5644.2")
    assert build("11.0.5058.0") < build("11.0.5352.0")
    assert build("10.5.6542.0") == build("10.50.6542.0")
    assert build("10.50.6537.0") > build("10.0.6547.0")
    assert build("12.0.10000.1") > build("12.0.9999.9")


def test_sql_version_equality_ignores_raw() -> None:
    assert parse_sql_version("10.5.6542.0", "p") == parse_sql_version("10.50.6542.0", "p")
    assert parse_sql_version("2008R2", "p") == parse_sql_version("SQL Server 2008 R2", "p")


def test_sql_version_accepts_sql_version() -> None:
    sql = parse_sql_version("11.0.5058.0", "p")
    assert parse_sql_version(sql, "p") is sql


def test_sql_version_validated() -> None:
    with pytest.raises(ValueError):
        SqlVersion("2000", None, None, "2000")
    with pytest.raises(TypeError):
        SqlVersion("2012", "11.0.5058.0", None, "x")  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# bad forms

Parser = Callable[[Any, str], Any]

WRONG_TYPES: list[Any] = [15, 15.2, True, False, None, [], {}, ["15.2.1"], b"15.2.1", 0]
EMPTY = ["", " ", "   \t\n"]

# Each parser, a path, a word that its `accepted` text must contain, and its bad strings.
PARSERS: dict[str, tuple[Parser, str, str, list[str]]] = {
    "tms_version": (
        parse_tms_version,
        "tms.version",
        "15.2.1",
        ["abc", "15", "TMS 15", "TMS", "v", "15.x", "x15.2", "15.2.x", "15..2", ".15.2",
         "15.2.", "15.2-rc1", "15.2.1.0.1", "15.100000", "1.5e2", "15,2", "TMS 15.2 beta",
         "15 2", "tms-15.2", "١٥.٢"],
    ),
    "security": (
        parse_security,
        "tms.communication_security",
        "medium-high",
        ["med", "very high", "medium-low", "high-medium", "2", "medium high high",
         "mediumhigh!", "lowest", "none", "default"],
    ),
    "windows": (
        parse_windows,
        "tms.windows",
        "2012 R2",
        ["Windows Server 2003", "2003", "Windows 2003", "2025", "Windows Server 2025",
         "Windows 10", "7", "Windows 7", "10", "10.0", "10.0.19045", "10.0.26100",
         "10.0.10240", "5.2.3790", "6.4", "2016 R2", "2019r2", "2008 R3", "2012 foo",
         "2008 SP1 SP2", "windows", "server", "Windows Server", "20121", "2012R2X",
         "Windows Vista", "NT 6.1", "abc"],
    ),
    "protocol": (
        parse_protocol,
        "tms.schannel",
        "TLS 1.2",
        ["TLS 1.4", "TLS 2.0", "SSL 2.0", "SSLv2", "SSL", "TLS", "1.2", "PCT 1.0",
         "TLS 12", "TLS 1.2.1", "tls-1.2", "DTLS 1.2", "https"],
    ),
    "tls_version": (
        parse_tls_version,
        "observations.client_hello",
        "TLS 1.2",
        ["SSL 3.0", "SSLv3", "TLS 1.4", "TLS 2.0", "1", "2.0", "1.4", "0x0300", "0x0305",
         "0301", "TLS", "none", "alert: protocol_version", "reset", "tls 1.2 1.3"],
    ),
    "schannel_state": (
        parse_schannel_state,
        "tms.schannel.TLS 1.0.server",
        "enabled",
        ["on", "off", "enable", "disable", "1", "0", "true", "none", "en abled"],
    ),
    "management": (
        parse_management,
        "endpoints[1].management",
        "telnet",
        ["ssh", "ftp", "https/tls", "snmp v2", "tls1.2", "web", "h t t p"],
    ),
    "software": (
        parse_software,
        "endpoints[2].software",
        "TC7.3.6",
        ["TC", "TC7", "tc 7", "tc7.x", "7.3.6", "XX7.3.6", "CE 9 15 3", "CE 9.15.3 17",
         "tc7.3.3.1c5b7d7 abcdef1", "tc7.3.3.1c5b7d7.1", "TC7.3.6.1.2", "RoomOS",
         "Release - 3", "Release - abc", "Polycom", "F9", "G9.3.1", "tc100000.1",
         "TC7.3.6 beta", "CE9.15.3.17 (xyz)", "CE9.15.3.17 (17)", "tc7c.3.3", "ce.8.1",
         "ce8.1.0-rc1", "polycom 3.1.10 abc", "Cisco Webex", "TC7.3..6", "tc7.3.6.",
         "roomos 11.5.2.4 zzz1234"],
    ),
    "sql_version": (
        parse_sql_version,
        "tms.sql.version",
        "11.0.5058.0",
        ["11", "11.0", "SQL Server 11.0", "8.0.2039", "17.0.1000.0", "11.1.1.1",
         "10.25.1600.1", "SQL Server 2000", "SQL Server 2025", "2016 R2", "2012 R3",
         "SQL Server 2012 SP2 (10.50.6000.34)", "2008 R2 (10.0.6547.0)",
         "SQL Server", "SQL", "2012 SP2 SP3", "2012 RTM SP1", "2012 foo",
         "11.0.5058.0.1", "11.0.100000.0", "SQL Server 2012 (11.0.5058.0) (11.0.5058.0)",
         "SQL Server 2012 (11.0)", "abc", "11.0.5058.x", "SQL Server 2012 SPx"],
    ),
}

BAD_CASES = [
    pytest.param(name, value, id=f"{name}-{value!r}")
    for name, (_, _, _, bad) in PARSERS.items()
    for value in [*WRONG_TYPES, *EMPTY, *bad]
]


def _check_error(error: InputError, path: str, marker: str) -> None:
    assert isinstance(error, ValueError)
    assert error.path == path
    assert error.message
    assert error.accepted
    assert marker in error.accepted
    assert str(error).startswith(f"{path}: ")
    assert f"(accepted: {error.accepted})" in str(error)


@pytest.mark.parametrize(("name", "value"), BAD_CASES)
def test_bad_forms(name: str, value: Any) -> None:
    parser, path, marker, _ = PARSERS[name]
    with pytest.raises(InputError) as info:
        parser(value, path)
    _check_error(info.value, path, marker)
    # The message quotes the bad value (repr) so the user sees what was refused.
    assert repr(value)[:50] in info.value.message


@pytest.mark.parametrize("name", list(PARSERS))
@pytest.mark.parametrize("value", WRONG_TYPES)
def test_wrong_type_names_the_type(name: str, value: Any) -> None:
    parser, path, _, _ = PARSERS[name]
    with pytest.raises(InputError) as info:
        parser(value, path)
    assert "expected a string" in info.value.message
    assert type(value).__name__ in info.value.message


@pytest.mark.parametrize("name", list(PARSERS))
def test_long_value_is_truncated(name: str) -> None:
    parser, path, _, _ = PARSERS[name]
    value = "x" * 500
    with pytest.raises(InputError) as info:
        parser(value, path)
    assert "x" * 61 not in info.value.message
    assert "'" + "x" * 50 in info.value.message
    assert "..." in info.value.message


@pytest.mark.parametrize("name", list(PARSERS))
@pytest.mark.parametrize("path", ["", "endpoints[7].planned_software", "tms.sql.version"])
def test_error_path_is_the_callers(name: str, path: str) -> None:
    parser, _, _, _ = PARSERS[name]
    with pytest.raises(InputError) as info:
        parser("???", path)
    assert info.value.path == path


def test_windows_10_0_needs_a_build() -> None:
    with pytest.raises(InputError) as info:
        parse_windows("10.0", "tms.windows")
    assert "build number" in info.value.message
    assert "10.0.17763" in info.value.message


@pytest.mark.parametrize("value", ["Windows Server 2003", "2025", "Windows 10", "7"])
def test_windows_unsupported_lists_releases(value: str) -> None:
    with pytest.raises(InputError) as info:
        parse_windows(value, "tms.windows")
    accepted = info.value.accepted or ""
    for release in ("2008", "2008 R2", "2012", "2012 R2", "2016", "2019", "2022"):
        assert release in accepted


def test_tms_version_single_number_says_major_minor() -> None:
    with pytest.raises(InputError) as info:
        parse_tms_version("15", "tms.version")
    assert "major.minor" in info.value.message


def test_sql_short_build_says_three_numbers() -> None:
    with pytest.raises(InputError) as info:
        parse_sql_version("11.0", "tms.sql.version")
    assert "major.minor.build" in info.value.message


def test_sql_name_build_mismatch_names_both() -> None:
    with pytest.raises(InputError) as info:
        parse_sql_version("SQL Server 2012 SP2 (10.50.6000.34)", "tms.sql.version")
    assert "SQL Server 2012" in info.value.message
    assert "SQL Server 2008 R2" in info.value.message


@pytest.mark.parametrize(
    "value", [V("15"), V("15.2.1.0.1"), V("15.2rc1"), V("1!15.2"), V("15.2+local"), V("15.100000")]
)
def test_tms_version_refuses_unusable_version(value: Version) -> None:
    with pytest.raises(InputError) as info:
        parse_tms_version(value, "tms.version")
    assert info.value.path == "tms.version"


# --------------------------------------------------------------------------
# parsed versions always fit version_key


@pytest.mark.parametrize(("value", "expected"), TMS_GOOD)
def test_tms_versions_fit_version_key(value: str, expected: Version) -> None:
    assert version_key(parse_tms_version(value, "p")) == version_key(expected)


@pytest.mark.parametrize("row", SOFTWARE_GOOD)
def test_software_versions_fit_version_key(row: tuple[str, str, str, str]) -> None:
    version_key(parse_software(row[0], "p").version)


@pytest.mark.parametrize("row", [r for r in SQL_GOOD if r[2] is not None])
def test_sql_builds_fit_version_key(row: tuple[Any, ...]) -> None:
    build = parse_sql_version(row[0], "p").build
    assert build is not None
    version_key(build)


# --------------------------------------------------------------------------
# version_key


def test_version_key_values() -> None:
    assert version_key(V("0")) == 0
    assert version_key(V("1")) == 1 * 100000**3
    assert version_key(V("11.0.5058.0")) == ((11 * 100000 + 0) * 100000 + 5058) * 100000 + 0
    assert version_key(V("7.3.6"), width=3) == (7 * 100000 + 3) * 100000 + 6
    assert version_key(V("15.2"), width=2) == 15 * 100000 + 2
    assert isinstance(version_key(V("15.2")), int)


def test_version_key_ordering() -> None:
    ordered = [
        "0.1", "7.3.3", "7.3.6", "7.3.11", "8.0.1", "8.1", "9.1.3", "9.15.3",
        "9.15.3.17", "10.0.6543.0", "10.0.6547.0", "10.50.6537.0", "10.50.6542.0",
        "11.0.5058.0", "11.0.5352.0", "11.0.5644.1", "11.0.5644.2", "11.0.6216.27",
        "11.0.6518.0", "11.0.7001.0", "12.0.2271.0", "14.6.2", "15.0", "15.2.1",
        "15.13", "99999.99999.99999.99999",
    ]
    keys = [version_key(V(text)) for text in ordered]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


def test_version_key_examples() -> None:
    assert version_key(V("11.0.5644.1")) < version_key(V("11.0.5644.2"))
    assert version_key(V("10.50.1600.1")) > version_key(V("10.0.6547.0"))
    assert version_key(V("10.50.0.0")) > version_key(V("10.0.99999.99999"))
    assert version_key(V("15.0")) == version_key(V("15")) == version_key(V("15.0.0.0"))
    assert version_key(V("7.3.10")) > version_key(V("7.3.9"))


@pytest.mark.parametrize(
    ("version", "width"),
    [
        (V("100000"), 4),
        (V("1.100000"), 4),
        (V("1.2.3.4.5"), 4),
        (V("1.2.3"), 2),
        (V("1.0"), 0),
        (V("1.0rc1"), 4),
        (V("1.0.post1"), 4),
        (V("1.0.dev1"), 4),
        (V("1!1.0"), 4),
        (V("1.0+abc"), 4),
    ],
)
def test_version_key_refuses(version: Version, width: int) -> None:
    with pytest.raises(ValueError):
        version_key(version, width)


def test_version_key_refuses_non_version() -> None:
    with pytest.raises(TypeError):
        version_key("11.0.5058.0")  # type: ignore[arg-type]


_release_parts = st.lists(st.integers(min_value=0, max_value=99999), min_size=1, max_size=4)


@given(_release_parts, _release_parts)
def test_version_key_orders_like_version(a: list[int], b: list[int]) -> None:
    va, vb = V(".".join(map(str, a))), V(".".join(map(str, b)))
    ka, kb = version_key(va), version_key(vb)
    assert ka >= 0
    assert (ka < kb) == (va < vb)
    assert (ka == kb) == (va == vb)


@given(_release_parts)
def test_version_key_narrow_width(parts: list[int]) -> None:
    version = V(".".join(map(str, parts)))
    narrow = version_key(version, width=len(parts))
    assert narrow * 100000 ** (4 - len(parts)) == version_key(version)


# --------------------------------------------------------------------------
# properties


@given(st.text(max_size=40))
def test_parsers_raise_only_input_error(text: str) -> None:
    for parser, path, _, _ in PARSERS.values():
        try:
            parser(text, path)
        except InputError as error:
            assert error.path == path
            assert error.accepted


@given(st.sampled_from(SOFTWARE_GOOD), st.sampled_from(["", " ", "\t"]))
def test_software_parse_is_stable(row: tuple[str, str, str, str], pad: str) -> None:
    first = parse_software(pad + row[0] + pad, "p")
    again = parse_software(str(first), "p")
    assert again == first


@given(st.sampled_from(SQL_GOOD))
def test_sql_parse_is_stable(row: tuple[Any, ...]) -> None:
    first = parse_sql_version(row[0], "p")
    assert parse_sql_version(str(first), "p") == first


@pytest.mark.parametrize(
    ("parser", "values"),
    [
        (parse_security, SECURITY_LEVELS),
        (parse_windows, WINDOWS),
        (parse_protocol, PROTOCOLS),
        (functools.partial(parse_tls_version, allow_none=True), (*TLS_VERSIONS, "none")),
        (parse_schannel_state, SCHANNEL_STATES),
        (parse_management, MANAGEMENT),
    ],
)
def test_canonical_forms_are_fixed_points(parser: Parser, values: tuple[str, ...]) -> None:
    for value in values:
        assert parser(value, "p") == value
        assert parser(value.upper(), "p") == value


def test_software_parsed_once_per_string_and_errors_name_each_field():
    from tmsrules.parse import _software_seen

    _software_seen.cache_clear()
    first = parse_software("CE9.15.3.17", "endpoints[0].software")
    again = parse_software("CE9.15.3.17", "endpoints[7].software")
    assert again is first and _software_seen.cache_info().hits == 1
    for path in ("endpoints[1].software", "endpoints[2].planned_software"):
        with pytest.raises(InputError) as err:
            parse_software("banana", path)
        assert err.value.path == path
    assert parse_software(" tc7.3.3 ", "x").raw == "tc7.3.3"
