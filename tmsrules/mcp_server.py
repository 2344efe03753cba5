"""A Model Context Protocol server over stdio (``tmsrules mcp``).

Built on the official ``mcp`` Python SDK, an optional extra
(``pip install tmsrules[mcp]``). Tools:

- ``diagnose`` ``{"environment": {...}, "lang": "en"}``: the diagnosis object (contract v1);
- ``explain`` ``{"environment": {...}, "id": "...", "lang": "en"}``: HOW / WHY NOT;
- ``consult_start`` ``{"initial": {...}, "lang": "en"}``: a consultation id and its first question;
- ``consult_add_endpoint`` ``{"consultation_id", "name", "status", "planned_software", ...}``: tell it about an endpoint;
- ``consult_next_question`` ``{"consultation_id"}``: the next question, or null;
- ``consult_answer`` ``{"consultation_id", "fact", "value"}``: record an answer (null: unknown);
- ``consult_diagnosis`` ``{"consultation_id"}``: the current diagnosis.

Results are JSON text. Bad input is a tool error whose text names the field
path. Resources ``tmsrules://schema/input`` and ``tmsrules://schema/output``
hold the JSON Schemas.
"""

from __future__ import annotations

import itertools
import json
import secrets
import sys
import threading
from collections import OrderedDict
from typing import Any

from tmsrules.errors import InputError

#: the most consultations one server keeps; the oldest is dropped beyond it
MAX_CONSULTATIONS = 1000

INSTRUCTIONS = (
    "tmsrules diagnoses Cisco TMS 'No HTTPS response' after TC/CE endpoint upgrades (TMS offering only TLS 1.0). "
    "Call diagnose with what you know, or run a consultation: consult_start, then ask the person each "
    "consult_next_question and pass their answer to consult_answer (null when they do not know) until the "
    "question is null; explain tells how a cause or step came out, or why not."
)


def _dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)


class Consultations:
    """Consultations of one server process, keyed by an unguessable id."""

    def __init__(self, limit: int = MAX_CONSULTATIONS):
        self.limit = limit
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def start(self, initial: Any, lang: str) -> tuple[str, Any]:
        from tmsrules.consult import Consultation

        c = Consultation(initial, lang=lang)
        cid = f"c{next(self._ids)}-{secrets.token_hex(6)}"
        with self._lock:
            self._items[cid] = c
            while len(self._items) > self.limit:
                self._items.popitem(last=False)
        return cid, c

    def get(self, cid: str) -> Any:
        with self._lock:
            c = self._items.get(cid)
        if c is None:
            raise InputError("consultation_id", f"no consultation {cid!r:.40}", "an id returned by consult_start")
        return c


def _state(cid: str, c: Any) -> dict[str, Any]:
    d = c.diagnosis()
    return {
        "consultation_id": cid,
        "question": c.next_question(),
        "verdict": d.verdict,
        "causes": d.cause_ids,
        "plan": d.step_ids,
    }


def build_server():
    """The MCP server object (``mcp`` 2.x ``MCPServer`` or 1.x ``FastMCP``)."""
    try:
        from mcp.server.mcpserver import MCPServer as Server
        from mcp.server.mcpserver.exceptions import ToolError
    except ImportError:  # mcp 1.x
        from mcp.server.fastmcp import FastMCP as Server
        from mcp.server.fastmcp.exceptions import ToolError
    import functools

    def tool(name: str, description: str):
        """Register a tool whose bad input (InputError) reaches the client as a
        tool error naming the field path; the SDK hides other messages."""

        def wrap(fn):
            @functools.wraps(fn)
            def safe(*args, **kwargs):
                try:
                    return fn(*args, **kwargs)
                except InputError as exc:
                    raise ToolError(str(exc)) from None

            return server.tool(name=name, description=description)(safe)

        return wrap

    from tmsrules import diagnose as _diagnose
    from tmsrules.schema import input_schema, output_schema

    server = Server("tmsrules", instructions=INSTRUCTIONS)
    store = Consultations()

    @tool(name="diagnose", description="Diagnose a TMS environment (contract v1 input; every field optional). "
                 "Returns the diagnosis: verdict, causes, ordered plan, alternatives, warnings, questions, trace.")
    def diagnose(environment: dict[str, Any], lang: str = "en") -> str:
        return _dump(_diagnose(environment, lang=lang).to_dict())

    @tool(name="explain", description="HOW a cause, plan step, warning or alternative id came out "
                 "(the chain of rules and facts), or WHY NOT (the failed conditions) for one that did not.")
    def explain(environment: dict[str, Any], id: str, lang: str = "en") -> str:
        return _dump(_diagnose(environment, lang=lang).explain(id, lang=lang))

    @tool(name="consult_start", description="Start a consultation from what is known (optional). "
                 "Returns its consultation_id, the first question (or null) and the current verdict.")
    def consult_start(initial: dict[str, Any] | None = None, lang: str = "en") -> str:
        cid, c = store.start(initial, lang)
        return _dump(_state(cid, c))

    @tool(name="consult_add_endpoint", description="Tell a consultation about an endpoint by name "
                 "(questions about endpoints need them to exist), with what is known of it: the status TMS "
                 "shows (e.g. 'No HTTPS response'), a planned upgrade (planned_software), its software "
                 "and management, if known. No question asks for the status or a planned upgrade: pass them here.")
    def consult_add_endpoint(consultation_id: str, name: str, status: str | None = None,
                             planned_software: str | None = None, software: str | None = None,
                             management: str | None = None) -> str:
        c = store.get(consultation_id)
        given = {"status": status, "planned_software": planned_software, "software": software, "management": management}
        c.add_endpoint(name, **{k: v for k, v in given.items() if v is not None})
        return _dump(_state(consultation_id, c))

    @tool(name="consult_next_question", description="The next question of a consultation: fact path, "
                 "question text, choices and the rules that need it; null when nothing left unknown matters.")
    def consult_next_question(consultation_id: str) -> str:
        return _dump(_state(consultation_id, store.get(consultation_id)))

    @tool(name="consult_answer", description="Record an answer for a fact of a consultation "
                 "(validated like the input; null means the person does not know). Returns the next question.")
    def consult_answer(consultation_id: str, fact: str, value: Any = None) -> str:
        c = store.get(consultation_id)
        c.answer(fact, value)
        return _dump(_state(consultation_id, c))

    @tool(name="consult_diagnosis", description="The current diagnosis of a consultation.")
    def consult_diagnosis(consultation_id: str) -> str:
        return _dump(store.get(consultation_id).diagnosis().to_dict())

    _advertise(server, input_schema())

    @server.resource("tmsrules://schema/input", name="input-schema", mime_type="application/schema+json")
    def schema_input() -> str:
        return json.dumps(input_schema())

    @server.resource("tmsrules://schema/output", name="output-schema", mime_type="application/schema+json")
    def schema_output() -> str:
        return json.dumps(output_schema())

    return server


def _advertise(server: Any, schema: dict[str, Any]) -> None:
    """Show clients the contract's input schema for ``environment``/``initial``
    (the SDK infers only "an object" from the signature). Best effort: the
    tool registry is SDK-internal; validation stays with Environment.from_dict."""
    env = {k: v for k, v in schema.items() if k not in ("$defs", "$schema", "$id")}
    try:
        manager = server._tool_manager
        for name, param in (("diagnose", "environment"), ("explain", "environment"), ("consult_start", "initial")):
            tool = manager.get_tool(name)
            params = dict(tool.parameters)
            props = dict(params.get("properties", {}))
            props[param] = env if param == "environment" else {"anyOf": [env, {"type": "null"}], "default": None}
            params["properties"] = props
            params["$defs"] = {**params.get("$defs", {}), **schema.get("$defs", {})}
            tool.parameters = params
    except Exception:  # pragma: no cover - another SDK layout: keep the inferred schema
        pass


def serve() -> int:
    server = build_server()
    server.run("stdio")
    return 0


def _mcp_command(args: Any) -> int:
    try:
        import mcp  # noqa: F401
    except ImportError:
        print("tmsrules: the MCP server needs the mcp package: pip install 'tmsrules[mcp]'", file=sys.stderr)
        return 1
    return serve()


def add_mcp_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("mcp", help="serve the Model Context Protocol over stdio (needs tmsrules[mcp])")
    p.set_defaults(func=_mcp_command)
