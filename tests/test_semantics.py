"""The contract's semantics list, point by point (../shared/spec/contract.md)."""

from __future__ import annotations

import pytest

import tmsrules


def env(tms=None, endpoints=None, observations=None):
    out = {}
    if tms is not None:
        out["tms"] = tms
    if endpoints is not None:
        out["endpoints"] = endpoints
    if observations is not None:
        out["observations"] = observations
    return out


T15 = {"version": "15.2.1", "windows": "2012 R2", "schannel": {}, "reboot_pending": False,
       "sql": {"version": "13.0.5026.0", "local": True}}
CE9 = {"name": "CE", "software": "ce9.15.3.17", "management": "https"}
TC733 = {"name": "TC", "software": "TC7.3.3", "management": "https"}


def d(e):
    return tmsrules.diagnose(e)


# 1. what TMS offers
@pytest.mark.parametrize("security, verdict", [("low", "affected"), ("medium", "affected"),
                                               ("medium-high", "not-affected"), ("high", "not-affected")])
def test_1_tls10_only_at_low_and_medium(security, verdict):
    assert d(env({**T15, "communication_security": security}, [CE9])).verdict == verdict


def test_1_tms_below_15_offers_tls10_whatever_schannel():
    r = d(env({**T15, "version": "14.6.2", "schannel": {"TLS 1.2": {"client": "enabled", "server": "enabled"}}}, [CE9]))
    assert r.verdict == "affected" and "tms-below-15" in r.cause_ids


def test_1_medium_high_without_tls11_12_sends_no_client_hello():
    r = d(env({**T15, "communication_security": "medium-high",
               "schannel": {"TLS 1.1": {"client": "disabled"}, "TLS 1.2": {"client": "disabled"}}}, [TC733]))
    assert r.endpoint("TC").verdict == "affected"
    assert "schannel-tls12-disabled" in r.cause_ids
    assert "enable-tls11-tls12" in r.step_ids


# 2. state in effect: keys, Windows defaults, reboot pending
def test_2_windows_2008r2_default_has_no_tls12():
    r = d(env({**T15, "windows": "2008 R2", "communication_security": "medium-high"}, [TC733]))
    assert r.verdict == "affected" and "schannel-tls12-disabled" in r.cause_ids


def test_2_windows_2012_default_has_tls12_and_the_seed_is_corrected():
    r = d(env({**T15, "communication_security": "medium"}, [CE9]))
    assert "enable-tls11-tls12" not in r.step_ids
    assert "seed-windows-default-differs" in r.warning_ids


def test_2_reboot_pending_keys_not_in_effect():
    keys = {"TLS 1.2": {"client": "enabled", "server": "enabled"}}
    pending = d(env({**T15, "windows": "2008 R2", "communication_security": "medium-high", "schannel": keys,
                     "reboot_pending": True}, [CE9]))
    assert pending.verdict == "affected"
    assert {"reboot-pending", "schannel-tls12-disabled"} <= set(pending.cause_ids)
    assert pending.step_ids == ["reboot-tms-server", "verify-client-hello"]
    done = d(env({**T15, "windows": "2008 R2", "communication_security": "medium-high", "schannel": keys,
                  "reboot_pending": False}, [CE9]))
    assert done.verdict == "not-affected"


# 3. which endpoints are affected
def test_3_refusing_endpoint_affected_accepting_not():
    r = d(env({**T15, "communication_security": "medium"}, [CE9, TC733]))
    assert r.endpoint("CE").verdict == "affected"
    assert r.endpoint("TC").verdict == "not-affected"
    assert r.endpoint("CE").causes == ("endpoint-refuses-tls10", "tms-security-medium")


def test_3_tls10_client_disabled_breaks_old_firmware_too():
    r = d(env({**T15, "communication_security": "medium", "schannel": {"TLS 1.0": {"client": "disabled"}}}, [TC733]))
    assert r.endpoint("TC").verdict == "affected"
    assert "tms-tls10-client-disabled" in r.cause_ids


def test_3_http_never_affected():
    r = d(env({**T15, "communication_security": "medium"}, [{**CE9, "management": "http"}]))
    assert r.verdict == "not-affected"


@pytest.mark.parametrize("software", ["TC7.3.4", "TC7.3.5"])
def test_3_tc_734_735_unconfirmed(software):
    r = d(env({**T15, "communication_security": "medium"}, [{**TC733, "software": software}]))
    assert r.endpoint("TC").verdict == "not-affected"
    assert "unconfirmed-knowledge" in r.warning_ids


@pytest.mark.parametrize("software, refuses", [("TC7.3.6", True), ("TC7.3.3", False), ("ce8.1.0", True),
                                               ("ce8.0.1", False), ("RoomOS 11.5.2.4", True)])
def test_3_firmware_thresholds(software, refuses):
    r = d(env({**T15, "communication_security": "medium"}, [{**TC733, "software": software}]))
    assert (r.endpoint("TC").verdict == "affected") is refuses


# 4. observations
def test_4_captured_tls10_on_15_means_low_or_medium():
    r = d(env({**T15}, [CE9], {"client_hello": "TLS 1.0"}))
    assert r.verdict == "affected"
    assert "tms-security-medium" in r.cause_ids and "set-medium-high" in r.step_ids


def test_4_status_makes_endpoint_affected_with_tms_unknown():
    r = d(env(None, [{**CE9, "status": "No HTTPS response"}]))
    assert r.endpoint("CE").verdict == "affected"
    assert "tms.version" in r.question_facts


def test_4_status_alone_is_no_legacy_cause():
    # 'No HTTPS response' is an HTTPS failure: a merely possible Telnet/SNMP
    # outcome (management and firmware unknown) must not name legacy causes
    r = d(env(None, [{"name": "X", "status": "No HTTPS response"}]))
    assert r.endpoint("X").verdict == "affected"
    assert "legacy-management-blocked" not in r.cause_ids
    assert "telnet-snmp-disabled" not in r.warning_ids
    assert {"tms.version", "endpoints[0].software"} <= set(r.question_facts)


@pytest.mark.parametrize("tms, cause, first", [({"version": "14.6.2"}, "tms-below-15", "upgrade-tms"),
                                               ({"version": "15.2.1", "communication_security": "medium"},
                                                "tms-security-medium", "set-medium-high")])
def test_4_status_with_tls10_only_tms_names_the_refusing_endpoint(tms, cause, first):
    # firmware unknown, TMS known to offer TLS 1.0 only (and TLS 1.0 on): the
    # status says the endpoint refuses TLS 1.0, the seed's failure
    r = d(env({**tms, "windows": "2012 R2", "schannel": {}},
              [{"name": "X", "management": "https", "status": "No HTTPS response"}]))
    assert r.endpoint("X").causes == ("endpoint-refuses-tls10", cause)
    assert first in r.step_ids and r.step_ids[-1] == "verify-client-hello"
    assert "endpoints[0].software" in r.question_facts  # TC 7.3.3 would contradict the status


def test_4_status_with_unknown_tms_mode_names_no_firmware_cause():
    r = d(env({"version": "15.2.1"}, [{"name": "X", "management": "https", "status": "No HTTPS response"}]))
    assert r.endpoint("X").verdict == "affected" and r.endpoint("X").causes == ()


def test_5_telnet_violation_status_is_legacy_blocked():
    r = d(env({**T15, "communication_security": "medium-high"},
              [{"name": "HDX", "status": "Security violation: Telnet communication is not allowed"}]))
    assert r.endpoint("HDX").causes == ("legacy-management-blocked",)
    assert "telnet-snmp-disabled" in r.warning_ids


def test_4_sql_events_support_the_cause_and_make_sql_facts_worth_asking():
    r = d(env({"version": "15.2.1"}, [], {"sql_event_ids": [26011, 17182]}))
    assert r.verdict == "affected" and "sql-tls10-disabled" in r.cause_ids
    assert "tms.sql.version" in r.question_facts


def test_4_capture_contradicting_setting_is_a_conflict():
    r = d(env({**T15, "communication_security": "medium-high"}, [CE9], {"client_hello": "TLS 1.0"}))
    assert "evidence-conflict" in r.warning_ids
    assert r.endpoint("CE").verdict == "affected"  # direct observation wins


# 5. Telnet/SNMP
def test_5_legacy_blocked_only_at_medium_high_on_15():
    hdx = {"name": "HDX", "software": "Release - 3.1.10-51067", "management": "telnet"}
    assert d(env({**T15, "communication_security": "medium-high"}, [hdx])).endpoint("HDX").verdict == "affected"
    assert d(env({**T15, "communication_security": "medium"}, [hdx])).endpoint("HDX").verdict == "not-affected"
    assert d(env({**T15, "version": "14.6.2"}, [hdx])).endpoint("HDX").verdict == "not-affected"


def test_5_plan_setting_medium_high_warns_for_legacy():
    hdx = {"name": "HDX", "software": "Release - 3.1.10-51067", "management": "snmp"}
    r = d(env({**T15, "communication_security": "medium"}, [CE9, hdx]))
    warning = next(w for w in r.warnings if w.id == "telnet-snmp-disabled")
    assert warning.endpoints == ("HDX",)


# 6. local SQL Server
SQL_OFF = {"TLS 1.0": {"client": "default", "server": "disabled"}}


@pytest.mark.parametrize("build, steps", [
    ("11.0.5058.0", ["patch-sql"]),
    ("12.0.2000.8", ["patch-sql"]),
    ("10.50.6000.34", ["backup-registry", "reenable-tls10-for-sql", "reboot-tms-server"]),
    ("10.0.6000.29", ["backup-registry", "reenable-tls10-for-sql", "reboot-tms-server"]),
])
def test_6_sql_without_tls12_cannot_start(build, steps):
    r = d(env({**T15, "communication_security": "medium-high", "schannel": SQL_OFF,
               "sql": {"version": build, "local": True}}, []))
    assert r.verdict == "affected" and r.cause_ids == ["sql-tls10-disabled"]
    assert r.step_ids == steps


@pytest.mark.parametrize("build", ["11.0.5352.0", "11.0.5644.2", "11.0.6216.27", "11.0.6518.0", "11.0.7001.0",
                                   "12.0.2271.0", "12.0.2564.0", "12.0.4219.0", "12.0.4439.1", "10.0.6547.0",
                                   "10.50.6542.0", "13.0.1601.5"])
def test_6_sql_with_tls12_starts(build):
    r = d(env({**T15, "communication_security": "medium-high", "schannel": SQL_OFF,
               "sql": {"version": build, "local": True}}, []))
    assert r.verdict == "not-affected"


@pytest.mark.parametrize("build", ["11.0.5351.0", "11.0.5644.1", "11.0.6216.26", "12.0.2270.0", "12.0.2563.0",
                                   "12.0.4218.0", "12.0.4439.0", "10.0.6543.0", "10.50.6537.0"])
def test_6_builds_just_below_thresholds_lack_tls12(build):
    r = d(env({**T15, "communication_security": "medium-high", "schannel": SQL_OFF,
               "sql": {"version": build, "local": True}}, []))
    assert r.verdict == "affected"


def test_6_remote_sql_not_affected():
    r = d(env({**T15, "communication_security": "medium-high", "schannel": SQL_OFF,
               "sql": {"version": "10.50.6000.34", "local": False}}, []))
    assert r.verdict == "not-affected"


def test_6_patch_sql_first_and_sql_needs_tls10_warning():
    r = d(env({**T15, "communication_security": "medium", "sql": {"version": "11.0.5058.0", "local": True}}, [CE9]))
    assert r.step_ids[0] == "patch-sql"
    r = d(env({**T15, "communication_security": "medium", "sql": {"version": "SQL Server 2008 R2", "local": True}}, [CE9]))
    assert "sql-needs-tls10" in r.warning_ids and "patch-sql" not in r.step_ids


# 7. only the needed steps, in order; alternatives
def test_7_canonical_order_and_verify_last():
    r = d(env({**T15, "windows": "2008 R2", "communication_security": "medium",
               "sql": {"version": "11.0.5058.0", "local": True}}, [CE9]))
    assert r.step_ids == ["patch-sql", "backup-registry", "enable-tls11-tls12", "reboot-tms-server",
                          "set-medium-high", "restart-tms-services", "verify-client-hello"]


def test_7_tms_below_15_upgrade_first_with_downgrade_alternative():
    r = d(env({**T15, "version": "14.6.2"}, [CE9]))
    assert r.step_ids[0] == "upgrade-tms"
    assert [a.id for a in r.alternatives] == ["downgrade-endpoints"]


def test_7_reenable_tls10_client_instead_when_no_client_hello():
    r = d(env({**T15, "version": "14.6.2", "schannel": {"TLS 1.0": {"client": "disabled"}}}, [TC733]))
    assert [a.id for a in r.alternatives] == ["reenable-tls10-client"]
    assert "tms-tls10-client-disabled" in r.cause_ids


def test_7_no_fault_no_plan():
    r = d(env({**T15, "communication_security": "medium-high"}, [CE9, TC733]))
    assert r.verdict == "not-affected" and r.plan == () and r.causes == ()


# 8. at-risk
def test_8_planned_upgrade_is_at_risk_and_plan_fixes_tms_first():
    r = d(env({**T15, "communication_security": "medium"}, [{**TC733, "planned_software": "TC7.3.6"}]))
    assert r.verdict == "at-risk"
    assert r.cause_ids == ["upgrade-will-break-https"]
    assert "set-medium-high" in r.step_ids


def test_8_planned_upgrade_is_safe_at_medium_high():
    r = d(env({**T15, "communication_security": "medium-high"}, [{**TC733, "planned_software": "TC7.3.6"}]))
    assert r.verdict == "not-affected"


# 9. questions
def test_9_no_question_for_facts_that_cannot_matter():
    r = d(env({**T15, "communication_security": "medium"}, [{**CE9, "management": "http"}]))
    assert r.questions == ()


def test_9_unknown_version_asked_when_it_decides():
    r = d(env({"communication_security": "medium-high", "windows": "2012 R2"}, [CE9]))
    assert r.verdict == "undetermined"
    assert "tms.version" in r.question_facts


def test_9_remote_sql_version_not_asked():
    r = d(env({**T15, "communication_security": "medium", "sql": {"local": False}}, [CE9]))
    assert "tms.sql.version" not in r.question_facts


# verdict precedence
def test_verdict_precedence():
    r = d(env({**T15, "communication_security": "medium"},
              [CE9, {**TC733, "planned_software": "TC7.3.6"}, {"name": "U", "management": "https"}]))
    assert r.verdict == "affected"
    assert {e.name: e.verdict for e in r.endpoints} == {"CE": "affected", "TC": "at-risk", "U": "undetermined"}


def test_undetermined_always_says_which_missing_facts_decide_it():
    # no single missing fact decides this one: they are asked together
    r = d(env({"version": "15.2.1"}, [{"name": "A", "management": "https"}]))
    assert r.verdict == "undetermined"
    assert {"tms.communication_security", "endpoints[0].software"} <= set(r.question_facts)


def test_tls11_only_offer_against_a_tls12_only_endpoint_fails():
    tms = {**T15, "communication_security": "medium-high", "schannel": {"TLS 1.2": {"client": "disabled"}}}
    probe = {**CE9, "accepts": ["TLS 1.2"]}
    r = d(env(tms, [probe]))
    assert r.endpoint("CE").verdict == "affected"
    assert "schannel-tls12-disabled" in r.cause_ids and "enable-tls11-tls12" in r.step_ids
    assert d(env(tms, [{**CE9, "accepts": ["TLS 1.1", "TLS 1.2"]}])).verdict == "not-affected"
