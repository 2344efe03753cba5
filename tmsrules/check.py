"""The rule checker: ``tmsrules check [DIR]``.

``rulebase.load`` stops at the first malformed rule; ``check`` goes on and
reports every problem it finds, each with its file and rule (or catalog)
id:

* malformed rules: required fields, unknown fact kinds or fields, values
  outside an enumeration, unknown cause/step/warning/alternative ids (all
  found by ``rulebase``'s own parser, reported here instead of raised);
* duplicate ids (rules across files, catalog entries per kind);
* missing or unknown sources, missing texts (catalog entries and questions);
* conditions no input can satisfy: contradictory ``==``/``in``, an empty
  range (``x < 1.0`` and ``x >= 2.0``), a comparison with an unknown
  version, or a value of a derived fact that no rule ever derives;
* steps without a declared ``effects`` (``effects = []`` declares none),
  effects on unknown facts, an invalid ``[[tls12_build]]`` table;
* catalog ids no rule ever concludes, derived fact kinds no rule derives;
* missing Portuguese (``pt``) texts (``missing_translations``).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any, Iterable

import attrs
from packaging.version import Version

from tmsrules.errors import RuleError
from tmsrules.rulebase import (
    CONCLUSION_KINDS,
    CatalogEntry,
    Condition,
    FieldType,
    Question,
    Ref,
    Rule,
    RuleBase,
    Vocabulary,
    _parse_rule,
    _read_toml,
    _strings,
    default_rules_dir,
    load_vocabulary,
)

#: The question facts of the contract ("endpoints[]." stands for every endpoint).
QUESTION_FACTS = (
    "tms.version",
    "tms.communication_security",
    "tms.windows",
    "tms.schannel",
    "tms.sql.version",
    "tms.sql.local",
    "endpoints[].software",
    "endpoints[].management",
)
#: The English text fields of each catalog kind: the first one found is the title.
TEXT_FIELDS = {
    "cause": ("summary", "detail"),
    "step": ("title", "why", "instructions"),
    "warning": ("text",),
    "alternative": ("title", "why"),
}
_SCHANNEL_PROTOCOLS = ("SSL 3.0", "TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3")
_SCHANNEL_STATES = ("enabled", "disabled", "default")


@attrs.frozen
class Problem:
    """One problem of a rules directory: file, rule or catalog id, message."""

    file: str
    where: str
    message: str

    def __str__(self) -> str:
        return ": ".join(part for part in (self.file, self.where, self.message) if part)


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, file: str, where: str, message: str) -> None:
        self.problems.append(Problem(file, where, message))

    def error(self, exc: RuleError, file: str, where: str) -> None:
        # RuleError.where reads "file: kind id"; keep our own file/where, its message
        self.add(file, where, exc.message)


# --------------------------------------------------------------------------- catalog


def _check_effect(effect: Any, c: _Collector, where: str) -> None:
    from tmsrules.simulate import CLEAR_PATHS, SELECTORS, SET_PATHS, TLS12_BUILD

    if not isinstance(effect, dict):
        c.add("catalog.toml", where, f"an effect must be a table, not {effect!r}")
        return
    if ("set" in effect) == ("clear" in effect):
        c.add("catalog.toml", where, f"an effect needs exactly one of set, clear: {effect!r}")
        return
    path = effect.get("set", effect.get("clear"))
    allowed = SET_PATHS if "set" in effect else CLEAR_PATHS
    if path not in allowed:
        c.add("catalog.toml", where, f"effect on unknown fact {path!r} (known: {', '.join(allowed)})")
        return
    keys = {"set", "clear", "value", "where", "protocol", "side"}
    for key in effect:
        if key not in keys:
            c.add("catalog.toml", where, f"effect has unknown key {key!r}")
    if "set" in effect and "value" not in effect:
        c.add("catalog.toml", where, f"effect sets {path} without a value")
    if "where" in effect:
        if not path.startswith("endpoints."):
            c.add("catalog.toml", where, f"where applies to endpoint facts only, not {path}")
        elif effect["where"] not in SELECTORS:
            c.add("catalog.toml", where, f"unknown endpoint selector {effect['where']!r} (known: {', '.join(SELECTORS)})")
    if path == "tms.schannel":
        if effect.get("protocol") not in _SCHANNEL_PROTOCOLS or effect.get("side") not in ("client", "server"):
            c.add("catalog.toml", where, "a tms.schannel effect needs protocol (SSL 3.0 .. TLS 1.3) and side (client, server)")
        if effect.get("value") not in _SCHANNEL_STATES:
            c.add("catalog.toml", where, f"a tms.schannel value is one of {', '.join(_SCHANNEL_STATES)}")
        return
    if "set" not in effect or "value" not in effect:
        return
    value = effect["value"]
    if path == "tms.sql.version" and value == TLS12_BUILD:
        return
    from tmsrules.errors import InputError
    from tmsrules.model import Environment

    # a set value must be valid input for that fact
    probe: dict[str, Any] = {}
    parts = path.split(".")
    if parts[0] == "endpoints":
        probe = {"endpoints": [{parts[1]: value}]}
    elif len(parts) == 2:
        probe = {"tms": {parts[1]: value}}
    else:
        probe = {"tms": {"sql": {parts[2]: value}}}
    try:
        Environment.from_dict(probe)
    except InputError as exc:
        c.add("catalog.toml", where, f"effect value {value!r} is not valid for {path}: {exc.message}")


def _catalog(data: dict[str, Any], sources: dict[str, str], c: _Collector) -> dict[tuple[str, str], CatalogEntry]:
    out: dict[tuple[str, str], CatalogEntry] = {}
    for kind in CONCLUSION_KINDS:
        items = data.get(kind, [])
        if not isinstance(items, list):
            c.add("catalog.toml", kind, f"[[{kind}]] must be an array of tables")
            continue
        for i, item in enumerate(items):
            ident = item.get("id") if isinstance(item, dict) else None
            where = f"{kind} {ident if isinstance(ident, str) else f'#{i + 1}'}"
            if not isinstance(ident, str) or not ident.strip():
                c.add("catalog.toml", where, "missing id")
                continue
            if (kind, ident) in out:
                c.add("catalog.toml", where, f"duplicate {kind} id {ident!r}")
                continue
            fields = TEXT_FIELDS[kind]
            title = item.get("title") or item.get("summary") or item.get("text")
            if not isinstance(title, str) or not title.strip():
                c.add("catalog.toml", where, f"missing text ({fields[0]})")
                title = ""
            for field in fields[1:]:
                value = item.get(field)
                if field == "instructions":
                    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
                        c.add("catalog.toml", where, "missing text (instructions: a non-empty list of strings)")
                elif not isinstance(value, str) or not value.strip():
                    c.add("catalog.toml", where, f"missing text ({field})")
            try:
                labels = _strings(item.get("sources", []), where, "sources")
            except RuleError as exc:
                c.add("catalog.toml", where, exc.message)
                labels = ()
            if not labels:
                c.add("catalog.toml", where, "missing sources (labels from knowledge.md)")
            for label in labels:
                if label not in sources:
                    c.add("catalog.toml", where, f"unknown source label {label!r}")
            if kind == "step":
                if "effects" not in item:
                    c.add("catalog.toml", where, "step declares no effects (write effects = [] if it changes no fact)")
                elif not isinstance(item["effects"], list):
                    c.add("catalog.toml", where, "effects must be a list")
                else:
                    for effect in item["effects"]:
                        _check_effect(effect, c, where)
            try:
                plan = _strings(item.get("plan", []), where, "plan")
                instructions = _strings(item.get("instructions", []), where, "instructions")
            except RuleError as exc:
                c.add("catalog.toml", where, exc.message)
                plan, instructions = (), ()
            if kind == "alternative" and not plan:
                c.add("catalog.toml", where, "an alternative needs a plan (a list of step ids)")
            out[(kind, ident)] = CatalogEntry(
                kind=kind,
                id=ident,
                title=title.strip(),
                detail=str(item.get("detail", "")).strip(),
                why=str(item.get("why", "")).strip(),
                instructions=instructions,
                sources=labels,
                order=int(item.get("order", 0)) if isinstance(item.get("order", 0), int) else 0,
                plan=plan,
                effects=tuple(item.get("effects", [])) if isinstance(item.get("effects", []), list) else (),
                pt=dict(item.get("pt", {})) if isinstance(item.get("pt", {}), dict) else {},
            )
    for (kind, ident), entry in out.items():
        for step in entry.plan:
            if ("step", step) not in out:
                c.add("catalog.toml", f"{kind} {ident}", f"plan names unknown step id {step!r}")
    return out


def _questions(data: dict[str, Any], c: _Collector) -> tuple[Question, ...]:
    out = []
    seen: set[str] = set()
    for i, item in enumerate(data.get("question", [])):
        fact = item.get("fact") if isinstance(item, dict) else None
        where = f"question {fact or f'#{i + 1}'}"
        if not isinstance(item, dict):
            c.add("catalog.toml", where, "a question must be a table")
            continue
        if fact not in QUESTION_FACTS:
            c.add("catalog.toml", where, f"unknown question fact {fact!r} (known: {', '.join(QUESTION_FACTS)})")
            continue
        if fact in seen:
            c.add("catalog.toml", where, "duplicate question fact")
            continue
        seen.add(fact)
        ask = item.get("ask")
        if not isinstance(ask, str) or not ask.strip():
            c.add("catalog.toml", where, "missing text (ask)")
            ask = ""
        answers = item.get("answers")
        if not isinstance(answers, list) or not answers:
            c.add("catalog.toml", where, "a question needs representative answers")
            answers = []
        out.append(
            Question(
                fact=fact,
                ask=ask.strip(),
                choices=tuple(item.get("choices", [])),
                answers=tuple(answers),
                assume=dict(item.get("assume", {})),
                pt=dict(item.get("pt", {})) if isinstance(item.get("pt", {}), dict) else {},
            )
        )
    return tuple(out)


# --------------------------------------------------------------------------- conditions


def _derivable(rules: Iterable[Rule], vocab: Vocabulary) -> dict[str, dict[str, set | None]]:
    """kind -> field -> the literal values rules conclude (None: any value, via a reference)."""
    out: dict[str, dict[str, set | None]] = {}
    for rule in rules:
        for conclusion in rule.conclusions:
            fields = out.setdefault(conclusion.kind, {})
            for name in vocab.kinds[conclusion.kind].fields:
                if name not in conclusion.values:
                    continue
                value = conclusion.values[name]
                current = fields.setdefault(name, set())
                if current is None:
                    continue
                if isinstance(value, Ref):
                    fields[name] = None
                else:
                    current.add(value)
    return out


def _ordered_empty(conds: list[Condition], ftype: FieldType) -> str | None:
    """Why order/equality conditions on one version or int field cannot all hold, or None."""
    if any(cond.op == "unknown" for cond in conds):
        if any(cond.op != "unknown" for cond in conds):
            return "an unknown value satisfies no comparison"
        return None
    lo: tuple[Any, bool] | None = None  # (value, inclusive)
    hi: tuple[Any, bool] | None = None
    points: set | None = None
    excluded: set = set()
    for cond in conds:
        op, v = cond.op, cond.right
        if op == "known":
            continue
        if op in (">", ">="):
            cand = (v, op == ">=")
            if lo is None or v > lo[0] or (v == lo[0] and not cand[1]):
                lo = cand
        elif op in ("<", "<="):
            cand = (v, op == "<=")
            if hi is None or v < hi[0] or (v == hi[0] and not cand[1]):
                hi = cand
        elif op == "==":
            points = {v} if points is None else points & {v}
        elif op == "in":
            points = set(v) if points is None else points & set(v)
        elif op == "!=":
            excluded.add(v)
        elif op == "not-in":
            excluded |= set(v)

    def inside(x: Any) -> bool:
        if lo is not None and (x < lo[0] or (x == lo[0] and not lo[1])):
            return False
        if hi is not None and (x > hi[0] or (x == hi[0] and not hi[1])):
            return False
        return x not in excluded

    if points is not None:
        return None if any(inside(p) for p in points) else "no value satisfies every comparison"
    if lo is None or hi is None:
        return None
    if ftype.name == "int":
        low = lo[0] if lo[1] else lo[0] + 1
        high = hi[0] if hi[1] else hi[0] - 1
        if low > high or all(x in excluded for x in range(low, min(high, low + len(excluded) + 1) + 1)):
            return "no value satisfies every comparison"
        return None
    if lo[0] < hi[0]:
        return None  # versions are dense: some version lies between
    if lo[0] == hi[0] and lo[1] and hi[1] and lo[0] not in excluded:
        return None
    return "no value satisfies every comparison"


def _unsatisfiable(rule: Rule, vocab: Vocabulary, derivable: dict[str, dict[str, set | None]] | None) -> list[str]:
    """Why some conditions of ``rule`` can never hold together (derivable None: skip derived values)."""
    found: list[str] = []
    groups: dict[tuple[str, str], list[Condition]] = {}
    for cond in rule.conditions:
        groups.setdefault((cond.left.alias, cond.left.field), []).append(cond)
    for (alias, field), conds in groups.items():
        kind = conds[0].left.kind
        ftype = conds[0].type
        shown = " and ".join(repr(cond.source) for cond in conds)
        if ftype.name in ("version", "int"):
            why = _ordered_empty(conds, ftype)
            if why:
                found.append(f"condition {shown} can never hold: {why}")
            continue
        literal = [cond for cond in conds if not isinstance(cond.right, Ref)]
        allowed: set | None = set(ftype.values) if ftype.is_enum else None
        spec = vocab.kinds[kind]
        if not spec.input and derivable is not None:
            values = derivable.get(kind, {}).get(field, set())
            if values is not None:
                allowed = set(values) if allowed is None else allowed & set(values)
                if kind not in derivable:
                    found.append(f"no rule derives {kind}, so {shown} can never hold")
                    continue
        for cond in literal:
            if cond.op == "==":
                allowed = {cond.right} if allowed is None else allowed & {cond.right}
            elif cond.op == "in":
                allowed = set(cond.right) if allowed is None else allowed & set(cond.right)
            elif cond.op == "!=" and allowed is not None:
                allowed -= {cond.right}
            elif cond.op == "not-in" and allowed is not None:
                allowed -= set(cond.right)
        if allowed is not None and not allowed:
            reason = "" if spec.input or derivable is None else f" (rules derive {kind}.{field} only as {', '.join(sorted(map(str, derivable.get(kind, {}).get(field) or ()))) or 'nothing'})"
            found.append(f"condition {shown} can never hold{reason}")
    return found


# --------------------------------------------------------------------------- translations


def missing_translations(rulebase: RuleBase) -> list[Problem]:
    """Every rule and catalog entry (and question) without its Portuguese (``pt``) text."""
    problems: list[Problem] = []
    for rule in rulebase.rules:
        if not rule.pt.strip():
            problems.append(Problem(rule.file, f"rule {rule.id}", "missing Portuguese text (pt)"))
    for (kind, ident), entry in sorted(rulebase.catalog.items()):
        pt = entry.pt or {}
        english = {
            "summary": entry.title if kind == "cause" else "",
            "title": entry.title if kind in ("step", "alternative") else "",
            "text": entry.title if kind == "warning" else "",
            "detail": entry.detail,
            "why": entry.why,
            "instructions": entry.instructions,
        }
        wanted = [f for f in TEXT_FIELDS[kind] if english.get(f)]
        missing = [f for f in wanted if not pt.get(f)]
        if "instructions" in wanted and "instructions" not in missing:
            if len(pt.get("instructions", ())) != len(entry.instructions):
                missing.append("instructions (one per English instruction)")
        if missing:
            problems.append(Problem("catalog.toml", f"{kind} {ident}", f"missing Portuguese text (pt.{', pt.'.join(missing)})"))
    for question in rulebase.questions:
        if not (question.pt or {}).get("ask"):
            problems.append(Problem("catalog.toml", f"question {question.fact}", "missing Portuguese text (pt.ask)"))
    return problems


# --------------------------------------------------------------------------- check


def check(rules_dir: Path | str | None = None) -> list[Problem]:
    """Every problem of a rules directory; an empty list when it is sound."""
    directory = Path(rules_dir) if rules_dir is not None else default_rules_dir()
    c = _Collector()
    if not (directory / "vocabulary.toml").is_file():
        c.add(str(directory), "", "not a rules directory (no vocabulary.toml)")
        return c.problems
    try:
        vocab = load_vocabulary(directory / "vocabulary.toml")
    except RuleError as exc:
        c.add("vocabulary.toml", "", str(exc))
        return c.problems
    if not (directory / "catalog.toml").is_file():
        c.add("catalog.toml", "", "missing (causes, steps, warnings, alternatives, questions, sources)")
        return c.problems
    try:
        catalog_data = _read_toml(directory / "catalog.toml")
    except RuleError as exc:
        c.add("catalog.toml", "", exc.message)
        return c.problems
    sources = catalog_data.get("sources", {})
    if not isinstance(sources, dict) or not sources:
        c.add("catalog.toml", "sources", "missing [sources] (labels from knowledge.md)")
        sources = {}
    catalog = _catalog(catalog_data, sources, c)
    questions = _questions(catalog_data, c)
    try:
        from tmsrules.simulate import load_tls12_builds

        load_tls12_builds(directory)
    except RuleError as exc:
        c.add("catalog.toml", exc.where.split(": ", 1)[-1], exc.message)

    ids = set(catalog)
    for kind in CONCLUSION_KINDS:  # as rulebase.load: conditions on cause.id etc. name catalog ids
        if kind in vocab.kinds:
            spec = vocab.kinds[kind]
            known = tuple(sorted(i for k, i in ids if k == kind))
            vocab.kinds[kind] = attrs.evolve(spec, fields={**spec.fields, "id": FieldType("enum", known)})

    rules: list[Rule] = []
    seen: dict[str, str] = {}
    #: a rule that could not be read may conclude anything: no coverage findings then
    incomplete = False
    for path in sorted(directory.glob("*.toml")):
        if path.name in ("vocabulary.toml", "catalog.toml"):
            continue
        try:
            data = _read_toml(path)
        except RuleError as exc:
            c.add(path.name, "", exc.message)
            continue
        for key in data:
            if key != "rule":
                c.add(path.name, "", f"unknown top-level key {key!r} (rule files hold [[rule]] tables)")
        items = data.get("rule", [])
        for i, item in enumerate(items if isinstance(items, list) else []):
            rid = item.get("id") if isinstance(item, dict) else None
            where = f"rule {rid if isinstance(rid, str) else f'#{i + 1}'}"
            if not isinstance(item, dict):
                c.add(path.name, where, "every [[rule]] must be a table")
                continue
            if isinstance(rid, str) and rid in seen:
                c.add(path.name, where, f"duplicate rule id (also in {seen[rid]})")
                continue
            try:
                rule = _parse_rule(item, path.name, vocab, ids)
            except RuleError as exc:
                incomplete = True
                c.error(exc, path.name, where)
                if isinstance(rid, str):
                    seen.setdefault(rid, path.name)
                continue
            seen[rule.id] = path.name
            for label in rule.sources:
                if label not in sources:
                    c.add(path.name, where, f"unknown source label {label!r}")
            rules.append(rule)
    if not rules and not c.problems:
        c.add(str(directory), "", "no rules found")

    derivable = _derivable(rules, vocab)
    for rule in rules:
        for message in _unsatisfiable(rule, vocab, None if incomplete else derivable):
            c.add(rule.file, f"rule {rule.id}", message)
    if incomplete:
        c.problems.extend(_translations(directory, vocab, rules, catalog, questions, sources, catalog_data))
        return c.problems

    # catalog ids and derived kinds that no rule concludes
    concluded: set[tuple[str, str]] = set()
    for rule in rules:
        for conclusion in rule.conclusions:
            if conclusion.kind in CONCLUSION_KINDS:
                concluded.add((conclusion.kind, conclusion.values["id"]))
            step = conclusion.values.get("step")
            if conclusion.kind == "alt_step" and isinstance(step, str):
                concluded.add(("step", step))
    for (kind, ident), entry in catalog.items():
        if kind == "alternative" and (kind, ident) in concluded:
            concluded |= {("step", s) for s in entry.plan}
    for kind, ident in sorted(catalog):
        if (kind, ident) not in concluded:
            c.add("catalog.toml", f"{kind} {ident}", "no rule ever concludes it")
    for name, spec in sorted(vocab.kinds.items()):
        if not spec.input and name not in CONCLUSION_KINDS and name not in derivable:
            c.add("vocabulary.toml", f"kind {name}", "derived fact kind that no rule derives")

    c.problems.extend(_translations(directory, vocab, rules, catalog, questions, sources, catalog_data))
    return c.problems


def _translations(directory, vocab, rules, catalog, questions, sources, catalog_data) -> list[Problem]:
    rulebase = RuleBase(
        directory=directory,
        vocabulary=vocab,
        rules=tuple(rules),
        catalog=catalog,
        questions=questions,
        sources=dict(sources),
        windows_names=dict(catalog_data.get("windows_names", {})),
    )
    return missing_translations(rulebase)


def _run(args: argparse.Namespace) -> int:
    directory = Path(args.dir) if args.dir is not None else default_rules_dir()
    problems = check(directory)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {directory}", file=sys.stderr)
        return 1
    print(f"{directory}: no problems")
    return 0


def add_check_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("check", help="validate rule files (exit 1 on a problem)")
    p.add_argument("dir", metavar="DIR", nargs="?", default=None, help="a rules directory (default: the shipped rules)")
    p.set_defaults(func=_run)
