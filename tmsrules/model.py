"""The input facts: a validated, frozen model of one TMS environment.

``Environment.from_dict`` is the only way in from JSON-like data. It rejects
bad input before any inference with an ``InputError`` naming the field path
and what is accepted there. Every field is optional: ``None`` means unknown,
never a default (contract v1, "Input").
"""

from __future__ import annotations

from typing import Any, Mapping

import attrs
from packaging.version import Version

from tmsrules import parse
from tmsrules.errors import InputError

WINDOWS_NAMES = {
    "2008": "Windows Server 2008",
    "2008r2": "Windows Server 2008 R2",
    "2012": "Windows Server 2012",
    "2012r2": "Windows Server 2012 R2",
    "2016": "Windows Server 2016",
    "2019": "Windows Server 2019",
    "2022": "Windows Server 2022",
}

#: Limits that keep hostile input from costing unbounded time or memory.
MAX_ENDPOINTS = 100_000
MAX_STRING = 1_000
MAX_EVENT_IDS = 10_000
MAX_HANDSHAKES = 10_000


def _check_keys(data: Mapping[str, Any], allowed: tuple[str, ...], path: str) -> None:
    for key in data:
        if key not in allowed:
            where = f"{path}.{key}" if path else str(key)
            raise InputError(where, "unknown field", ", ".join(allowed))


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if type(value) is dict and all(type(key) is str for key in value):  # the usual case, fast
        return value
    if not isinstance(value, Mapping):
        raise InputError(path, f"expected an object, got {_kind(value)}", "a JSON object")
    for key in value:
        if not isinstance(key, str):
            raise InputError(path, f"field names must be strings, got {key!r}", "a JSON object")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _bool(value: Any, path: str) -> bool | None:
    if value is None:
        return None
    if not isinstance(value, bool):
        raise InputError(path, f"expected true or false, got {_kind(value)}", "true, false or null")
    return value


def _string(value: Any, path: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(path, f"expected a string, got {_kind(value)}", "a string")
    if len(value) > MAX_STRING:
        raise InputError(path, f"string of {len(value)} characters is too long", f"at most {MAX_STRING} characters")
    _unicode(value, path)
    return value


def _unicode(value: str, path: str) -> None:
    """Reject text that cannot be written out again (a lone surrogate such as JSON "\\ud800")."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(path, f"not valid Unicode text (character {exc.start})", "UTF-8 text without lone surrogates") from None


def _list(value: Any, path: str, limit: int) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise InputError(path, f"expected a list, got {_kind(value)}", "a JSON list")
    if len(value) > limit:
        raise InputError(path, f"list of {len(value)} items is too long", f"at most {limit} items")
    return list(value)


def _optional(parser, value: Any, path: str):
    if value is None:
        return None
    if isinstance(value, str) and len(value) > MAX_STRING:
        raise InputError(path, f"string of {len(value)} characters is too long", f"at most {MAX_STRING} characters")
    return parser(value, path)


@attrs.frozen
class ChannelState:
    """SCHANNEL state of one protocol: the Client and Server keys."""

    client: str = "default"
    server: str = "default"

    @classmethod
    def from_dict(cls, data: Any, path: str) -> "ChannelState":
        data = _mapping(data, path)
        _check_keys(data, ("client", "server"), path)
        return cls(
            client=_optional(parse.parse_schannel_state, data.get("client"), f"{path}.client") or "default",
            server=_optional(parse.parse_schannel_state, data.get("server"), f"{path}.server") or "default",
        )


@attrs.frozen
class Sql:
    version: parse.SqlVersion | None = None
    local: bool | None = None

    @classmethod
    def from_dict(cls, data: Any, path: str) -> "Sql":
        data = _mapping(data, path)
        _check_keys(data, ("version", "local"), path)
        return cls(
            version=_optional(parse.parse_sql_version, data.get("version"), f"{path}.version"),
            local=_bool(data.get("local"), f"{path}.local"),
        )


@attrs.frozen
class Tms:
    version: Version | None = None
    communication_security: str | None = None
    windows: str | None = None
    #: protocol ("TLS 1.2") -> state; ``None`` when the SCHANNEL state is unknown.
    schannel: tuple[tuple[str, ChannelState], ...] | None = None
    reboot_pending: bool | None = None
    sql: Sql | None = None

    @classmethod
    def from_dict(cls, data: Any, path: str = "tms") -> "Tms":
        data = _mapping(data, path)
        _check_keys(
            data,
            ("version", "communication_security", "windows", "schannel", "reboot_pending", "sql"),
            path,
        )
        schannel = None
        raw = data.get("schannel")
        if raw is not None:
            raw = _mapping(raw, f"{path}.schannel")
            states: dict[str, ChannelState] = {}
            for key, value in raw.items():
                where = f"{path}.schannel.{key}"
                protocol = parse.parse_protocol(key, where)
                if protocol in states:
                    raise InputError(where, f"protocol {protocol} given twice", "each protocol once")
                states[protocol] = ChannelState.from_dict(value, where)
            schannel = tuple(sorted(states.items()))
        sql = data.get("sql")
        return cls(
            version=_optional(parse.parse_tms_version, data.get("version"), f"{path}.version"),
            communication_security=_optional(
                parse.parse_security, data.get("communication_security"), f"{path}.communication_security"
            ),
            windows=_optional(parse.parse_windows, data.get("windows"), f"{path}.windows"),
            schannel=schannel,
            reboot_pending=_bool(data.get("reboot_pending"), f"{path}.reboot_pending"),
            sql=None if sql is None else Sql.from_dict(sql, f"{path}.sql"),
        )

    def channel(self, protocol: str) -> ChannelState | None:
        """The stated keys of ``protocol``; ``None`` when SCHANNEL is unknown."""
        if self.schannel is None:
            return None
        return dict(self.schannel).get(protocol, ChannelState())


@attrs.frozen
class Endpoint:
    name: str | None = None
    software: parse.Software | None = None
    management: str | None = None
    status: str | None = None
    planned_software: parse.Software | None = None
    #: TLS versions accepted in a live probe; outranks the firmware.
    accepts: tuple[str, ...] | None = None

    @classmethod
    def from_dict(cls, data: Any, path: str) -> "Endpoint":
        data = _mapping(data, path)
        _check_keys(data, ("name", "software", "management", "status", "planned_software", "accepts"), path)
        accepts = data.get("accepts")
        if accepts is not None:
            items = _list(accepts, f"{path}.accepts", 8)
            accepts = tuple(
                sorted({parse.parse_tls_version(v, f"{path}.accepts[{i}]") for i, v in enumerate(items)})
            )
        return cls(
            name=_string(data.get("name"), f"{path}.name"),
            software=_optional(parse.parse_software, data.get("software"), f"{path}.software"),
            management=_optional(parse.parse_management, data.get("management"), f"{path}.management"),
            status=_string(data.get("status"), f"{path}.status"),
            planned_software=_optional(
                parse.parse_software, data.get("planned_software"), f"{path}.planned_software"
            ),
            accepts=accepts,
        )


#: What ``observations.handshakes[].offered`` accepts: a capture may show an SSL 3.0 ClientHello.
ACCEPT_OFFERED = parse._ACCEPT_TLS_OR_NONE + " or 'SSL 3.0' (also 'SSLv3', '0x0300')"


def parse_offered(value: Any, path: str) -> str:
    """``handshakes[].offered``: a TLS version, ``"none"`` (no ClientHello) or ``"SSL 3.0"``.

    Only a handshake may record an SSL 3.0 offer, as the capture shows it;
    ``observations.client_hello`` (TMS's highest offer) stays "TLS 1.0" ..
    "TLS 1.3" or "none" (contract v1). No rule reads ``offered``.
    """
    try:
        return parse.parse_tls_version(value, path, allow_none=True)
    except InputError:
        if not isinstance(value, str):
            raise
        text = value.strip()
        if text.lower() == "0x0300":
            return "SSL 3.0"
        try:
            if parse.parse_protocol(text, path) == "SSL 3.0":
                return "SSL 3.0"
        except InputError:
            pass
        raise InputError(path, f"unrecognised version {value!r:.60}", ACCEPT_OFFERED) from None


@attrs.frozen
class Handshake:
    client: str | None = None
    server: str | None = None
    offered: str | None = None
    answer: str | None = None

    @classmethod
    def from_dict(cls, data: Any, path: str) -> "Handshake":
        data = _mapping(data, path)
        _check_keys(data, ("client", "server", "offered", "answer"), path)
        offered = _optional(parse_offered, data.get("offered"), f"{path}.offered")
        return cls(
            client=_string(data.get("client"), f"{path}.client"),
            server=_string(data.get("server"), f"{path}.server"),
            offered=offered,
            answer=_string(data.get("answer"), f"{path}.answer"),
        )


@attrs.frozen
class Observations:
    client_hello: str | None = None
    sql_event_ids: tuple[int, ...] | None = None
    handshakes: tuple[Handshake, ...] | None = None

    @classmethod
    def from_dict(cls, data: Any, path: str = "observations") -> "Observations":
        data = _mapping(data, path)
        _check_keys(data, ("client_hello", "sql_event_ids", "handshakes"), path)
        events = data.get("sql_event_ids")
        if events is not None:
            items = _list(events, f"{path}.sql_event_ids", MAX_EVENT_IDS)
            checked = []
            for i, v in enumerate(items):
                if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 0xFFFFFFFF:
                    raise InputError(
                        f"{path}.sql_event_ids[{i}]", f"expected an event ID, got {v!r:.60}", "whole numbers 0 to 4294967295"
                    )
                checked.append(v)
            events = tuple(checked)
        handshakes = data.get("handshakes")
        if handshakes is not None:
            items = _list(handshakes, f"{path}.handshakes", MAX_HANDSHAKES)
            handshakes = tuple(Handshake.from_dict(h, f"{path}.handshakes[{i}]") for i, h in enumerate(items))
        return cls(
            client_hello=_optional(
                lambda v, p: parse.parse_tls_version(v, p, allow_none=True), data.get("client_hello"), f"{path}.client_hello"
            ),
            sql_event_ids=events,
            handshakes=handshakes,
        )


@attrs.frozen
class Environment:
    """One TMS installation as far as it is known."""

    tms: Tms = attrs.field(factory=Tms)
    endpoints: tuple[Endpoint, ...] = ()
    observations: Observations = attrs.field(factory=Observations)

    @classmethod
    def from_dict(cls, data: Any) -> "Environment":
        """Validate JSON-like ``data`` (contract v1 input) into an Environment."""
        if isinstance(data, Environment):
            return data
        data = _mapping(data, "")  # the top level has no path
        _check_keys(data, ("tms", "endpoints", "observations"), "")
        tms = data.get("tms")
        endpoints_raw = data.get("endpoints")
        endpoints: list[Endpoint] = []
        if endpoints_raw is not None:
            items = _list(endpoints_raw, "endpoints", MAX_ENDPOINTS)
            seen: dict[str, int] = {}
            for i, item in enumerate(items):
                endpoint = Endpoint.from_dict(item, f"endpoints[{i}]")
                if endpoint.name is not None:
                    if endpoint.name in seen:
                        raise InputError(
                            f"endpoints[{i}].name",
                            f"duplicate endpoint name {endpoint.name!r:.60} (also endpoints[{seen[endpoint.name]}])",
                            "names unique within the environment",
                        )
                    seen[endpoint.name] = i
                endpoints.append(endpoint)
        observations = data.get("observations")
        return cls(
            tms=Tms() if tms is None else Tms.from_dict(tms, "tms"),
            endpoints=tuple(endpoints),
            observations=Observations() if observations is None else Observations.from_dict(observations),
        )

    def endpoint_name(self, index: int) -> str:
        """The endpoint's name, or a stable placeholder for an unnamed one."""
        name = self.endpoints[index].name
        return name if name is not None else f"endpoints[{index}]"

    def to_dict(self) -> dict[str, Any]:
        """Back to contract v1 input form (canonical spellings), unknowns omitted."""
        out: dict[str, Any] = {}
        tms: dict[str, Any] = {}
        t = self.tms
        if t.version is not None:
            tms["version"] = str(t.version)
        if t.communication_security is not None:
            tms["communication_security"] = t.communication_security
        if t.windows is not None:
            tms["windows"] = WINDOWS_NAMES[t.windows]
        if t.schannel is not None:
            tms["schannel"] = {p: {"client": s.client, "server": s.server} for p, s in t.schannel}
        if t.reboot_pending is not None:
            tms["reboot_pending"] = t.reboot_pending
        if t.sql is not None:
            sql: dict[str, Any] = {}
            if t.sql.version is not None:
                sql["version"] = t.sql.version.raw
            if t.sql.local is not None:
                sql["local"] = t.sql.local
            tms["sql"] = sql
        if tms:
            out["tms"] = tms
        if self.endpoints:
            eps = []
            for e in self.endpoints:
                d: dict[str, Any] = {}
                if e.name is not None:
                    d["name"] = e.name
                if e.software is not None:
                    d["software"] = e.software.raw
                if e.management is not None:
                    d["management"] = e.management
                if e.status is not None:
                    d["status"] = e.status
                if e.planned_software is not None:
                    d["planned_software"] = e.planned_software.raw
                if e.accepts is not None:
                    d["accepts"] = list(e.accepts)
                eps.append(d)
            out["endpoints"] = eps
        o = self.observations
        obs: dict[str, Any] = {}
        if o.client_hello is not None:
            obs["client_hello"] = o.client_hello
        if o.sql_event_ids is not None:
            obs["sql_event_ids"] = list(o.sql_event_ids)
        if o.handshakes is not None:
            obs["handshakes"] = [attrs.asdict(h) for h in o.handshakes]
        if obs:
            out["observations"] = obs
        return out
