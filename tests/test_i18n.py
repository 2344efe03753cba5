"""Brazilian Portuguese (issue 6, "Portuguese"): every human text of a
diagnosis, a question and the CLI report in pt-BR with lang="pt-BR", the
technical names kept as Windows and TMS show them, everything else identical
to the English diagnosis."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tmsrules import diagnose, i18n, report
from tmsrules.diagnose import default_diagnoser
from tmsrules.errors import InputError
from tmsrules.model import Environment
from tmsrules.rulebase import CONCLUSION_KINDS

RB = default_diagnoser().rulebase
PLACEHOLDER = re.compile(r"\{[a-z0-9_]+(?:\.[a-z0-9_]+)?\}")

# ---------------------------------------------------------------- environments

SEED = {
    "tms": {"version": "15.2.1", "communication_security": "Medium", "windows": "Windows Server 2012 R2",
            "schannel": {}, "reboot_pending": False, "sql": {"version": "SQL Server 2014 SP2", "local": True}},
    "endpoints": [
        {"name": "Boardroom SX80", "software": "ce8.1.0", "management": "https", "status": "No HTTPS response"},
        {"name": "Lobby EX90", "software": "TC7.3.6.4a9f0cc", "management": "https", "status": "No HTTPS response"},
    ],
    "observations": {"client_hello": "TLS 1.0"},
}
TMS14 = {
    "tms": {"version": "14.6.2", "windows": "2012 R2", "sql": {"version": "12.0.5000.0", "local": False}},
    "endpoints": [
        {"name": "Room 101", "software": "TC7.3.6", "management": "https", "status": "No HTTPS response"},
        {"name": "Room 102", "software": "tc7.3.3.1c5b7d7", "management": "https"},
    ],
}
W2008R2_SQL2008R2 = {
    "tms": {"version": "15.2.1", "communication_security": "medium", "windows": "6.1.7601", "schannel": {},
            "reboot_pending": False, "sql": {"version": "10.50.6000.34", "local": True}},
    "endpoints": [{"name": "MX700", "software": "CE9.15.3.17", "management": "https"}],
}
POLYCOM_MEDIUM_HIGH = {
    "tms": {"version": "TMS 15.13", "communication_security": "Medium-High", "windows": "Server 2016", "schannel": {},
            "reboot_pending": False, "sql": {"version": "13.0.5026.0", "local": True}},
    "endpoints": [
        {"name": "MI-AHOC-HDX-Test2", "software": "Release - 3.1.10-51067", "management": "telnet",
         "status": "Security violation: Telnet communication is not allowed"},
        {"name": "Desk Pro", "software": "RoomOS 11.5.2.4", "management": "https"},
    ],
}
MISSING = {"endpoints": [{"name": "Boardroom", "software": "CE9.15.3.17", "status": "No HTTPS response"}]}
TMS14_TLS10_OFF = {
    "tms": {"version": "14.6.2", "windows": "2012 R2", "schannel": {"TLS 1.0": {"client": "disabled", "server": "default"}},
            "reboot_pending": False, "sql": {"version": "12.0.5000.0", "local": False}},
    "endpoints": [
        {"name": "Old C60", "software": "TC7.3.3", "management": "https", "status": "No HTTPS response"},
        {"name": "New SX80", "software": "TC7.3.6", "management": "https", "status": "No HTTPS response"},
    ],
    "observations": {"client_hello": "none"},
}
SQL2012_UNPATCHED = {
    "tms": {"version": "15.13", "communication_security": "medium-high", "windows": "Windows Server 2012 R2",
            "schannel": {"TLS 1.0": {"client": "disabled", "server": "disabled"},
                         "TLS 1.2": {"client": "enabled", "server": "enabled"}},
            "reboot_pending": False, "sql": {"version": "11.0.5058.0", "local": True}},
    "endpoints": [{"name": "Room Kit", "software": "ce9.15.3.17", "management": "https"}],
    "observations": {"sql_event_ids": [26011, 17182, 17826, 17120]},
}
UNCONFIRMED_AND_CONFLICT = {
    "tms": {"version": "15.2.1", "communication_security": "low", "windows": "2019", "schannel": {},
            "reboot_pending": False, "sql": {"version": "SQL Server 2016", "local": True}},
    "endpoints": [{"name": "Annex C20", "software": "TC7.3.4", "management": "https"}],
    "observations": {"client_hello": "TLS 1.2"},
}
EVERYTHING_UNKNOWN: dict = {"endpoints": [{"software": "TC7.3.6"}]}

ENVIRONMENTS = {
    "seed": SEED,
    "tms14": TMS14,
    "2008r2-sql2008r2": W2008R2_SQL2008R2,
    "polycom-medium-high": POLYCOM_MEDIUM_HIGH,
    "missing-facts": MISSING,
    "tms14-tls10-client-off": TMS14_TLS10_OFF,
    "sql2012-unpatched": SQL2012_UNPATCHED,
    "unconfirmed-and-conflict": UNCONFIRMED_AND_CONFLICT,
    "everything-unknown": EVERYTHING_UNKNOWN,
}

# English words that never belong in a Portuguese sentence (technical names
# such as 'Security violation: Telnet communication is not allowed' are quoted
# or removed before the check).
ENGLISH = {"the", "this", "that", "which", "unknown", "does", "should", "must", "with", "without", "before",
           "after", "until", "would", "cannot", "every", "only", "its", "refuse", "refuses", "endpoints that"}
TECHNICAL = [
    "Security violation: Telnet communication is not allowed",
    "Security Settings > Advanced Security Settings > Transport Layer Security Options",
    "Start > Power > Restart", "Start > Run > regedit", "Force Refresh", "System Navigator, Software version",
]


def english_words(text: str) -> set[str]:
    for phrase in TECHNICAL:
        text = text.replace(phrase, " ")
    text = re.sub(r"'[^']*'", " ", text)
    return {w for w in re.findall(r"[A-Za-z]+", text) if w.lower() in ENGLISH}


def template_regex(template: str) -> re.Pattern:
    parts = PLACEHOLDER.split(template)
    return re.compile(".+?".join(re.escape(p) for p in parts), re.DOTALL)


def matches(text: str, template: str) -> bool:
    return template_regex(template).fullmatch(text) is not None


def skeleton(d) -> dict:
    """Everything of a diagnosis but its human texts."""
    out = d.to_dict()
    for c in out["causes"]:
        del c["summary"], c["detail"]

    def strip_step(s):
        del s["title"], s["why"], s["instructions"]

    for s in out["plan"]:
        strip_step(s)
    for a in out["alternatives"]:
        del a["title"], a["why"]
        for s in a["plan"]:
            strip_step(s)
    for w in out["warnings"]:
        del w["text"]
    for q in out["questions"]:
        q["choices"] = len(q["choices"])
        del q["ask"]
    return out


# ---------------------------------------------------------------- the rule files


def test_every_rule_has_portuguese_with_the_same_placeholders():
    missing = [r.id for r in RB.rules if not r.pt]
    assert not missing, f"rules without pt: {missing}"
    for rule in RB.rules:
        assert set(PLACEHOLDER.findall(rule.pt)) == set(PLACEHOLDER.findall(rule.text)), rule.id
        assert rule.pt != rule.text, rule.id
        assert not english_words(rule.pt), (rule.id, english_words(rule.pt))
        if rule.unconfirmed:
            assert "não confirmado" in rule.pt, rule.id


FIELDS = {
    "cause": {"summary": "title", "detail": "detail"},
    "step": {"title": "title", "why": "why", "instructions": "instructions"},
    "alternative": {"title": "title", "why": "why"},
    "warning": {"text": "title"},
}


def catalog_pairs():
    """(entry, pt key, English text, Portuguese text) for every catalog text."""
    for (kind, _), entry in sorted(RB.catalog.items()):
        for key, attr in FIELDS[kind].items():
            yield entry, key, getattr(entry, attr), entry.pt.get(key)


def test_every_catalog_entry_has_portuguese():
    assert set(FIELDS) == set(CONCLUSION_KINDS)
    for entry, key, en, pt in catalog_pairs():
        assert pt, f"{entry.kind} {entry.id}: no pt.{key}"
        if key == "instructions":
            assert isinstance(pt, list) and len(pt) == len(en), f"{entry.kind} {entry.id}: instruction count"
            pairs = list(zip(en, pt))
        else:
            assert isinstance(pt, str), (entry.id, key)
            pairs = [(en, pt)]
        for e, p in pairs:
            assert sorted(PLACEHOLDER.findall(p)) == sorted(PLACEHOLDER.findall(e)), (entry.id, key, p)
            assert p != e, (entry.id, key)
            assert not english_words(p), (entry.id, key, english_words(p))
        assert set(entry.pt) == set(FIELDS[entry.kind]), (entry.id, sorted(entry.pt))


def test_every_question_has_portuguese():
    for q in RB.questions:
        assert q.pt.get("ask"), q.fact
        assert sorted(PLACEHOLDER.findall(q.pt["ask"])) == sorted(PLACEHOLDER.findall(q.ask)), q.fact
        assert q.pt["ask"] != q.ask and not english_words(q.pt["ask"]), q.fact
        if q.choices:
            assert len(q.pt.get("choices", ())) == len(q.choices), q.fact
        else:
            assert not q.pt.get("choices"), q.fact


TECHNICAL_TOKEN = re.compile(
    r"(?:HKEY_LOCAL_MACHINE|HKLM|\.\.\.)(?:\\(?:TLS|SSL) \d\.\d|\\\w+)+|KB\d+|CSC\w+|TMS\w*Service|DisabledByDefault|"
    r"\bEnabled\b|Medium-High|\b(?:261|178|171)\d\d\b|0x030\d|SELECT @@VERSION|iisreset|services\.msc|"
    r"Security Settings > Advanced Security Settings > Transport Layer Security Options|Communication Security|"
    r"Systems > Navigator|'No HTTPS response'|MSSQL\$<instance>|MSSQLSERVER|tls\.handshake\.\w+|supported_versions|"
    r"openssl s_client[^']*|KB4019276|SCHANNEL|ClientHello|TC 7\.3\.\d|CE 8\.1\.0|TMS Tools|shutdown /r /t 0|tmsng"
)


def test_technical_names_kept_as_windows_and_tms_show_them():
    texts = [(f"{e.kind} {e.id} {k}", en, pt) for e, k, en, pt in catalog_pairs()]
    texts += [(f"question {q.fact}", q.ask, q.pt["ask"]) for q in RB.questions]
    texts += [(f"rule {r.id}", r.text, r.pt) for r in RB.rules]
    for where, en, pt in texts:
        for e, p in zip(en, pt) if isinstance(en, tuple) else [(en, pt)]:
            for token in TECHNICAL_TOKEN.findall(e):
                assert token in p, (where, token, p)


def test_derived_sql_texts_have_portuguese():
    """The texts rules derive into sql_tls12 (shown by patch-sql) are translated where they hold words."""
    for rule in RB.rules:
        for c in rule.conclusions:
            if c.kind != "sql_tls12":
                continue
            for field in ("branch", "min_build", "kb"):
                text = c.values[field]
                pt = i18n.derived_text(text, "pt-BR")
                if re.search(r"\b(the|and|or|update|included|none|see|any|after|no|later|installed)\b", text):
                    assert pt != text, (rule.id, field, text)
                assert i18n.derived_text(text, "en") == text


# ---------------------------------------------------------------- diagnoses


@pytest.mark.parametrize("name", sorted(ENVIRONMENTS))
def test_diagnosis_in_portuguese(name):
    env = ENVIRONMENTS[name]
    en = diagnose(env, lang="en")
    pt = diagnose(env, lang="pt-BR")
    assert skeleton(pt) == skeleton(en)
    assert pt.verdict == en.verdict

    def check(text, english, template, where):
        assert matches(text, template), (where, text, template)
        assert text != english, (where, text)
        assert not english_words(text), (where, text, english_words(text))

    for c_en, c in zip(en.causes, pt.causes):
        entry = RB.entry("cause", c.id)
        check(c.summary, c_en.summary, entry.pt["summary"], c.id)
        check(c.detail, c_en.detail, entry.pt["detail"], c.id)
    steps = list(zip(en.plan, pt.plan))
    for a_en, a in zip(en.alternatives, pt.alternatives):
        entry = RB.entry("alternative", a.id)
        check(a.title, a_en.title, entry.pt["title"], a.id)
        check(a.why, a_en.why, entry.pt["why"], a.id)
        steps += list(zip(a_en.plan, a.plan))
    for s_en, s in steps:
        entry = RB.entry("step", s.id)
        check(s.title, s_en.title, entry.pt["title"], s.id)
        check(s.why, s_en.why, entry.pt["why"], s.id)
        assert len(s.instructions) == len(s_en.instructions) == len(entry.pt["instructions"])
        for i_en, i, template in zip(s_en.instructions, s.instructions, entry.pt["instructions"]):
            check(i, i_en, template, s.id)
    for w_en, w in zip(en.warnings, pt.warnings):
        check(w.text, w_en.text, RB.entry("warning", w.id).pt["text"], w.id)
    questions = {q.fact: q for q in RB.questions}
    for q_en, q in zip(en.questions, pt.questions):
        template = questions[re.sub(r"\[\d+\]", "[]", q.fact)]
        check(q.ask, q_en.ask, template.pt["ask"], q.fact)
        assert list(q.choices) == list(template.pt.get("choices", [])), q.fact
    # nothing left unfilled and no English fallback
    shown = report.render(pt, lang="pt-BR")
    for leak in ("(unknown)", "(desconhecido)", "{", "this Windows Server", "version unknown", "the endpoint"):
        assert leak not in shown, (name, leak)


def test_every_environment_shows_something():
    """The environments above cover every kind of text."""
    seen = {"cause": set(), "step": set(), "warning": set(), "alternative": set(), "question": set()}
    for env in ENVIRONMENTS.values():
        d = diagnose(env, lang="pt-BR")
        seen["cause"] |= {c.id for c in d.causes}
        seen["step"] |= {s.id for s in d.plan} | {s.id for a in d.alternatives for s in a.plan}
        seen["warning"] |= {w.id for w in d.warnings}
        seen["alternative"] |= {a.id for a in d.alternatives}
        seen["question"] |= {q.fact for q in d.questions}
    assert {"endpoint-refuses-tls10", "tms-below-15", "tms-security-medium", "schannel-tls12-disabled",
            "sql-tls10-disabled", "legacy-management-blocked", "tms-tls10-client-disabled"} <= seen["cause"]
    assert {"upgrade-tms", "patch-sql", "enable-tls11-tls12", "set-medium-high", "verify-client-hello",
            "downgrade-endpoints", "reenable-tls10-client"} <= seen["step"]
    assert {"telnet-snmp-disabled", "sql-needs-tls10", "seed-windows-default-differs", "unconfirmed-knowledge",
            "evidence-conflict"} <= seen["warning"]
    assert seen["alternative"] and seen["question"]


def test_seed_case_reads_like_the_cisco_article():
    d = diagnose(SEED, lang="pt-BR")
    assert [c.summary for c in d.causes][0] == "O endpoint recusa TLS 1.0"
    step = d.plan[0]
    assert step.id == "set-medium-high"
    assert step.title == "Defina a Communication Security do TMS como Medium-High"
    assert "Security Settings > Advanced Security Settings > Transport Layer Security Options" in step.instructions[1]


def test_rule_texts_in_warnings_come_from_rule_pt():
    d = diagnose(UNCONFIRMED_AND_CONFLICT, lang="pt-BR")
    warnings = {w.id: w for w in d.warnings}
    unconfirmed = warnings["unconfirmed-knowledge"]
    for rid in unconfirmed.because:
        assert RB.rule(rid).pt in unconfirmed.text
        assert RB.rule(rid).text not in unconfirmed.text
    conflict = warnings["evidence-conflict"]
    for rid in conflict.because:
        assert RB.rule(rid).pt in conflict.text


def test_sql_placeholders_in_portuguese():
    d = diagnose(SQL2012_UNPATCHED, lang="pt-BR")
    patch = next(s for s in d.plan if s.id == "patch-sql")
    assert "KB3052404" in patch.instructions[1] and "Build mínimo para esta ramificação: 11.0.5352.0" in patch.instructions[1]
    d = diagnose({**SQL2012_UNPATCHED, "tms": {**SQL2012_UNPATCHED["tms"], "sql": {"version": "11.0.3000.0", "local": True}}}, lang="pt-BR")
    patch = next(s for s in d.plan if s.id == "patch-sql")
    assert "KB3052404 depois do SP2, ou o SP4" in patch.instructions[1]
    assert " or " not in patch.instructions[1]


def test_code_side_words_in_portuguese():
    diagnoser = default_diagnoser()
    inference = diagnoser.infer(Environment.from_dict(EVERYTHING_UNKNOWN))
    pt = diagnoser._context(inference, "pt-BR")
    assert pt["env"] == {"tms_version": "desconhecida", "windows": "este Windows Server", "sql_version": "versão desconhecida"}
    assert pt["list"]["refusing"] in ("os endpoints que recusam TLS 1.0", "endpoints[0]")
    en = diagnoser._context(inference, "en")
    assert en["env"] == {"tms_version": "unknown", "windows": "this Windows Server", "sql_version": "version unknown"}
    assert diagnoser._fill("{nope.nothing}", pt) == "(desconhecido)"
    assert diagnoser._fill("{nope.nothing}", en) == "(unknown)"
    assert set(i18n.PT_BR) == set(i18n.EN)


def test_unnamed_endpoint_in_questions():
    d = diagnose({"tms": {"version": "15.2.1", "communication_security": "medium"}, "endpoints": [{"management": "https"}]}, lang="pt-BR")
    asks = [q.ask for q in d.questions if q.fact.startswith("endpoints[")]
    assert asks and all("executa" in a or "comunica" in a for a in asks)


def test_english_stays_the_default():
    assert diagnose(SEED).to_json() == diagnose(SEED, lang="en").to_json()
    assert diagnose(SEED).causes[0].summary == "The endpoint refuses TLS 1.0"


def test_unknown_language_is_refused():
    with pytest.raises(InputError):
        diagnose(SEED, lang="pt")
    with pytest.raises(ValueError):
        report.render(diagnose(SEED), lang="fr")


# ---------------------------------------------------------------- report and CLI


def test_report_in_portuguese():
    text = report.render(diagnose(POLYCOM_MEDIUM_HIGH, lang="pt-BR"), lang="pt-BR")
    assert text.startswith("Veredito: AFETADO")
    assert "Causas:" in text and "Avisos:" in text
    for english in ("Verdict:", "Causes:", "Plan (in this order):", "Warnings:", "Why:", "Still worth asking:"):
        assert english not in text
    text = report.render(diagnose(SEED, lang="pt-BR"), lang="pt-BR")
    assert "Plano (nesta ordem):" in text and "Por quê:" in text and "Avisos:" in text
    assert "  - Boardroom SX80: afetado" in text
    assert report.render(diagnose(SEED)).startswith("Verdict: AFFECTED")


def run(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "tmsrules", *args], input=stdin, capture_output=True, text=True, timeout=120)


def test_cli_lang_pt_br(tmp_path):
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(SEED), encoding="utf-8")
    r = run("diagnose", str(path), "--lang", "pt-BR")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Veredito: AFETADO: algo está quebrado agora")
    for heading in ("Endpoints:", "Causas:", "Plano (nesta ordem):", "Por quê:", "Avisos:"):
        assert heading in r.stdout
    assert "1. Defina a Communication Security do TMS como Medium-High (set-medium-high)" in r.stdout
    r = run("diagnose", str(path), "--lang", "pt-BR", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["causes"][0]["summary"] == "O endpoint recusa TLS 1.0"
    r = run("diagnose", "-", "--lang", "pt-BR", stdin=json.dumps(MISSING))
    assert r.returncode == 0 and "Ainda vale perguntar:" in r.stdout


def test_cli_unknown_language_exit_2(tmp_path):
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(SEED), encoding="utf-8")
    r = run("diagnose", str(path), "--lang", "klingon")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_portuguese_unconfirmed_warning_reads_as_one_sentence():
    env = {"tms": {"version": "15.2.1", "communication_security": "low"},
           "endpoints": [{"name": "C20", "software": "TC7.3.4", "management": "https"}]}
    d = diagnose(env, lang="pt-BR")
    text = next(w.text for w in d.warnings if w.id == "unconfirmed-knowledge")
    assert "(não confirmado);" in text and ".." not in text and ".;" not in text, text
