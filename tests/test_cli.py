"""The CLI: report, --json, exit codes, stdin; one line and exit 2 for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SEED = EXAMPLES / "01-seed-tms15-medium.json"


def run(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "tmsrules", *args], input=stdin, capture_output=True, text=True, timeout=120)


def test_report_for_a_person():
    r = run("diagnose", str(SEED))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Verdict: AFFECTED")
    assert "Plan (in this order):" in r.stdout
    assert "1. Set TMS Communication Security to Medium-High" in r.stdout
    assert "Communication Security to Medium-High and click Save" in " ".join(r.stdout.split())
    assert "Warnings:" in r.stdout


def test_json_is_the_contract_object():
    r = run("diagnose", str(SEED), "--json")
    assert r.returncode == 0
    d = json.loads(r.stdout)
    assert d["contract"] == 1 and d["verdict"] == "affected"
    assert set(d) >= {"causes", "plan", "alternatives", "warnings", "questions", "endpoints", "trace"}


def test_stdin():
    r = run("diagnose", "-", "--json", stdin=SEED.read_text())
    assert r.returncode == 0 and json.loads(r.stdout)["verdict"] == "affected"


def test_not_affected_still_exits_zero():
    r = run("diagnose", str(EXAMPLES / "12-healthy.json"))
    assert r.returncode == 0 and "NOT AFFECTED" in r.stdout


def test_bad_input_one_line_exit_2():
    r = run("diagnose", "-", stdin='{"endpoints": [{"name": "a", "software": "banana"}]}')
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "endpoints[0].software" in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_bad_files_exit_2_without_traceback(tmp_path):
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\xff\xfe\x00garbage")
    nan = tmp_path / "nan.json"
    nan.write_text('{"tms": {"version": NaN}}')
    for path in ["/no/such/file.json", str(tmp_path), str(garbage), str(nan)]:
        r = run("diagnose", path)
        assert r.returncode == 2, (path, r.stderr)
        assert "Traceback" not in r.stderr and r.stderr.startswith("tmsrules: ")


def test_invalid_json_names_line_and_column():
    r = run("diagnose", "-", stdin='{"tms": \n {"version": }')
    assert r.returncode == 2 and "<stdin>:2:" in r.stderr


def test_usage_error_exit_2():
    assert run("diagnose").returncode == 2
    assert run("frobnicate").returncode == 2


def test_lone_surrogates_are_bad_input_on_one_line(tmp_path):
    for text in ('{"\\ud800": 1}', '{"tms": {"version": "1\\ud800"}}', '{"endpoints": [{"name": "\\ud800"}]}'):
        path = tmp_path / "s.json"
        path.write_text(text)
        r = run("diagnose", str(path))
        assert r.returncode == 2, r.stderr
        assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
