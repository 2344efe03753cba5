"""From a validated Environment to the facts the engine sees.

Only numbers, booleans and enumerated strings go in (see ``compiler``). No
domain decision is taken here: each input field is translated to its
vocabulary form, "unknown" where the input says nothing.

Endpoints are grouped into *profiles*: the endpoints that agree on every
field the rules read share one ``ep`` fact, so a fleet of 10,000 endpoints
costs the engine as much as its few distinct kinds of endpoint. Profile ids
follow a canonical order of the profiles, not the input order.
"""

from __future__ import annotations

import bisect
from typing import Any

import attrs

from tmsrules.compiler import engine_value
from tmsrules.model import Endpoint, Environment
from tmsrules.parse import PROTOCOLS, Software
from tmsrules.rulebase import Vocabulary

_SIDES = ("client", "server")
_SP = {0: "rtm", 1: "sp1", 2: "sp2", 3: "sp3"}


def _tri(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def _version(fact: dict[str, Any], field: str, value: Any) -> None:
    if value is None:
        fact[field] = 0
        fact[f"{field}_known"] = False
    else:
        fact[field] = engine_value(value)
        fact[f"{field}_known"] = True


@attrs.frozen
class ProfileKey:
    variant: str
    mgmt: str
    family: str
    version: Any  # the version's class (see version_bucket), or None when unknown
    status: str
    accepts_tls10: str
    accepts_tls11: str
    accepts_tls12: str
    #: the planned software (family, version key) of a current profile, so that
    #: endpoints with different plans never share a profile
    planned: tuple = ()

    def sort_key(self, version: Any = None) -> tuple:
        return (
            self.variant,
            self.mgmt,
            self.family,
            engine_value(version) if version is not None else -1,
            self.status,
            self.accepts_tls10,
            self.accepts_tls11,
            self.accepts_tls12,
            repr(self.planned),
        )


@attrs.frozen
class FactSet:
    """The engine facts of one environment and how to read them back."""

    facts: tuple[dict[str, Any], ...]
    #: endpoint index -> (current profile id, planned profile id or None)
    endpoint_profiles: tuple[tuple[str, str | None], ...]
    #: profile id -> endpoint indexes (both variants)
    members: dict[str, tuple[int, ...]]
    #: profile id -> its variant ("current" / "planned")
    variants: dict[str, str]
    #: fact id -> {field: display text} for version fields, used in traces
    display: dict[str, dict[str, str]]


def status_of(text: str | None, vocabulary: Vocabulary) -> str:
    if text is None:
        return "unknown"
    lowered = text.lower()
    for needle, status in vocabulary.status_patterns:
        if needle in lowered:
            return status
    return "other"


def version_bucket(version: Any, cuts: tuple | None) -> Any:
    """The class of ``version`` that every rule condition treats alike.

    ``cuts`` are the sorted version literals that the rules compare
    ``ep.version`` with. Two versions with as many cuts below them, and equal
    to a cut or not alike, satisfy exactly the same comparisons (<, <=, >, >=,
    ==, !=) with every cut. ``None`` keeps versions apart (no grouping).
    """
    if version is None or cuts is None:
        return version
    index = bisect.bisect_left(cuts, version)
    return (index, index < len(cuts) and cuts[index] == version)


def _profile(
    endpoint: Endpoint, software: Software | None, variant: str, vocabulary: Vocabulary, cuts: tuple | None = None
) -> ProfileKey:
    accepts_tls10 = accepts_tls11 = accepts_tls12 = "unknown"
    if variant == "current" and endpoint.accepts is not None:
        accepts_tls10 = "yes" if "TLS 1.0" in endpoint.accepts else "no"
        accepts_tls11 = "yes" if "TLS 1.1" in endpoint.accepts else "no"
        accepts_tls12 = "yes" if "TLS 1.2" in endpoint.accepts else "no"
    return ProfileKey(
        variant=variant,
        mgmt=endpoint.management or "unknown",
        family=software.family if software is not None else "unknown",
        version=version_bucket(software.version, cuts) if software is not None else None,
        status=status_of(endpoint.status, vocabulary) if variant == "current" else "unknown",
        accepts_tls10=accepts_tls10,
        accepts_tls11=accepts_tls11,
        accepts_tls12=accepts_tls12,
        planned=(endpoint.planned_software.family, version_bucket(endpoint.planned_software.version, cuts))
        if variant == "current" and endpoint.planned_software is not None
        else (),
    )


def build(env: Environment, vocabulary: Vocabulary, version_cuts: tuple | None = None) -> FactSet:
    """Translate ``env`` into engine facts (without session ids).

    With ``version_cuts`` (see ``version_bucket``) endpoints whose firmware
    versions no rule tells apart share a profile; each profile's fact carries
    the lowest of its members' versions.
    """
    t = env.tms
    facts: list[dict[str, Any]] = []
    display: dict[str, dict[str, str]] = {}

    tms: dict[str, Any] = {
        "t": "tms",
        "id": "tms",
        "security": t.communication_security or "unknown",
        "windows": t.windows or "unknown",
        "reboot_pending": _tri(t.reboot_pending),
        "schannel": "unknown" if t.schannel is None else "known",
    }
    _version(tms, "version", t.version)
    facts.append(tms)
    display["tms"] = {"version": str(t.version) if t.version is not None else "unknown"}

    for protocol in PROTOCOLS:
        stated = t.channel(protocol)
        for side in _SIDES:
            # tms.schannel absent: no keys are known, so the OS defaults are assumed
            key = "default" if stated is None else getattr(stated, side)
            facts.append(
                {"t": "channel", "id": f"channel:{protocol}:{side}", "protocol": protocol, "side": side, "key": key}
            )

    sql = t.sql
    version = sql.version if sql is not None else None
    sql_fact: dict[str, Any] = {
        "t": "sql",
        "id": "sql",
        "product": version.product if version is not None else "unknown",
        "sp": "unknown"
        if version is None or version.service_pack is None
        else _SP.get(version.service_pack, "sp4"),
        "local": _tri(sql.local if sql is not None else None),
    }
    _version(sql_fact, "build", version.build if version is not None else None)
    facts.append(sql_fact)
    display["sql"] = {"build": str(version.build) if version is not None and version.build is not None else "unknown"}

    obs = env.observations
    facts.append({"t": "obs", "id": "obs", "client_hello": obs.client_hello or "unknown"})
    for code in sorted(set(obs.sql_event_ids or ())):
        facts.append({"t": "event", "id": f"event:{code}", "code": code})

    keys: list[tuple[ProfileKey, ProfileKey | None]] = []
    versions: dict[ProfileKey, set] = {}
    for endpoint in env.endpoints:
        current = _profile(endpoint, endpoint.software, "current", vocabulary, version_cuts)
        if endpoint.software is not None:
            versions.setdefault(current, set()).add(endpoint.software.version)
        planned = None
        if endpoint.planned_software is not None:
            planned = _profile(endpoint, endpoint.planned_software, "planned", vocabulary, version_cuts)
            versions.setdefault(planned, set()).add(endpoint.planned_software.version)
        keys.append((current, planned))
    distinct = {k for pair in keys for k in pair if k is not None}
    ordered = sorted(distinct, key=lambda k: k.sort_key(min(versions[k]) if k in versions else None))
    ids = {key: f"p{i}" for i, key in enumerate(ordered)}
    members: dict[str, list[int]] = {ids[k]: [] for k in ordered}
    endpoint_profiles = []
    for index, (current, planned) in enumerate(keys):
        cid = ids[current]
        pid = ids[planned] if planned is not None else None
        members[cid].append(index)
        if pid is not None:
            members[pid].append(index)
        endpoint_profiles.append((cid, pid))
    for key in ordered:
        pid = ids[key]
        ep: dict[str, Any] = {
            "t": "ep",
            "id": pid,
            "variant": key.variant,
            "mgmt": key.mgmt,
            "family": key.family,
            "status": key.status,
            "accepts_tls10": key.accepts_tls10,
            "accepts_tls11": key.accepts_tls11,
            "accepts_tls12": key.accepts_tls12,
        }
        seen = sorted(versions.get(key, ()))
        _version(ep, "version", seen[0] if seen else None)
        facts.append(ep)
        shown = "unknown" if not seen else str(seen[0]) if len(seen) == 1 else f"{seen[0]} .. {seen[-1]}"
        display[pid] = {"version": shown}

    return FactSet(
        facts=tuple(facts),
        endpoint_profiles=tuple(endpoint_profiles),
        members={k: tuple(v) for k, v in members.items()},
        variants={ids[k]: k.variant for k in ordered},
        display=display,
    )
