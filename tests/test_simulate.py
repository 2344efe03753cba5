"""Plan simulation: each step's declared effect, the plan and alternatives, the CLI."""

from __future__ import annotations

import json

import pytest

import tmsrules
from tmsrules import cli
from tmsrules.errors import InputError
from tmsrules.parse import parse_sql_version
from tmsrules.simulate import apply_step, load_tls12_builds, simulate, tls12_build
from tmsrules.rulebase import default_rules_dir

SEED = {
    "tms": {
        "version": "15.2.1",
        "communication_security": "medium",
        "windows": "Windows Server 2008 R2",
        "schannel": {"TLS 1.0": {"client": "default", "server": "disabled"}},
        "reboot_pending": False,
        "sql": {"version": "11.0.5058.0", "local": True},
    },
    "endpoints": [
        {"name": "Boardroom", "software": "ce9.15.3.17", "management": "https", "status": "No HTTPS response"},
        {"name": "HDX-1", "software": "Release - 3.1.10-51067", "management": "telnet"},
    ],
    "observations": {"client_hello": "TLS 1.0", "sql_event_ids": [26011, 17182]},
}
OLD_TMS = {
    "tms": {"version": "14.6.2", "windows": "2012 R2", "schannel": {}, "reboot_pending": False,
            "sql": {"version": "13.0.5026.0", "local": True}},
    "endpoints": [
        {"name": "SX80", "software": "TC7.3.6", "management": "https", "accepts": ["TLS 1.1", "TLS 1.2"]},
        {"name": "Lobby", "software": "ce9.15.3.17", "management": "http"},
        {"name": "EX60", "software": "TC7.3.3", "management": "https", "planned_software": "ce9.15.3.17"},
    ],
}


def test_simulate_is_exported():
    assert tmsrules.simulate is simulate
    assert "simulate" in tmsrules.__all__


def test_seed_plan_step_by_step():
    steps = simulate(SEED)
    assert [s.step for s in steps] == tmsrules.diagnose(SEED).step_ids
    by_id = {s.step: s for s in steps}
    t = by_id["patch-sql"].environment.tms
    assert str(t.sql.version.build) == "11.0.5352.0"
    assert by_id["patch-sql"].environment.observations.client_hello is None  # stale, dropped
    assert all(e.status is None for e in by_id["patch-sql"].environment.endpoints)
    t = by_id["enable-tls11-tls12"].environment.tms
    assert t.reboot_pending is True
    assert {p: (s.client, s.server) for p, s in t.schannel}["TLS 1.2"] == ("enabled", "enabled")
    assert "reboot-pending" in by_id["enable-tls11-tls12"].diagnosis.cause_ids
    assert by_id["reboot-tms-server"].environment.tms.reboot_pending is False
    assert by_id["set-medium-high"].environment.tms.communication_security == "medium-high"
    assert by_id["backup-registry"].changes == ()
    last = steps[-1].diagnosis
    assert last.cause_ids == ["legacy-management-blocked"]  # the fault the plan warned about
    assert [w.endpoints for w in last.warnings if w.id == "telnet-snmp-disabled"] == [("HDX-1",)]
    assert last.endpoint("Boardroom").verdict == "not-affected"


def test_old_tms_plan_upgrades_tms():
    steps = simulate(OLD_TMS)
    assert steps[0].step == "upgrade-tms"
    assert steps[0].environment.tms.version.release[0] == 15
    assert steps[-1].diagnosis.verdict == "not-affected"


def test_downgrade_alternative_moves_refusing_https_endpoints_to_tc733():
    d = tmsrules.diagnose(OLD_TMS)
    assert "downgrade-endpoints" in [a.id for a in d.alternatives]
    steps = simulate(OLD_TMS, "downgrade-endpoints")
    env = steps[-1].environment
    sx80, lobby, ex60 = env.endpoints
    assert str(sx80.software.version) == "7.3.3" and sx80.accepts is None  # the probe saw the old firmware
    assert str(lobby.software.version) == "9.15.3.17"  # HTTP-managed: untouched
    assert str(ex60.software.version) == "7.3.3" and ex60.planned_software is None  # upgrade held back
    assert steps[-1].diagnosis.verdict == "not-affected"
    assert str(env.tms.version) == "14.6.2"


def test_list_of_step_ids_and_errors():
    steps = simulate(SEED, ["set-medium-high"])
    assert [s.step for s in steps] == ["set-medium-high"]
    assert steps[0].changes[0] == "tms.communication_security: medium -> medium-high"
    with pytest.raises(InputError, match=r"plan\[1\]"):
        simulate(SEED, ["set-medium-high", "format-c"])
    with pytest.raises(InputError, match="not an alternative"):
        simulate(SEED, "downgrade-endpoints")
    with pytest.raises(InputError):
        simulate({"tms": {"version": "banana"}})


def test_step_without_facts_changes_nothing():
    env, changes = apply_step(SEED, "verify-client-hello")
    assert changes == ()
    assert env == tmsrules.Environment.from_dict(SEED)  # observations kept: nothing changed


def test_unknown_schannel_gets_only_the_keys_set():
    env, _ = apply_step({"tms": {"version": "15.2.1"}}, "enable-tls11-tls12")
    assert dict(env.tms.schannel).keys() == {"TLS 1.1", "TLS 1.2"}


@pytest.mark.parametrize("version, expected", [
    ("11.0.5058.0", "11.0.5352.0"),  # 2012 SP2 GDR
    ("11.0.3000.0", "11.0.5352.0"),  # 2012 SP1: SP2 and its GDR update
    ("11.0.5600.0", "11.0.5644.2"),  # 2012 SP2 CU
    ("11.0.6100.0", "11.0.6216.27"),  # 2012 SP3 GDR
    ("11.0.5352.0", None), ("11.0.7001.0", None),  # already TLS 1.2
    ("12.0.2000.8", "12.0.2271.0"), ("12.0.2400.0", "12.0.2564.0"),
    ("12.0.4200.0", "12.0.4219.0"), ("12.0.4420.0", "12.0.4439.1"), ("12.0.5000.0", None),
    ("10.50.6000.34", "10.50.6542.0"), ("10.0.6543.0", "10.0.6547.0"),
    ("9.0.5000.0", None), ("13.0.5026.0", None),  # 2005: no update exists; 2016: has TLS 1.2
    ("SQL Server 2012 SP2", "11.0.5352.0"), ("SQL Server 2014 SP1", "12.0.4219.0"),
    ("SQL Server 2014", "12.0.2271.0"), ("SQL Server 2012 SP4", None), ("2008 R2 SP3", "10.50.6542.0"),
])
def test_tls12_build_table(version, expected):
    table = load_tls12_builds(default_rules_dir())
    assert tls12_build(parse_sql_version(version, "v"), table) == expected


def test_patched_builds_support_tls12_in_the_rules():
    for version in ("11.0.3000.0", "11.0.5600.0", "11.0.6100.0", "12.0.2000.8", "12.0.2400.0", "12.0.4200.0",
                    "12.0.4420.0", "SQL Server 2012", "SQL Server 2014 SP1"):
        named = not version[0].isdigit()
        env = {"tms": {"version": "15.2.1", "communication_security": "medium-high", "windows": "2012 R2",
                       "schannel": {"TLS 1.0": {"client": "enabled", "server": "disabled"}}, "reboot_pending": False,
                       "sql": {"version": version, "local": True}}}
        before = tmsrules.diagnose(env, questions=False)
        assert before.verdict in (("undetermined", "affected") if named else ("affected",)), version
        steps = simulate(env, ["patch-sql"] if named else None)
        assert steps[0].step == "patch-sql"
        assert steps[-1].diagnosis.verdict == "not-affected", version


# ------------------------------------------------------------------ CLI


def test_cli_text(tmp_path, capsys):
    f = tmp_path / "env.json"
    f.write_text(json.dumps(SEED))
    assert cli.main(["simulate", str(f)]) == 0
    out = capsys.readouterr().out
    assert "1. patch-sql" in out and "tms.communication_security: medium -> medium-high" in out
    assert out.rstrip().endswith("After the last step: affected.")


def test_cli_json_and_alternative(tmp_path, capsys):
    f = tmp_path / "env.json"
    f.write_text(json.dumps(OLD_TMS))
    assert cli.main(["simulate", str(f), "--alternative", "downgrade-endpoints", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["alternative"] == "downgrade-endpoints"
    assert doc["plan"] == [s["step"] for s in doc["steps"]]
    assert doc["steps"][-1]["diagnosis"]["verdict"] == "not-affected"
    assert doc["before"]["verdict"] == "affected"


def test_cli_bad_input_exits_2(tmp_path, capsys):
    f = tmp_path / "env.json"
    f.write_text(json.dumps(SEED))
    assert cli.main(["simulate", str(f), "--alternative", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "alternative" in err
    assert cli.main(["simulate", str(tmp_path / "missing.json")]) == 2
    f.write_text('{"tms": {"version": "x"}}')
    assert cli.main(["simulate", str(f)]) == 2


def test_simulate_returns_the_final_environment_and_its_steps():
    result = simulate(SEED)
    # it is the environment after the plan ...
    assert isinstance(result, tmsrules.Environment)
    assert result.tms.communication_security == "medium-high"
    assert result.environment == result[-1].environment
    assert type(result.environment) is tmsrules.Environment
    assert tmsrules.diagnose(result).to_json() == result[-1].diagnosis.to_json()
    assert result.diagnosis is result[-1].diagnosis
    assert result.diagnosis.cause_ids == ["legacy-management-blocked"]  # the HDX, warned by the plan
    # ... and the sequence of steps
    assert result.step_ids == tuple(tmsrules.diagnose(SEED).step_ids) == tuple(s.step for s in result)
    assert len(result) == len(result.steps) and bool(result)


def test_simulate_with_nothing_to_do_is_the_input():
    healthy = {"tms": {"version": "15.2.1", "communication_security": "medium-high", "windows": "2012 R2",
                       "schannel": {}, "reboot_pending": False}, "endpoints": [{"name": "a", "software": "TC7.3.6", "management": "https"}]}
    result = simulate(healthy)
    assert len(result) == 0 and not result
    assert result.environment == tmsrules.Environment.from_dict(healthy)
    assert result.diagnosis.verdict == "not-affected"
