"""Hypothesis strategies: valid environments in contract input form, with truth.

``environments(complete=False)`` draws ``(env, truth)``: ``env`` is a
JSON-like dict as a caller would send it (every accepted spelling of the
contract), ``truth`` a ``reference_model.Truth`` holding the same facts as
canonical values (``None`` where the input leaves a fact out).

How a draw is built: first a complete *world* (every fact known, SQL by
build), then the observations and endpoint statuses that world would show
(so observations never contradict the facts), then the input is rendered
with random spellings and, unless ``complete``, with fields left out.
``truth.world`` is that complete world.

The small strategies (``tms_versions()``, ``windows_versions()``, ...) draw
``(input value, canonical value)`` pairs and can be used on their own.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import strategies as st
from packaging.version import Version

try:  # collected as rootdir-relative modules, or as the ``tests`` package
    from reference_model import (
        PROTOCOLS, SECURITY, SIDES, WINDOWS, EndpointTruth, Truth, client_hello_seen,
        endpoint_affected, sql_starts_in, sql_supports_tls12, tms_offer_in,
    )
except ImportError:  # pragma: no cover
    from tests.reference_model import (  # type: ignore[no-redef]
        PROTOCOLS, SECURITY, SIDES, WINDOWS, EndpointTruth, Truth, client_hello_seen,
        endpoint_affected, sql_starts_in, sql_supports_tls12, tms_offer_in,
    )

V = Version

# Families the contract's examples cover. TANDBERG MXP ("F9.3.1") is a legacy
# family of knowledge §2 but its spelling is not in the contract's list: pass
# families=ALL_FAMILIES to include it.
DEFAULT_FAMILIES = ("tc", "ce", "roomos", "polycom")
ALL_FAMILIES = DEFAULT_FAMILIES + ("tandberg",)
CISCO_FAMILIES = ("tc", "ce", "roomos")

# ----------------------------------------------------------------- TMS ---

TMS_VERSIONS = (
    "13.2.2", "14.1", "14.3.2", "14.4", "14.5", "14.6", "14.6.1", "14.6.2",
    "15.0", "15.1", "15.2", "15.2.1", "15.3", "15.4", "15.5", "15.6.1",
    "15.7", "15.8", "15.9", "15.10", "15.11", "15.12", "15.13",
)


def tms_versions():
    """``("14.6.2" | "TMS 15.13" | ..., Version)``."""
    return st.tuples(st.sampled_from(TMS_VERSIONS), st.booleans()).map(
        lambda t: (("TMS " if t[1] else "") + t[0], V(t[0]))
    )


def _security_spelling(canon: str, case: str, sep: str) -> str:
    words = canon.split("-")
    if case == "upper":
        words = [w.upper() for w in words]
    elif case == "title":
        words = [w.capitalize() for w in words]
    elif case == "capital":
        words = [words[0].capitalize()] + words[1:]
    return sep.join(words)


def securities():
    """``("medium-high" | "Medium-High" | "medium high" | "HIGH" | ..., canonical)``."""
    return st.tuples(
        st.sampled_from(SECURITY),
        st.sampled_from(["lower", "title", "upper", "capital"]),
        st.sampled_from(["-", " "]),
    ).map(lambda t: (_security_spelling(*t), t[0]))


# ------------------------------------------------------------- Windows ---

WINDOWS_BUILDS = {
    "2008r2": "6.1.7601", "2012r2": "6.3.9600", "2016": "10.0.14393",
    "2019": "10.0.17763", "2022": "10.0.20348",
}


def windows_spellings(canon: str) -> list[str]:
    """Every input spelling of one canonical Windows Server."""
    name = canon[:4] + (" R2" if canon.endswith("r2") else "")
    out = [f"Windows Server {name}", f"Server {name}", name]
    if canon in WINDOWS_BUILDS:
        out.append(WINDOWS_BUILDS[canon])
    return out


def windows_versions():
    """``("Windows Server 2008 R2" | "2012 R2" | "Server 2016" | "6.3.9600" | ..., canonical)``."""
    return st.sampled_from(WINDOWS).flatmap(
        lambda w: st.sampled_from(windows_spellings(w)).map(lambda s: (s, w))
    )


# ------------------------------------------------------------ SCHANNEL ---

_SIDE_STATES = ("absent", "default", "enabled", "disabled")


# Typical registry states: (protocols set "disabled", protocols set "enabled").
SCHANNEL_PROFILES = (
    ((), ("TLS 1.1", "TLS 1.2")),  # the seed's step 4
    (("SSL 3.0", "TLS 1.0"), ("TLS 1.1", "TLS 1.2")),  # IIS Crypto "best practices"
    (("TLS 1.0",), ("TLS 1.1", "TLS 1.2")),
    (("TLS 1.1", "TLS 1.2"), ()),  # someone disabled them (2012+)
)


@st.composite
def _profile_schannel(draw):
    off, on = draw(st.sampled_from(SCHANNEL_PROFILES))
    sides = draw(st.sampled_from([SIDES, ("client",), ("server",)]))
    obj = {p: {s: ("disabled" if p in off else "enabled") for s in sides} for p in off + on}
    canon = {(p, s): obj[p][s] for p in obj for s in sides}
    return obj, canon


def schannels():
    """``(schannel input object, {(protocol, side): "enabled"|"disabled"})``.

    Protocols and sides may be absent; ``"default"`` and absent carry no key.
    Half the draws are a typical hardening profile, half random states.
    """
    return st.one_of(_random_schannel(), _profile_schannel())


@st.composite
def _random_schannel(draw):
    obj, canon = {}, {}
    for protocol in PROTOCOLS:
        if not draw(st.booleans()):
            continue
        sides = {}
        for side in SIDES:
            state = draw(st.sampled_from(_SIDE_STATES))
            if state != "absent":
                sides[side] = state
            if state in ("enabled", "disabled"):
                canon[(protocol, side)] = state
        obj[protocol] = sides
    return obj, canon


# ----------------------------------------------------------------- SQL ---

SQL_PREFIX = {
    "2005": "9.0", "2008": "10.0", "2008r2": "10.50", "2012": "11.0", "2014": "12.0",
    "2016": "13.0", "2017": "14.0", "2019": "15.0", "2022": "16.0",
}
_SQL_THIRD = {  # plausible range of the third build component
    "2005": (1399, 5324), "2008": (1600, 6556), "2008r2": (1600, 6560),
    "2012": (2100, 7507), "2014": (2000, 6449), "2016": (1601, 7037),
    "2017": (1000, 3480), "2019": (2000, 4415), "2022": (1000, 4175),
}
_SQL_SP_STARTS = {  # first build of RTM, SP1, SP2, ...
    "2005": ("9.0.1399", "9.0.2047", "9.0.3042", "9.0.4035", "9.0.5000"),
    "2008": ("10.0.1600", "10.0.2531", "10.0.4000", "10.0.5500", "10.0.6000"),
    "2008r2": ("10.50.1600", "10.50.2500", "10.50.4000", "10.50.6000"),
    "2012": ("11.0.2100", "11.0.3000", "11.0.5058", "11.0.6020", "11.0.7001"),
    "2014": ("12.0.2000", "12.0.4100", "12.0.5000", "12.0.6024"),
    "2016": ("13.0.1601", "13.0.4001", "13.0.5026", "13.0.6300"),
    "2017": ("14.0.1000",), "2019": ("15.0.2000",), "2022": ("16.0.1000",),
}
# Builds on both sides of every threshold of knowledge §5 (and of each branch).
SQL_BOUNDARY_BUILDS = (
    "9.0.5000.0", "9.0.5324.0",
    "10.0.1600.22", "10.0.5500.0", "10.0.6000.29", "10.0.6543.0", "10.0.6546.0",
    "10.0.6547.0", "10.0.6556.0",
    "10.50.1600.1", "10.50.4000.0", "10.50.6000.34", "10.50.6537.0", "10.50.6541.0",
    "10.50.6542.0", "10.50.6560.0",
    "11.0.2100.60", "11.0.3000.0", "11.0.5057.0", "11.0.5058.0", "11.0.5351.0",
    "11.0.5352.0", "11.0.5531.0", "11.0.5532.0", "11.0.5644.1", "11.0.5644.2",
    "11.0.6019.0", "11.0.6020.0", "11.0.6216.26", "11.0.6216.27", "11.0.6517.0",
    "11.0.6518.0", "11.0.7001.0", "11.0.7462.6",
    "12.0.2000.8", "12.0.2270.0", "12.0.2271.0", "12.0.2341.0", "12.0.2342.0",
    "12.0.2563.0", "12.0.2564.0", "12.0.4099.0", "12.0.4100.1", "12.0.4218.0",
    "12.0.4219.0", "12.0.4415.0", "12.0.4416.0", "12.0.4439.0", "12.0.4439.1",
    "12.0.4999.0", "12.0.5000.0", "12.0.6024.0",
    "13.0.1601.5", "13.0.5026.0", "14.0.1000.169", "15.0.2000.5", "16.0.1000.6",
)
SQL_NAMES = {"2008r2": "2008 R2"}


def sql_product_of(build: Version) -> str:
    """Canonical SQL product of a build (by major.minor)."""
    prefix = f"{build.release[0]}.{build.release[1]}"
    return next(p for p, pre in SQL_PREFIX.items() if pre == prefix)


def sql_sp_of(product: str, build: Version) -> int:
    """Service pack of a build (0 = RTM)."""
    return max(i for i, start in enumerate(_SQL_SP_STARTS[product]) if build >= V(start))


@st.composite
def sql_builds(draw):
    """A canonical SQL build: a boundary of knowledge §5 or any plausible build."""
    if draw(st.booleans()):
        return V(draw(st.sampled_from(SQL_BOUNDARY_BUILDS)))
    product = draw(st.sampled_from(sorted(SQL_PREFIX)))
    third = draw(st.integers(*_SQL_THIRD[product]))
    return V(f"{SQL_PREFIX[product]}.{third}.{draw(st.integers(0, 200))}")


def sql_version_text(build: Version) -> str:
    """A build as SQL Server reports it: four components."""
    parts = list(build.release) + [0] * (4 - len(build.release))
    return ".".join(str(p) for p in parts)


@st.composite
def sql_names(draw, build: Version):
    """``(name, sp or None)`` naming the product of ``build`` (SP stated or not)."""
    product = sql_product_of(build)
    sp = sql_sp_of(product, build)
    text = SQL_NAMES.get(product, product)
    if draw(st.booleans()):
        text = "SQL Server " + text
    if sp > 0 and draw(st.booleans()):
        return f"{text} SP{sp}", sp
    return text, None


# ----------------------------------------------------------- endpoints ---

TC_VERSIONS = ("6.3.5", "7.1.4", "7.2.1", "7.3.0", "7.3.2", "7.3.3", "7.3.4", "7.3.5",
               "7.3.6", "7.3.7", "7.3.11", "7.3.21")
CE_VERSIONS = ("8.0.0", "8.0.1", "8.0.2", "8.1.0", "8.1.1", "8.2.2", "8.3.0", "9.1.3",
               "9.4.0", "9.10.1", "9.15.3.17")
ROOMOS_VERSIONS = ("10.3.1.0", "10.19.1.2", "11.5.2.4", "11.14.1.5")
POLYCOM_RELEASES = ("3.0.5-22695", "3.1.10-51067", "3.1.14-57045")
TANDBERG_VERSIONS = ("F8.3", "F9.1.2", "F9.3.1")
TC_HASHES = ("4a9f0cc", "1c5b7d7", "d4f4b84")


@st.composite
def _git_hash(draw):
    if draw(st.booleans()):
        return draw(st.sampled_from(TC_HASHES))
    body = draw(st.text("0123456789abcdef", min_size=6, max_size=6))
    at = draw(st.integers(0, 6))  # at least one letter: never a numeric component
    return body[:at] + draw(st.sampled_from("abcdef")) + body[at:]


@st.composite
def endpoint_software(draw, family: str):
    """``(software string, Version)`` for one family, every field spelling."""
    if family == "tc":
        v = draw(st.one_of(st.sampled_from(TC_VERSIONS),
                           st.integers(0, 21).map(lambda p: f"7.3.{p}")))
        text = draw(st.sampled_from(["TC", "tc"])) + v
        if draw(st.booleans()):
            text += "." + draw(_git_hash())
        return text, V(v)
    if family == "ce":
        v = draw(st.one_of(st.sampled_from(CE_VERSIONS),
                           st.tuples(st.integers(8, 9), st.integers(0, 15), st.integers(0, 3))
                           .map(lambda t: "%d.%d.%d" % t)))
        return draw(st.sampled_from(["CE", "ce"])) + v, V(v)
    if family == "roomos":
        v = draw(st.sampled_from(ROOMOS_VERSIONS))
        return f"RoomOS {v}", V(v)
    if family == "polycom":
        r = draw(st.sampled_from(POLYCOM_RELEASES))
        return f"Release - {r}", V(r.split("-")[0])
    if family == "tandberg":
        v = draw(st.sampled_from(TANDBERG_VERSIONS))
        return v, V(v[1:])
    raise ValueError(family)


_MANAGEMENT_BY_FAMILY = {  # weighted: TC/CE/RoomOS mostly HTTPS, legacy Telnet/SNMP
    "cisco": ("https", "https", "https", "http", "telnet", "snmp"),
    "legacy": ("telnet", "snmp", "telnet", "snmp", "https", "http"),
}
_UPGRADE_PATHS = {"tc": ("tc", "ce"), "ce": ("ce", "roomos"), "roomos": ("roomos",)}
_NAME_PREFIXES = ("Boardroom", "HDX", "Room Kit", "SX80", "MXP", "Sala de Reunião", "EP")
_PROBES = tuple(
    frozenset(s) for s in (
        {"TLS 1.0", "TLS 1.1", "TLS 1.2"}, {"TLS 1.1", "TLS 1.2"}, {"TLS 1.2"},
        {"TLS 1.2", "TLS 1.3"}, {"TLS 1.1", "TLS 1.2", "TLS 1.3"},
        {"TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"},
    )
)
SQL_FAIL_EVENTS = (26011, 17182, 17826, 17120)
STATUS_TLS = "No HTTPS response"
STATUS_TELNET = "Security violation: Telnet communication is not allowed"


@st.composite
def _world_endpoint(draw, index: int, families):
    family = draw(st.sampled_from(families))
    sw_text, version = draw(endpoint_software(family))
    kind = "cisco" if family in CISCO_FAMILIES else "legacy"
    management = draw(st.sampled_from(_MANAGEMENT_BY_FAMILY[kind]))
    planned = kind == "cisco" and draw(st.sampled_from([False, False, True]))
    planned_text = planned_family = planned_version = None
    if planned:
        planned_family = draw(st.sampled_from(_UPGRADE_PATHS[family]))
        planned_text, planned_version = draw(endpoint_software(planned_family))
    probe = draw(st.one_of(st.none(), st.none(), st.sampled_from(_PROBES)))
    name = f"{draw(st.sampled_from(_NAME_PREFIXES))}-{index + 1}"
    ep = EndpointTruth(name=name, family=family, version=version, management=management,
                       planned_family=planned_family, planned_version=planned_version,
                       accepts=probe)
    return ep, {"software": sw_text, "planned_software": planned_text}


def _present(draw, complete: bool) -> bool:
    """Whether an input field is given: always when complete, mostly otherwise."""
    return complete or draw(st.sampled_from([True, True, True, False]))


@st.composite
def _environments(draw, complete: bool, max_endpoints: int, families):
    # ---- the complete world
    tms_text, tms_version = draw(tms_versions())
    sec_text, security = draw(securities())
    win_text, windows = draw(windows_versions())
    sch_obj, schannel = draw(schannels())
    reboot = draw(st.sampled_from([False, False, False, True]))
    build = draw(sql_builds())
    product = sql_product_of(build)
    local = draw(st.booleans())
    n = draw(st.integers(0, max_endpoints))
    drawn = [draw(_world_endpoint(i, families)) for i in range(n)]
    world = Truth(tms_version=tms_version, security=security, windows=windows,
                  schannel=schannel, reboot_pending=reboot, sql_product=product,
                  sql_sp=sql_sp_of(product, build), sql_build=build, sql_local=local,
                  endpoints=tuple(e for e, _ in drawn))
    # ---- what that world shows
    starts = sql_starts_in(world)
    events = (tuple(sorted(draw(st.sets(st.sampled_from(SQL_FAIL_EVENTS + (3999,)), min_size=1))
                           | {26011}))
              if not starts else draw(st.sampled_from([(), (18456,)])))
    statuses = []
    for ep in world.endpoints:
        if endpoint_affected(world, ep):
            statuses.append(STATUS_TLS if ep.management == "https" else STATUS_TELNET)
        else:
            statuses.append("OK")
    world = replace(world, client_hello=client_hello_seen(tms_offer_in(world)),
                    sql_event_ids=events,
                    endpoints=tuple(replace(e, status=s) for e, s in zip(world.endpoints, statuses)))

    # ---- the input, and the truth it carries
    present = lambda: _present(draw, complete)  # noqa: E731
    env, facts = {}, {}
    tms = {}
    if present():
        tms["version"] = tms_text
        facts["tms_version"] = tms_version
    if present():
        tms["communication_security"] = sec_text
        facts["security"] = security
    if present():
        tms["windows"] = win_text
        facts["windows"] = windows
    if present():
        tms["schannel"] = sch_obj
        facts["schannel"] = schannel
    if present():
        tms["reboot_pending"] = reboot
        facts["reboot_pending"] = reboot
    sql = {}
    if present():
        by_name = draw(st.booleans())
        name, sp = draw(sql_names(build))
        if by_name and (not complete or sql_supports_tls12(product, None, sp) is not None):
            sql["version"] = name
            facts.update(sql_product=product, sql_sp=sp)
        else:
            sql["version"] = sql_version_text(build)
            facts.update(sql_product=product, sql_sp=sql_sp_of(product, build), sql_build=build)
    if present():
        sql["local"] = local
        facts["sql_local"] = local
    if sql or draw(st.booleans()):
        tms["sql"] = sql
    if tms or draw(st.booleans()):
        env["tms"] = tms

    if present():
        eps, truths = [], []
        for (ep, texts), wep in zip(drawn, world.endpoints):
            d, t = {"name": ep.name}, {"name": ep.name}
            if present():
                d["software"] = texts["software"]
                t.update(family=ep.family, version=ep.version)
            if present():
                d["management"] = ep.management
                t["management"] = ep.management
            if draw(st.booleans()):
                d["status"] = wep.status
                t["status"] = wep.status
            if texts["planned_software"] is not None:
                d["planned_software"] = texts["planned_software"]
                t.update(planned_family=ep.planned_family, planned_version=ep.planned_version)
            elif draw(st.booleans()):
                d["planned_software"] = None
            if ep.accepts is not None:  # always: a hidden probe would contradict the statuses
                d["accepts"] = sorted(ep.accepts)
                t["accepts"] = ep.accepts
            eps.append(d)
            truths.append(EndpointTruth(**t))
        env["endpoints"] = eps
        facts["endpoints"] = tuple(truths)

    obs = {}
    if draw(st.booleans()):
        obs["client_hello"] = world.client_hello
        facts["client_hello"] = world.client_hello
    if draw(st.booleans()):
        obs["sql_event_ids"] = list(events)
        facts["sql_event_ids"] = events
    if obs or draw(st.integers(0, 4)) == 0:
        env["observations"] = obs
    return env, Truth(world=world, **facts)


def environments(complete: bool = False, max_endpoints: int = 6, families=DEFAULT_FAMILIES):
    """``(env_dict, truth)`` over the whole fact space of the contract.

    ``complete=False``: any field may be missing (unknown). ``complete=True``:
    every fact the reference model needs is present (the SQL Server by build,
    or by a name that decides its TLS 1.2 support); statuses, planned
    software, probes and observations still come and go.
    """
    return _environments(complete, max_endpoints, tuple(families))


def complete_environments(max_endpoints: int = 6, families=DEFAULT_FAMILIES):
    """``environments(complete=True)``: the reference model never raises ``Unknown``."""
    return environments(complete=True, max_endpoints=max_endpoints, families=families)
