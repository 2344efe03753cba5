"""An independent reference model of the TMS "No HTTPS response" mechanics.

Written from ``/work/shared/domain/knowledge.md`` (source labels in square
brackets) and the contract's semantics 1-10, NOT from ``rules/``: the property
tests compare the library's diagnosis with this model.

Every function works on *canonical* values, never on input strings:

- versions are ``packaging.version.Version`` objects;
- Windows: ``"2008" "2008r2" "2012" "2012r2" "2016" "2019" "2022"``;
- security: ``"low" "medium" "medium-high" "high"``;
- protocols: ``"SSL 3.0" "TLS 1.0" "TLS 1.1" "TLS 1.2" "TLS 1.3"``;
- schannel: ``{(protocol, side): "enabled" | "disabled"}`` holding only the
  explicit registry keys (``"default"`` and absent are left out), side being
  ``"client"`` or ``"server"``; ``None`` means the whole state is unknown;
- endpoint families: ``"tc" "ce" "roomos" "polycom" "tandberg"``;
- management: ``"https" "http" "telnet" "snmp"``;
- SQL products: ``"2005" "2008" "2008r2" "2012" "2014" "2016" "2017" "2019" "2022"``.

``None`` means *unknown*. A function that needs an unknown fact raises
``Unknown(fact)``, the dotted contract path of that fact; a function that can
decide without it (for example TMS 14.x offers TLS 1.0 only whatever its
security level) does not ask for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, FrozenSet, Optional, Tuple

from packaging.version import Version

WINDOWS = ("2008", "2008r2", "2012", "2012r2", "2016", "2019", "2022")
PROTOCOLS = ("SSL 3.0", "TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3")
SIDES = ("client", "server")
SECURITY = ("low", "medium", "medium-high", "high")
FAMILIES = ("tc", "ce", "roomos", "polycom", "tandberg")
MANAGEMENT = ("https", "http", "telnet", "snmp")
SQL_PRODUCTS = ("2005", "2008", "2008r2", "2012", "2014", "2016", "2017", "2019", "2022")
TMS_TLS = ("TLS 1.0", "TLS 1.1", "TLS 1.2")  # what TMS can ever offer

V = Version
TMS_15 = V("15.0")
ALL_TLS = frozenset(TMS_TLS)
NO_TLS10 = frozenset({"TLS 1.1", "TLS 1.2"})

Schannel = Dict[Tuple[str, str], str]


class Unknown(LookupError):
    """A fact the model needs is unknown; ``fact`` is its contract path."""

    def __init__(self, fact: str):
        super().__init__(fact)
        self.fact = fact


# --------------------------------------------------------------------------
# Canonical truth of an environment (what the strategies pair with each input)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class EndpointTruth:
    """One endpoint, canonical. ``accepts`` is a live probe result (or None)."""

    name: str
    family: Optional[str] = None
    version: Optional[Version] = None
    management: Optional[str] = None
    status: Optional[str] = None
    planned_family: Optional[str] = None
    planned_version: Optional[Version] = None
    accepts: Optional[FrozenSet[str]] = None


@dataclass(frozen=True)
class Truth:
    """An environment, canonical. ``None`` = unknown (absent in the input).

    ``sql_build`` is None when the input names the SQL Server instead of giving
    a build (``sql_sp`` then holds the service pack named, or None).
    ``endpoints`` is None when the input has no ``endpoints`` field.
    ``world`` is the complete environment the input was drawn from (every fact
    known, SQL by build); observations and statuses were computed from it.
    """

    tms_version: Optional[Version] = None
    security: Optional[str] = None
    windows: Optional[str] = None
    schannel: Optional[Schannel] = None
    reboot_pending: Optional[bool] = None
    sql_product: Optional[str] = None
    sql_sp: Optional[int] = None
    sql_build: Optional[Version] = None
    sql_local: Optional[bool] = None
    endpoints: Optional[Tuple[EndpointTruth, ...]] = None
    client_hello: Optional[str] = None
    sql_event_ids: Optional[Tuple[int, ...]] = None
    world: Optional["Truth"] = None


# --------------------------------------------------------------------------
# Windows SCHANNEL
# --------------------------------------------------------------------------


def windows_default(windows: Optional[str], protocol: str) -> bool:
    """OS default of a protocol with no registry key [ms-schannel], knowledge §4.

    SSL 3.0 on up to 2012 R2, off from 2016; TLS 1.0 on everywhere; TLS 1.1/1.2
    off on 2008 SP2 and 2008 R2, on from 2012; TLS 1.3 on 2022 only.
    """
    if windows is None:
        raise Unknown("tms.windows")
    if windows not in WINDOWS:
        raise ValueError(f"not a canonical Windows: {windows!r}")
    if protocol == "SSL 3.0":
        return windows in ("2008", "2008r2", "2012", "2012r2")
    if protocol == "TLS 1.0":
        return True
    if protocol in ("TLS 1.1", "TLS 1.2"):
        return windows not in ("2008", "2008r2")
    if protocol == "TLS 1.3":
        return windows == "2022"
    raise ValueError(f"not a protocol: {protocol!r}")


def in_effect(windows, schannel, reboot_pending, protocol: str, side: str) -> bool:
    """Whether ``protocol`` is enabled for ``side`` right now (contract sem. 2).

    The explicit key (``enabled``/``disabled``) where one is set, else the
    Windows default [ms-schannel]. Keys take effect only after a restart
    (knowledge §4, [seed] step 5): with ``reboot_pending`` the defaults apply.
    On 2008 SP2 an ``enabled`` TLS 1.1/1.2 key is taken to mean KB4019276 is
    installed [ms-kb4019276].
    """
    if reboot_pending is True:
        return windows_default(windows, protocol)
    if schannel is None:
        raise Unknown("tms.schannel")
    key = schannel.get((protocol, side))
    if key is None:
        return windows_default(windows, protocol)
    if reboot_pending is None:
        raise Unknown("tms.reboot_pending")
    return key == "enabled"


# --------------------------------------------------------------------------
# TMS and the endpoints
# --------------------------------------------------------------------------


def tms_offers_tls10_only(tms_version: Optional[Version], security: Optional[str]) -> bool:
    """TMS < 15.0 (no option, CSCuz71542) or low/medium offers TLS 1.0 only [seed], §3.

    Low is treated like medium, high like medium-high (knowledge §3, L).
    """
    if security in ("low", "medium"):
        return True
    if tms_version is None:
        raise Unknown("tms.version")
    if tms_version < TMS_15:
        return True
    if security is None:
        raise Unknown("tms.communication_security")
    return False


def tms_offer(tms_version, security, windows, schannel, reboot_pending) -> FrozenSet[str]:
    """TLS versions in TMS's ClientHello; empty = no ClientHello (sem. 1, 3) [seed].

    TLS 1.0 only (if the SCHANNEL client has it in effect, else nothing) for
    TMS < 15 or low/medium; otherwise the TLS 1.1/1.2 client versions in effect.
    """
    if tms_offers_tls10_only(tms_version, security):
        on = in_effect(windows, schannel, reboot_pending, "TLS 1.0", "client")
        return frozenset({"TLS 1.0"}) if on else frozenset()
    return frozenset(
        p for p in ("TLS 1.1", "TLS 1.2") if in_effect(windows, schannel, reboot_pending, p, "client")
    )


def tms_offer_in(env: Truth) -> FrozenSet[str]:
    """``tms_offer`` over the TMS facts of ``env``."""
    return tms_offer(env.tms_version, env.security, env.windows, env.schannel, env.reboot_pending)


def client_hello_seen(offer: FrozenSet[str]) -> str:
    """What a capture shows (``observations.client_hello``): highest offered, or "none" (§6)."""
    return max(offer, key=lambda p: V(p.split()[1])) if offer else "none"


def endpoint_accepts(family, version, accepts_probe=None) -> FrozenSet[str]:
    """TLS versions an endpoint's HTTPS server accepts, knowledge §2.

    A live probe outranks the firmware (contract, ``endpoints[].accepts``).
    TC >= 7.3.6 [seed], CE >= 8.1.0 [seed][cisco-tls12-guide] and RoomOS
    [cisco-tls13-guide] refuse TLS 1.0; older TC/CE accept 1.0-1.2 (TC 7.3.4
    and 7.3.5 unconfirmed, L: treated as accepting; CE 8.0.x, M). Polycom /
    TANDBERG, when managed over HTTPS at all, are taken to accept 1.0-1.2.
    """
    if accepts_probe is not None:
        return frozenset(accepts_probe)
    if family is None:
        raise Unknown("endpoints[].software")
    if family == "roomos":
        return NO_TLS10
    if family in ("polycom", "tandberg"):
        return ALL_TLS
    if version is None:
        raise Unknown("endpoints[].software")
    if family == "tc":
        return NO_TLS10 if version >= V("7.3.6") else ALL_TLS
    if family == "ce":
        return NO_TLS10 if version >= V("8.1.0") else ALL_TLS
    raise ValueError(f"not a family: {family!r}")


def handshake_ok(offer: FrozenSet[str], accepts: FrozenSet[str]) -> bool:
    """A TLS handshake needs a ClientHello and one common version [seed] §1."""
    return bool(set(offer) & set(accepts))


def legacy_management_works(tms_version, security) -> bool:
    """Telnet/SNMP work unless TMS >= 15 at medium-high/high [seed] §3, sem. 5."""
    if tms_version is not None and tms_version < TMS_15:
        return True
    if security in ("low", "medium"):
        return True
    if security is None:
        raise Unknown("tms.communication_security")
    if tms_version is None:
        raise Unknown("tms.version")
    return False


def endpoint_affected(env: Truth, endpoint: EndpointTruth, planned: bool = False) -> bool:
    """Whether TMS cannot manage this endpoint (sem. 3 and 5).

    http: never affected by TLS; https: affected iff the handshake fails;
    telnet/snmp: affected iff legacy management is blocked. With
    ``planned=True`` the endpoint's ``planned_software`` is judged instead of
    its running firmware (sem. 8; a live probe describes the running firmware
    only, so it is ignored); False when nothing is planned.
    """
    m = endpoint.management
    if m is None:
        raise Unknown("endpoints[].management")
    if m == "http":
        return False
    if m in ("telnet", "snmp"):
        return False if planned else not legacy_management_works(env.tms_version, env.security)
    if planned:
        if endpoint.planned_family is None:
            return False
        accepts = endpoint_accepts(endpoint.planned_family, endpoint.planned_version)
    else:
        accepts = endpoint_accepts(endpoint.family, endpoint.version, endpoint.accepts)
    return not handshake_ok(tms_offer_in(env), accepts)


# --------------------------------------------------------------------------
# SQL Server on the TMS server
# --------------------------------------------------------------------------

# Per product: (branch low, branch high exclusive or None, first build with
# TLS 1.2). Each service pack is two branches: GDR builds below its first CU
# build, CU builds from there [ms-kb3135244], knowledge §5. A build outside
# every branch has no TLS 1.2 support.
TLS12_BRANCHES = {
    "2008": [("10.0.0", None, "10.0.6547.0")],  # SP4; 10.0.6543.0 excluded (KB3146034)
    "2008r2": [("10.50.0", None, "10.50.6542.0")],  # SP3; 10.50.6537.0 excluded (KB3146034)
    "2012": [
        ("11.0.5058", "11.0.5532", "11.0.5352.0"),  # SP2 GDR
        ("11.0.5532", "11.0.6020", "11.0.5644.2"),  # SP2 CU
        ("11.0.6020", "11.0.6518", "11.0.6216.27"),  # SP3 GDR
        ("11.0.6518", None, "11.0.6518.0"),  # SP3 CU, SP4 (11.0.7001.0) and later
    ],
    "2014": [
        ("12.0.2000", "12.0.2342", "12.0.2271.0"),  # RTM GDR
        ("12.0.2342", "12.0.4100", "12.0.2564.0"),  # RTM CU
        ("12.0.4100", "12.0.4416", "12.0.4219.0"),  # SP1 GDR
        ("12.0.4416", "12.0.5000", "12.0.4439.1"),  # SP1 CU
        ("12.0.5000", None, "12.0.5000"),  # SP2 and later
    ],
}

# A name without a build decides only where every build of that service pack
# agrees (sp 0 = RTM named explicitly; sp None = not stated: undecided).
TLS12_BY_SP = {
    ("2008", 0): False, ("2008", 1): False, ("2008", 2): False, ("2008", 3): False,
    ("2008r2", 0): False, ("2008r2", 1): False, ("2008r2", 2): False,
    ("2012", 0): False, ("2012", 1): False, ("2012", 4): True,
    ("2014", 2): True, ("2014", 3): True,
}


def sql_supports_tls12(product, build=None, sp=None) -> Optional[bool]:
    """Whether the SQL Server has TLS 1.2 support, knowledge §5 [ms-kb3135244].

    2005: never; 2016 and later: always; 2008/2008 R2/2012/2014 by build
    (branch table above). Without a build, by service pack where that decides
    it; None when product/build/service pack leave it open.
    """
    if product == "2005":
        return False
    if product in ("2016", "2017", "2019", "2022"):
        return True
    if product not in TLS12_BRANCHES:
        return None
    if build is None:
        return TLS12_BY_SP.get((product, sp))
    for low, high, first in TLS12_BRANCHES[product]:
        if build >= V(low) and (high is None or build < V(high)):
            return build >= V(first)
    return False


def sql_starts(sql_product, sql_build, local, windows, schannel, reboot_pending, sql_sp=None) -> bool:
    """Whether the TMS database's SQL Server can start, knowledge §5, sem. 6.

    A local SQL Server without TLS 1.2 support fails (events 26011, 17182,
    17826, 17120) when TLS 1.0 is not in effect on the SCHANNEL server side;
    a remote one is not affected by the TMS server's SCHANNEL [ms-kb3135244].
    """
    if local is False:
        return True
    support = sql_supports_tls12(sql_product, sql_build, sql_sp)
    if support:
        return True
    if in_effect(windows, schannel, reboot_pending, "TLS 1.0", "server"):
        return True
    if local is None:
        raise Unknown("tms.sql.local")
    if support is None:
        raise Unknown("tms.sql.version")
    return False


def sql_starts_in(env: Truth) -> bool:
    """``sql_starts`` over the facts of ``env``."""
    return sql_starts(env.sql_product, env.sql_build, env.sql_local, env.windows,
                      env.schannel, env.reboot_pending, env.sql_sp)
