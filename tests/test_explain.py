"""Explanations: HOW (Diagnosis.explain) and WHY NOT (Diagnosis.why_not), and the CLI."""

from __future__ import annotations

import json

import pytest

import tmsrules
from tmsrules.cli import main
from tmsrules.explain import KINDS

SEED = {
    "tms": {
        "version": "15.2.1",
        "communication_security": "medium",
        "windows": "Windows Server 2012 R2",
        "schannel": {"TLS 1.0": {"client": "default", "server": "disabled"}},
        "reboot_pending": False,
        "sql": {"version": "11.0.5058.0", "local": True},
    },
    "endpoints": [
        {"name": "Boardroom", "software": "ce9.15.3.17", "management": "https", "status": "No HTTPS response"}
    ],
}

ENVIRONMENTS = [
    SEED,
    {
        "tms": {"version": "14.6.2", "windows": "2008 R2", "schannel": {"TLS 1.0": {"client": "disabled", "server": "enabled"}}},
        "endpoints": [{"name": "A", "software": "TC7.3.6", "management": "https"}, {"name": "B", "software": "TC7.3.3", "management": "https"}],
    },
    {
        "tms": {"version": "15.13", "communication_security": "high", "windows": "2016", "schannel": {}},
        "endpoints": [{"name": "HDX", "software": "Release - 3.1.10-51067", "management": "telnet"}],
    },
    {
        "tms": {"version": "15.2", "communication_security": "medium", "windows": "2012 R2"},
        "endpoints": [{"name": "R", "software": "TC7.3.3", "management": "https", "planned_software": "ce9.15.3.17"}],
    },
    {
        "tms": {"version": "15.2", "communication_security": "medium-high", "windows": "2008 R2",
                "schannel": {"TLS 1.2": {"client": "enabled", "server": "enabled"}}, "reboot_pending": True},
        "endpoints": [{"name": "X", "software": "ce9.1", "management": "https"}],
    },
    {"endpoints": [{"name": "Unknown"}]},
]


def came_out(d):
    ids = set(d.cause_ids) | set(d.step_ids) | set(d.warning_ids)
    for alt in d.alternatives:
        ids.add(alt.id)
        ids |= {s.id for s in alt.plan}
    return ids


def catalog_ids():
    rb = tmsrules.diagnose.__globals__["default_diagnoser"]().rulebase
    return sorted({i for (k, i) in rb.catalog if k in KINDS})


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_how_chain_is_grounded_and_ends_in_the_id(env):
    d = tmsrules.diagnose(env)
    assert came_out(d) or d.verdict in ("not-affected", "undetermined")
    for id in sorted(came_out(d)):
        how = d.explain(id)
        assert how["found"] is True and how["question"] == "how" and how["id"] == id
        chain = how["chain"]
        assert chain, id
        numbers = [s["step"] for s in chain]
        assert numbers == list(range(1, len(chain) + 1))
        # the last steps conclude the id
        assert any(id in c for c in chain[-1]["concluded"]) or any(id in c for s in chain for c in s["concluded"])
        for s in chain:
            rule = s["rule"]
            assert any(t.rule == rule for t in d.trace)
            for m in s["matched"]:
                # every matched fact is an input or rests on earlier steps of the chain
                if m.get("input"):
                    continue
                assert m["from"], (id, rule, m)
                assert all(n < s["step"] for n in m["from"]), (id, rule, m)
        assert how["inputs"], id
        assert id in how["text"]
        json.dumps(how)  # JSON-ready


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_why_not_names_a_failed_condition_for_every_rule(env):
    d = tmsrules.diagnose(env)
    out = came_out(d)
    for id in catalog_ids():
        if id in out:
            continue
        wn = d.why_not(id)
        assert wn["found"] is False and wn["question"] == "why-not"
        for r in wn["rules"]:
            # no negation in the rule language: had every condition held, the rule would have fired
            assert r["failed"], (id, r["rule"])
            for item in r["failed"]:
                assert item["condition"] and item["reason"]
        json.dumps(wn)


def test_why_not_tms_below_15_points_at_the_version():
    d = tmsrules.diagnose(SEED)
    wn = d.why_not("tms-below-15")
    first = wn["rules"][0]
    assert first["rule"] == "cause-tms-below-15"
    assert any("tms.version" in f["condition"] and "15.2.1" in f["reason"] for f in first["failed"])
    assert "tms.version < 15.0" in wn["text"]


def test_how_for_the_seed_reaches_the_security_setting():
    d = tmsrules.diagnose(SEED)
    how = d.explain("tms-security-medium")
    assert how["inputs"]["tms.communication_security"] == "medium"
    assert how["inputs"]["tms.version"] == "15.2.1"
    rules = [s["rule"] for s in how["chain"]]
    assert rules[-1] == "cause-tms-security-medium"
    assert "mode-tls10-medium" in rules


def test_explain_and_why_not_redirect_to_each_other():
    d = tmsrules.diagnose(SEED)
    assert d.explain("tms-below-15")["question"] == "why-not"
    assert d.why_not("tms-security-medium")["question"] == "how"


def test_unknown_id_is_input_error():
    d = tmsrules.diagnose(SEED)
    with pytest.raises(tmsrules.InputError) as err:
        d.explain("no-such-id")
    assert "id" in str(err.value)


def test_portuguese_labels():
    d = tmsrules.diagnose(SEED)
    assert d.explain("tms-security-medium", lang="pt-BR")["text"].startswith("Como")
    assert d.why_not("tms-below-15", lang="pt-BR")["text"].startswith("Por que")


def test_explainer_does_not_change_the_output():
    a = tmsrules.diagnose(SEED)
    b = tmsrules.diagnose(SEED)
    assert a == b
    assert "_explainer" not in a.to_dict() and "explainer" not in a.to_dict()
    assert set(a.to_dict()) == {"contract", "verdict", "causes", "plan", "alternatives", "warnings", "questions", "endpoints", "trace"}


def test_cli_explain(tmp_path, capsys):
    path = tmp_path / "env.json"
    path.write_text(json.dumps(SEED))
    assert main(["explain", str(path), "tms-security-medium"]) == 0
    out = capsys.readouterr().out
    assert "cause-tms-security-medium" in out
    assert main(["explain", str(path), "tms-below-15", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["question"] == "why-not"
    assert main(["explain", str(path), "bogus"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "id" in err
    assert main(["explain", str(tmp_path / "missing.json"), "tms-below-15"]) == 2


def test_explanations_default_to_the_language_of_the_diagnosis():
    d = tmsrules.diagnose(SEED, lang="pt-BR")
    assert d.explain("tms-security-medium")["text"].startswith("Como")
    assert d.explain("tms-security-medium", lang="en")["text"].startswith("How")
    assert tmsrules.diagnose(SEED).why_not("tms-below-15")["text"].startswith("Why")


def test_portuguese_explanations_keep_no_english_words():
    # a version nobody gave, an endpoint's firmware family, a SQL product: all in Portuguese
    env = {"tms": {"version": "15.2.1", "sql": {"version": "11.0.5058.0", "local": True},
                   "schannel": {"TLS 1.0": {"server": "disabled"}}},
           "endpoints": [{"name": "Sala", "software": "ce9.15.3.17", "management": "https", "status": "No HTTPS response"}]}
    d = tmsrules.diagnose(env, lang="pt-BR")
    texts = [d.explain(i)["text"] for i in ("endpoint-refuses-tls10", "sql-tls10-disabled", "tms-below-15", "patch-sql")]
    joined = "\n".join(texts)
    assert "desconhecido" in joined and "(família)" in joined and "(produto)" in joined
    for english in ("= unknown", "(family)", "(product)"):
        assert english not in joined, english
    # the structured facts stay language-neutral
    how = d.explain("endpoint-refuses-tls10")
    values = [m["fact"] for step in how["chain"] for m in step["matched"] if m.get("input")]
    assert any(v.get("accepts_tls10") == "unknown" for v in values if "accepts_tls10" in v) or values


def test_an_alternative_is_explained_as_an_alternative():
    tms14 = {"tms": {"version": "14.6.2", "schannel": {}},
             "endpoints": [{"name": "Room", "software": "TC7.3.6", "management": "https"}]}
    d = tmsrules.diagnose(tms14)
    assert "downgrade-endpoints" in [a.id for a in d.alternatives] and "downgrade-endpoints" not in d.step_ids
    assert d.explain("downgrade-endpoints")["kind"] == "alternative"
    seed = tmsrules.diagnose({"tms": {"version": "15.2.1", "communication_security": "medium"},
                              "endpoints": [{"name": "Room", "software": "TC7.3.6", "management": "https"}]})
    assert seed.why_not("downgrade-endpoints")["kind"] == "alternative"
    assert seed.explain("set-medium-high")["kind"] == "step"
