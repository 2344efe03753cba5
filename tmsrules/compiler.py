"""Compiling checked rules into a durable_rules ruleset (plain JSON).

The engine has no types: ``m.x > 1000`` matches ``'abc'``. So every fact the
engine sees holds only numbers, booleans and enumerated strings, and every
version field ``f`` travels as two fields: ``f`` (an integer from
``version_key``) and ``f_known`` (a boolean). An order comparison on a version
compiles to ``f_known == true and f <op> key``: an unknown version never
satisfies a comparison, it only satisfies ``is unknown``.
"""

from __future__ import annotations

from typing import Any

from packaging.version import Version

from tmsrules.parse import version_key
from tmsrules.rulebase import Condition, Ref, Rule, RuleBase

_ORDER = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}


def engine_value(value: Any) -> Any:
    """A literal as the engine must see it."""
    if isinstance(value, Version):
        return version_key(value)
    return value


#: durable_rules identifies a fact by its ``id`` property and drops a second
#: fact with the same id as already seen. The engine owns that property (see
#: ``engine``); a vocabulary field called ``id`` travels as ``ident``.
IDENT = "ident"


def engine_field(field: str) -> str:
    return IDENT if field == "id" else field


def _condition(c: Condition) -> list[dict[str, Any]]:
    field = engine_field(c.left.field)
    if c.op == "known":
        return [{f"{field}_known": True}]
    if c.op == "unknown":
        return [{f"{field}_known": False}]
    guard = [{f"{field}_known": True}] if c.type.name == "version" else []
    if isinstance(c.right, Ref):
        other = engine_field(c.right.field)
        ref = {c.right.alias: other}
        return guard + [{field: ref}]
    if c.op == "==":
        return guard + [{field: engine_value(c.right)}]
    if c.op == "!=":
        return guard + [{"$neq": {field: engine_value(c.right)}}]
    if c.op == "in":
        return guard + [{"$or": [{field: engine_value(v)} for v in c.right]}]
    if c.op == "not-in":
        return guard + [{"$neq": {field: engine_value(v)}} for v in c.right]
    return guard + [{_ORDER[c.op]: {field: engine_value(c.right)}}]


def compile_rule(rule: Rule) -> dict[str, Any]:
    """One rule as a durable_rules rule definition (without its action)."""
    per_alias: dict[str, list[dict[str, Any]]] = {}
    for alias, kind in rule.aliases.items():
        per_alias[alias] = [{"t": kind}]
    for c in rule.conditions:
        per_alias[c.left.alias].extend(_condition(c))
    return {"all": [{alias: {"$and": terms}} for alias, terms in per_alias.items()]}


def compile_rulebase(rulebase: RuleBase) -> dict[str, dict[str, Any]]:
    """The whole knowledge base as one ruleset definition: rule id -> rule."""
    return {rule.id: compile_rule(rule) for rule in rulebase.rules}
