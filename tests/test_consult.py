"""Consultation: the next most decisive question, answers validated, truthful
answers end where the full facts do; and a real terminal session of
``tmsrules consult`` driven through a pseudo-terminal."""

from __future__ import annotations

import copy
import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import tmsrules
from tmsrules import Consultation
from tmsrules.consult import get_path, parse_schannel_text

try:  # collected as rootdir-relative modules, or as the ``tests`` package
    import strategies as sts
except ImportError:  # pragma: no cover
    from tests import strategies as sts  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent

#: the contract's question facts: what a consultation may ask
ASKABLE_TMS = ("version", "communication_security", "windows", "schannel")
ASKABLE_SQL = ("version", "local")
ASKABLE_EP = ("software", "management")

SEED = {
    "tms": {
        "version": "15.2.1",
        "communication_security": "medium",
        "windows": "Windows Server 2012 R2",
        "schannel": {"TLS 1.0": {"client": "default", "server": "disabled"}},
        "reboot_pending": False,
        "sql": {"version": "11.0.5058.0", "local": True},
    },
    "endpoints": [
        {"name": "Boardroom", "software": "ce9.15.3.17", "management": "https"},
        {"name": "Lobby", "software": "TC7.3.3", "management": "https"},
    ],
}

COMPLETE = [
    SEED,
    {
        "tms": {"version": "14.6.2", "communication_security": "medium", "windows": "2008 R2", "schannel": {},
                "reboot_pending": False, "sql": {"version": "10.50.6000.34", "local": True}},
        "endpoints": [{"name": "A", "software": "TC7.3.6", "management": "https"}],
    },
    {
        "tms": {"version": "15.13", "communication_security": "high", "windows": "2016", "schannel": {},
                "reboot_pending": False, "sql": {"version": "13.0.5026.0", "local": False}},
        "endpoints": [{"name": "HDX", "software": "Release - 3.1.10-51067", "management": "telnet"},
                      {"name": "Room", "software": "RoomOS 11.5.2.4", "management": "https"}],
    },
    {
        "tms": {"version": "15.2", "communication_security": "medium-high", "windows": "2008 R2",
                "schannel": {"TLS 1.1": {"client": "disabled", "server": "disabled"},
                             "TLS 1.2": {"client": "disabled", "server": "disabled"}},
                "reboot_pending": False, "sql": {"version": "11.0.7001.0", "local": True}},
        "endpoints": [{"name": "X", "software": "ce9.1", "management": "https"}],
    },
    {
        "tms": {"version": "15.2", "communication_security": "medium", "windows": "2012 R2", "schannel": {},
                "reboot_pending": False, "sql": {"version": "12.0.2000.8", "local": True}},
        "endpoints": [{"name": "R", "software": "TC7.3.3", "management": "https", "planned_software": "ce9.15.3.17"}],
    },
]


def strip_askable(full: dict) -> dict:
    """``full`` without any fact a consultation may ask for (names, statuses, plans stay)."""
    out = copy.deepcopy(full)
    tms = out.get("tms", {})
    for key in ASKABLE_TMS:
        tms.pop(key, None)
    for key in ASKABLE_SQL:
        (tms.get("sql") or {}).pop(key, None)
    for ep in out.get("endpoints", []):
        for key in ASKABLE_EP:
            ep.pop(key, None)
    return out


def consult_truthfully(full: dict, initial: dict, lang: str = "en", limit: int = 60):
    c = Consultation(initial, lang=lang)
    asked = []
    while (q := c.next_question()) is not None:
        assert q["fact"] not in asked, f"asked twice: {q['fact']}"
        asked.append(q["fact"])
        assert len(asked) <= limit
        c.answer(q["fact"], get_path(full, q["fact"]))
    return c, asked


def outcome(d):
    return d.verdict, d.cause_ids, d.step_ids


@pytest.mark.parametrize("full", COMPLETE)
def test_truthful_consultation_from_names_ends_like_the_full_facts(full):
    c, asked = consult_truthfully(full, strip_askable(full))
    assert outcome(c.diagnosis()) == outcome(tmsrules.diagnose(full)), asked
    assert c.asked == asked


@pytest.mark.parametrize("full", COMPLETE)
def test_truthful_consultation_from_partial_facts(full):
    initial = copy.deepcopy(full)
    initial["tms"].pop("version")
    initial["tms"].pop("schannel")
    initial["endpoints"][0].pop("software")
    c, asked = consult_truthfully(full, initial)
    assert outcome(c.diagnosis()) == outcome(tmsrules.diagnose(full)), asked
    assert set(asked) <= {"tms.version", "tms.schannel", "endpoints[0].software"}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(sts.complete_environments(max_endpoints=2))
def test_truthful_consultation_property(drawn):
    full, _truth = drawn
    c, asked = consult_truthfully(full, strip_askable(full))
    assert outcome(c.diagnosis()) == outcome(tmsrules.diagnose(full)), (full, asked)


def test_question_shape_and_why():
    c = Consultation({"tms": {"version": "15.2.1"}, "endpoints": [{"name": "Boardroom", "software": "ce9.15.3.17", "management": "https"}]})
    q = c.next_question()
    assert set(q) >= {"fact", "ask", "choices", "why"}
    assert q["fact"] == "tms.communication_security"
    assert q["choices"] == ["low", "medium", "medium-high", "high"]
    assert q["why"] and all(set(w) == {"rule", "text"} and w["text"] for w in q["why"])
    assert [w["rule"] for w in q["why"]] == q["because"]
    # asking again without an answer gives the same question; the diagnosis is at hand any time
    assert c.next_question()["fact"] == q["fact"]
    assert c.diagnosis().verdict == "undetermined"


def test_complete_facts_ask_nothing():
    c = Consultation(SEED)
    assert c.next_question() is None
    assert c.done
    assert outcome(c.diagnosis()) == outcome(tmsrules.diagnose(SEED))


def test_unknown_answer_moves_on_and_is_never_asked_again():
    c = Consultation({"endpoints": [{"name": "Boardroom", "software": "ce9.15.3.17", "management": "https"}]})
    seen = []
    while (q := c.next_question()) is not None:
        assert q["fact"] not in seen
        seen.append(q["fact"])
        c.answer(q["fact"], None)
    assert seen, "something was worth asking"
    assert c.diagnosis().verdict in ("affected", "undetermined")
    assert all(c.answers[f] is None for f in seen)


def test_answers_are_validated_with_the_field_path():
    c = Consultation({"endpoints": [{"name": "Boardroom"}]})
    with pytest.raises(tmsrules.InputError) as err:
        c.answer("endpoints[0].software", "banana")
    assert "endpoints[0].software" in str(err.value)
    with pytest.raises(tmsrules.InputError) as err:
        c.answer("tms.communication_security", "extreme")
    assert "tms.communication_security" in str(err.value)
    with pytest.raises(tmsrules.InputError):
        c.answer("tms.colour", "blue")
    with pytest.raises(tmsrules.InputError):
        c.answer("endpoints[3].software", "ce9.1")
    with pytest.raises(tmsrules.InputError):
        c.answer("not a path", 1)
    # a rejected answer leaves the consultation as it was
    assert c.environment == {"endpoints": [{"name": "Boardroom"}]}
    with pytest.raises(tmsrules.InputError):
        Consultation({"tms": {"version": "x"}})
    with pytest.raises(tmsrules.InputError):
        Consultation(lang="fr")


def test_answers_as_people_give_them():
    c = Consultation({"endpoints": [{"name": "B"}]}, lang="pt-BR")
    c.answer("tms.sql.local", "sim")
    c.answer("tms.schannel", "TLS 1.0 client=disabled server=disabled; TLS 1.2 client=enabled server=enabled")
    env = c.environment
    assert env["tms"]["sql"]["local"] is True
    assert env["tms"]["schannel"] == {
        "TLS 1.0": {"client": "disabled", "server": "disabled"},
        "TLS 1.2": {"client": "enabled", "server": "enabled"},
    }
    assert parse_schannel_text("none") == {}
    assert parse_schannel_text('{"TLS 1.2": {"client": "enabled"}}') == {"TLS 1.2": {"client": "enabled"}}
    idx = c.add_endpoint("Lobby", management="https")
    assert idx == 1 and c.environment["endpoints"][1] == {"name": "Lobby", "management": "https"}
    with pytest.raises(tmsrules.InputError):
        c.add_endpoint("Lobby")  # duplicate name


def test_portuguese_questions():
    c = Consultation({"tms": {"version": "15.2.1"}, "endpoints": [{"name": "B", "software": "ce9.1", "management": "https"}]}, lang="pt-BR")
    q = c.next_question()
    assert q["fact"] == "tms.communication_security"
    assert q["ask"] != Consultation(c.environment).next_question()["ask"]


# --------------------------------------------------------------------------- a real terminal


class Terminal:
    """``tmsrules consult`` on a pseudo-terminal, driven like a person would."""

    def __init__(self, *args: str):
        self.master, slave = pty.openpty()
        env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", COLUMNS="100")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tmsrules", "consult", *args],
            stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env, close_fds=True,
        )
        os.close(slave)
        self.buffer = ""

    def expect(self, pattern: str, timeout: float = 60.0) -> re.Match:
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            m = regex.search(self.buffer)
            if m:
                self.buffer = self.buffer[m.end():]
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {pattern!r}; got:\n{self.buffer[-2000:]}")
            ready, _, _ = select.select([self.master], [], [], min(left, 0.5))
            if ready:
                try:
                    data = os.read(self.master, 65536)
                except OSError:  # the child closed the terminal
                    data = b""
                if not data and self.proc.poll() is not None:
                    raise AssertionError(f"process ended waiting for {pattern!r}; got:\n{self.buffer[-2000:]}")
                self.buffer += data.decode("utf-8", "replace").replace("\r\n", "\n")

    def send(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def close(self) -> int:
        try:
            return self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:  # pragma: no cover
                self.proc.kill()
            os.close(self.master)


def test_terminal_session(tmp_path):
    start = tmp_path / "start.json"
    start.write_text(json.dumps({"tms": {"version": "15.2.1", "windows": "2012 R2", "schannel": {}},
                                 "endpoints": [{"name": "Boardroom", "software": "ce9.15.3.17", "management": "https"}]}))
    term = Terminal(str(start))
    try:
        term.expect("Communication Security")
        term.expect(r"1\. low")
        term.expect(r"2\. medium\n")
        term.expect("> ")
        term.send("why")
        term.expect("Needed by:")
        term.expect(r"- cause-tms-security-medium")
        term.expect("> ")
        term.send("7")  # not a choice: taken as a value and rejected
        term.expect("Not accepted: tms.communication_security")
        term.expect("> ")
        term.send("2")  # medium
        m = term.expect(r"\n([^\n]*\?)\n")  # the next question, if any, or the report
        while "Verdict" not in m.group(0) and "SQL" in m.group(1):
            term.expect("> ")
            term.send("")  # I don't know
            m = term.expect(r"\n([^\n]*\?)\n|Verdict")
        term.expect("AFFECTED", timeout=60)
        term.expect("Set Communication Security to Medium-High|Medium-High")
        assert term.close() == 0
    finally:
        if term.proc.poll() is None:  # pragma: no cover
            term.proc.kill()


def test_terminal_session_from_nothing_in_portuguese():
    term = Terminal("--lang", "pt-BR")
    try:
        term.expect("Quais endpoints")
        term.expect("> ")
        term.send("Sala")
        term.expect("Sala")  # the first question names the endpoint
        term.expect("> ")
        term.send("porque")
        term.expect("Necessária para:|Nenhuma regra")
        term.expect("> ")
        term.send("sair")
        term.expect("Consulta encerrada")
        term.expect("Veredito")
        assert term.close() == 0
    finally:
        if term.proc.poll() is None:  # pragma: no cover
            term.proc.kill()


def test_cli_consult_bad_file_exit_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"tms": {"version": "banana"}}')
    from tmsrules.cli import main

    assert main(["consult", str(bad)]) == 2


def test_example_chatbot_runs_in_a_terminal_loop():
    script = ROOT / "examples" / "chatbot.py"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    # one endpoint, then "I don't know" to everything: the bot ends with a verdict
    run = subprocess.run([sys.executable, str(script)], input="Boardroom\n" + "\n" * 30, text=True,
                         capture_output=True, timeout=120, env=env, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert "How does TMS talk to Boardroom" in run.stdout
    assert "Verdict: undetermined." in run.stdout and "Bye!" in run.stdout
    # answers that settle it, and an explanation afterwards
    answers = {
        "How does TMS talk": "https", "Which TMS version": "14.6.2", "Which software version": "ce9.15.3.17",
        "Communication Security": "medium", "Which Windows": "2012 R2", "Which keys exist": "",
        "SQL Server build": "", "SQL Server run on": "",
    }
    proc = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=env, cwd=ROOT, bufsize=1)
    try:
        proc.stdin.write("Boardroom\n")
        proc.stdin.flush()
        out = []
        while True:
            line = proc.stdout.readline()
            assert line, "".join(out)
            out.append(line)
            if line.startswith("Ask 'how"):
                break
            for start, reply in answers.items():
                if start in line:
                    proc.stdin.write(reply + "\n")
                    proc.stdin.flush()
        proc.stdin.write("how tms-below-15\nbye\n")
        proc.stdin.close()
        rest = proc.stdout.read()
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:  # pragma: no cover
            proc.kill()
    text = "".join(out)
    assert "Verdict: affected." in text and "Cause:" in text and "1. " in text
    assert "cause-tms-below-15" in rest and "Bye!" in rest


def test_terminal_takes_a_regedit_export_for_schannel():
    import io

    from tmsrules.consult import run_terminal

    c = Consultation({"tms": {"version": "15.2.1", "communication_security": "medium-high", "windows": "2008 R2"},
                      "endpoints": [{"name": "B", "software": "ce9.1", "management": "https"}]})
    assert c.next_question()["fact"] == "tms.schannel"
    out = io.StringIO()
    reg = ROOT / "tests" / "fixtures" / "evidence" / "schannel_seed.reg"
    assert run_terminal(c, io.StringIO(f"{reg}\n" + "\n" * 10), out) == 0
    assert c.environment["tms"]["schannel"]["TLS 1.2"] == {"client": "enabled", "server": "enabled"}
    assert "NOT AFFECTED" in out.getvalue()


# --------------------------------------------------------------------------- the whole diagnosis, warnings included


def skeleton_of(d) -> dict:
    """The diagnosis a person reads: everything but the trace, the open questions
    and the provenance lists (``because``: which rule ids produced an item)."""
    out = d.to_dict()
    del out["trace"], out["questions"]
    for key in ("causes", "plan", "warnings", "alternatives"):
        for item in out[key]:
            item.pop("because", None)
    return out


WARNING_CASES = [
    # Communication Security Low on an SNMP-only fleet: only the TMS version
    # decides the unconfirmed-knowledge warning ("Low is treated like Medium")
    ({"tms": {"version": "15.0", "communication_security": "low", "windows": "2012 R2",
              "schannel": {"TLS 1.2": {"client": "disabled", "server": "disabled"}}, "reboot_pending": False},
      "endpoints": [{"name": "EP0", "software": "ce8.1.0", "management": "snmp", "status": "OK"}]},
     {"tms": {"communication_security": "low", "schannel": {"TLS 1.2": {"client": "disabled", "server": "disabled"}},
              "reboot_pending": False},
      "endpoints": [{"name": "EP0", "software": "ce8.1.0", "status": "OK"}]}),
    # TC 7.3.4 (unconfirmed) whose management nobody knows: the firmware answer
    # only changes the warning, and the catalog's representative answers skip 7.3.4
    ({"tms": {"version": "15.0", "communication_security": "low", "windows": "6.1.7601", "sql": {"local": True}},
      "endpoints": [{"name": "EP0", "software": "TC7.3.4", "planned_software": "ce9.1.3"},
                    {"name": "EP1", "software": "CE9.15.3.17", "management": "https", "status": "No HTTPS response"},
                    {"name": "EP2", "software": "tc7.3.3.1c5b7d7", "management": "https", "planned_software": "ce9.1.3"}]},
     {"tms": {"sql": {}}, "endpoints": [{"name": "EP0", "planned_software": "ce9.1.3"},
                                       {"name": "EP1", "status": "No HTTPS response"},
                                       {"name": "EP2", "planned_software": "ce9.1.3"}]}),
    # HTTP-managed TC 7.3.4: with the management answered, no unconfirmed warning is left
    ({"tms": {"version": "TMS 14.6.1", "communication_security": "low", "windows": "6.1.7601",
              "schannel": {"TLS 1.0": {"client": "enabled", "server": "disabled"}, "TLS 1.2": {"server": "enabled"}}},
      "endpoints": [{"name": "EP0", "software": "TC7.3.4", "management": "http",
                     "status": "Security violation: Telnet communication is not allowed"}]},
     {"tms": {"version": "TMS 14.6.1", "windows": "6.1.7601",
              "schannel": {"TLS 1.0": {"client": "enabled", "server": "disabled"}, "TLS 1.2": {"server": "enabled"}}},
      "endpoints": [{"name": "EP0", "software": "TC7.3.4",
                     "status": "Security violation: Telnet communication is not allowed"}]}),
    # no endpoint at all: TLS 1.0 disabled on the server side and a SQL Server
    # named without a build decide together whether the SQL Server can start
    ({"tms": {"version": "15.12", "communication_security": "high", "windows": "2019",
              "schannel": {"TLS 1.0": {"client": "default", "server": "disabled"}}, "sql": {"version": "SQL Server 2012 SP2"}}},
     {"tms": {"sql": {}}}),
]


@pytest.mark.parametrize("full,initial", WARNING_CASES)
def test_truthful_consultation_ends_in_the_same_warnings(full, initial):
    c, asked = consult_truthfully(full, initial)
    assert skeleton_of(c.diagnosis()) == skeleton_of(tmsrules.diagnose(full)), asked


def test_facts_that_only_change_warnings_are_asked_last():
    full, initial = WARNING_CASES[1]
    c, asked = consult_truthfully(full, initial)
    assert asked[-1] == "endpoints[0].software"  # decides only unconfirmed-knowledge for EP0
    assert {"tms.version", "tms.communication_security"} <= set(asked[:-1])


def test_nothing_known_asks_about_the_sql_server_schannel():
    # the SQL Server alone can be affected (sql-tls10-disabled): with no endpoint
    # and nothing known, SCHANNEL and the SQL build decide it together
    c = Consultation({})
    q = c.next_question()
    assert q is not None and q["fact"] == "tms.schannel"
    assert q["why"] and any(w["rule"].startswith("schannel-") for w in q["why"])
    c.answer("tms.schannel", {})  # no keys: TLS 1.0 is on, SQL starts whatever its build
    assert c.next_question() is None


def test_unknown_answers_are_validated_too():
    c = Consultation({"endpoints": [{"name": "Boardroom"}]})
    for fact in ("tms.colour", "endpoints[3].software", "endpoints[0].colour"):
        with pytest.raises(tmsrules.InputError) as err:
            c.answer(fact, None)
        assert fact in str(err.value)
    assert c.answers == {}
    c.answer("tms.version", None)
    assert c.answers == {"tms.version": None} and c.environment == {"endpoints": [{"name": "Boardroom"}]}


def _draw_full(r):
    """A random environment: any fact may be missing; SQL, SCHANNEL, Telnet/SNMP
    endpoints, statuses, planned upgrades, probes and captures."""
    pick = r.choice
    tms = {}
    if r.random() < 0.85:
        tms["version"] = pick(["14.6.2", "TMS 15.13", "15.0", "15.2.1", "13.2.2"])
    if r.random() < 0.85:
        tms["communication_security"] = pick(["low", "medium", "Medium-High", "high"])
    if r.random() < 0.85:
        tms["windows"] = pick(["Windows Server 2008 R2", "2012 R2", "Server 2016", "2022", "6.1.7601"])
    if r.random() < 0.8:
        tms["schannel"] = {p: {s: pick(["enabled", "disabled", "default"]) for s in ("client", "server") if r.random() < 0.8}
                           for p in ("SSL 3.0", "TLS 1.0", "TLS 1.1", "TLS 1.2") if r.random() < 0.35}
    if r.random() < 0.3:
        tms["reboot_pending"] = r.random() < 0.5
    if r.random() < 0.7:
        tms["sql"] = {k: v for k, v in (("version", pick(["11.0.5058.0", "10.50.6000.34", "10.50.6542.0", "12.0.2000.8",
                                                          "13.0.5026.0", "SQL Server 2012 SP2", "2008 R2"])),
                                        ("local", r.random() < 0.6)) if r.random() < 0.85}
    endpoints = []
    for i in range(r.randint(0, 3)):
        ep = {"name": f"EP{i}"}
        if r.random() < 0.85:
            ep["software"] = pick(["TC7.3.6", "tc7.3.3", "TC7.3.4", "ce8.1.0", "ce8.0.1", "CE9.15.3.17",
                                   "RoomOS 11.5.2.4", "Release - 3.1.10-51067"])
        if r.random() < 0.85:
            ep["management"] = pick(["https", "http", "telnet", "snmp"])
        status = pick([None, None, "No HTTPS response", "Security violation: Telnet communication is not allowed"])
        if status:
            ep["status"] = status
        if r.random() < 0.25:
            ep["planned_software"] = pick(["TC7.3.6", "ce9.15.3.17", "tc7.3.3"])
        if r.random() < 0.1:
            ep["accepts"] = r.sample(["TLS 1.0", "TLS 1.1", "TLS 1.2"], r.randint(1, 2))
        endpoints.append(ep)
    env = {"tms": tms}
    if endpoints:
        env["endpoints"] = endpoints
    if r.random() < 0.25:
        env["observations"] = {k: v for k, v in (("client_hello", pick(["TLS 1.0", "TLS 1.2", "none"])),
                                                 ("sql_event_ids", [26011, 17182])) if r.random() < 0.6}
    return env


@pytest.mark.parametrize("seed", range(12))
def test_truthful_consultation_over_random_environments(seed):
    """From only what no question asks (names, statuses, plans, probes, captures,
    reboot_pending), endpoints told to the consultation midway: answered from the
    full facts (None where they are missing), it ends in the full facts' diagnosis."""
    import random

    r = random.Random(seed)
    full = _draw_full(r)
    initial = strip_askable(full)
    later = initial.pop("endpoints", []) if r.random() < 0.5 else []
    c = Consultation(initial, lang=r.choice(["en", "pt-BR"]))
    asked = []
    for step in range(60):
        if later and step == 1:
            for ep in later:
                c.add_endpoint(ep.pop("name"), **ep)
            later = []
        q = c.next_question()
        if q is None and not later:
            break
        if q is None:
            continue
        assert q["fact"] not in asked, asked
        asked.append(q["fact"])
        c.answer(q["fact"], get_path(full, q["fact"]))
    assert skeleton_of(c.diagnosis()) == skeleton_of(tmsrules.diagnose(full, lang=c.lang)), (full, asked)
