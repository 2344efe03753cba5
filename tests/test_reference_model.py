"""Pin the reference model to knowledge.md and the contract; smoke-test the strategies.

No test here imports tmsrules' rules or engine: the model must stay independent.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from packaging.version import Version as V

try:
    import reference_model as rm
    import strategies as sts
except ImportError:  # pragma: no cover - collected as the ``tests`` package
    from tests import reference_model as rm  # type: ignore[no-redef]
    from tests import strategies as sts  # type: ignore[no-redef]

TLS10 = frozenset({"TLS 1.0"})
NONE = frozenset()
MODERN = frozenset({"TLS 1.1", "TLS 1.2"})


def env(tms="15.2.1", security="medium", windows="2012r2", schannel=None, reboot=False, **kw):
    return rm.Truth(tms_version=V(tms), security=security, windows=windows,
                    schannel={} if schannel is None else schannel, reboot_pending=reboot, **kw)


def ep(software, management="https", name="EP", accepts=None):
    family, version = software
    return rm.EndpointTruth(name=name, family=family, version=V(version) if version else None,
                            management=management, accepts=accepts)


def offer(e: rm.Truth):
    return rm.tms_offer_in(e)


TLS10_CLIENT_OFF = {("TLS 1.0", "client"): "disabled",
                    ("TLS 1.1", "client"): "enabled", ("TLS 1.2", "client"): "enabled"}
MODERN_CLIENT_ON = {("TLS 1.1", "client"): "enabled", ("TLS 1.2", "client"): "enabled"}
CE9 = ("ce", "9.15.3.17")
TC733 = ("tc", "7.3.3")


# ------------------------------------------------------ Windows defaults (§4)

@pytest.mark.parametrize("windows, ssl3, tls11_12, tls13", [
    ("2008", True, False, False), ("2008r2", True, False, False),
    ("2012", True, True, False), ("2012r2", True, True, False),
    ("2016", False, True, False), ("2019", False, True, False), ("2022", False, True, True),
])
def test_windows_default_table(windows, ssl3, tls11_12, tls13):
    assert rm.windows_default(windows, "SSL 3.0") is ssl3
    assert rm.windows_default(windows, "TLS 1.0") is True
    assert rm.windows_default(windows, "TLS 1.1") is tls11_12
    assert rm.windows_default(windows, "TLS 1.2") is tls11_12
    assert rm.windows_default(windows, "TLS 1.3") is tls13


def test_in_effect_explicit_key_beats_default_and_reboot_pending_restores_defaults():
    keys = {("TLS 1.2", "client"): "enabled", ("TLS 1.0", "server"): "disabled"}
    assert rm.in_effect("2008r2", keys, False, "TLS 1.2", "client") is True
    assert rm.in_effect("2008r2", keys, False, "TLS 1.2", "server") is False  # no key: default
    assert rm.in_effect("2008r2", keys, False, "TLS 1.0", "server") is False
    assert rm.in_effect("2008r2", keys, True, "TLS 1.2", "client") is False
    assert rm.in_effect("2008r2", keys, True, "TLS 1.0", "server") is True


# ------------------------------------------------------------- the seed case

def test_seed_tms15_medium_ce9_https_fails():
    e = env()
    assert offer(e) == TLS10
    assert rm.endpoint_accepts("ce", V("9.15.3.17")) == MODERN
    assert not rm.handshake_ok(offer(e), MODERN)
    assert rm.endpoint_affected(e, ep(CE9))


def test_seed_medium_high_on_2012r2_works_without_keys():
    e = env(security="medium-high")
    assert offer(e) == MODERN
    assert not rm.endpoint_affected(e, ep(CE9))
    assert not rm.endpoint_affected(e, ep(TC733))


def test_2008r2_medium_high_without_keys_sends_no_client_hello():
    e = env(security="medium-high", windows="2008r2")
    assert offer(e) == NONE
    assert rm.client_hello_seen(offer(e)) == "none"
    assert rm.endpoint_affected(e, ep(CE9))
    assert rm.endpoint_affected(e, ep(TC733))
    fixed = env(security="medium-high", windows="2008r2", schannel=MODERN_CLIENT_ON)
    assert offer(fixed) == MODERN and not rm.endpoint_affected(fixed, ep(CE9))


def test_tls10_client_disabled_at_medium_no_client_hello_old_firmware_fails_too():
    e = env(schannel=TLS10_CLIENT_OFF)
    assert offer(e) == NONE
    assert rm.endpoint_affected(e, ep(TC733))
    assert rm.endpoint_affected(e, ep(("polycom", "3.1.10")))
    assert rm.endpoint_affected(e, ep(CE9))


@settings(max_examples=200)
@given(sts.schannels(), sts.windows_versions(), sts.securities(), sts.tms_versions())
def test_tms_below_15_always_offers_tls10_whatever_schannel(sch, win, sec, tms):
    version = V("14.6") if tms[1] >= V("15") else tms[1]
    got = rm.tms_offer(version, sec[1], win[1], sch[1], False)
    tls10 = rm.in_effect(win[1], sch[1], False, "TLS 1.0", "client")
    assert got == (TLS10 if tls10 else NONE)


def test_tms_14_6_ignores_security_and_tls12_keys():
    for security in ("low", "medium", "medium-high", "high", None):
        assert rm.tms_offer(V("14.6"), security, "2012r2", MODERN_CLIENT_ON, False) == TLS10


@pytest.mark.parametrize("security, expected", [
    ("low", TLS10), ("medium", TLS10), ("medium-high", MODERN), ("high", MODERN)])
def test_tms_15_levels(security, expected):
    assert offer(env(tms="15.0", security=security)) == expected


def test_medium_high_offers_only_the_tls11_12_in_effect():
    only12 = {("TLS 1.1", "client"): "disabled"}
    assert offer(env(security="high", schannel=only12)) == frozenset({"TLS 1.2"})
    both_off = {("TLS 1.1", "client"): "disabled", ("TLS 1.2", "client"): "disabled"}
    assert offer(env(security="medium-high", schannel=both_off)) == NONE


# ------------------------------------------------------------ reboot pending

def test_reboot_pending_means_defaults():
    pending = env(security="medium-high", windows="2008r2", schannel=MODERN_CLIENT_ON, reboot=True)
    assert offer(pending) == NONE
    undone = env(security="medium-high", windows="2012r2", reboot=True,
                 schannel={("TLS 1.1", "client"): "disabled", ("TLS 1.2", "client"): "disabled"})
    assert offer(undone) == MODERN
    not_yet_off = env(schannel=TLS10_CLIENT_OFF, reboot=True)
    assert offer(not_yet_off) == TLS10


# -------------------------------------------------------- endpoint firmware (§2)

@pytest.mark.parametrize("family, version, refuses_tls10", [
    ("tc", "7.3.3", False), ("tc", "7.3.4", False), ("tc", "7.3.5", False),
    ("tc", "7.3.6", True), ("tc", "7.3.11", True), ("tc", "6.3.5", False),
    ("ce", "8.0.0", False), ("ce", "8.0.2", False), ("ce", "8.1.0", True),
    ("ce", "9.15.3.17", True), ("roomos", "11.5.2.4", True),
    ("polycom", "3.1.10", False), ("tandberg", "9.3.1", False),
])
def test_endpoint_firmware(family, version, refuses_tls10):
    accepts = rm.endpoint_accepts(family, V(version))
    assert ("TLS 1.0" not in accepts) is refuses_tls10
    assert "TLS 1.2" in accepts


def test_probe_outranks_firmware():
    assert rm.endpoint_accepts("tc", V("7.3.3"), ["TLS 1.2"]) == frozenset({"TLS 1.2"})
    assert rm.endpoint_affected(env(), ep(TC733, accepts=frozenset({"TLS 1.2"})))
    assert not rm.endpoint_affected(env(), ep(CE9, accepts=rm.ALL_TLS))


def test_http_never_affected_by_tls():
    for e in (env(), env(schannel=TLS10_CLIENT_OFF), env(security="high", windows="2008r2")):
        assert not rm.endpoint_affected(e, ep(CE9, management="http"))


def test_planned_upgrade_judged_on_planned_firmware():
    planned = rm.EndpointTruth(name="A", family="tc", version=V("7.3.3"), management="https",
                               planned_family="ce", planned_version=V("9.15.3.17"))
    assert not rm.endpoint_affected(env(), planned)
    assert rm.endpoint_affected(env(), planned, planned=True)
    assert not rm.endpoint_affected(env(security="medium-high"), planned, planned=True)


# ------------------------------------------------------- Telnet / SNMP (sem. 5)

@pytest.mark.parametrize("tms, security, works", [
    ("15.2.1", "medium-high", False), ("15.2.1", "high", False), ("15.0", "medium-high", False),
    ("15.2.1", "medium", True), ("15.2.1", "low", True),
    ("14.6.2", "medium-high", True), ("14.6.2", "high", True),
])
def test_legacy_management(tms, security, works):
    assert rm.legacy_management_works(V(tms), security) is works
    for management in ("telnet", "snmp"):
        hdx = ep(("polycom", "3.1.10"), management=management)
        assert rm.endpoint_affected(env(tms=tms, security=security), hdx) is not works


# ------------------------------------------------------------------ SQL (§5)

SQL_TLS12 = [  # (product, build, has TLS 1.2), both sides of every threshold
    ("2005", "9.0.5324.0", False),
    ("2008", "10.0.5500.0", False), ("2008", "10.0.6000.29", False),
    ("2008", "10.0.6543.0", False), ("2008", "10.0.6546.0", False),
    ("2008", "10.0.6547.0", True), ("2008", "10.0.6556.0", True),
    ("2008r2", "10.50.6000.34", False), ("2008r2", "10.50.6537.0", False),
    ("2008r2", "10.50.6541.0", False), ("2008r2", "10.50.6542.0", True),
    ("2008r2", "10.50.6560.0", True),
    ("2012", "11.0.3000.0", False), ("2012", "11.0.5057.0", False),
    ("2012", "11.0.5058.0", False), ("2012", "11.0.5351.0", False),
    ("2012", "11.0.5352.0", True), ("2012", "11.0.5531.0", True),
    ("2012", "11.0.5532.0", False), ("2012", "11.0.5644.1", False),
    ("2012", "11.0.5644.2", True), ("2012", "11.0.6019.0", True),
    ("2012", "11.0.6020.0", False), ("2012", "11.0.6216.26", False),
    ("2012", "11.0.6216.27", True), ("2012", "11.0.6517.0", True),
    ("2012", "11.0.6518.0", True), ("2012", "11.0.7001.0", True), ("2012", "11.0.7462.6", True),
    ("2014", "12.0.2000.8", False), ("2014", "12.0.2270.0", False),
    ("2014", "12.0.2271.0", True), ("2014", "12.0.2341.0", True),
    ("2014", "12.0.2342.0", False), ("2014", "12.0.2563.0", False),
    ("2014", "12.0.2564.0", True), ("2014", "12.0.4099.0", True),
    ("2014", "12.0.4100.1", False), ("2014", "12.0.4218.0", False),
    ("2014", "12.0.4219.0", True), ("2014", "12.0.4415.0", True),
    ("2014", "12.0.4416.0", False), ("2014", "12.0.4439.0", False),
    ("2014", "12.0.4439.1", True), ("2014", "12.0.4999.0", True),
    ("2014", "12.0.5000.0", True), ("2014", "12.0.6024.0", True),
    ("2016", "13.0.1601.5", True), ("2019", "15.0.2000.5", True),
]


@pytest.mark.parametrize("product, build, expected", SQL_TLS12)
def test_sql_tls12_thresholds(product, build, expected):
    assert sql_product_matches(product, build)
    assert rm.sql_supports_tls12(product, V(build)) is expected


def sql_product_matches(product, build):
    return sts.sql_product_of(V(build)) == product


@pytest.mark.parametrize("product, sp, expected", [
    ("2005", None, False), ("2016", None, True), ("2022", None, True),
    ("2008r2", 2, False), ("2008r2", 3, None), ("2008r2", None, None),
    ("2012", 1, False), ("2012", 2, None), ("2012", 4, True), ("2012", None, None),
    ("2014", 1, None), ("2014", 2, True), ("2008", 4, None),
])
def test_sql_tls12_by_name(product, sp, expected):
    assert rm.sql_supports_tls12(product, None, sp) is expected


def test_sql_starts():
    off = {("TLS 1.0", "server"): "disabled"}
    r2 = ("2008r2", V("10.50.6000.34"))
    assert rm.sql_starts(*r2, True, "2012r2", off, False) is False
    assert rm.sql_starts(*r2, False, "2012r2", off, False) is True  # remote SQL
    assert rm.sql_starts(*r2, True, "2012r2", off, True) is True  # reboot pending: defaults
    assert rm.sql_starts(*r2, True, "2012r2", {}, False) is True
    assert rm.sql_starts("2012", V("11.0.5352.0"), True, "2012r2", off, False) is True
    assert rm.sql_starts("2012", V("11.0.5058.0"), True, "2012r2", off, False) is False
    # Only TLS 1.0 counts: SSL 3.0 off alone (2016 default) does not stop SQL.
    assert rm.sql_starts(*r2, True, "2016", {}, False) is True
    assert rm.sql_starts("2016", None, True, "2016", off, False) is True


def test_sql_boundary_builds_cover_both_sides_of_every_threshold():
    builds = [V(b) for b in sts.SQL_BOUNDARY_BUILDS]
    for product, branches in rm.TLS12_BRANCHES.items():
        for low, high, first in branches:
            inside = [b for b in builds if b >= V(low) and (high is None or b < V(high))
                      and sts.sql_product_of(b) == product]
            assert any(b >= V(first) for b in inside), (product, first)
            if V(first) > V(low):
                assert any(b < V(first) for b in inside), (product, first)


# ------------------------------------------------------------------ Unknown

def test_unknown_only_when_it_matters():
    assert rm.tms_offer(None, "medium", "2012r2", {}, False) == TLS10  # version irrelevant
    with pytest.raises(rm.Unknown) as exc:
        rm.tms_offer(V("15.2"), None, "2012r2", {}, False)
    assert exc.value.fact == "tms.communication_security"
    with pytest.raises(rm.Unknown) as exc:
        rm.tms_offer(V("15.2"), "medium", None, {}, False)
    assert exc.value.fact == "tms.windows"
    assert rm.legacy_management_works(V("14.6"), None) is True
    assert rm.sql_starts("2012", None, False, None, None, None) is True
    with pytest.raises(rm.Unknown):
        rm.sql_starts("2012", None, True, "2012r2", {("TLS 1.0", "server"): "disabled"}, False, 2)


# ---------------------------------------------------------- strategies smoke

SPELLINGS = {
    "tms": ["14.6.2", "TMS 15.13", "15.0", "15.2.1"],
    "windows": ["Windows Server 2008 R2", "2012 R2", "Server 2016", "2022", "6.1.7601",
                "6.3.9600", "10.0.14393", "10.0.17763", "10.0.20348"],
    "security": ["medium-high", "Medium-High", "medium high", "HIGH", "low", "medium"],
}


def test_documented_spellings_are_drawable():
    tms = {("TMS " if p else "") + v for v in sts.TMS_VERSIONS for p in (0, 1)}
    assert set(SPELLINGS["tms"]) <= tms
    windows = {s for w in rm.WINDOWS for s in sts.windows_spellings(w)}
    assert set(SPELLINGS["windows"]) <= windows
    security = {sts._security_spelling(c, case, sep) for c in rm.SECURITY
                for case in ("lower", "title", "upper", "capital") for sep in "- "}
    assert set(SPELLINGS["security"]) <= security


@settings(max_examples=200)
@given(sts.endpoint_software("tc"), sts.endpoint_software("ce"),
       sts.endpoint_software("roomos"), sts.endpoint_software("polycom"))
def test_software_spellings(tc, ce, roomos, polycom):
    assert tc[0].lower().startswith("tc") and tc[0][2:].startswith(str(tc[1]))
    assert ce[0].lower().startswith("ce") and ce[0][2:] == str(ce[1])
    assert roomos[0] == f"RoomOS {roomos[1]}"
    assert polycom[0].startswith(f"Release - {polycom[1]}-")


def _check_env(env, truth):
    assert json.loads(json.dumps(env)) == env
    names = [e["name"] for e in env.get("endpoints", [])]
    assert len(names) == len(set(names))
    assert truth.world is not None and truth.world.world is None
    for field in ("tms_version", "security", "windows", "schannel", "reboot_pending",
                  "sql_product", "sql_local", "client_hello", "sql_event_ids"):
        value = getattr(truth, field)
        assert value is None or value == getattr(truth.world, field), field
    if truth.tms_version is not None:
        assert isinstance(truth.tms_version, V)


@settings(max_examples=150)
@given(sts.environments())
def test_environments_are_json_with_unique_names(pair):
    _check_env(*pair)


@settings(max_examples=150)
@given(sts.environments(families=sts.ALL_FAMILIES))
def test_partial_environments_model_answers_or_names_the_unknown_fact(pair):
    _, truth = pair
    calls = [lambda: rm.tms_offer_in(truth), lambda: rm.sql_starts_in(truth)]
    calls += [lambda e=e: rm.endpoint_affected(truth, e) for e in truth.endpoints or ()]
    for call in calls:
        try:
            call()
        except rm.Unknown as exc:
            assert exc.fact.startswith(("tms.", "endpoints[]."))


@settings(max_examples=150)
@given(sts.complete_environments(families=sts.ALL_FAMILIES))
def test_complete_environments_decide_every_model_question(pair):
    env, truth = pair
    _check_env(env, truth)
    assert truth.endpoints is not None
    offered = rm.tms_offer_in(truth)
    if truth.client_hello is not None:
        assert truth.client_hello == rm.client_hello_seen(offered)
    starts = rm.sql_starts_in(truth)
    if truth.sql_event_ids is not None:
        assert (26011 in truth.sql_event_ids) is (not starts)
    for e in truth.endpoints:
        affected = rm.endpoint_affected(truth, e)
        rm.endpoint_affected(truth, e, planned=True)
        if e.status is not None:
            assert (e.status != "OK") is affected
