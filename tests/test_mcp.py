"""The MCP server, started as a subprocess (``python -m tmsrules mcp``) and
driven with the official SDK's stdio client."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

mcp = pytest.importorskip("mcp")
anyio = pytest.importorskip("anyio")

from mcp import ClientSession  # noqa: E402
from mcp.client.stdio import StdioServerParameters, stdio_client  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 120

SEED = {
    "tms": {"version": "15.2.1", "communication_security": "medium", "windows": "Windows Server 2012 R2",
            "schannel": {"TLS 1.0": {"client": "default", "server": "disabled"}}, "reboot_pending": False,
            "sql": {"version": "11.0.5058.0", "local": True}},
    "endpoints": [{"name": "Boardroom", "software": "ce9.15.3.17", "management": "https", "status": "No HTTPS response"}],
}


def _params() -> StdioServerParameters:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    return StdioServerParameters(command=sys.executable, args=["-m", "tmsrules", "mcp"], env=env, cwd=str(ROOT))


def _text(result) -> str:
    return "".join(getattr(c, "text", "") for c in result.content)


def _is_error(result) -> bool:
    return bool(getattr(result, "is_error", None) or getattr(result, "isError", None))


def run(scenario):
    async def main():
        with anyio.fail_after(TIMEOUT):
            with open(os.devnull, "w") as errlog:
                async with stdio_client(_params(), errlog=errlog) as (read, write):
                    async with ClientSession(read, write) as session:
                        await session.initialize()
                        return await scenario(session)

    return anyio.run(main)


async def call(session, name, arguments):
    result = await session.call_tool(name, arguments)
    text = _text(result)
    if _is_error(result):
        return {"error": text}
    return json.loads(text)


def test_tools_are_listed():
    async def scenario(session):
        return await session.list_tools()

    tools = {t.name: t for t in run(scenario).tools}
    assert {"diagnose", "explain", "consult_start", "consult_next_question", "consult_answer",
            "consult_add_endpoint", "consult_diagnosis"} <= set(tools)
    schema = getattr(tools["diagnose"], "input_schema", None) or getattr(tools["diagnose"], "inputSchema")
    assert {"environment", "lang"} <= set(schema["properties"])
    # the contract's input schema is advertised for the environment
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(schema)
    v = jsonschema.Draft202012Validator(schema)
    v.validate({"environment": SEED, "lang": "en"})
    assert list(v.iter_errors({"environment": {"tms": {"colour": "blue"}}}))


def test_diagnose_explain_and_errors():
    async def scenario(session):
        return (
            await call(session, "diagnose", {"environment": SEED, "lang": "en"}),
            await call(session, "diagnose", {"environment": SEED, "lang": "pt-BR"}),
            await call(session, "explain", {"environment": SEED, "id": "tms-security-medium"}),
            await call(session, "explain", {"environment": SEED, "id": "tms-below-15"}),
            await call(session, "diagnose", {"environment": {"endpoints": [{"name": "A", "software": "banana"}]}}),
        )

    d, d_pt, how, why_not, bad = run(scenario)
    import tmsrules

    assert d == json.loads(tmsrules.diagnose(SEED).to_json())
    assert d_pt["verdict"] == "affected" and d_pt["causes"][0]["summary"] != d["causes"][0]["summary"]
    assert how["question"] == "how" and how["chain"][-1]["rule"] == "cause-tms-security-medium"
    assert why_not["question"] == "why-not"
    assert "endpoints[0].software" in bad["error"]


def test_a_consultation_over_mcp():
    full = SEED

    def truth(fact):
        from tmsrules.consult import get_path

        return get_path(full, fact)

    async def scenario(session):
        state = await call(session, "consult_start", {"initial": {}, "lang": "en"})
        cid = state["consultation_id"]
        # no endpoint known yet: only the TMS server's own SQL Server can be
        # affected, so the question, if any, is about the server
        assert state["question"] is None or not state["question"]["fact"].startswith("endpoints")
        state = await call(session, "consult_add_endpoint", {"consultation_id": cid, "name": "Boardroom"})
        bad = await call(session, "consult_answer", {"consultation_id": cid, "fact": "tms.version", "value": "banana"})
        missing = await call(session, "consult_next_question", {"consultation_id": "nope"})
        asked = []
        while state["question"] is not None:
            fact = state["question"]["fact"]
            assert fact not in asked
            asked.append(fact)
            state = await call(session, "consult_answer", {"consultation_id": cid, "fact": fact, "value": truth(fact)})
        final = await call(session, "consult_diagnosis", {"consultation_id": cid})
        return asked, bad, missing, final

    asked, bad, missing, final = run(scenario)
    import tmsrules

    expected = tmsrules.diagnose({**SEED, "endpoints": [{k: v for k, v in SEED["endpoints"][0].items() if k != "status"}]})
    assert asked
    assert "tms.version" in bad["error"]
    assert "consultation_id" in missing["error"]
    assert (final["verdict"], [c["id"] for c in final["causes"]], [s["id"] for s in final["plan"]]) == (
        expected.verdict, expected.cause_ids, expected.step_ids)


def test_schema_resources():
    async def scenario(session):
        result = await session.read_resource("tmsrules://schema/input")
        return result.contents[0].text

    from tmsrules.schema import input_schema

    assert json.loads(run(scenario)) == input_schema()


def test_consult_add_endpoint_takes_what_no_question_asks():
    """Status and planned upgrades are never asked: the bot passes them with the endpoint."""

    async def scenario(session):
        state = await call(session, "consult_start", {"initial": {"tms": {"version": "15.2.1", "communication_security": "medium"}}})
        cid = state["consultation_id"]
        await call(session, "consult_add_endpoint", {"consultation_id": cid, "name": "Lab", "software": "TC7.3.3",
                                                     "management": "https", "planned_software": "ce9.15.3.17"})
        await call(session, "consult_add_endpoint", {"consultation_id": cid, "name": "Room", "status": "No HTTPS response"})
        bad = await call(session, "consult_add_endpoint", {"consultation_id": cid, "name": "X", "planned_software": "banana"})
        final = await call(session, "consult_diagnosis", {"consultation_id": cid})
        return bad, final

    bad, final = run(scenario)
    assert "endpoints[2].planned_software" in bad["error"]
    assert final["verdict"] == "affected"
    verdicts = {e["name"]: e["verdict"] for e in final["endpoints"]}
    assert verdicts == {"Lab": "at-risk", "Room": "affected"}
