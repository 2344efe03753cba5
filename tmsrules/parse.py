"""Parsers and normalisers for every input form of an environment.

Every ``parse_*`` function takes ``(value, path)``: ``value`` is what the
caller received (normally a string from JSON), ``path`` is its field path
(``tms.sql.version``, ``endpoints[2].software``), used only in errors. Each
returns one canonical form, or raises :class:`~tmsrules.errors.InputError`
naming ``path``, quoting the bad value and listing what is accepted there.

Strings are stripped and matched case-insensitively. Versions are
:class:`packaging.version.Version` objects holding release numbers only
(at most four numbers, each below 100000, so :func:`version_key` accepts every
version these parsers return); compare them as versions, never as strings.
"""

from __future__ import annotations

import re
from functools import lru_cache

import attrs
from packaging.version import Version

from tmsrules.errors import InputError

__all__ = [
    "FAMILIES",
    "MANAGEMENT",
    "PROTOCOLS",
    "SCHANNEL_STATES",
    "SECURITY_LEVELS",
    "SQL_PRODUCTS",
    "TLS_VERSIONS",
    "WINDOWS",
    "Software",
    "SqlVersion",
    "parse_management",
    "parse_protocol",
    "parse_schannel_state",
    "parse_security",
    "parse_software",
    "parse_sql_version",
    "parse_tls_version",
    "parse_tms_version",
    "parse_windows",
    "version_key",
]

WINDOWS: tuple[str, ...] = ("2008", "2008r2", "2012", "2012r2", "2016", "2019", "2022")
SECURITY_LEVELS: tuple[str, ...] = ("low", "medium", "medium-high", "high")
PROTOCOLS: tuple[str, ...] = ("SSL 3.0", "TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3")
TLS_VERSIONS: tuple[str, ...] = ("TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3")
SCHANNEL_STATES: tuple[str, ...] = ("enabled", "disabled", "default")
MANAGEMENT: tuple[str, ...] = ("https", "http", "telnet", "snmp")
SQL_PRODUCTS: tuple[str, ...] = (
    "2005", "2008", "2008r2", "2012", "2014", "2016", "2017", "2019", "2022",
)
FAMILIES: tuple[str, ...] = ("tc", "ce", "roomos", "polycom", "tandberg")

# Limits that keep every parsed version inside version_key()'s default range.
_MAX_PARTS = 4
_PART_LIMIT = 100_000
_SHOW_LIMIT = 60

# ASCII only: "\d" and "\s" must not match non-ASCII digits or spaces.
_I = re.IGNORECASE | re.ASCII

_ACCEPT_TMS = (
    "a TMS version with at least major.minor, e.g. '14.6.2', '15.2.1', 'TMS 15.13', '15.0'"
)
_ACCEPT_SECURITY = (
    "'low', 'medium', 'medium-high', 'high' (any case; 'Medium High' = 'medium-high')"
)
_ACCEPT_WINDOWS = (
    "Windows Server 2008, 2008 R2, 2012, 2012 R2, 2016, 2019 or 2022, as a name "
    "('Windows Server 2012 R2', '2008R2', 'Server 2016') or an NT version "
    "('6.1.7601', '6.3.9600', '10.0.17763')"
)
_ACCEPT_PROTOCOL = (
    "'SSL 3.0', 'TLS 1.0', 'TLS 1.1', 'TLS 1.2', 'TLS 1.3' (also 'TLSv1.2', 'tls1.2', 'SSLv3')"
)
_ACCEPT_TLS = (
    "'TLS 1.0', 'TLS 1.1', 'TLS 1.2', 'TLS 1.3' (also 'TLSv1.2', 'tls1.2', '1.2', '0x0303')"
)
_ACCEPT_TLS_OR_NONE = _ACCEPT_TLS + " or 'none'"
_ACCEPT_SCHANNEL = "'enabled', 'disabled', 'default'"
_ACCEPT_MANAGEMENT = "'https' (or 'tls'), 'http', 'telnet', 'snmp'"
_ACCEPT_SOFTWARE = (
    "TC, CE, RoomOS, Polycom HDX or TANDBERG firmware, e.g. 'TC7.3.6', "
    "'tc7.3.3.1c5b7d7', 'ce8.1.0', 'CE9.15.3.17', 'RoomOS 11.5.2.4', "
    "'Release - 3.1.10-51067', 'Polycom 3.1.10', 'F9.3.1', 'TE4.1.3'"
)
_ACCEPT_SQL = (
    "a SQL Server build with at least major.minor.build (e.g. '11.0.5058.0'; "
    "SQL Server 2005 to 2022) or a name (e.g. 'SQL Server 2012 SP2', '2008 R2', "
    "'SQL Server 2012 SP2 (11.0.5058.0)')"
)


# --------------------------------------------------------------------------
# helpers


def _show(value: object) -> str:
    """``repr(value)``, truncated to 60 characters."""
    text = repr(value)
    if len(text) > _SHOW_LIMIT:
        return text[: _SHOW_LIMIT - 3] + "..."
    return text


def _text(value: object, path: str, accepted: str) -> str:
    """``value`` stripped; InputError unless it is a non-blank string."""
    if not isinstance(value, str):
        raise InputError(
            path, f"expected a string, got {type(value).__name__} {_show(value)}", accepted
        )
    text = value.strip()
    if not text:
        raise InputError(path, f"empty string {_show(value)}", accepted)
    return text


def _release(parts: list[str], value: object, path: str, accepted: str) -> Version:
    """A release-only Version from decimal ``parts`` (1 to 4, each < 100000)."""
    if len(parts) > _MAX_PARTS:
        raise InputError(
            path, f"{_show(value)} has more than {_MAX_PARTS} version numbers", accepted
        )
    numbers = [int(part) for part in parts]
    if any(number >= _PART_LIMIT for number in numbers):
        raise InputError(
            path, f"{_show(value)} has a version number of {_PART_LIMIT} or more", accepted
        )
    return Version(".".join(map(str, numbers)))


def _is_plain_release(version: Version) -> bool:
    return (
        version.epoch == 0
        and version.pre is None
        and version.post is None
        and version.dev is None
        and version.local is None
    )


def version_key(v: Version, width: int = 4) -> int:
    """A non-negative integer that orders like ``v`` among release versions.

    The release tuple is padded with zeros to ``width`` parts and read as a
    number in base 100000, so ``version_key(a) < version_key(b)`` exactly when
    ``a < b`` for release versions of up to ``width`` parts, each < 100000.
    Raises ValueError for a version outside that range, or one with an epoch,
    pre-, post-, dev- or local part (no integer of this form orders those).
    """
    if not isinstance(v, Version):
        raise TypeError(f"expected a packaging Version, got {type(v).__name__} {_show(v)}")
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"width must be a positive int, got {_show(width)}")
    if not _is_plain_release(v):
        raise ValueError(f"version {str(v)!r} is not a plain release (epoch/pre/post/dev/local)")
    release = v.release
    if len(release) > width:
        raise ValueError(f"version {str(v)!r} has more than {width} release numbers")
    key = 0
    for part in release + (0,) * (width - len(release)):
        if part >= _PART_LIMIT:
            raise ValueError(f"version {str(v)!r} has a release number >= {_PART_LIMIT}")
        key = key * _PART_LIMIT + part
    return key


# --------------------------------------------------------------------------
# TMS


_TMS_RE = re.compile(r"(?:(?:cisco\s*)?tms\s*)?v?(?P<body>[0-9]+(?:\.[0-9]+)*)", _I)


def parse_tms_version(value: object, path: str) -> Version:
    """A TMS version: ``'15.2.1'``, ``'TMS 15.13'``, ``'tms15.13.1'``, ``'v15.3'``.

    At least major.minor is required (``'15'`` is refused). A ``Version``
    (as returned here) is accepted as it is.
    """
    if isinstance(value, Version):
        if not _is_plain_release(value) or not 2 <= len(value.release) <= _MAX_PARTS:
            raise InputError(path, f"unusable TMS version {_show(str(value))}", _ACCEPT_TMS)
        if any(part >= _PART_LIMIT for part in value.release):
            raise InputError(path, f"unusable TMS version {_show(str(value))}", _ACCEPT_TMS)
        return value
    text = _text(value, path, _ACCEPT_TMS)
    match = _TMS_RE.fullmatch(text)
    if match is None:
        raise InputError(path, f"unrecognised TMS version {_show(value)}", _ACCEPT_TMS)
    parts = match["body"].split(".")
    if len(parts) < 2:
        raise InputError(
            path, f"TMS version {_show(value)} needs at least major.minor", _ACCEPT_TMS
        )
    return _release(parts, value, path, _ACCEPT_TMS)


_SECURITY_RE = re.compile(r"(?P<level>low|medium|high|medium[\s_-]*high)", _I)


def parse_security(value: object, path: str) -> str:
    """TMS Communication Security: one of ``SECURITY_LEVELS``."""
    text = _text(value, path, _ACCEPT_SECURITY)
    match = _SECURITY_RE.fullmatch(text)
    if match is None:
        raise InputError(
            path, f"unrecognised communication security {_show(value)}", _ACCEPT_SECURITY
        )
    level = match["level"].lower()
    return level if level in SECURITY_LEVELS else "medium-high"


# --------------------------------------------------------------------------
# Windows


_WINDOWS_NAME_RE = re.compile(
    r"(?:microsoft\s*)?(?:win(?:dows)?\s*)?(?:server\s*)?"
    r"(?P<year>[0-9]{4})(?:\s*(?P<r2>r2))?(?P<rest>.*)",
    _I,
)
_WINDOWS_NT_RE = re.compile(
    r"(?:(?:microsoft\s*)?windows\s*)?\[?\s*(?:version\s*)?"
    r"(?P<major>[0-9]+)\.(?P<minor>[0-9]+)(?:\.(?P<build>[0-9]+)(?:\.[0-9]+)?)?\s*\]?",
    _I,
)
_WINDOWS_WORDS = frozenset(
    {"standard", "datacenter", "enterprise", "essentials", "foundation", "web",
     "edition", "azure", "x64", "64-bit"}
)
_SERVICE_PACK_RE = re.compile(r"service\s*pack\s*(?=[0-9])", _I)
_SP_TOKEN_RE = re.compile(r"sp[0-9]+", _I)
# NT 6.x: any build of the release; NT 10.0: the build names the release.
_WINDOWS_NT = {(6, 0): "2008", (6, 1): "2008r2", (6, 2): "2012", (6, 3): "2012r2"}
_WINDOWS_NT10_BUILDS = {14393: "2016", 17763: "2019", 20348: "2022"}


def _windows_name(text: str) -> tuple[str, str] | None:
    """``(release, problem)`` for a Windows Server name, or None if not a name."""
    match = _WINDOWS_NAME_RE.fullmatch(text)
    if match is None:
        return None
    release = match["year"] + ("r2" if match["r2"] else "")
    rest = _SERVICE_PACK_RE.sub("sp", match["rest"])
    tokens = [token for token in re.split(r"[\s,:()]+", rest) if token]
    bad = [t for t in tokens if t.lower() not in _WINDOWS_WORDS and not _SP_TOKEN_RE.fullmatch(t)]
    if bad:
        return release, f"unexpected {bad[0]!r}"
    if sum(1 for t in tokens if _SP_TOKEN_RE.fullmatch(t)) > 1:
        return release, "more than one service pack"
    return release, ""


def parse_windows(value: object, path: str) -> str:
    """The TMS server's Windows Server release: one of ``WINDOWS``.

    Accepts a name (``'Windows Server 2008 R2'``, ``'2012R2'``,
    ``'Server 2016'``, ``'Windows Server 2012 R2 Standard'``) or an NT
    version (``'6.1.7601'``, ``'10.0.17763'``, ``'10.0.17763.1234'``). NT 10.0
    needs its build number: 14393 (2016), 17763 (2019) or 20348 (2022).
    """
    text = _text(value, path, _ACCEPT_WINDOWS)
    nt = _WINDOWS_NT_RE.fullmatch(text)
    if nt is not None:
        major, minor = int(nt["major"]), int(nt["minor"])
        if (major, minor) in _WINDOWS_NT:
            return _WINDOWS_NT[(major, minor)]
        if (major, minor) == (10, 0):
            if nt["build"] is None:
                raise InputError(
                    path,
                    f"NT version {_show(value)} is ambiguous: a build number is needed "
                    "(10.0.14393 = 2016, 10.0.17763 = 2019, 10.0.20348 = 2022)",
                    _ACCEPT_WINDOWS,
                )
            release = _WINDOWS_NT10_BUILDS.get(int(nt["build"]))
            if release is not None:
                return release
        raise InputError(
            path, f"{_show(value)} is not a supported Windows Server release", _ACCEPT_WINDOWS
        )
    name = _windows_name(text)
    if name is None:
        raise InputError(path, f"unrecognised Windows release {_show(value)}", _ACCEPT_WINDOWS)
    release, problem = name
    if problem:
        raise InputError(
            path, f"unrecognised Windows release {_show(value)}: {problem}", _ACCEPT_WINDOWS
        )
    if release not in WINDOWS:
        raise InputError(
            path, f"{_show(value)} is not a supported Windows Server release", _ACCEPT_WINDOWS
        )
    return release


# --------------------------------------------------------------------------
# TLS / SCHANNEL / management


_PROTOCOL_RE = re.compile(
    r"(?P<name>ssl|tls)\s*v?\s*(?P<major>[0-9])(?:\s*[._]\s*(?P<minor>[0-9]))?", _I
)
_BARE_TLS_RE = re.compile(r"1\.(?P<minor>[0-3])")
_HEX_TLS_RE = re.compile(r"0x030(?P<code>[1-4])", _I)


def _protocol(text: str) -> str | None:
    """The PROTOCOLS name of ``text``, or None."""
    match = _PROTOCOL_RE.fullmatch(text)
    if match is None:
        return None
    name = match["name"].upper()
    major = int(match["major"])
    minor = int(match["minor"] or 0)
    found = f"{name} {major}.{minor}"
    return found if found in PROTOCOLS else None


def parse_protocol(value: object, path: str) -> str:
    """An SCHANNEL protocol name: one of ``PROTOCOLS``.

    ``'TLS 1.2'``, ``'tls1.2'``, ``'TLSv1.2'``, ``'tls1_2'``, ``'SSL 3.0'``,
    ``'SSL3'``, ``'SSLv3'``; ``'TLSv1'`` is TLS 1.0 (as in OpenSSL).
    """
    text = _text(value, path, _ACCEPT_PROTOCOL)
    protocol = _protocol(text)
    if protocol is None:
        raise InputError(path, f"unrecognised protocol {_show(value)}", _ACCEPT_PROTOCOL)
    return protocol


def parse_tls_version(value: object, path: str, allow_none: bool = False) -> str:
    """A TLS version: one of ``TLS_VERSIONS``, or ``'none'`` if ``allow_none``.

    Accepts the protocol forms of :func:`parse_protocol` (SSL excepted), a
    bare ``'1.2'``, and a handshake version code ``'0x0301'`` .. ``'0x0304'``.
    """
    accepted = _ACCEPT_TLS_OR_NONE if allow_none else _ACCEPT_TLS
    text = _text(value, path, accepted)
    if text.lower() == "none":
        if allow_none:
            return "none"
        raise InputError(path, f"{_show(value)} is not accepted here", accepted)
    bare = _BARE_TLS_RE.fullmatch(text)
    if bare is not None:
        return f"TLS 1.{bare['minor']}"
    code = _HEX_TLS_RE.fullmatch(text)
    if code is not None:
        return f"TLS 1.{int(code['code']) - 1}"
    protocol = _protocol(text)
    if protocol is None or protocol not in TLS_VERSIONS:
        raise InputError(path, f"unrecognised TLS version {_show(value)}", accepted)
    return protocol


def parse_schannel_state(value: object, path: str) -> str:
    """An SCHANNEL key state: one of ``SCHANNEL_STATES``."""
    text = _text(value, path, _ACCEPT_SCHANNEL).lower()
    if text not in SCHANNEL_STATES:
        raise InputError(path, f"unrecognised SCHANNEL state {_show(value)}", _ACCEPT_SCHANNEL)
    return text


def parse_management(value: object, path: str) -> str:
    """How TMS manages an endpoint: one of ``MANAGEMENT`` (``'tls'`` = https)."""
    text = _text(value, path, _ACCEPT_MANAGEMENT).lower()
    if text == "tls":
        return "https"
    if text not in MANAGEMENT:
        raise InputError(
            path, f"unrecognised management protocol {_show(value)}", _ACCEPT_MANAGEMENT
        )
    return text


# --------------------------------------------------------------------------
# endpoint firmware


_FAMILY_NAMES = {
    "tc": "TC",
    "ce": "CE",
    "roomos": "RoomOS",
    "polycom": "Polycom",
    "tandberg": "TANDBERG",
}


@attrs.frozen
class Software:
    """Endpoint firmware: a family and its release numbers.

    ``raw`` (the input, stripped) takes no part in equality or hashing:
    ``'TC7.3.6'`` and ``'tc 7.3.6.4a9f0cc'`` are the same software.
    """

    family: str = attrs.field(validator=attrs.validators.in_(FAMILIES))
    version: Version = attrs.field(validator=attrs.validators.instance_of(Version))
    raw: str = attrs.field(eq=False, validator=attrs.validators.instance_of(str))

    def __str__(self) -> str:
        name = _FAMILY_NAMES[self.family]
        if self.family == "tandberg":
            series = _TANDBERG_RE.fullmatch(self.raw)
            prefix = series["series"].upper() if series is not None else ""
            return f"{name} {prefix}{self.version}"
        return f"{name} {self.version}"


_CISCO_RE = re.compile(
    r"(?P<family>tc|ce|room\s*os)\s*(?P<body>[0-9][0-9a-f]*(?:\.[0-9a-f]+)*)"
    r"(?:\s+(?P<hash>[0-9a-f]+)|\s*\(\s*(?P<phash>[0-9a-f]+)\s*\))?",
    _I,
)
_POLYCOM_RE = re.compile(
    r"(?:polycom(?:\s*hdx)?\s*(?:release\s*-?\s*)?|release\s*-?\s*)"
    r"(?P<body>[0-9]+(?:\.[0-9]+)*)(?:\s*-\s*(?P<build>[0-9]+))?",
    _I,
)
_TANDBERG_RE = re.compile(
    r"(?:tandberg\s*(?:mxp\s*)?|mxp\s*)?(?P<series>f|te)\s*(?P<body>[0-9]+(?:\.[0-9]+)*)", _I
)
_HEX_RE = re.compile(r"[0-9a-f]+", _I)
_HEX_LETTER_RE = re.compile(r"[a-f]", _I)


def _is_hash(token: str) -> bool:
    """A build hash: hex with a letter a-f, or 7+ hex digits."""
    return _HEX_RE.fullmatch(token) is not None and (
        _HEX_LETTER_RE.search(token) is not None or len(token) >= 7
    )


def _software_parts(text: str) -> tuple[str, list[str]] | None:
    """``(family, release parts)`` of a firmware string, or None."""
    match = _CISCO_RE.fullmatch(text)
    if match is not None:
        family = re.sub(r"\s+", "", match["family"].lower())
        parts = match["body"].split(".")
        build_hash = match["hash"] or match["phash"]
        if build_hash is None and len(parts) > 1 and _is_hash(parts[-1]):
            build_hash = parts.pop()
        if build_hash is not None and not _is_hash(build_hash):
            return None
        if not all(part.isdigit() for part in parts):
            return None
        return family, parts
    match = _POLYCOM_RE.fullmatch(text)
    if match is not None:
        return "polycom", match["body"].split(".")
    match = _TANDBERG_RE.fullmatch(text)
    if match is not None:
        return "tandberg", match["body"].split(".")
    return None


def parse_software(value: object, path: str) -> Software:
    """Endpoint firmware, e.g. ``'TC7.3.6'``, ``'ce9.15.3.17.be8ae8d5fd8'``.

    A trailing dot- or space-separated token (or one in parentheses) that
    contains a hex letter a-f, or is 7+ hex digits, is a build hash and is
    dropped; so is the ``-NNNNN`` build number of Polycom HDX. A
    ``Software`` is accepted as it is.
    """
    if isinstance(value, Software):
        return value
    if type(value) is str:
        try:
            return _software_seen(value)
        except InputError:
            pass  # parsed again below, to name the field
    return _parse_software(value, path)


@lru_cache(maxsize=4096)
def _software_seen(value: str) -> Software:
    """A fleet repeats a few firmware strings thousands of times: each is parsed
    once (Software is frozen, so sharing it is safe; errors are not cached)."""
    return _parse_software(value, "")


def _parse_software(value: object, path: str) -> Software:
    text = _text(value, path, _ACCEPT_SOFTWARE)
    found = _software_parts(text)
    if found is None:
        raise InputError(path, f"unrecognised firmware {_show(value)}", _ACCEPT_SOFTWARE)
    family, parts = found
    if len(parts) < 2:
        raise InputError(
            path, f"firmware version {_show(value)} needs at least major.minor", _ACCEPT_SOFTWARE
        )
    return Software(family, _release(parts, value, path, _ACCEPT_SOFTWARE), text)


# --------------------------------------------------------------------------
# SQL Server


_SQL_BY_RELEASE = {
    (9, 0): "2005",
    (10, 0): "2008",
    (10, 50): "2008r2",
    (11, 0): "2012",
    (12, 0): "2014",
    (13, 0): "2016",
    (14, 0): "2017",
    (15, 0): "2019",
    (16, 0): "2022",
}
_SQL_BUILD_RE = re.compile(r"[0-9]+(?:\.[0-9]+)+")
_SQL_NAME_RE = re.compile(
    r"(?:microsoft\s*)?(?:(?:ms\s*)?sql(?:\s*server)?\s*)?"
    r"(?P<year>[0-9]{4})(?:\s*(?P<r2>r2))?(?P<rest>.*)",
    _I,
)
_SQL_SP_RE = re.compile(r"(?:sp(?P<sp>[0-9]+)|(?P<rtm>rtm))(?:-(?:gdr|cu[0-9]*))?", _I)
_SQL_KB_RE = re.compile(r"kb[0-9]+", _I)
_SQL_WORDS = frozenset(
    {"express", "standard", "enterprise", "developer", "web", "workgroup", "edition",
     "with", "advanced", "services", "x64", "x86", "64-bit", "32-bit", "-"}
)


def _sql_label(product: str) -> str:
    return "SQL Server " + (product[:4] + " R2" if product.endswith("r2") else product)


@attrs.frozen
class SqlVersion:
    """A SQL Server release, from its build number, its name, or both.

    ``raw`` (the input, stripped) takes no part in equality or hashing.
    """

    product: str = attrs.field(validator=attrs.validators.in_(SQL_PRODUCTS))
    build: Version | None = attrs.field(
        validator=attrs.validators.optional(attrs.validators.instance_of(Version))
    )
    service_pack: int | None = attrs.field(
        validator=attrs.validators.optional(attrs.validators.instance_of(int))
    )
    raw: str = attrs.field(eq=False, validator=attrs.validators.instance_of(str))

    def __str__(self) -> str:
        text = _sql_label(self.product)
        if self.service_pack is not None:
            text += " RTM" if self.service_pack == 0 else f" SP{self.service_pack}"
        if self.build is not None:
            text += f" ({self.build})"
        return text


def _sql_build(token: str, value: object, path: str) -> tuple[str, Version]:
    """``(product, build)`` of a build number such as ``'11.0.5058.0'``."""
    parts = token.split(".")
    if len(parts) < 3:
        raise InputError(
            path,
            f"SQL Server build {_show(value)} needs at least major.minor.build",
            _ACCEPT_SQL,
        )
    major, minor = int(parts[0]), int(parts[1])
    if major == 10 and minor == 5:  # "10.5" is how some tools write 10.50
        minor = 50
        parts[1] = "50"
    product = _SQL_BY_RELEASE.get((major, minor))
    if product is None:
        raise InputError(
            path,
            f"{_show(value)} is not a build of a known SQL Server release "
            "(9.0 = 2005 ... 16.0 = 2022)",
            _ACCEPT_SQL,
        )
    return product, _release(parts, value, path, _ACCEPT_SQL)


def parse_sql_version(value: object, path: str) -> SqlVersion:
    """The SQL Server of the TMS database, from a build or a name.

    Builds: ``'11.0.5058.0'`` (major.minor names the product: 10.50 or 10.5
    is 2008 R2). Names: ``'SQL Server 2012 SP2'``, ``'2008R2 SP3'``,
    ``'SQL 2012 RTM'``, optionally with a build (``'SQL Server 2012 SP2
    (11.0.5058.0)'``, ``'Microsoft SQL Server 2012 (SP2) - 11.0.5058.0
    (X64)'``); a build of another product than the name is refused. A
    ``SqlVersion`` is accepted as it is.
    """
    if isinstance(value, SqlVersion):
        return value
    text = _text(value, path, _ACCEPT_SQL)
    if _SQL_BUILD_RE.fullmatch(text):
        product, build = _sql_build(text, value, path)
        return SqlVersion(product, build, None, text)
    match = _SQL_NAME_RE.fullmatch(text)
    if match is None:
        raise InputError(path, f"unrecognised SQL Server version {_show(value)}", _ACCEPT_SQL)
    product = match["year"] + ("r2" if match["r2"] else "")
    if product not in SQL_PRODUCTS:
        raise InputError(
            path, f"{_show(value)} is not a known SQL Server release (2005 to 2022)", _ACCEPT_SQL
        )
    rest = _SERVICE_PACK_RE.sub("sp", match["rest"])
    service_pack: int | None = None
    build: Version | None = None
    for token in (t for t in re.split(r"[\s,()]+", rest) if t):
        sp = _SQL_SP_RE.fullmatch(token)
        number = token.lstrip("-")
        if sp is not None:
            if service_pack is not None:
                raise InputError(
                    path, f"{_show(value)} names more than one service pack", _ACCEPT_SQL
                )
            service_pack = 0 if sp["rtm"] else int(sp["sp"])
        elif _SQL_BUILD_RE.fullmatch(number):
            if build is not None:
                raise InputError(path, f"{_show(value)} has more than one build", _ACCEPT_SQL)
            built_product, build = _sql_build(number, value, path)
            if built_product != product:
                raise InputError(
                    path,
                    f"{_show(value)}: the name says {_sql_label(product)} but build "
                    f"{build} is {_sql_label(built_product)}",
                    _ACCEPT_SQL,
                )
        elif token.lower() not in _SQL_WORDS and not _SQL_KB_RE.fullmatch(token):
            raise InputError(
                path, f"unrecognised SQL Server version {_show(value)}: unexpected {token!r}",
                _ACCEPT_SQL,
            )
    return SqlVersion(product, build, service_pack, text)
