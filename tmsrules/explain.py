"""Explanations of a diagnosis: HOW an id came out, and WHY NOT when it did not.

``explain(diagnosis, id)`` walks back from the firings that concluded a
cause, plan step, warning or alternative through the facts they matched to
the firings that derived those facts, down to the input facts, and returns
the chain in firing order (each step names the earlier steps it rests on).

``why_not(diagnosis, id)`` takes every rule that could conclude ``id`` and,
against the final facts of this session, finds the binding of its facts that
satisfies the most conditions, and lists the conditions that still fail.

Both return plain data (JSON-ready dicts) with a ``text`` rendering. The
``tmsrules explain FILE ID`` subcommand prints either.
"""

from __future__ import annotations

import itertools
import json
import sys
from typing import Any, Iterable, Mapping

from tmsrules.errors import InputError
from tmsrules.rulebase import Ref, Rule

KINDS = ("cause", "step", "warning", "alternative")
#: most bindings tried per rule in why_not (rules join few facts; this is a guard)
MAX_BINDINGS = 50_000

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "how": "How '{id}' ({kind}) came out",
        "why_not": "Why '{id}' ({kind}) did not come out",
        "found_instead": "'{id}' did come out; see the explanation above.",
        "rule": "rule",
        "matched": "matched",
        "concluded": "concluded",
        "input": "input",
        "from": "from step",
        "verdict_of": "verdict of {what} read off its possible outcomes",
        "sql": "the local SQL Server",
        "failed": "failed",
        "no_rule": "no rule concludes it",
        "no_fact": "no {kind} fact exists in this session",
        "derived_by": "rules that derive it: {rules}",
        "is_unknown": "{left} is unknown",
        "is_known": "{left} is {value}",
        "mismatch": "{left} is {value}",
        "needs": "needs {cond}",
        "all_hold": "all conditions hold for some facts, but the rule's other facts did not exist",
        "inputs": "Input facts used",
        "unknown": "unknown",
        "family": "family",
        "product": "product",
    },
    "pt-BR": {
        "how": "Como '{id}' ({kind}) foi concluído",
        "why_not": "Por que '{id}' ({kind}) não foi concluído",
        "found_instead": "'{id}' foi concluído; veja a explicação acima.",
        "rule": "regra",
        "matched": "fatos usados",
        "concluded": "concluiu",
        "input": "entrada",
        "from": "do passo",
        "verdict_of": "veredito de {what} obtido dos seus resultados possíveis",
        "sql": "o SQL Server local",
        "failed": "falhou",
        "no_rule": "nenhuma regra conclui isso",
        "no_fact": "não existe nenhum fato {kind} nesta sessão",
        "derived_by": "regras que o derivam: {rules}",
        "is_unknown": "{left} é desconhecido",
        "is_known": "{left} é {value}",
        "mismatch": "{left} é {value}",
        "needs": "exige {cond}",
        "all_hold": "todas as condições valem para alguns fatos, mas os outros fatos da regra não existiam",
        "inputs": "Fatos de entrada usados",
        "unknown": "desconhecido",
        "family": "família",
        "product": "produto",
    },
}

KIND_NAMES = {
    "en": {"cause": "cause", "step": "plan step", "warning": "warning", "alternative": "alternative"},
    "pt-BR": {"cause": "causa", "step": "passo do plano", "warning": "aviso", "alternative": "alternativa"},
}


def _labels(lang: str) -> dict[str, str]:
    if lang not in LABELS:
        raise InputError("lang", f"unknown language {lang!r:.20}", ", ".join(LABELS))
    return LABELS[lang]


def _rule_text(rule: Rule, lang: str) -> str:
    if lang == "pt-BR" and getattr(rule, "pt", ""):
        return rule.pt
    return rule.text


def _session(diagnosis: Any):
    held = getattr(diagnosis, "_explainer", None)
    if held is None:
        raise InputError("diagnosis", "has no inference attached", "a Diagnosis made by tmsrules.diagnose")
    return held[0], held[1]


def _lang(diagnosis: Any, lang: str | None) -> str:
    """The language asked for, else the one the diagnosis was made in."""
    if lang is not None:
        return lang
    held = getattr(diagnosis, "_explainer", None)
    return held[2] if held is not None and len(held) > 2 else "en"


def _kind_of(diagnoser: Any, id: str, diagnosis: Any = None) -> str:
    kinds = [kind for kind in KINDS if (kind, id) in diagnoser.rulebase.catalog]
    if diagnosis is not None:
        # an id that is both a step and an alternative: the kind under which it came out
        for kind in kinds:
            if kind == "step" and id in diagnosis.step_ids:
                return kind
        # not in the plan: an alternative that came out is that alternative,
        # not the step of the same id inside its plan
        if "alternative" in kinds and _came_out(diagnosis, "alternative", id):
            return "alternative"
        for kind in kinds:
            if _came_out(diagnosis, kind, id):
                return kind
    if "step" in kinds and "alternative" in kinds:
        return "alternative"  # the contract names these ids as alternative plans
    if kinds:
        return kinds[0]
    known = sorted({i for (k, i) in diagnoser.rulebase.catalog if k in KINDS})
    raise InputError("id", f"unknown id {id!r:.60}", "a cause, plan step, warning or alternative id: " + ", ".join(known))


def _came_out(diagnosis: Any, kind: str, id: str) -> bool:
    if kind == "cause":
        return id in diagnosis.cause_ids
    if kind == "warning":
        return id in diagnosis.warning_ids
    if kind == "alternative":
        return any(a.id == id for a in diagnosis.alternatives)
    return id in diagnosis.step_ids or any(s.id == id for a in diagnosis.alternatives for s in a.plan)


def _concludes(conclusion: Mapping[str, Any], kind: str, id: str, alt_plans: Mapping[str, tuple] | None = None) -> bool:
    """Does ``conclusion`` put ``id`` of ``kind`` into the diagnosis? A step also
    comes out through an alternative whose catalog plan holds it, or an alt_step."""
    if conclusion.get("t") == kind and conclusion.get("id") == id:
        return True
    if kind != "step":
        return False
    if conclusion.get("t") == "alt_step" and conclusion.get("step") == id:
        return True
    return conclusion.get("t") == "alternative" and id in (alt_plans or {}).get(conclusion.get("id"), ())


def _alt_plans(diagnoser: Any) -> dict[str, tuple]:
    return {e.id: tuple(e.plan) for e in diagnoser.rulebase.entries("alternative")}


def _key(fact: Mapping[str, Any]) -> str:
    return json.dumps(fact, sort_keys=True, default=str)


# --------------------------------------------------------------------------- describing facts


class _Facts:
    """Reads engine facts back in the words of the input."""

    def __init__(self, diagnoser: Any, inference: Any, lang: str = "en"):
        self.d = diagnoser
        self.inf = inference
        self.vocab = diagnoser.rulebase.vocabulary
        self.L = _labels(lang)

    def names(self, profile: str) -> list[str]:
        if profile in (None, "-"):
            return []
        env = self.inf.env
        return sorted({env.endpoint_name(i) for i in self.inf.factset.members.get(profile, ())})

    def value(self, fact: Mapping[str, Any], field: str, raw: bool = False) -> Any:
        kind = self.vocab.kinds.get(fact.get("t"))
        ftype = kind.fields.get(field) if kind is not None else None
        if ftype is not None and ftype.name == "version":
            if not fact.get(f"{field}_known", False):
                return "unknown" if raw else self.L["unknown"]
            return self.inf.factset.display.get(fact.get("id", ""), {}).get(field, fact.get(field))
        if field in ("ep",) and isinstance(fact.get(field), str):
            names = self.names(fact[field])
            return ", ".join(names) if names else fact[field]
        value = fact.get(field)
        if value == "unknown" and not raw:  # the engine's symbol for a fact nobody gave
            return self.L["unknown"]
        return value

    def label(self, fact: Mapping[str, Any], field: str) -> str:
        """A readable name for ``field`` of ``fact``: the input path where there is one."""
        t = fact.get("t")
        if t == "tms":
            return {
                "version": "tms.version",
                "security": "tms.communication_security",
                "windows": "tms.windows",
                "reboot_pending": "tms.reboot_pending",
                "schannel": "tms.schannel",
            }.get(field, f"tms.{field}")
        if t == "channel":
            return f"tms.schannel[{fact.get('protocol')}].{fact.get('side')}"
        if t == "sql":
            return "tms.sql.local" if field == "local" else f"tms.sql.version ({self.L.get(field, field)})"
        if t == "obs":
            return "observations.client_hello"
        if t == "event":
            return "observations.sql_event_ids"
        if t == "ep":
            names = ", ".join(self.names(fact.get("id"))) or fact.get("id")
            planned = fact.get("variant") == "planned"
            path = {
                "mgmt": "management",
                "family": f"planned_software ({self.L['family']})" if planned else f"software ({self.L['family']})",
                "version": "planned_software" if planned else "software",
                "status": "status",
                "accepts_tls10": "accepts",
                "accepts_tls11": "accepts",
                "accepts_tls12": "accepts",
            }.get(field, field)
            return f"endpoint {names}: {path}"
        if "ep" in fact and field != "ep":
            names = ", ".join(self.names(fact.get("ep")))
            if names:
                return f"{t}.{field} [{names}]"
        if t == "channel" or "protocol" in fact and "side" in fact:
            return f"{t}[{fact.get('protocol')} {fact.get('side')}].{field}"
        return f"{t}.{field}"

    @staticmethod
    def visible(fact: Mapping[str, Any], fields: Iterable[str]) -> list[str]:
        """The fields worth showing: structural ones (ids, the protocol and side
        already in the label) are left out unless nothing else is left."""
        fields = list(fields)
        hidden = {"id", "variant"}
        if "protocol" in fact and "side" in fact:
            hidden |= {"protocol", "side"}
        shown = [f for f in fields if f not in hidden]
        return shown or fields

    def describe(self, fact: Mapping[str, Any], fields: Iterable[str]) -> str:
        parts = [f"{self.label(fact, f)} = {self.value(fact, f)}" for f in self.visible(fact, fields)]
        return "; ".join(parts) if parts else str(fact.get("t"))

    def shown(self, fact: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k in fact:
            if k.endswith("_known"):
                continue
            out[k] = self.value(fact, k, raw=True)
        if fact.get("t") == "ep":
            out["endpoints"] = self.names(fact.get("id"))
        return out


def _fields_of(rule: Rule, alias: str) -> list[str]:
    fields: list[str] = []
    for c in rule.conditions:
        if c.left.alias == alias and c.left.field not in fields:
            fields.append(c.left.field)
        if isinstance(c.right, Ref) and c.right.alias == alias and c.right.field not in fields:
            fields.append(c.right.field)
    return fields


# --------------------------------------------------------------------------- HOW


def explain(diagnosis: Any, id: str, lang: str | None = None) -> dict[str, Any]:
    """HOW ``id`` came out: a chain of rule firings down to input facts.

    For an id that did not come out, this returns :func:`why_not` instead
    (``found`` tells which).
    """
    lang = _lang(diagnosis, lang)
    L = _labels(lang)
    diagnoser, inference = _session(diagnosis)
    kind = _kind_of(diagnoser, id, diagnosis)
    if not _came_out(diagnosis, kind, id):
        return why_not(diagnosis, id, lang=lang)
    facts = _Facts(diagnoser, inference, lang)
    firings = list(inference.firings)

    producers: dict[str, list[int]] = {}
    for i, firing in enumerate(firings):
        for c in firing.conclusions:
            producers.setdefault(_key(c), []).append(i)
    outcome_firings: dict[str, list[int]] = {}
    sql_outcome_firings: list[int] = []
    for i, firing in enumerate(firings):
        for c in firing.conclusions:
            if c["t"] == "outcome":
                outcome_firings.setdefault(c["ep"], []).append(i)
            elif c["t"] == "sql_outcome":
                sql_outcome_firings.append(i)
    planned_of = {cid: pid for cid, pid in inference.factset.endpoint_profiles}

    # which firings (and stage-2 verdict facts) the chain needs
    needed: set[int] = set()
    verdicts: dict[str, list[int]] = {}  # verdict fact key -> outcome firings
    plans = _alt_plans(diagnoser)
    stack = [i for i, f in enumerate(firings) if any(_concludes(c, kind, id, plans) for c in f.conclusions)]
    while stack:
        i = stack.pop()
        if i in needed:
            continue
        needed.add(i)
        for fact in firings[i].facts.values():
            t = fact.get("t")
            if t == "verdict":
                ep = fact.get("ep")
                sources = list(outcome_firings.get(ep, ()))
                if planned_of.get(ep):
                    sources += outcome_firings.get(planned_of[ep], [])
                verdicts[_key(fact)] = sources
                stack.extend(sources)
            elif t == "sql_verdict":
                verdicts[_key(fact)] = list(sql_outcome_firings)
                stack.extend(sql_outcome_firings)
            else:
                stack.extend(producers.get(_key(fact), ()))

    order = sorted(needed)
    number = {i: n + 1 for n, i in enumerate(order)}
    chain: list[dict[str, Any]] = []
    inputs: dict[str, Any] = {}
    for i in order:
        firing = firings[i]
        rule = firing.rule
        matched = []
        for alias, fact in firing.facts.items():
            fields = _fields_of(rule, alias)
            t = fact.get("t")
            entry: dict[str, Any] = {"alias": alias, "kind": t, "fact": facts.shown(fact), "text": facts.describe(fact, fields)}
            kind_def = diagnoser.rulebase.vocabulary.kinds.get(t)
            if t in ("verdict", "sql_verdict"):
                what = ", ".join(facts.names(fact.get("ep"))) if t == "verdict" else L["sql"]
                entry["derived"] = L["verdict_of"].format(what=what or fact.get("ep"))
                entry["from"] = sorted({number[j] for j in verdicts.get(_key(fact), ()) if j in number})
            elif kind_def is not None and kind_def.input:
                entry["input"] = True
                for f in facts.visible(fact, fields):
                    inputs.setdefault(facts.label(fact, f), facts.value(fact, f))
            else:
                entry["from"] = sorted({number[j] for j in producers.get(_key(fact), ()) if j in number})
            matched.append(entry)
        chain.append(
            {
                "step": number[i],
                "rule": rule.id,
                "text": _rule_text(rule, lang),
                "sources": list(rule.sources),
                "matched": matched,
                "concluded": [
                    c["t"] + "(" + ", ".join(f"{k}={facts.value(c, k)}" for k in c if k != "t") + ")"
                    for c in firing.conclusions
                ],
            }
        )
    result = {
        "question": "how",
        "id": id,
        "kind": kind,
        "found": True,
        "chain": chain,
        "inputs": inputs,
    }
    result["text"] = render_how(result, lang)
    return result


def render_how(result: Mapping[str, Any], lang: str = "en") -> str:
    L = _labels(lang)
    kind = KIND_NAMES[lang][result["kind"]]
    lines = [L["how"].format(id=result["id"], kind=kind)]
    for step in result["chain"]:
        lines.append(f"{step['step']:>3}. {L['rule']} {step['rule']}: {step['text']}")
        for m in step["matched"]:
            if m.get("input"):
                origin = f"({L['input']})"
            elif m.get("derived"):
                origin = f"({m['derived']}; {L['from']} {', '.join(map(str, m['from']))})" if m["from"] else f"({m['derived']})"
            else:
                origin = f"({L['from']} {', '.join(map(str, m['from']))})" if m.get("from") else ""
            lines.append(f"       {L['matched']}: {m['text']} {origin}".rstrip())
        lines.append(f"       {L['concluded']}: {'; '.join(step['concluded'])}")
    if result["inputs"]:
        lines.append(L["inputs"] + ":")
        for path, value in result["inputs"].items():
            lines.append(f"  - {path} = {value}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- WHY NOT


def _final_facts(inference: Any) -> dict[str, list[dict[str, Any]]]:
    by_kind: dict[str, list[dict[str, Any]]] = {}
    seen: set[str] = set()

    def add(fact: Mapping[str, Any]) -> None:
        k = _key(fact)
        if k not in seen:
            seen.add(k)
            by_kind.setdefault(fact["t"], []).append(dict(fact))

    for fact in inference.factset.facts:
        add(fact)
    for firing in inference.firings:
        for fact in firing.facts.values():
            if fact.get("t") in ("verdict", "sql_verdict"):
                add(fact)
    if "verdict" not in by_kind:
        for cid, value in inference.profile_verdicts.items():
            add({"t": "verdict", "id": f"verdict:{cid}", "ep": cid, "value": value, "inferred": value})
    if "sql_verdict" not in by_kind:
        add({"t": "sql_verdict", "id": "sql_verdict", "value": inference.sql_verdict})
    for firing in inference.firings:
        for c in firing.conclusions:
            add(c)
    return by_kind


def _holds(c: Any, binding: Mapping[str, Mapping[str, Any]]) -> bool:
    from tmsrules.compiler import engine_value

    fact = binding.get(c.left.alias)
    if fact is None:
        return False
    field = c.left.field
    if c.op == "known":
        return fact.get(f"{field}_known") is True
    if c.op == "unknown":
        return fact.get(f"{field}_known") is False
    if c.type.name == "version" and fact.get(f"{field}_known") is not True:
        return False
    value = fact.get(field)
    if isinstance(c.right, Ref):
        other = binding.get(c.right.alias)
        return other is not None and field in fact and value == other.get(c.right.field)
    if field not in fact:
        return False
    if c.op == "==":
        return value == engine_value(c.right)
    if c.op == "!=":
        return value != engine_value(c.right)
    if c.op == "in":
        return value in [engine_value(v) for v in c.right]
    if c.op == "not-in":
        return value not in [engine_value(v) for v in c.right]
    right = engine_value(c.right)
    try:
        return {"<": value < right, "<=": value <= right, ">": value > right, ">=": value >= right}[c.op]
    except TypeError:
        return False


def _best_binding(rule: Rule, by_kind: Mapping[str, list[dict[str, Any]]]):
    aliases = rule.aliases
    pools = [by_kind.get(kind, []) or [None] for kind in aliases.values()]
    best = None
    best_score = -1
    for combo in itertools.islice(itertools.product(*pools), MAX_BINDINGS):
        binding = {a: f for a, f in zip(aliases, combo) if f is not None}
        score = sum(1 for c in rule.conditions if _holds(c, binding))
        if score > best_score:
            best, best_score = binding, score
            if score == len(rule.conditions):
                break
    return best or {}


def why_not(diagnosis: Any, id: str, lang: str | None = None) -> dict[str, Any]:
    """WHY NOT ``id``: for each rule that could conclude it, the conditions that failed.

    For an id that did come out, this returns :func:`explain` instead.
    """
    lang = _lang(diagnosis, lang)
    L = _labels(lang)
    diagnoser, inference = _session(diagnosis)
    kind = _kind_of(diagnoser, id, diagnosis)
    if _came_out(diagnosis, kind, id):
        return explain(diagnosis, id, lang=lang)
    facts = _Facts(diagnoser, inference, lang)
    by_kind = _final_facts(inference)
    derivers: dict[str, list[str]] = {}
    for rule in diagnoser.rulebase.rules:
        for conclusion in rule.conclusions:
            derivers.setdefault(conclusion.kind, []).append(rule.id)

    plans = _alt_plans(diagnoser)
    rules = []
    for rule in diagnoser.rulebase.rules:
        literal = ({"t": c.kind, **{k: v for k, v in c.values.items() if not isinstance(v, Ref)}} for c in rule.conclusions)
        if not any(_concludes(c, kind, id, plans) for c in literal):
            continue
        binding = _best_binding(rule, by_kind)
        failed, satisfied = [], []
        for c in rule.conditions:
            item: dict[str, Any] = {"condition": c.source}
            if _holds(c, binding):
                satisfied.append(item)
                continue
            fact = binding.get(c.left.alias)
            if fact is None:
                item["reason"] = L["no_fact"].format(kind=c.left.kind)
                makers = sorted(set(derivers.get(c.left.kind, ())))
                if makers:
                    item["derived_by"] = makers
            else:
                left = facts.label(fact, c.left.field)
                if c.type.name == "version" and fact.get(f"{c.left.field}_known") is not True:
                    item["reason"] = L["is_unknown"].format(left=left)
                else:
                    item["reason"] = L["mismatch"].format(left=left, value=facts.value(fact, c.left.field))
                item["fact"] = facts.shown(fact)
            failed.append(item)
        rules.append(
            {
                "rule": rule.id,
                "text": _rule_text(rule, lang),
                "failed": failed,
                "satisfied": satisfied,
            }
        )
    result = {"question": "why-not", "id": id, "kind": kind, "found": False, "rules": rules}
    result["text"] = render_why_not(result, lang)
    return result


def render_why_not(result: Mapping[str, Any], lang: str = "en") -> str:
    L = _labels(lang)
    kind = KIND_NAMES[lang][result["kind"]]
    lines = [L["why_not"].format(id=result["id"], kind=kind)]
    if not result["rules"]:
        lines.append("  " + L["no_rule"])
    for r in result["rules"]:
        lines.append(f"  {L['rule']} {r['rule']}: {r['text']}")
        for item in r["failed"]:
            extra = ""
            if item.get("derived_by"):
                extra = " (" + L["derived_by"].format(rules=", ".join(item["derived_by"])) + ")"
            lines.append(f"    {L['failed']}: {item['condition']}: {item['reason']}{extra}")
        if not r["failed"]:
            lines.append("    " + L["all_hold"])
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- CLI


def _explain_command(args: Any) -> int:
    from tmsrules import diagnose
    from tmsrules.cli import read_json

    data = read_json(args.file)
    d = diagnose(data, lang=args.lang)
    result = d.explain(args.id, lang=args.lang)
    if args.json:
        sys.stdout.write(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
    else:
        sys.stdout.write(result["text"])
    return 0


def add_explain_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "explain",
        help="explain how a cause/step/warning came out, or why it did not",
    )
    p.add_argument("file", metavar="FILE", help="environment JSON file, or - for stdin")
    p.add_argument("id", metavar="ID", help="a cause, plan step, warning or alternative id")
    p.add_argument("--json", action="store_true", help="print the explanation as JSON")
    p.add_argument("--lang", default="en", choices=("en", "pt-BR"), help="language of the texts (default en)")
    p.set_defaults(func=_explain_command)
