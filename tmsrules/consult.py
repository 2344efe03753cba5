"""A consultation: start with almost no facts, ask the most decisive question next.

    c = tmsrules.Consultation({"endpoints": [{"name": "Boardroom"}]})
    while (q := c.next_question()) is not None:
        c.answer(q["fact"], input(q["ask"]) or None)    # None: the person does not know
    print(c.diagnosis().verdict)

The questions are the diagnosis' own (``Diagnosis.questions``): a missing
fact is asked only when one of its answers changes the verdict or the plan,
most decisive first. The consultation adds memory: a fact answered (or
answered ``None``, "I don't know") is never asked again.

``tmsrules consult [FILE]`` runs one in a terminal.
"""

from __future__ import annotations

import copy
import json
import os
import re
import sys
from typing import Any, Callable, Mapping, TextIO

from tmsrules.errors import InputError
from tmsrules.paths import get_path, parts, set_path
from tmsrules.model import Environment

LANGUAGES = ("en", "pt-BR")

#: The human strings of the terminal consultation, one dict per language.
TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "intro": "tmsrules consultation: TMS 'No HTTPS response'. Answer with a number or a value; "
        "'why' shows which rules need the answer, Enter or '?' = I don't know, 'quit' ends.",
        "endpoints": "Which endpoints show 'No HTTPS response' or are being upgraded? Names, separated by commas (Enter: none):",
        "why": "Needed by:",
        "why_none": "No rule names this fact; it decides the verdict or the plan.",
        "unknown": "(unknown: moving on)",
        "bad": "Not accepted: {error}",
        "schannel_hint": "Type the keys as JSON, or like 'TLS 1.0 client=disabled server=disabled; TLS 1.2 client=enabled server=enabled', or 'none' when no protocol key exists; or the path of a regedit export (.reg).",
        "done": "No further question can change the verdict or the plan.",
        "report": "Report",
        "prompt": "> ",
        "quit": "Consultation ended.",
    },
    "pt-BR": {
        "intro": "Consulta tmsrules: TMS 'No HTTPS response'. Responda com um número ou um valor; "
        "'porque' mostra quais regras precisam da resposta, Enter ou '?' = não sei, 'sair' encerra.",
        "endpoints": "Quais endpoints mostram 'No HTTPS response' ou estão sendo atualizados? Nomes separados por vírgula (Enter: nenhum):",
        "why": "Necessária para:",
        "why_none": "Nenhuma regra cita este fato; ele decide o veredito ou o plano.",
        "unknown": "(desconhecido: seguindo adiante)",
        "bad": "Não aceito: {error}",
        "schannel_hint": "Digite as chaves em JSON, ou como 'TLS 1.0 client=disabled server=disabled; TLS 1.2 client=enabled server=enabled', ou 'nenhuma' quando não existe chave de protocolo; ou o caminho de uma exportação do regedit (.reg).",
        "done": "Nenhuma outra pergunta pode mudar o veredito ou o plano.",
        "report": "Relatório",
        "prompt": "> ",
        "quit": "Consulta encerrada.",
    },
}

WHY_WORDS = {"why", "porque", "por que", "por quê", "pq"}
QUIT_WORDS = {"quit", "exit", "q", "sair"}
UNKNOWN_WORDS = {"", "?", "unknown", "don't know", "dont know", "skip", "não sei", "nao sei", "desconhecido"}
_TRUE = {"yes", "y", "true", "sim", "s"}
_FALSE = {"no", "n", "false", "não", "nao"}
_BOOL_FACTS = re.compile(r"^(tms\.sql\.local|tms\.reboot_pending)$")


def _check_lang(lang: str) -> str:
    if lang not in LANGUAGES:
        raise InputError("lang", f"unknown language {lang!r:.20}", ", ".join(LANGUAGES))
    return lang


_parts = parts


def coerce(fact: str, value: Any) -> Any:
    """Answers as people give them: "yes"/"sim" for booleans; a SCHANNEL text form."""
    if isinstance(value, str) and _BOOL_FACTS.match(fact):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    if fact == "tms.schannel" and isinstance(value, str):
        return parse_schannel_text(value)
    return value


_SCHANNEL_ITEM = re.compile(r"(client|server)\s*[=:]\s*([a-z]+)", re.I)


def parse_schannel_text(text: str) -> Any:
    """``"TLS 1.0 client=disabled server=disabled; TLS 1.2 client=enabled"`` to the
    input object; ``"none"``/``"{}"`` means no protocol key exists. JSON is accepted too.
    Anything else is returned unchanged (and then rejected by the validation)."""
    stripped = text.strip()
    if stripped.lower() in ("none", "nenhuma", "nenhum", "no keys", "{}"):
        return {}
    if stripped.startswith("{"):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            return text
    out: dict[str, dict[str, str]] = {}
    for chunk in re.split(r"[;\n]", stripped):
        chunk = chunk.strip()
        if not chunk:
            continue
        items = _SCHANNEL_ITEM.findall(chunk)
        head = _SCHANNEL_ITEM.split(chunk)[0].strip().rstrip(":,")
        if not items or not head:
            return text
        out[head] = {side.lower(): state.lower() for side, state in items}
    return out


#: the engine fact fields each question fact feeds (tmsrules.facts), to tell
#: the rules that read a fact from those its answer only reaches further down
_READS: dict[str, tuple[tuple[str, str], ...]] = {
    "tms.version": (("tms", "version"),),
    "tms.communication_security": (("tms", "security"),),
    "tms.windows": (("tms", "windows"),),
    "tms.schannel": (("tms", "schannel"), ("channel", "*")),
    "tms.sql.version": (("sql", "product"), ("sql", "build"), ("sql", "sp")),
    "tms.sql.local": (("sql", "local"),),
    "endpoints[].software": (("ep", "family"), ("ep", "version")),
    "endpoints[].management": (("ep", "mgmt"),),
}


#: answers tried by the lookahead beside the catalog's representative ones:
#: firmware the knowledge marks unconfirmed (TC 7.3.4/7.3.5) changes no verdict
#: but does change the warnings (``unconfirmed-knowledge``)
_EXTRA_ANSWERS: dict[str, tuple[Any, ...]] = {"endpoints[].software": ("TC7.3.4",)}


def _unknown(env: Environment, data: Mapping[str, Any], pattern: str):
    """(fact path, endpoint name) of each unknown fact matching a catalog question's pattern."""
    if pattern.startswith("endpoints[]."):
        field = pattern.split(".", 1)[1]
        for i, endpoint in enumerate(env.endpoints):
            if getattr(endpoint, field, None) is None:
                yield f"endpoints[{i}].{field}", env.endpoint_name(i)
        return
    if get_path(data, pattern) is None:
        yield pattern, None


class Consultation:
    """Asks for the missing facts that matter, one at a time, most decisive first.

    ``initial`` is a (partial) contract v1 input; for endpoints to be asked
    about, the consultation must know they exist (start with their names, or
    call :meth:`add_endpoint`). ``lang`` ("en" or "pt-BR") is passed through to
    :func:`tmsrules.diagnose`.
    """

    def __init__(self, initial: Mapping[str, Any] | None = None, lang: str = "en", diagnose: Callable[..., Any] | None = None):
        self.lang = _check_lang(lang)
        data = {} if initial is None else initial
        if isinstance(data, Environment):
            data = data.to_dict()
        Environment.from_dict(data)  # validate now: InputError names the field path
        self._data: dict[str, Any] = copy.deepcopy(dict(data))
        self._answers: dict[str, Any] = {}
        self._unknown: set[str] = set()
        self._asked: list[str] = []
        if diagnose is None:
            from tmsrules.diagnose import diagnose
        self._diagnose = diagnose
        self._current = None
        self._lookahead_cache = None

    # ------------------------------------------------------------------ state

    @property
    def environment(self) -> dict[str, Any]:
        """The facts so far, in contract input form (a copy)."""
        return copy.deepcopy(self._data)

    @property
    def answers(self) -> dict[str, Any]:
        """fact -> answer, in the order given (``None``: unknown)."""
        return dict(self._answers)

    @property
    def asked(self) -> list[str]:
        """The facts asked so far, in order."""
        return list(self._asked)

    def diagnosis(self):
        """The diagnosis of the facts known now."""
        if self._current is None:
            self._current = self._diagnose(self._data, lang=self.lang)
            self._lookahead_cache = None
        return self._current

    # ------------------------------------------------------------------ questions

    def _open(self):
        found = [q for q in self.diagnosis().questions if q.fact not in self._answers]
        if found:
            return found
        if self._lookahead_cache is None:
            self._lookahead_cache = self._lookahead()
        return [q for q in self._lookahead_cache if q.fact not in self._answers]

    @staticmethod
    def _key(d: Any) -> tuple:
        return (
            d.verdict,
            tuple(d.step_ids),
            tuple((c.id, tuple(c.endpoints)) for c in d.causes),
            tuple((e.name, e.verdict) for e in d.endpoints),
        )

    @staticmethod
    def _warnings_key(d: Any) -> tuple:
        return tuple((w.id, tuple(w.endpoints), w.text) for w in d.warnings)

    def _lookahead(self):
        """Facts that matter, when the diagnosis itself asks for none.

        The diagnosis asks for a fact when one of its answers alone changes
        the verdict or the plan. With little known, that can miss facts that
        matter together: with endpoint names only, neither the firmware nor
        the TMS version alone changes the overall verdict. So, first, a fact
        is asked when one of its representative answers changes an endpoint's
        verdict or a cause (not only the overall verdict or the plan); failing
        that, when an answer makes another fact decisive. Most such answers first.
        """
        from tmsrules.diagnose import default_diagnoser

        diagnoser = default_diagnoser()
        env = Environment.from_dict(self._data)
        base = self._key(self.diagnosis())
        candidates = []
        for qi, question in enumerate(diagnoser.rulebase.questions):
            for fact, name in _unknown(env, self._data, question.fact):
                if fact not in self._answers:
                    candidates.append((qi, question, fact, name))

        def trial(data):
            return self._diagnose(data, questions=False, lang=self.lang)

        base_warnings = self._warnings_key(self.diagnosis())
        base_rules = {t.rule for t in self.diagnosis().trace}

        def changed_rules(d, because: list[str]) -> None:
            # the rules whose firing the answer changes: new ones, then those it stops
            rules = [t.rule for t in d.trace]
            for rule in rules + sorted(base_rules - set(rules)):
                if rule not in because and (rule not in base_rules or rule not in rules):
                    because.append(rule)

        found, warns = [], []
        for qi, question, fact, name in candidates:
            hits = warn_hits = 0
            because: list[str] = []
            warn_because: list[str] = []
            extra = tuple(v for v in _EXTRA_ANSWERS.get(question.fact, ()) if v not in question.answers)
            for value in tuple(question.answers) + extra:
                d = trial(set_path(self._data, fact, value))
                if self._key(d) != base:
                    hits += 1
                    changed_rules(d, because)
                elif self._warnings_key(d) != base_warnings:
                    warn_hits += 1
                    changed_rules(d, warn_because)
            if hits:
                found.append((-hits, qi, self._make_question(question, fact, name, because)))
            elif warn_hits:
                warns.append((-warn_hits, qi, self._make_question(question, fact, name, warn_because)))
        if found:
            found.sort(key=lambda item: (item[0], item[1]))
            return [q for _, _, q in found]
        # Last, facts that change only the warnings (an unconfirmed fact relied on,
        # two sources that disagree, a SQL Server to keep TLS 1.0 for): the
        # diagnosis of a truthful consultation is that of the full facts, warnings
        # included. Asked after every fact that can change the verdict or the plan.
        warns.sort(key=lambda item: (item[0], item[1]))
        warn_questions = [q for _, _, q in warns]

        # Pairs: a fact whose answer makes another fact decisive; the first such
        # fact in catalog order (pairs cost). While an endpoint or the verdict is
        # undetermined, every unknown fact; else only the TMS server's facts: with
        # every endpoint settled, two of those can still reveal a fault together
        # (TLS 1.0 disabled on the server side and a SQL build without TLS 1.2:
        # the local SQL Server cannot start), endpoint facts alone cannot.
        d = self.diagnosis()
        if d.verdict != "undetermined" and all(e.verdict != "undetermined" for e in d.endpoints):
            candidates = [c for c in candidates if not c[2].startswith("endpoints[")]
        for qi, question, fact, name in candidates:
            for value in question.answers:
                first = set_path(self._data, fact, value)
                first_d = trial(first)
                first_key = self._key(first_d)
                first_rules = {t.rule for t in first_d.trace}
                for _, other, other_fact, _ in candidates:
                    if other_fact == fact:
                        continue
                    for other_value in other.answers:
                        second = trial(set_path(first, other_fact, other_value))
                        if self._key(second) != first_key:
                            # the rules the first answer changes, then those the pair decides
                            because: list[str] = []
                            changed_rules(first_d, because)
                            because += [t.rule for t in second.trace if t.rule not in first_rules and t.rule not in because]
                            return [self._make_question(question, fact, name, because)]
        return warn_questions

    def _make_question(self, question: Any, fact: str, name: str | None, because: list[str]):
        from tmsrules.diagnosis import Question

        pt = getattr(question, "pt", None) or {}
        portuguese = self.lang == "pt-BR"
        ask = pt.get("ask") if portuguese and pt.get("ask") else question.ask
        choices = pt.get("choices") if portuguese and pt.get("choices") else question.choices
        ask = ask.replace("{name}", name or ("o endpoint" if portuguese else "the endpoint"))
        return Question(fact=fact, ask=ask, choices=tuple(choices), because=tuple(because))

    def next_question(self) -> dict[str, Any] | None:
        """The most decisive missing fact as a question, or ``None`` when nothing
        left unknown can change the verdict or the plan."""
        open_questions = self._open()
        if not open_questions:
            return None
        q = open_questions[0]
        if q.fact not in self._asked:
            self._asked.append(q.fact)
        return self._question(q)

    def _question(self, q: Any) -> dict[str, Any]:
        why = self._why(q.because, q.fact)
        return {
            "fact": q.fact,
            "ask": q.ask,
            "choices": list(q.choices),
            "why": why,
            "because": [w["rule"] for w in why],
        }

    def _why(self, because, fact: str = "") -> list[dict[str, str]]:
        """The rules behind a question: those that read the fact itself first,
        then the ones whose firing the answer changes further down."""
        from tmsrules.diagnose import default_diagnoser

        rulebase = default_diagnoser().rulebase
        reads = _READS.get(re.sub(r"\[\d+\]", "[]", fact), ())
        direct, indirect = [], []
        for rid in because:
            try:
                rule = rulebase.rule(rid)
            except Exception:  # pragma: no cover - ids come from the same rule base
                indirect.append({"rule": rid, "text": ""})
                continue
            text = rule.pt if self.lang == "pt-BR" and getattr(rule, "pt", "") else rule.text
            uses = any((c.left.kind, c.left.field) in reads or (c.left.kind, "*") in reads for c in rule.conditions)
            (direct if uses else indirect).append({"rule": rid, "text": text})
        return direct + indirect

    def questions(self) -> list[dict[str, Any]]:
        """Every question still open, most decisive first."""
        return [self._question(q) for q in self._open()]

    @property
    def done(self) -> bool:
        return not self._open()

    # ------------------------------------------------------------------ answers

    def answer(self, fact: str, value: Any) -> None:
        """Record ``value`` for ``fact`` (a dotted input path). ``None`` means the
        person does not know: the fact is never asked again. The answer is
        validated like the input: a bad one raises ``InputError`` naming the
        fact path, and the consultation is left unchanged."""
        _parts(fact)
        if value is None:
            # "I don't know" is validated too: the path must name an input field
            Environment.from_dict(set_path(self._data, fact, None))
            self._answers[fact] = None
            self._unknown.add(fact)
            self._current = None
            return
        value = coerce(fact, value)
        candidate = set_path(self._data, fact, value)
        Environment.from_dict(candidate)
        self._data = candidate
        self._answers[fact] = value
        self._unknown.discard(fact)
        self._current = None

    def add_endpoint(self, name: str, **fields: Any) -> int:
        """Tell the consultation about an endpoint; returns its index."""
        endpoints = list(self._data.get("endpoints") or [])
        candidate = copy.deepcopy(self._data)
        candidate["endpoints"] = copy.deepcopy(endpoints) + [{"name": name, **fields}]
        Environment.from_dict(candidate)
        self._data = candidate
        self._current = None
        return len(endpoints)

    def to_dict(self) -> dict[str, Any]:
        """The consultation's state: facts, answers, open question, diagnosis."""
        q = self.next_question()
        return {
            "environment": self.environment,
            "answers": self.answers,
            "next_question": q,
            "diagnosis": self.diagnosis().to_dict(),
        }


# --------------------------------------------------------------------------- terminal


def _read(stream: TextIO) -> str | None:
    line = stream.readline()
    if line == "":
        return None
    return line.strip()


def run_terminal(consultation: Consultation, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """Run ``consultation`` interactively; print the report at the end."""
    from tmsrules import report

    stdin = stdin or sys.stdin
    out = stdout or sys.stdout
    T = TEXTS[consultation.lang]

    def say(text: str = "") -> None:
        out.write(text + "\n")
        out.flush()

    def prompt() -> str | None:
        out.write(T["prompt"])
        out.flush()
        return _read(stdin)

    say(T["intro"])
    if not consultation.environment.get("endpoints"):
        say(T["endpoints"])
        line = prompt()
        if line is None:
            say(T["quit"])
            return 0
        for name in [n.strip() for n in line.split(",") if n.strip()]:
            try:
                consultation.add_endpoint(name)
            except InputError as exc:
                say(T["bad"].format(error=exc))

    while True:
        q = consultation.next_question()
        if q is None:
            say(T["done"])
            break
        say("")
        say(q["ask"])
        if q["fact"] == "tms.schannel":
            say(T["schannel_hint"])
        for i, choice in enumerate(q["choices"], 1):
            say(f"  {i}. {choice}")
        while True:
            line = prompt()
            if line is None or line.lower() in QUIT_WORDS:
                say(T["quit"])
                say("")
                out.write(report.render(consultation.diagnosis(), lang=consultation.lang))
                out.flush()
                return 0
            if line.lower() in WHY_WORDS:
                say(T["why"] if q["why"] else T["why_none"])
                for w in q["why"]:
                    say(f"  - {w['rule']}: {w['text']}")
                continue
            if line.lower() in UNKNOWN_WORDS:
                consultation.answer(q["fact"], None)
                say(T["unknown"])
                break
            value: Any = line
            if q["fact"] == "tms.schannel" and os.path.isfile(line):
                try:
                    from tmsrules.evidence import read_evidence

                    value = (read_evidence(line).get("tms") or {}).get("schannel", {})
                except InputError as exc:
                    say(T["bad"].format(error=exc))
                    continue
            if line.isdigit() and q["choices"] and 1 <= int(line) <= len(q["choices"]):
                value = q["choices"][int(line) - 1]
            try:
                consultation.answer(q["fact"], value)
            except InputError as exc:
                say(T["bad"].format(error=exc))
                continue
            break
    say("")
    say(f"== {T['report']} ==")
    out.write(report.render(consultation.diagnosis(), lang=consultation.lang))
    out.flush()
    return 0


def _consult_command(args: Any) -> int:
    from tmsrules.cli import read_json

    initial = read_json(args.file) if args.file else None
    consultation = Consultation(initial, lang=args.lang)
    return run_terminal(consultation)


def add_consult_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("consult", help="an interactive consultation: asks only what changes the verdict or the plan")
    p.add_argument("file", metavar="FILE", nargs="?", default=None, help="what is known already (environment JSON), optional")
    p.add_argument("--lang", default="en", choices=LANGUAGES, help="language of the questions and the report (default en)")
    p.set_defaults(func=_consult_command)
