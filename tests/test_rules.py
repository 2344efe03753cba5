"""Every rule fires for some environment and stays silent for another; the
rule files load, cite known sources, and compile to plain JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tmsrules
from tmsrules.diagnose import default_diagnoser
from tmsrules.rulebase import load

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
T15 = {"version": "15.2.1", "windows": "2012 R2", "reboot_pending": False}
EXTRA = [
    {"tms": {**T15, "communication_security": "low"}, "endpoints": [{"name": "a", "software": "TC7.3.6", "management": "https"}]},
    {"tms": {**T15, "communication_security": "high"}, "endpoints": [{"name": "a", "software": "TC7.3.6", "management": "https"}]},
    {"tms": {"communication_security": "medium"}, "endpoints": [{"name": "a", "software": "TC7.3.6", "management": "https"}]},
    {"tms": {"communication_security": "medium-high"}, "endpoints": [{"name": "a", "management": "telnet"}]},
    {"tms": {"version": "15.2.1"}, "endpoints": [{"name": "a", "software": "TC7.3.6", "management": "https"}]},
    {"tms": {**T15}, "endpoints": [{"name": "a", "software": "RoomOS 11.5.2.4", "management": "https"}], "observations": {"client_hello": "TLS 1.2"}},
    {"tms": {**T15, "communication_security": "medium"}, "endpoints": [{"name": "a", "software": "RoomOS 11.5.2.4", "management": "https"}], "observations": {"client_hello": "TLS 1.2"}},
    {"tms": {**T15, "version": "14.6.2"}, "endpoints": [{"name": "a", "software": "TC7.3.3", "management": "https"}], "observations": {"client_hello": "TLS 1.2"}},
    {"tms": {**T15, "schannel": {"TLS 1.0": {"client": "disabled"}}}, "endpoints": [{"name": "a", "software": "TC7.3.3", "management": "https"}], "observations": {"client_hello": "TLS 1.0"}},
    {"tms": {**T15, "communication_security": "medium-high", "schannel": {"TLS 1.1": {"client": "disabled"}, "TLS 1.2": {"client": "disabled"}}}, "endpoints": [{"name": "a", "software": "TC7.3.3", "management": "https"}], "observations": {"client_hello": "none"}},
    {"tms": {**T15, "windows": None, "communication_security": "medium-high", "schannel": {"TLS 1.1": {"client": "disabled"}}}, "endpoints": [{"name": "a", "software": "TC7.3.3", "management": "https"}]},
    {"tms": {**T15, "windows": None, "communication_security": "medium-high", "reboot_pending": True, "schannel": {"TLS 1.1": {"client": "disabled"}, "TLS 1.2": {"client": "enabled"}, "TLS 1.0": {"client": "enabled", "server": "disabled"}}}, "endpoints": [{"name": "a", "software": "TC7.3.3", "management": "https"}]},
    {"tms": {**T15, "reboot_pending": True, "communication_security": "medium", "schannel": {"TLS 1.1": {"client": "disabled"}, "TLS 1.2": {"client": "disabled"}}}, "endpoints": [{"name": "a", "software": "TC7.3.6", "management": "https"}]},
    {"tms": {**T15, "windows": "2008 R2", "reboot_pending": True, "communication_security": "medium", "schannel": {"TLS 1.1": {"client": "disabled"}, "TLS 1.2": {"client": "disabled"}}}, "endpoints": [{"name": "a", "software": "TC7.3.6", "management": "https"}]},
    {"tms": {**T15, "communication_security": "medium-high"}, "endpoints": [{"name": "a", "software": "TC7.3.6", "management": "https", "accepts": ["TLS 1.0"]}, {"name": "b", "software": "TC7.3.3", "management": "https", "accepts": ["TLS 1.2"]}]},
    {"tms": {**T15, "communication_security": "medium"}, "endpoints": [{"name": "a", "software": "TC7.3.6", "management": "https", "accepts": ["TLS 1.0", "TLS 1.2"]}, {"name": "b", "management": "https"}, {"name": "c", "software": "TC7.3.3"}, {"name": "d", "software": "F9.3.1", "management": "telnet"}]},
    {"tms": {**T15, "communication_security": "medium-high"}, "endpoints": [{"name": "a", "software": "TC7.3.3"}, {"name": "b"}]},
]
EXTRA += [
    {"tms": {**T15, "communication_security": "medium", "schannel": {"TLS 1.0": {"client": "disabled"}}}, "endpoints": [{"name": "a", "software": "ce8.0.1", "management": "https"}]},
    {"tms": {**T15, "communication_security": "medium-high"}, "endpoints": [{"name": "a", "software": "TC7.3.3", "management": "https", "status": "No HTTPS response"}], "observations": {"client_hello": "TLS 1.0"}},
    {"tms": {**T15, "communication_security": "medium-high"}, "endpoints": [{"name": "a", "software": "TC7.3.3", "management": "https", "status": "No HTTPS response"}]},
    {"tms": {**T15, "windows": None, "communication_security": "medium-high", "schannel": {"TLS 1.2": {"client": "disabled"}}}, "endpoints": [{"name": "a", "software": "TC7.3.3", "management": "https"}]},
]
EXTRA += [
    {"tms": {**T15, "communication_security": "medium", "schannel": {}}, "endpoints": [
        {"name": "a", "software": "RoomOS 11.5.2.4", "management": "https", "accepts": ["TLS 1.0", "TLS 1.2"]},
        {"name": "b", "software": "ce8.0.1", "management": "https", "accepts": ["TLS 1.2"]}],
     "observations": {"sql_event_ids": [26011]}},
]
EXTRA += [
    {"tms": {"version": "15.2.1", "communication_security": "medium", "windows": "2012 R2"}, "endpoints": [{"name": "a", "software": "TC7.3.3", "management": "https"}], "observations": {"client_hello": "none"}},
    {"tms": {"version": "15.2.1", "communication_security": "medium-high", "windows": "2012 R2"}, "endpoints": [{"name": "a", "software": "TC7.3.3", "management": "https"}], "observations": {"client_hello": "none"}},
    {"tms": {**T15, "communication_security": "medium", "schannel": {}}, "endpoints": [{"name": "a", "software": "TC7.3.3", "management": "https"}], "observations": {"client_hello": "none"}},
    {"tms": {**T15, "communication_security": "medium-high", "schannel": {}}, "endpoints": [{"name": "a", "software": "TC7.3.3", "management": "https"}], "observations": {"client_hello": "none"}},
    {"tms": {"sql": {"version": "SQL Server 2008 R2", "local": True}}, "observations": {"sql_event_ids": [26011]}},
    {"tms": {"sql": {"version": "11.0.5058.0", "local": True}}, "observations": {"sql_event_ids": [17182]}},
]
EXTRA += [
    {"tms": {**T15, "version": "14.6.2", "schannel": {"TLS 1.0": {"server": "disabled"}}, "sql": {"version": sql, "local": True}},
     "endpoints": [{"name": "a", "software": "ce9.15.3.17", "management": "https"}]}
    for sql in ("SQL Server 2008 R2", "11.0.5058.0")
]
EXTRA += [
    {"tms": {**T15, "communication_security": "medium-high", "schannel": {"TLS 1.2": {"client": "disabled"}}},
     "endpoints": [{"name": "a", "software": "ce9.15.3.17", "management": "https", "accepts": ["TLS 1.2"]}]},
    {"tms": {**T15, "communication_security": "medium-high", "schannel": {"TLS 1.1": {"client": "disabled"}}},
     "endpoints": [{"name": "a", "software": "ce9.15.3.17", "management": "https", "accepts": ["TLS 1.1"]}]},
]
EXTRA += [
    {"tms": {**T15, "communication_security": "medium", "schannel": {}},
     "endpoints": [{"name": "a", "management": "https", "status": "No HTTPS response"}]},
    {"tms": {**T15, "communication_security": "medium-high", "schannel": {}},
     "endpoints": [{"name": "a", "status": "Security violation: Telnet communication is not allowed"}]},
]
# a reboot pending with only TLS 1.1 enabled by key, on Windows 2008 (TLS 1.2 off by default):
# an endpoint that accepts TLS 1.2 alone needs the TLS 1.2 keys (plan-enable-tls12-reboot-pending),
# one that may use TLS 1.1 only needs the restart
PENDING_TLS11_KEYS = {"version": "13.2.2", "windows": "Windows Server 2008", "reboot_pending": True,
                      "schannel": {"TLS 1.1": {"client": "enabled"}}}
TLS12_ONLY_PENDING = {"tms": PENDING_TLS11_KEYS, "endpoints": [
    {"name": "a", "software": "TC6.3.5", "management": "https", "accepts": ["TLS 1.2"]}]}
ANY_TLS_PENDING = {"tms": PENDING_TLS11_KEYS, "endpoints": [{"name": "a", "software": "TC7.3.6", "management": "https"}]}
EXTRA += [TLS12_ONLY_PENDING, ANY_TLS_PENDING]
SQL_BUILDS = ["10.0.6547.0", "10.0.6000.29", "10.50.6542.0", "10.50.6000.34", "SQL Server 2008 R2 SP3",
              "SQL Server 2008 R2 SP1", "SQL Server 2005", "11.0.3000.0", "11.0.5058.0", "11.0.5352.0",
              "11.0.5532.0", "11.0.5644.2", "11.0.6020.0", "11.0.6216.27", "11.0.7001.0", "SQL Server 2012 SP4",
              "SQL Server 2012 SP1", "SQL Server 2012 SP2", "12.0.2000.8", "12.0.2271.0", "12.0.2342.0",
              "12.0.2564.0", "12.0.4100.1", "12.0.4219.0", "12.0.4416.0", "12.0.4439.1", "SQL Server 2014 SP2",
              "SQL Server 2014 SP1", "13.0.1601.5"]
for build in SQL_BUILDS:
    EXTRA.append({"tms": {**T15, "communication_security": "medium", "schannel": {"TLS 1.0": {"server": "disabled"}},
                          "sql": {"version": build, "local": True}},
                  "endpoints": [{"name": "a", "software": "TC7.3.6", "management": "https"}]})
EXTRA.append({"tms": {**T15, "communication_security": "medium", "schannel": {"TLS 1.0": {"server": "disabled"}},
                      "sql": {"version": "10.50.6000.34"}},
              "endpoints": [{"name": "a", "software": "TC7.3.6", "management": "https"}]})
EXTRA.append({"tms": {**T15, "version": "14.6.2", "sql": {"local": True}}, "endpoints": [{"name": "a", "software": "TC7.3.3", "management": "https", "planned_software": "ce9.15.3.17"}]})


def _environments():
    envs = [json.loads(p.read_text()) for p in sorted(EXAMPLES.glob("*.json")) if not p.name.endswith(".expected.json")]
    return envs + EXTRA


@pytest.fixture(scope="module")
def fired_per_environment():
    out = []
    for e in _environments():
        out.append({t.rule for t in tmsrules.diagnose(e, questions=False).trace})
    return out


RULE_IDS = [r.id for r in load().rules]


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_fires_somewhere_and_is_silent_elsewhere(rule_id, fired_per_environment):
    assert any(rule_id in fired for fired in fired_per_environment), f"{rule_id} never fires"
    assert any(rule_id not in fired for fired in fired_per_environment), f"{rule_id} always fires"


def test_every_rule_cites_known_sources_and_says_unconfirmed():
    rb = load()
    for rule in rb.rules:
        assert rule.sources and all(s in rb.sources for s in rule.sources), rule.id
        assert rule.text
        if rule.confidence == "L":
            assert "unconfirmed" in rule.text.lower(), rule.id


def test_rules_compile_to_plain_json():
    definition = default_diagnoser().engine.definition
    assert set(definition) == set(RULE_IDS)
    json.dumps(definition)
    assert all("all" in rule for rule in definition.values())


def test_catalog_holds_every_contract_id():
    rb = load()
    ids = {(k, i) for (k, i) in rb.catalog}
    for cause in ["endpoint-refuses-tls10", "tms-below-15", "tms-security-medium", "schannel-tls12-disabled",
                  "reboot-pending", "tms-tls10-client-disabled", "sql-tls10-disabled", "legacy-management-blocked",
                  "upgrade-will-break-https"]:
        assert ("cause", cause) in ids
    steps = [e.id for e in rb.entries("step") if e.id not in ("reenable-tls10-client", "downgrade-endpoints")]
    assert steps == ["upgrade-tms", "patch-sql", "backup-registry", "reenable-tls10-for-sql", "enable-tls11-tls12",
                     "reboot-tms-server", "set-medium-high", "restart-tms-services", "verify-client-hello"]
    for warning in ["telnet-snmp-disabled", "sql-needs-tls10", "seed-windows-default-differs",
                    "unconfirmed-knowledge", "evidence-conflict"]:
        assert ("warning", warning) in ids
    assert {("alternative", "downgrade-endpoints"), ("alternative", "reenable-tls10-client")} <= ids


def test_trace_names_the_rules_behind_every_conclusion():
    r = tmsrules.diagnose(json.loads((EXAMPLES / "01-seed-tms15-medium.json").read_text()))
    fired = {t.rule for t in r.trace}
    for item in list(r.causes) + list(r.plan) + list(r.warnings):
        assert item.because and set(item.because) <= fired
        assert item.sources


def test_a_pending_reboot_with_only_tls11_keys_still_enables_tls12_for_a_tls12_only_endpoint():
    d = tmsrules.diagnose(TLS12_ONLY_PENDING)
    assert "enable-tls11-tls12" in d.step_ids and "reboot-tms-server" in d.step_ids
    assert "plan-enable-tls12-reboot-pending" in next(s.because for s in d.plan if s.id == "enable-tls11-tls12")
    assert tmsrules.simulate(TLS12_ONLY_PENDING)[-1].diagnosis.verdict == "not-affected"
    d = tmsrules.diagnose(ANY_TLS_PENDING)  # TLS 1.1 will be in effect after the restart: the restart alone
    assert "enable-tls11-tls12" not in d.step_ids and "reboot-tms-server" in d.step_ids
