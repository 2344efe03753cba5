"""JSON Schemas generated from the models, validated with jsonschema; tool definitions."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings

import tmsrules
from tmsrules import diagnosis as out_models
from tmsrules import model as in_models
from tmsrules.cli import main
from tmsrules.schema import input_schema, output_schema
from tmsrules.tools import call_tool, tool_definitions

try:  # collected as rootdir-relative modules, or as the ``tests`` package
    import strategies as sts
except ImportError:  # pragma: no cover
    from tests import strategies as sts  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.json") if not p.name.endswith(".expected.json"))

INLINE = [
    {},
    {"tms": None, "endpoints": None, "observations": None},
    {"tms": {"version": "TMS 15.13", "communication_security": "Medium High", "windows": "6.3.9600",
             "schannel": {"TLSv1.2": {"client": "Enabled"}, "SSL 3.0": {"server": "disabled"}}, "reboot_pending": None,
             "sql": {"version": "SQL Server 2012 SP2", "local": None}}},
    {"endpoints": [{"name": "HDX-1", "software": "Release - 3.1.10-51067", "management": "telnet",
                    "status": "Security violation: Telnet communication is not allowed"},
                   {"name": "R", "software": "RoomOS 11.5.2.4", "management": "tls", "accepts": ["TLS 1.2"], "planned_software": None}],
     "observations": {"client_hello": "none", "sql_event_ids": [26011, 17182],
                      "handshakes": [{"client": "10.0.0.1", "server": "10.0.0.2", "offered": "TLS 1.0", "answer": "reset"}]}},
]

BAD = [
    ({"tms": {"colour": "blue"}}, "tms"),
    ({"endpoints": {"name": "x"}}, "endpoints"),
    ({"endpoints": [{"name": 5}]}, "endpoints"),
    ({"tms": {"reboot_pending": "yes"}}, "tms"),
    ({"observations": {"sql_event_ids": [-1]}}, "observations"),
    ({"tms": {"schannel": {"TLS 1.2": None}}}, "tms"),
    ({"extra": 1}, ""),
]


@pytest.fixture(scope="module")
def validators():
    i, o = input_schema(), output_schema()
    jsonschema.Draft202012Validator.check_schema(i)
    jsonschema.Draft202012Validator.check_schema(o)
    return jsonschema.Draft202012Validator(i), jsonschema.Draft202012Validator(o)


def test_schemas_are_draft_2020_12(validators):
    assert input_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert output_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_example_and_its_diagnosis_validate(path, validators):
    vin, vout = validators
    data = json.loads(path.read_text())
    vin.validate(data)
    for lang in ("en", "pt-BR"):
        vout.validate(tmsrules.diagnose(data, lang=lang).to_dict())


@pytest.mark.parametrize("data", INLINE)
def test_inline_inputs_validate(data, validators):
    vin, vout = validators
    vin.validate(data)
    vout.validate(tmsrules.diagnose(data).to_dict())


@pytest.mark.parametrize("data,where", BAD)
def test_bad_inputs_fail_both_the_schema_and_the_model(data, where, validators):
    vin, _ = validators
    assert list(vin.iter_errors(data))
    with pytest.raises(tmsrules.InputError):
        tmsrules.Environment.from_dict(data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(sts.environments())
def test_generated_inputs_and_diagnoses_validate(drawn):
    env, _ = drawn
    vin = jsonschema.Draft202012Validator(input_schema())
    vout = jsonschema.Draft202012Validator(output_schema())
    vin.validate(env)
    vout.validate(tmsrules.diagnose(env).to_dict())


def _fields(cls):
    return [f.name for f in attrs.fields(cls) if not f.name.startswith("_")]


def test_schemas_follow_the_models():
    i, o = input_schema(), output_schema()
    # input: every attrs class of the model, its fields as properties
    assert list(i["properties"]) == _fields(in_models.Environment)
    for cls in (in_models.Tms, in_models.Sql, in_models.ChannelState, in_models.Endpoint, in_models.Observations, in_models.Handshake):
        assert list(i["$defs"][cls.__name__]["properties"]) == _fields(cls)
        assert i["$defs"][cls.__name__]["additionalProperties"] is False
    # output: the fields of the diagnosis classes, exactly the keys of to_dict()
    d = tmsrules.diagnose(json.loads(EXAMPLES[0].read_text())) if EXAMPLES else tmsrules.diagnose(INLINE[3])
    assert list(o["properties"]) == list(d.to_dict())
    assert list(o["properties"])[1:] == _fields(out_models.Diagnosis)
    for cls, sample in ((out_models.Cause, d.causes), (out_models.Step, d.plan), (out_models.Question, None),
                        (out_models.EndpointVerdict, d.endpoints), (out_models.TraceEntry, d.trace)):
        assert list(o["$defs"][cls.__name__]["properties"]) == _fields(cls)
        if sample:
            assert list(sample[0].to_dict()) == _fields(cls)


def test_output_ids_come_from_the_rule_base():
    o = output_schema()
    causes = o["$defs"]["Cause"]["properties"]["id"]["enum"]
    for cid in ("endpoint-refuses-tls10", "tms-below-15", "tms-security-medium", "schannel-tls12-disabled", "reboot-pending",
                "tms-tls10-client-disabled", "sql-tls10-disabled", "legacy-management-blocked", "upgrade-will-break-https"):
        assert cid in causes
    steps = o["$defs"]["Step"]["properties"]["id"]["enum"]
    assert {"upgrade-tms", "patch-sql", "set-medium-high", "verify-client-hello"} <= set(steps)
    assert o["properties"]["verdict"]["enum"] == ["affected", "at-risk", "undetermined", "not-affected"]
    v = jsonschema.Draft202012Validator(o)
    bad = tmsrules.diagnose(INLINE[3]).to_dict()
    bad["verdict"] = "broken"
    assert list(v.iter_errors(bad))
    bad = tmsrules.diagnose(INLINE[3]).to_dict()
    bad["causes"] = [{**bad["causes"][0], "id": "made-up"}] if bad["causes"] else [{"id": "made-up"}]
    assert list(v.iter_errors(bad))


def test_cli_schema(capsys):
    assert main(["schema", "input"]) == 0
    assert json.loads(capsys.readouterr().out) == input_schema()
    assert main(["schema", "output"]) == 0
    assert json.loads(capsys.readouterr().out) == output_schema()
    assert main(["schema", "banana"]) == 2


# --------------------------------------------------------------------------- tool definitions


def test_tool_definitions():
    tools = tmsrules.tool_definitions()
    names = [t["name"] for t in tools]
    assert names == ["diagnose", "consult_next_question", "consult_answer", "explain"]
    for t in tools:
        assert set(t) == {"name", "description", "parameters"} and t["description"]
        jsonschema.Draft202012Validator.check_schema(t["parameters"])
        assert t["parameters"]["type"] == "object"
    by = {t["name"]: t for t in tools}
    v = jsonschema.Draft202012Validator(by["diagnose"]["parameters"])
    for path in EXAMPLES:
        v.validate({"environment": json.loads(path.read_text()), "lang": "pt-BR"})
    assert list(v.iter_errors({"environment": {"tms": {"colour": 1}}}))
    assert list(v.iter_errors({"environment": {}, "lang": "fr"}))
    jsonschema.Draft202012Validator(by["consult_answer"]["parameters"]).validate(
        {"environment": {}, "fact": "tms.schannel", "value": {}, "unknown": ["tms.windows"]}
    )
    openai = tool_definitions("openai")
    assert openai[0]["type"] == "function" and openai[0]["function"]["name"] == "diagnose"
    anthropic = tool_definitions("anthropic")
    assert anthropic[0]["input_schema"] == tools[0]["parameters"]
    with pytest.raises(tmsrules.InputError):
        tool_definitions("xml")


def test_call_tool_round_trip():
    env = {"tms": {"version": "15.2.1"}, "endpoints": [{"name": "B", "software": "ce9.15.3.17", "management": "https"}]}
    d = call_tool("diagnose", {"environment": env})
    jsonschema.Draft202012Validator(output_schema()).validate(d)
    state = call_tool("consult_next_question", {"environment": env})
    assert state["question"]["fact"] == "tms.communication_security" and state["verdict"] == "undetermined"
    state = call_tool("consult_answer", {"environment": env, "fact": "tms.communication_security", "value": "medium"})
    assert state["verdict"] == "affected" and "tms-security-medium" in state["causes"]
    assert state["environment"]["tms"]["communication_security"] == "medium"
    err = call_tool("consult_answer", {"environment": env, "fact": "tms.communication_security", "value": "extreme"})
    assert "tms.communication_security" in err["error"]
    state = call_tool("consult_answer", {"environment": env, "fact": "tms.communication_security", "value": None})
    assert state["unknown"] == ["tms.communication_security"]
    assert (state["question"] or {}).get("fact") != "tms.communication_security"
    how = call_tool("explain", {"environment": state["environment"] | {"tms": {"version": "15.2.1", "communication_security": "medium"}}, "id": "tms-security-medium"})
    assert how["question"] == "how"
    assert "error" in call_tool("nope", {})
    assert "error" in call_tool("diagnose", {"environment": {"tms": {"version": "x"}}})


@pytest.mark.parametrize("arguments", ["x", ["environment"], 3, {"environment": "x"}, {"environment": [1]}])
def test_call_tool_arguments_that_are_not_objects_give_an_error_result(arguments):
    for name in ("diagnose", "consult_next_question", "consult_answer", "explain"):
        result = call_tool(name, arguments)
        assert set(result) == {"error"}, (name, arguments, result)
        assert "arguments" in result["error"] or "environment" in result["error"]


def test_every_diagnosis_validates_with_evidence_fields_in_both_languages():
    import random

    validator = jsonschema.Draft202012Validator(output_schema())
    inputs = jsonschema.Draft202012Validator(input_schema())
    r = random.Random(3)
    for i in range(40):
        env = {
            "tms": {"version": r.choice(["14.6.2", "15.2.1"]), "communication_security": r.choice(["medium", "high"])},
            "endpoints": [{"name": f"E{j}", "software": r.choice(["ce9.15.3.17", "TC7.3.3", "TC7.3.5"]),
                           "management": r.choice(["https", "telnet"]), "accepts": r.sample(["TLS 1.0", "TLS 1.1", "TLS 1.2"], 2)}
                          for j in range(r.randint(1, 3))],
            "observations": {"client_hello": r.choice(["TLS 1.0", "TLS 1.2", "none"]),
                             "handshakes": [{"client": "10.0.0.5", "server": "10.0.0.9", "offered": r.choice(["TLS 1.0", "TLS 1.2"]),
                                             "answer": r.choice(["TLS 1.2", "alert: protocol_version", "reset", "none"])}],
                             "sql_event_ids": [26011]},
        }
        inputs.validate(env)
        for lang in ("en", "pt-BR"):
            validator.validate(tmsrules.diagnose(env, lang=lang).to_dict())
