"""diagnose_many and ``tmsrules diagnose --jsonl`` (issue #4)."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

import tmsrules
from tmsrules import batch
from tmsrules.batch import Outcome, diagnose_many, run_jsonl

ROOT = Path(__file__).resolve().parent.parent

SEED = {
    "tms": {
        "version": "15.2.1",
        "communication_security": "medium",
        "windows": "Windows Server 2012 R2",
        "schannel": {
            "TLS 1.0": {"client": "default", "server": "disabled"},
            "TLS 1.2": {"client": "enabled", "server": "enabled"},
        },
        "reboot_pending": False,
        "sql": {"version": "11.0.5058.0", "local": True},
    },
    "endpoints": [
        {"name": "Boardroom", "software": "ce9.15.3.17", "management": "https",
         "status": "No HTTPS response", "planned_software": None}
    ],
    "observations": {"client_hello": "TLS 1.0", "sql_event_ids": [26011, 17182]},
}
OLD_TMS = {"tms": {"version": "14.6.2"}, "endpoints": [{"name": "A", "software": "TC7.3.6", "management": "https"}]}


def _json(d) -> str:
    return d.to_json(indent=None)


# ---------------------------------------------------------------- diagnose_many


def test_diagnose_many_is_exported():
    assert tmsrules.diagnose_many is diagnose_many
    assert "diagnose_many" in tmsrules.__all__


def test_diagnose_many_yields_in_order_and_equals_diagnose():
    items = [SEED, OLD_TMS, {}]
    outcomes = list(diagnose_many(items))
    assert [o.index for o in outcomes] == [0, 1, 2]
    assert all(o.ok and o.error is None for o in outcomes)
    for item, outcome in zip(items, outcomes):
        assert _json(outcome.diagnosis) == _json(tmsrules.diagnose(item))


def test_bad_items_carry_their_input_error_and_the_stream_goes_on():
    items = [SEED, {"tms": {"version": 15}}, "not json", b"\xff\xfe", [1, 2], '{"tms": {}}', 42]
    outcomes = list(diagnose_many(items, questions=False))
    assert [o.ok for o in outcomes] == [True, False, False, False, False, True, False]
    for o in outcomes:
        if not o.ok:
            assert isinstance(o.error, tmsrules.InputError)
            assert o.diagnosis is None
    assert outcomes[1].error.path == "tms.version"
    assert "not valid JSON" in str(outcomes[2].error)
    assert "UTF-8" in str(outcomes[3].error)


def test_json_text_items_equal_dict_items():
    text = json.dumps(SEED)
    (a,), (b,) = list(diagnose_many([text])), list(diagnose_many([text.encode()]))
    assert _json(a.diagnosis) == _json(b.diagnosis) == _json(tmsrules.diagnose(SEED))


def test_diagnose_many_streams_lazily():
    pulled = []

    def items():
        for i in range(1_000_000):
            pulled.append(i)
            yield OLD_TMS

    gen = diagnose_many(items(), questions=False)
    first = next(gen)
    assert first.ok and pulled == [0]
    next(gen)
    assert pulled == [0, 1]
    gen.close()


def test_diagnose_many_passes_lang_and_questions():
    (pt,) = diagnose_many([SEED], lang="pt-BR")
    assert _json(pt.diagnosis) == _json(tmsrules.diagnose(SEED, lang="pt-BR"))
    (o,) = diagnose_many([{"endpoints": [{"name": "x", "software": "ce9.1"}]}], questions=False)
    assert o.diagnosis.questions == ()
    (bad_lang,) = diagnose_many([SEED], lang="xx")
    assert bad_lang.error.path == "lang"


def test_outcome_is_a_frozen_record():
    o = Outcome(index=3)
    assert o.ok and o.diagnosis is None
    with pytest.raises(Exception):
        o.index = 4  # type: ignore[misc]


# ---------------------------------------------------------------- run_jsonl in-process


class _Stdin:
    def __init__(self, data: bytes):
        self.buffer = io.BytesIO(data)


class _TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def _args(file="-", lang="en", evidence=()):
    return argparse.Namespace(file=file, json=True, jsonl=True, lang=lang, evidence=list(evidence))


def _run(data: bytes, **kw):
    out, err = io.StringIO(), kw.pop("stderr", io.StringIO())
    code = run_jsonl(_args(**kw), stdin=_Stdin(data), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_jsonl_one_diagnosis_per_line():
    data = (json.dumps(SEED) + "\n" + json.dumps(OLD_TMS) + "\n").encode()
    code, out, err = _run(data)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines == [_json(tmsrules.diagnose(SEED)), _json(tmsrules.diagnose(OLD_TMS))]
    assert all("\n" not in line for line in lines)


def test_jsonl_bad_lines_are_reported_with_their_number_and_skipped():
    data = b"\n".join(
        [
            json.dumps(SEED).encode(),  # 1
            b"{not json",  # 2
            b"",  # 3 blank: skipped silently
            b'{"tms": {"version": NaN}}',  # 4
            b"[1, 2]",  # 5
            b"\xff\xfe garbage",  # 6
            json.dumps({"endpoints": [{"name": "a"}, {"name": "a"}]}).encode(),  # 7 duplicate name
            json.dumps(OLD_TMS).encode(),  # 8
        ]
    )
    code, out, err = _run(data)
    assert code == 2
    assert len(out.splitlines()) == 2
    reported = [line.split(":")[1].strip() for line in err.splitlines()]
    assert reported == ["line 2", "line 4", "line 5", "line 6", "line 7"]
    assert all(line.startswith("tmsrules: line ") for line in err.splitlines())
    assert "Traceback" not in err


def test_jsonl_bom_and_crlf_are_accepted():
    data = b"\xef\xbb\xbf" + json.dumps(OLD_TMS).encode() + b"\r\n" + json.dumps(SEED).encode() + b"\r\n"
    code, out, err = _run(data)
    assert (code, err) == (0, "")
    assert len(out.splitlines()) == 2


def test_jsonl_over_long_line_is_refused_and_the_rest_goes_on(monkeypatch):
    monkeypatch.setattr(batch, "MAX_LINE_BYTES", 200)
    data = json.dumps({"tms": {"windows": "x" * 500}}).encode() + b"\n" + json.dumps(OLD_TMS).encode() + b"\n"
    code, out, err = _run(data)
    assert code == 2
    assert err.startswith("tmsrules: line 1: longer than")
    assert len(out.splitlines()) == 1


def test_jsonl_evidence_is_refused():
    with pytest.raises(tmsrules.InputError):
        run_jsonl(_args(evidence=["x.pcap"]), stdin=_Stdin(b""), stdout=io.StringIO(), stderr=io.StringIO())


def test_jsonl_progress_on_a_terminal_only(monkeypatch):
    data = (json.dumps(OLD_TMS) + "\n") * 3
    monkeypatch.setattr(batch, "PROGRESS_AFTER", 0.0)
    monkeypatch.setattr(batch, "_PROGRESS_EVERY", 0.0)
    tty = _TTY()
    code, out, _ = _run(data.encode(), stderr=tty)
    assert code == 0 and len(out.splitlines()) == 3
    shown = tty.getvalue()
    assert "\r" in shown and "lines" in shown
    assert shown.endswith("\r\033[K")  # cleared at the end
    plain = io.StringIO()
    _run(data.encode(), stderr=plain)
    assert plain.getvalue() == ""


def test_jsonl_progress_line_is_cleared_before_output_on_the_same_terminal(monkeypatch):
    """stdout and stderr on one terminal: no diagnosis line may start after a
    progress line (they would share one line on the screen)."""
    monkeypatch.setattr(batch, "PROGRESS_AFTER", 0.0)
    monkeypatch.setattr(batch, "_PROGRESS_EVERY", 0.0)

    class Screen:
        def __init__(self):
            self.text = ""

        def isatty(self):
            return True

        def write(self, s):
            self.text += s

        def flush(self):
            pass

    screen = Screen()
    data = ((json.dumps(OLD_TMS) + "\n") * 3).encode()
    code = run_jsonl(_args(), stdin=_Stdin(data), stdout=screen, stderr=screen)
    assert code == 0 and screen.text.count('{"contract"') == 3
    assert "lines (0 bad)" in screen.text
    for before in screen.text.split('{"contract"')[:-1]:
        # what the screen line holds when the diagnosis starts: the text since
        # the last newline, after the last "clear this line"
        assert before.rsplit("\n", 1)[-1].rsplit("\r\033[K", 1)[-1] == "", repr(before[-80:])


def test_jsonl_progress_waits_for_slow_work(monkeypatch):
    monkeypatch.setattr(batch, "PROGRESS_AFTER", 3600.0)
    tty = _TTY()
    _run((json.dumps(OLD_TMS) + "\n").encode() * 2, stderr=tty)
    assert tty.getvalue() == ""


# ---------------------------------------------------------------- the CLI


def _cli(*args, stdin: bytes | None = None):
    return subprocess.run(
        [sys.executable, "-m", "tmsrules", "diagnose", *args],
        input=stdin, capture_output=True, cwd=ROOT, timeout=120,
    )


def test_cli_jsonl_file(tmp_path):
    path = tmp_path / "fleet.jsonl"
    path.write_text(json.dumps(SEED) + "\n" + "{oops\n" + json.dumps(OLD_TMS) + "\n")
    r = _cli("--jsonl", str(path))
    assert r.returncode == 2
    assert [json.loads(line)["verdict"] for line in r.stdout.decode().splitlines()] == ["affected", "affected"]
    assert r.stderr.decode().startswith("tmsrules: line 2: ")
    assert b"Traceback" not in r.stderr


def test_cli_jsonl_stdin_all_good():
    r = _cli("--jsonl", "-", stdin=(json.dumps(OLD_TMS) + "\n").encode() * 3)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == 3 and r.stderr == b""


@pytest.mark.parametrize("name", ["missing.jsonl", "."])
def test_cli_jsonl_bad_file(tmp_path, name):
    r = _cli("--jsonl", str(tmp_path / name) if name != "." else str(tmp_path))
    assert r.returncode == 2
    assert r.stderr.decode().count("\n") == 1 and b"Traceback" not in r.stderr
