"""JSON Schemas (draft 2020-12) of the contract, generated from the models.

``input_schema()`` walks the attrs classes of ``tmsrules.model`` (the
validated input), ``output_schema()`` those of ``tmsrules.diagnosis`` (the
diagnosis object of ``to_dict()``). Nothing is written twice: property names
and nesting come from the attrs fields and their types, the accepted forms
and canonical values from the constants of ``tmsrules.parse``, limits from
``tmsrules.model``, and the ids (causes, steps, warnings, alternatives, rules,
sources, question facts) from the rule base.

Input fields accept many spellings ("Medium-High", "medium high", "2012 R2",
"6.3.9600"), so string fields carry their canonical values as ``examples``
and the accepted forms as ``description`` rather than a strict ``enum``;
``Environment.from_dict`` remains the full check (it also rejects duplicate
endpoint names, which JSON Schema cannot express). Output objects list every
field as required and allow added ones (the contract adds, never renames).

``tmsrules schema input|output`` prints them.
"""

from __future__ import annotations

import json
import re
import sys
import types
import typing
from functools import lru_cache
from typing import Any

import attrs
from packaging.version import Version

from tmsrules import diagnosis as out_models
from tmsrules import model as in_models
from tmsrules import parse

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "https://tmsrules.invalid/schema/contract-1/{which}.json"

# --------------------------------------------------------------------------- input


def _string(accepts: str, examples: tuple[str, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "string", "maxLength": in_models.MAX_STRING, "description": f"Accepts {accepts}."}
    if examples:
        out["examples"] = list(examples)
    return out


#: How a model field's values are written in JSON, where its Python type does
#: not say it: (class, field) -> schema. Texts and values come from parse.
def _input_hints() -> dict[tuple[str, str], dict[str, Any]]:
    tls_or_none = parse.TLS_VERSIONS + ("none",)
    return {
        ("Tms", "version"): _string(parse._ACCEPT_TMS, ("14.6.2", "15.2.1", "TMS 15.13")),
        ("Tms", "communication_security"): _string(parse._ACCEPT_SECURITY, parse.SECURITY_LEVELS),
        ("Tms", "windows"): _string(parse._ACCEPT_WINDOWS, tuple(in_models.WINDOWS_NAMES[w] for w in parse.WINDOWS)),
        ("Sql", "version"): _string(parse._ACCEPT_SQL, ("11.0.5058.0", "SQL Server 2012 SP2")),
        ("ChannelState", "client"): _string(parse._ACCEPT_SCHANNEL, parse.SCHANNEL_STATES),
        ("ChannelState", "server"): _string(parse._ACCEPT_SCHANNEL, parse.SCHANNEL_STATES),
        ("Endpoint", "software"): _string(parse._ACCEPT_SOFTWARE, ("TC7.3.6", "ce9.15.3.17", "RoomOS 11.5.2.4")),
        ("Endpoint", "planned_software"): _string(parse._ACCEPT_SOFTWARE, ("ce9.15.3.17",)),
        ("Endpoint", "management"): _string(parse._ACCEPT_MANAGEMENT, parse.MANAGEMENT),
        ("Endpoint", "accepts"): {
            "type": "array",
            "maxItems": 8,
            "items": _string(parse._ACCEPT_TLS, parse.TLS_VERSIONS),
        },
        ("Endpoint", "status"): _string("the status text TMS shows", ("No HTTPS response",)),
        ("Observations", "client_hello"): _string(parse._ACCEPT_TLS_OR_NONE, tls_or_none),
        ("Observations", "sql_event_ids"): {
            "type": "array",
            "maxItems": in_models.MAX_EVENT_IDS,
            "items": {"type": "integer", "minimum": 0, "maximum": 0xFFFFFFFF},
        },
        ("Observations", "handshakes"): {"type": "array", "maxItems": in_models.MAX_HANDSHAKES, "items": {"$ref": "#/$defs/Handshake"}},
        ("Handshake", "offered"): _string(parse._ACCEPT_TLS_OR_NONE, tls_or_none),
        ("Environment", "endpoints"): {
            "type": "array",
            "maxItems": in_models.MAX_ENDPOINTS,
            "items": {"$ref": "#/$defs/Endpoint"},
            "description": "Endpoint names must be unique within the environment.",
        },
    }


def _schannel_schema() -> dict[str, Any]:
    # Tms.schannel is held as sorted (protocol, ChannelState) pairs; in JSON it is
    # an object keyed by protocol.
    return {
        "type": "object",
        "description": f"SCHANNEL registry state: protocol ({parse._ACCEPT_PROTOCOL}) -> its Client and Server keys.",
        "propertyNames": {"type": "string", "maxLength": in_models.MAX_STRING, "examples": list(parse.PROTOCOLS)},
        "additionalProperties": {"$ref": "#/$defs/ChannelState"},
    }


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    args = typing.get_args(tp)
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return (rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]), True
    return tp, False


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    out = dict(schema)
    kind = out.get("type")
    if isinstance(kind, str):
        out["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        out["type"] = kind + ["null"]
    elif kind is None:
        return {"anyOf": [schema, {"type": "null"}]}
    return out


def _classes_in(tp: Any) -> list[type]:
    if attrs.has(tp):
        return [tp] if tp.__module__ == in_models.__name__ else []
    return [c for arg in typing.get_args(tp) for c in _classes_in(arg)]


def _input_type(cls_name: str, field: str, tp: Any, defs: dict[str, Any], hints) -> dict[str, Any]:
    for inner in _classes_in(tp):  # the hint refers to them: define them too
        _input_class(inner, defs, hints)
    if (cls_name, field) in hints:
        return dict(hints[(cls_name, field)])
    if (cls_name, field) == ("Tms", "schannel"):
        return _schannel_schema()
    if attrs.has(tp):
        _input_class(tp, defs, hints)
        return {"$ref": f"#/$defs/{tp.__name__}"}
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        return {"type": "integer"}
    if tp is str:
        return {"type": "string", "maxLength": in_models.MAX_STRING}
    if tp in (Version, parse.Software, parse.SqlVersion):  # pragma: no cover - all hinted
        return {"type": "string", "maxLength": in_models.MAX_STRING}
    origin = typing.get_origin(tp)
    if origin is tuple:
        args = typing.get_args(tp)
        return {"type": "array", "items": _input_type(cls_name, field + "[]", args[0], defs, hints)}
    raise TypeError(f"no JSON form for {cls_name}.{field}: {tp!r}")  # pragma: no cover


def _input_class(cls: type, defs: dict[str, Any], hints) -> None:
    name = cls.__name__
    if name in defs:
        return
    defs[name] = {}  # reserve (recursion guard)
    attrs.resolve_types(cls, globalns=vars(sys.modules[cls.__module__]))
    props: dict[str, Any] = {}
    for f in attrs.fields(cls):
        if f.name.startswith("_"):
            continue
        tp, _optional = _unwrap_optional(f.type)
        schema = _input_type(name, f.name, tp, defs, hints)
        # every input field may be absent or null: unknown, never a default
        props[f.name] = _nullable(schema)
    doc = (cls.__doc__ or "").strip().split("\n\n")[0]
    defs[name] = {"type": "object", "properties": props, "additionalProperties": False}
    if doc:
        defs[name]["description"] = " ".join(doc.split())


@lru_cache(maxsize=None)
def _input_schema_json() -> str:
    defs: dict[str, Any] = {}
    _input_class(in_models.Environment, defs, _input_hints())
    root = defs.pop("Environment")
    schema = {
        "$schema": DIALECT,
        "$id": SCHEMA_ID.format(which="input"),
        "title": "tmsrules environment (contract v1 input)",
        "description": "Every field is optional; an absent or null field is unknown, never a default.",
        **root,
        "$defs": defs,
    }
    return json.dumps(schema)


def input_schema() -> dict[str, Any]:
    """The JSON Schema of an environment (contract v1 input)."""
    return json.loads(_input_schema_json())


# --------------------------------------------------------------------------- output


def _question_fact_pattern(rulebase) -> str:
    alternatives = []
    for q in rulebase.questions:
        alternatives.append(re.escape(q.fact).replace(r"\[\]", r"\[[0-9]+\]"))
    return "^(" + "|".join(alternatives) + ")$"


def _output_hints(rulebase) -> dict[tuple[str, str], dict[str, Any]]:
    ids = lambda kind: sorted({i for (k, i) in rulebase.catalog if k == kind})  # noqa: E731
    rule_ids = {"$ref": "#/$defs/RuleId"}
    sources = {"$ref": "#/$defs/Source"}
    verdicts = {"type": "string", "enum": list(out_models.VERDICTS)}
    return {
        ("Diagnosis", "verdict"): verdicts,
        ("EndpointVerdict", "verdict"): verdicts,
        ("EndpointVerdict", "causes[]"): {"type": "string", "enum": ids("cause")},
        ("Cause", "id"): {"type": "string", "enum": ids("cause")},
        ("Step", "id"): {"type": "string", "enum": ids("step")},
        ("Warning", "id"): {"type": "string", "enum": ids("warning")},
        ("Alternative", "id"): {"type": "string", "enum": ids("alternative")},
        ("Question", "fact"): {"type": "string", "pattern": _question_fact_pattern(rulebase)},
        ("TraceEntry", "rule"): rule_ids,
        ("*", "because[]"): rule_ids,
        ("*", "sources[]"): sources,
        ("TraceEntry", "facts"): {"type": "object", "description": "the facts the rule matched, by alias"},
    }


def _output_type(cls_name: str, field: str, tp: Any, defs: dict[str, Any], hints) -> dict[str, Any]:
    for key in ((cls_name, field), ("*", field)):
        if key in hints:
            return dict(hints[key])
    if attrs.has(tp):
        _output_class(tp, defs, hints)
        return {"$ref": f"#/$defs/{tp.__name__}"}
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        return {"type": "integer"}
    if tp is str:
        return {"type": "string"}
    if tp is out_models.Trace:  # a lazily built tuple of TraceEntry
        tp = tuple[out_models.TraceEntry, ...]
    origin = typing.get_origin(tp)
    if origin is tuple:
        args = typing.get_args(tp)
        return {"type": "array", "items": _output_type(cls_name, field + "[]", args[0], defs, hints)}
    if origin is dict or tp is dict:
        return {"type": "object"}
    raise TypeError(f"no JSON form for {cls_name}.{field}: {tp!r}")  # pragma: no cover


def _output_class(cls: type, defs: dict[str, Any], hints) -> None:
    name = cls.__name__
    if name in defs:
        return
    defs[name] = {}
    attrs.resolve_types(cls, globalns=vars(sys.modules[cls.__module__]))
    props: dict[str, Any] = {}
    for f in attrs.fields(cls):
        if f.name.startswith("_"):  # not serialised
            continue
        tp, optional = _unwrap_optional(f.type)
        schema = _output_type(name, f.name, tp, defs, hints)
        props[f.name] = _nullable(schema) if optional else schema
    defs[name] = {"type": "object", "properties": props, "required": list(props), "additionalProperties": True}


@lru_cache(maxsize=None)
def _output_schema_json() -> str:
    from tmsrules.diagnose import default_diagnoser

    rulebase = default_diagnoser().rulebase
    defs: dict[str, Any] = {}
    _output_class(out_models.Diagnosis, defs, _output_hints(rulebase))
    root = defs.pop("Diagnosis")
    defs["RuleId"] = {"type": "string", "enum": sorted(r.id for r in rulebase.rules), "description": "a rule of rules/*.toml"}
    defs["Source"] = {"type": "string", "enum": list(rulebase.sources), "description": "a source label of the knowledge base"}
    root["properties"] = {"contract": {"const": out_models.CONTRACT_VERSION}, **root["properties"]}
    root["required"] = ["contract"] + root["required"]
    schema = {
        "$schema": DIALECT,
        "$id": SCHEMA_ID.format(which="output"),
        "title": "tmsrules diagnosis (contract v1 output)",
        **root,
        "$defs": defs,
    }
    return json.dumps(schema)


def output_schema() -> dict[str, Any]:
    """The JSON Schema of a diagnosis (``Diagnosis.to_dict()``, contract v1 output)."""
    return json.loads(_output_schema_json())


def schema(which: str) -> dict[str, Any]:
    if which == "input":
        return input_schema()
    if which == "output":
        return output_schema()
    from tmsrules.errors import InputError

    raise InputError("schema", f"unknown schema {which!r:.30}", "input or output")


# --------------------------------------------------------------------------- CLI


def _schema_command(args: Any) -> int:
    sys.stdout.write(json.dumps(schema(args.which), indent=2, ensure_ascii=False) + "\n")
    return 0


def add_schema_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("schema", help="print the JSON Schema (draft 2020-12) of the input or the output")
    p.add_argument("which", choices=("input", "output"), help="input: an environment; output: a diagnosis")
    p.set_defaults(func=_schema_command)
