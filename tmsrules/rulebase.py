"""Reading the knowledge base: rule files (TOML) into checked, typed objects.

Parse, then compile (``tmsrules.compiler``), then evaluate (``tmsrules.engine``)
are kept apart. This module only reads and checks; it knows nothing about
durable_rules. The files in ``rules/`` are data: there is no Python and no
eval in them. A condition is one line of a tiny language::

    <kind>[:<alias>].<field> <op> <value>
    <kind>[:<alias>].<field> is known | is unknown

with ``op`` one of ``== != < <= > >= in not-in`` and ``value`` a literal
(``15.0``, ``medium-high``, ``[low, medium]``, ``true``) or a reference to a
field of another fact of the same rule (``ep.id``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any, Iterable

import attrs
from packaging.version import InvalidVersion, Version

from tmsrules.errors import RuleError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CONCLUSION_KINDS = ("cause", "step", "warning", "alternative")
OPS = ("==", "!=", "<", "<=", ">", ">=", "in", "not-in")
ORDER_OPS = ("<", "<=", ">", ">=")
CONFIDENCE = ("H", "M", "L")
_REF = re.compile(r"^(?P<kind>[a-z][a-z0-9_]*)(?::(?P<alias>[a-z][a-z0-9_]*))?\.(?P<field>[a-z][a-z0-9_]*)$")
_COND = re.compile(
    r"^(?P<left>\S+)\s+(?:(?P<is>is)\s+(?P<known>known|unknown)|(?P<op>==|!=|<=|>=|<|>|in|not-in)\s+(?P<right>.+))$"
)


def default_rules_dir() -> Path:
    """``rules/`` beside the package in a checkout, else the copy in the wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "rules", here / "rules"):
        if (candidate / "vocabulary.toml").is_file():
            return candidate
    raise RuleError(str(here), "no rules directory found (expected rules/vocabulary.toml)")


# --------------------------------------------------------------------------- vocabulary


@attrs.frozen
class FieldType:
    """``version`` (compared as numbers), ``id`` (opaque identity), ``text``
    (set by rules only), ``int``, or an enumeration of allowed values."""

    name: str
    values: tuple[Any, ...] = ()

    @property
    def is_enum(self) -> bool:
        return self.name == "enum"

    def literal(self, raw: str, where: str) -> Any:
        """Convert a literal of a condition to the engine's value."""
        raw = raw.strip()
        if self.name == "version":
            try:
                return Version(raw)
            except InvalidVersion:
                raise RuleError(where, f"{raw!r} is not a version") from None
        if self.name == "int":
            if not re.fullmatch(r"-?\d+", raw):
                raise RuleError(where, f"{raw!r} is not a whole number")
            return int(raw)
        if self.name == "enum":
            value: Any = raw
            if raw in ("true", "false"):
                value = raw == "true"
            if value not in self.values:
                raise RuleError(where, f"{raw!r} is not one of {', '.join(map(_show, self.values))}")
            return value
        if self.name in ("id", "text"):
            return raw
        raise RuleError(where, f"unknown field type {self.name!r}")  # pragma: no cover


def _show(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


@attrs.frozen
class Kind:
    name: str
    #: asserted from the input (True) or concluded by rules (False)
    input: bool
    fields: dict[str, FieldType]
    doc: str = ""


@attrs.frozen
class Vocabulary:
    kinds: dict[str, Kind]
    status_patterns: tuple[tuple[str, str], ...]

    def field(self, kind: str, field: str, where: str) -> FieldType:
        if kind not in self.kinds:
            raise RuleError(where, f"unknown fact kind {kind!r} (known: {', '.join(sorted(self.kinds))})")
        k = self.kinds[kind]
        if field not in k.fields:
            raise RuleError(where, f"unknown field {kind}.{field} (known: {', '.join(sorted(k.fields))})")
        return k.fields[field]


def _field_type(spec: Any, where: str) -> FieldType:
    if isinstance(spec, list):
        if not spec:
            raise RuleError(where, "an enumeration needs at least one value")
        return FieldType("enum", tuple(spec))
    if spec in ("version", "id", "text", "int"):
        return FieldType(spec)
    raise RuleError(where, f"field type must be version, id, text, int or a list of values, not {spec!r}")


def load_vocabulary(path: Path) -> Vocabulary:
    data = _read_toml(path)
    kinds: dict[str, Kind] = {}
    for name, spec in data.get("kind", {}).items():
        where = f"{path.name}: kind {name}"
        fields = {f: _field_type(t, f"{where}.{f}") for f, t in spec.get("fields", {}).items()}
        kinds[name] = Kind(name=name, input=bool(spec.get("input", False)), fields=fields, doc=spec.get("doc", ""))
    patterns = tuple((p["contains"].lower(), p["status"]) for p in data.get("status", []))
    return Vocabulary(kinds=kinds, status_patterns=patterns)


# --------------------------------------------------------------------------- conditions


@attrs.frozen
class Ref:
    kind: str
    alias: str
    field: str

    def __str__(self) -> str:
        return f"{self.alias}.{self.field}"


@attrs.frozen
class Condition:
    left: Ref
    op: str  # one of OPS, or "known" / "unknown"
    right: Any = None  # a literal, a tuple of literals, or a Ref
    type: FieldType = FieldType("text")
    source: str = ""


def _parse_ref(text: str, vocab: Vocabulary, where: str) -> Ref | None:
    m = _REF.match(text.strip())
    if not m or m["kind"] not in vocab.kinds:
        return None
    vocab.field(m["kind"], m["field"], where)
    return Ref(kind=m["kind"], alias=m["alias"] or m["kind"], field=m["field"])


def parse_condition(text: str, vocab: Vocabulary, where: str) -> Condition:
    if not isinstance(text, str):
        raise RuleError(where, f"a condition must be a string, not {text!r}")
    m = _COND.match(text.strip())
    if not m:
        raise RuleError(where, f"cannot read condition {text!r} (form: 'kind.field op value')")
    left = _parse_ref(m["left"], vocab, where)
    if left is None:
        raise RuleError(where, f"{m['left']!r} is not a known fact field (form: kind.field)")
    ftype = vocab.field(left.kind, left.field, where)
    if m["is"]:
        if ftype.name != "version":
            raise RuleError(where, f"'is known/unknown' applies to version fields; {left} is {ftype.name} (compare with unknown)")
        return Condition(left=left, op=m["known"], type=ftype, source=text)
    op, raw = m["op"], m["right"].strip()
    if op in ORDER_OPS and ftype.name not in ("version", "int"):
        raise RuleError(where, f"{op} needs a version or number field; {left} is {ftype.name}")
    if op in ("in", "not-in"):
        if not (raw.startswith("[") and raw.endswith("]")):
            raise RuleError(where, f"{op} needs a list like [a, b], got {raw!r}")
        items = [item for item in raw[1:-1].split(",") if item.strip()]
        if not items:
            raise RuleError(where, f"{op} needs a non-empty list")
        right: Any = tuple(ftype.literal(item, where) for item in items)
        return Condition(left=left, op=op, right=right, type=ftype, source=text)
    ref = _parse_ref(raw, vocab, where)
    if ref is not None:
        if op != "==":
            raise RuleError(where, "only == may compare two facts")
        return Condition(left=left, op=op, right=ref, type=ftype, source=text)
    return Condition(left=left, op=op, right=ftype.literal(raw, where), type=ftype, source=text)


# --------------------------------------------------------------------------- rules


@attrs.frozen
class Conclusion:
    """What a rule concludes: a derived fact or a cause/step/warning/alternative."""

    kind: str  # a derived fact kind, or one of CONCLUSION_KINDS
    values: dict[str, Any]  # field -> literal or Ref

    def describe(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in self.values.items())
        return f"{self.kind}({shown})"


@attrs.frozen
class Rule:
    id: str
    file: str
    text: str
    sources: tuple[str, ...]
    confidence: str
    conditions: tuple[Condition, ...]
    conclusions: tuple[Conclusion, ...]
    note: str = ""
    pt: str = ""

    @property
    def aliases(self) -> dict[str, str]:
        """alias -> kind, in the order of first use (joins refer backwards)."""
        out: dict[str, str] = {}
        for c in self.conditions:
            out.setdefault(c.left.alias, c.left.kind)
            if isinstance(c.right, Ref):
                out.setdefault(c.right.alias, c.right.kind)
        return out

    @property
    def unconfirmed(self) -> bool:
        return self.confidence == "L"


@attrs.frozen
class CatalogEntry:
    """A cause, step, warning or alternative: its texts and sources."""

    kind: str
    id: str
    title: str
    detail: str = ""
    why: str = ""
    instructions: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    order: int = 0
    plan: tuple[str, ...] = ()
    effects: tuple[dict[str, Any], ...] = ()
    pt: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class Question:
    fact: str  # contract path, with [i] for endpoint facts
    ask: str
    choices: tuple[str, ...]
    answers: tuple[Any, ...]  # representative answers tried when deciding whether to ask
    #: other unknown facts taken as given while answers are tried (the risky case)
    assume: dict[str, Any] = attrs.field(factory=dict)
    pt: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class RuleBase:
    directory: Path
    vocabulary: Vocabulary
    rules: tuple[Rule, ...]
    catalog: dict[tuple[str, str], CatalogEntry]
    questions: tuple[Question, ...]
    sources: dict[str, str]
    windows_names: dict[str, str]

    def entry(self, kind: str, id: str) -> CatalogEntry:
        return self.catalog[(kind, id)]

    def entries(self, kind: str) -> list[CatalogEntry]:
        return sorted((e for (k, _), e in self.catalog.items() if k == kind), key=lambda e: (e.order, e.id))

    def rule(self, id: str) -> Rule:
        for r in self.rules:
            if r.id == id:
                return r
        raise KeyError(id)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(path.name, f"not valid TOML: {exc}") from None
    except OSError as exc:
        raise RuleError(str(path), f"cannot read: {exc.strerror}") from None


def _strings(value: Any, where: str, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RuleError(where, f"{what} must be a list of strings")
    return tuple(value)


RULE_KEYS = ("id", "text", "sources", "confidence", "when", "then", "note", "pt")


def _parse_rule(data: dict[str, Any], file: str, vocab: Vocabulary, catalog_ids: set[tuple[str, str]]) -> Rule:
    rid = data.get("id")
    where = f"{file}: rule {rid or '?'}"
    if not isinstance(rid, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", rid):
        raise RuleError(where, "every rule needs an id of lowercase letters, digits and dashes")
    for key in data:
        if key not in RULE_KEYS:
            raise RuleError(where, f"unknown key {key!r} (known: {', '.join(RULE_KEYS)})")
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise RuleError(where, "missing text (what the rule says, for people)")
    sources = _strings(data.get("sources", []), where, "sources")
    if not sources:
        raise RuleError(where, "missing sources (labels from knowledge.md)")
    confidence = data.get("confidence", "H")
    if confidence not in CONFIDENCE:
        raise RuleError(where, f"confidence must be one of {', '.join(CONFIDENCE)}")
    if confidence == "L" and "unconfirmed" not in text.lower():
        raise RuleError(where, "a rule resting on an unconfirmed (L) fact must say 'unconfirmed' in its text")
    when = data.get("when")
    if not isinstance(when, list) or not when:
        raise RuleError(where, "missing when (a list of conditions)")
    conditions = tuple(parse_condition(c, vocab, where) for c in when)
    then = data.get("then")
    if not isinstance(then, list) or not then:
        raise RuleError(where, "missing then (a list of conclusions)")
    aliases: dict[str, str] = {}
    for c in conditions:
        aliases.setdefault(c.left.alias, c.left.kind)
        if isinstance(c.right, Ref):
            if c.right.alias not in aliases:
                raise RuleError(where, f"{c.source!r} refers to {c.right.alias}, which no earlier condition matches")
        if aliases.get(c.left.alias) != c.left.kind:
            raise RuleError(where, f"alias {c.left.alias} names two kinds")
    conclusions = tuple(_parse_conclusion(t, where, vocab, aliases, catalog_ids) for t in then)
    pt = data.get("pt", "")
    return Rule(
        id=rid,
        file=file,
        text=text.strip(),
        sources=sources,
        confidence=confidence,
        conditions=conditions,
        conclusions=conclusions,
        note=str(data.get("note", "")).strip(),
        pt=pt.strip() if isinstance(pt, str) else "",
    )


def _value(raw: Any, ftype: FieldType, where: str, vocab: Vocabulary, aliases: dict[str, str]) -> Any:
    if isinstance(raw, str) and raw.startswith("$"):
        ref = _parse_ref(raw[1:], vocab, where)
        if ref is None or ref.alias not in aliases or aliases[ref.alias] != ref.kind:
            raise RuleError(where, f"{raw!r} does not name a field of a fact this rule matches")
        return ref
    if ftype.name == "enum":
        if raw not in ftype.values:
            raise RuleError(where, f"{raw!r} is not one of {', '.join(map(_show, ftype.values))}")
        return raw
    if ftype.name in ("text", "id"):
        if not isinstance(raw, str):
            raise RuleError(where, f"{raw!r} must be a string")
        return raw
    if ftype.name == "int" and (isinstance(raw, bool) or not isinstance(raw, int)):
        raise RuleError(where, f"{raw!r} must be a whole number")
    if ftype.name == "version":
        raise RuleError(where, "rules may not conclude version fields")
    return raw


def _parse_conclusion(
    data: Any, where: str, vocab: Vocabulary, aliases: dict[str, str], catalog_ids: set[tuple[str, str]]
) -> Conclusion:
    if not isinstance(data, dict):
        raise RuleError(where, f"a conclusion must be a table, not {data!r}")
    keys = ["derive"] if "derive" in data else [k for k in CONCLUSION_KINDS if k in data]
    if len(keys) != 1:
        raise RuleError(where, f"a conclusion needs exactly one of derive, {', '.join(CONCLUSION_KINDS)}")
    key = keys[0]
    if key == "derive":
        kind = data["derive"]
        if kind not in vocab.kinds or vocab.kinds[kind].input or kind in CONCLUSION_KINDS:
            raise RuleError(where, f"cannot derive {kind!r}: not a derived fact kind of the vocabulary")
        fields = {k: v for k, v in data.items() if k != "derive"}
    else:
        kind = key
        ident = data[key]
        if (key, ident) not in catalog_ids:
            raise RuleError(where, f"unknown {key} id {ident!r} (not in catalog.toml)")
        fields = {"id": ident, **{k: v for k, v in data.items() if k != key}}
    spec = vocab.kinds[kind]
    values: dict[str, Any] = {}
    for name, raw in fields.items():
        if name not in spec.fields:
            raise RuleError(where, f"{kind} has no field {name!r} (known: {', '.join(sorted(spec.fields))})")
        values[name] = _value(raw, spec.fields[name], where, vocab, aliases)
    return Conclusion(kind=kind, values=values)


def _catalog(data: dict[str, Any], file: str) -> dict[tuple[str, str], CatalogEntry]:
    out: dict[tuple[str, str], CatalogEntry] = {}
    for kind in CONCLUSION_KINDS:
        for i, item in enumerate(data.get(kind, [])):
            where = f"{file}: {kind} {item.get('id', i)}"
            ident = item.get("id")
            if not isinstance(ident, str):
                raise RuleError(where, "missing id")
            if (kind, ident) in out:
                raise RuleError(where, f"duplicate {kind} id {ident!r}")
            title = item.get("title") or item.get("summary") or item.get("text")
            if not isinstance(title, str) or not title.strip():
                raise RuleError(where, "missing title/summary/text")
            sources = _strings(item.get("sources", []), where, "sources")
            if not sources:
                raise RuleError(where, "missing sources")
            out[(kind, ident)] = CatalogEntry(
                kind=kind,
                id=ident,
                title=title.strip(),
                detail=str(item.get("detail", "")).strip(),
                why=str(item.get("why", "")).strip(),
                instructions=_strings(item.get("instructions", []), where, "instructions"),
                sources=sources,
                order=int(item.get("order", 0)),
                plan=_strings(item.get("plan", []), where, "plan"),
                effects=tuple(item.get("effects", [])),
                pt=dict(item.get("pt", {})),
            )
    return out


def _questions(data: dict[str, Any], file: str) -> tuple[Question, ...]:
    out = []
    for item in data.get("question", []):
        where = f"{file}: question {item.get('fact', '?')}"
        fact, ask = item.get("fact"), item.get("ask")
        if not isinstance(fact, str) or not isinstance(ask, str):
            raise RuleError(where, "a question needs fact and ask")
        answers = item.get("answers")
        if not isinstance(answers, list) or not answers:
            raise RuleError(where, "a question needs representative answers")
        out.append(
            Question(
                fact=fact,
                ask=ask.strip(),
                choices=_strings(item.get("choices", []), where, "choices"),
                answers=tuple(answers),
                assume=dict(item.get("assume", {})),
                pt=dict(item.get("pt", {})),
            )
        )
    return tuple(out)


def load(directory: Path | str | None = None) -> RuleBase:
    """Read and check every file of a rules directory."""
    directory = Path(directory) if directory is not None else default_rules_dir()
    if not (directory / "vocabulary.toml").is_file():
        raise RuleError(str(directory), "not a rules directory (no vocabulary.toml)")
    vocab = load_vocabulary(directory / "vocabulary.toml")
    catalog_data = _read_toml(directory / "catalog.toml")
    catalog = _catalog(catalog_data, "catalog.toml")
    questions = _questions(catalog_data, "catalog.toml")
    sources = dict(catalog_data.get("sources", {}))
    windows_names = dict(catalog_data.get("windows_names", {}))
    for entry in catalog.values():
        for label in entry.sources:
            if label not in sources:
                raise RuleError(f"catalog.toml: {entry.kind} {entry.id}", f"unknown source label {label!r}")
    ids = set(catalog)
    for kind in CONCLUSION_KINDS:  # conditions on cause.id etc. name catalog ids
        if kind in vocab.kinds:
            spec = vocab.kinds[kind]
            known = tuple(sorted(i for k, i in ids if k == kind))
            vocab.kinds[kind] = attrs.evolve(spec, fields={**spec.fields, "id": FieldType("enum", known)})
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.toml")):
        if path.name in ("vocabulary.toml", "catalog.toml"):
            continue
        data = _read_toml(path)
        for key in data:
            if key != "rule":
                raise RuleError(path.name, f"unknown top-level key {key!r} (rule files hold [[rule]] tables)")
        for item in data.get("rule", []):
            if not isinstance(item, dict):
                raise RuleError(path.name, "every [[rule]] must be a table")
            rule = _parse_rule(item, path.name, vocab, ids)
            if rule.id in seen:
                raise RuleError(f"{path.name}: rule {rule.id}", f"duplicate rule id (also in {seen[rule.id]})")
            for label in rule.sources:
                if label not in sources:
                    raise RuleError(f"{path.name}: rule {rule.id}", f"unknown source label {label!r}")
            seen[rule.id] = path.name
            rules.append(rule)
    if not rules:
        raise RuleError(str(directory), "no rules found")
    return RuleBase(
        directory=directory,
        vocabulary=vocab,
        rules=tuple(rules),
        catalog=catalog,
        questions=questions,
        sources=sources,
        windows_names=windows_names,
    )

