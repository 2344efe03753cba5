"""Function-calling tools for LLM chatbots: definitions and a dispatcher.

    defs = tmsrules.tool_definitions()              # [{"name", "description", "parameters"}]
    result = tmsrules.tools.call_tool(name, args)   # a JSON-ready dict ({"error": ...} on bad input)

The tools are stateless: the chatbot keeps the environment (the facts so far)
and the facts the person did not know (``unknown``), and passes them back on
every call. Parameter schemas embed the input schema of ``tmsrules.schema``
(generated from the models), so the model sees the contract's fields.
"""

from __future__ import annotations

import copy
from typing import Any, Mapping

from tmsrules.errors import InputError

LANGS = ("en", "pt-BR")
FORMATS = ("generic", "openai", "anthropic")

_LANG = {"type": "string", "enum": list(LANGS), "default": "en", "description": "language of the human texts"}
_UNKNOWN = {
    "type": "array",
    "items": {"type": "string"},
    "description": "facts the person said they do not know (never asked again)",
    "default": [],
}
_VALUE = {
    "type": ["string", "boolean", "object", "null"],
    "description": "the answer, as the input takes it: a string, true/false for tms.sql.local, "
    "an object for tms.schannel ({\"TLS 1.0\": {\"client\": \"disabled\", \"server\": \"disabled\"}}, {} for no keys); "
    "null when the person does not know",
}


def _environment_schema() -> tuple[dict[str, Any], dict[str, Any]]:
    from tmsrules.schema import input_schema

    env = input_schema()
    defs = env.pop("$defs")
    for key in ("$schema", "$id", "title"):
        env.pop(key, None)
    env["description"] = "the TMS environment as far as it is known (contract v1 input); every field optional"
    return env, defs


def tool_definitions(format: str = "generic") -> list[dict[str, Any]]:
    """Definitions of the tools ``diagnose``, ``consult_next_question``,
    ``consult_answer`` and ``explain``: name, description, JSON Schema parameters.

    ``format``: ``"generic"`` (``{"name", "description", "parameters"}``),
    ``"openai"`` (``{"type": "function", "function": {...}}``) or
    ``"anthropic"`` (``{"name", "description", "input_schema"}``).
    """
    if format not in FORMATS:
        raise InputError("format", f"unknown format {format!r:.30}", ", ".join(FORMATS))
    env, defs = _environment_schema()

    def params(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
            "$defs": copy.deepcopy(defs),
        }

    tools = [
        {
            "name": "diagnose",
            "description": "Diagnose Cisco TMS 'No HTTPS response' (TLS 1.0 vs TC/CE endpoints) for an environment: "
            "returns the verdict (affected, at-risk, undetermined, not-affected), causes, the ordered plan, "
            "alternatives, warnings and the questions whose answers would decide what is still open.",
            "parameters": params({"environment": env, "lang": _LANG}, ["environment"]),
        },
        {
            "name": "consult_next_question",
            "description": "The next question to ask the person: the missing fact that most decides the verdict or the plan "
            "(fact path, question text, choices, the rules that need it), or null when nothing left unknown matters. "
            "Also returns the current verdict.",
            "parameters": params({"environment": env, "unknown": _UNKNOWN, "lang": _LANG}, ["environment"]),
        },
        {
            "name": "consult_answer",
            "description": "Record the person's answer to a question (validated like the input; an error names the fact) "
            "and return the updated environment and unknown list to keep, the next question and the current verdict.",
            "parameters": params(
                {
                    "environment": env,
                    "fact": {"type": "string", "description": "the question's fact path, e.g. tms.version or endpoints[0].software"},
                    "value": _VALUE,
                    "unknown": _UNKNOWN,
                    "lang": _LANG,
                },
                ["environment", "fact", "value"],
            ),
        },
        {
            "name": "explain",
            "description": "Explain a diagnosis: for a cause, plan step, warning or alternative id that came out, HOW "
            "(the chain of rules and facts); for one that did not, WHY NOT (the conditions that failed).",
            "parameters": params(
                {
                    "environment": env,
                    "id": {"type": "string", "description": "a cause, plan step, warning or alternative id, e.g. tms-security-medium"},
                    "lang": _LANG,
                },
                ["environment", "id"],
            ),
        },
    ]
    if format == "openai":
        return [{"type": "function", "function": t} for t in tools]
    if format == "anthropic":
        return [{"name": t["name"], "description": t["description"], "input_schema": t["parameters"]} for t in tools]
    return tools


# --------------------------------------------------------------------------- dispatch


def _consultation(args: Mapping[str, Any]):
    from tmsrules.consult import Consultation

    c = Consultation(args.get("environment") or {}, lang=args.get("lang") or "en")
    unknown = args.get("unknown") or []
    if not isinstance(unknown, list) or not all(isinstance(f, str) for f in unknown):
        raise InputError("unknown", "expected a list of fact paths", "a list of strings")
    for fact in unknown:
        c.answer(fact, None)
    return c


def _state(c) -> dict[str, Any]:
    d = c.diagnosis()
    return {
        "question": c.next_question(),
        "verdict": d.verdict,
        "causes": d.cause_ids,
        "plan": d.step_ids,
        "environment": c.environment,
        "unknown": [f for f, v in c.answers.items() if v is None],
    }


def call_tool(name: str, arguments: Mapping[str, Any] | None) -> dict[str, Any]:
    """Run tool ``name`` with ``arguments``; bad input gives ``{"error": "..."}``."""
    from tmsrules.diagnose import diagnose

    try:
        if arguments is not None and not isinstance(arguments, Mapping):
            raise InputError("arguments", f"expected an object, got {type(arguments).__name__}", "a JSON object of the tool's parameters")
        args = dict(arguments or {})
        lang = args.get("lang") or "en"
        environment = args.get("environment")
        if environment is not None and not isinstance(environment, Mapping):
            raise InputError("environment", f"expected an object, got {type(environment).__name__}", "a JSON object (contract v1 input)")
        if name == "diagnose":
            return diagnose(args.get("environment") or {}, lang=lang).to_dict()
        if name == "consult_next_question":
            return _state(_consultation(args))
        if name == "consult_answer":
            c = _consultation(args)
            if not isinstance(args.get("fact"), str):
                raise InputError("fact", "missing", "a fact path such as tms.version")
            c.answer(args["fact"], args.get("value"))
            return _state(c)
        if name == "explain":
            if not isinstance(args.get("id"), str):
                raise InputError("id", "missing", "a cause, plan step, warning or alternative id")
            return diagnose(args.get("environment") or {}, lang=lang).explain(args["id"], lang=lang)
        raise InputError("name", f"unknown tool {name!r:.40}", "diagnose, consult_next_question, consult_answer, explain")
    except InputError as exc:
        return {"error": str(exc)}
