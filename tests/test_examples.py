"""Every example environment gives its reviewed expected diagnosis, through
the API and through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import tmsrules

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
INPUTS = sorted(p for p in EXAMPLES.glob("*.json") if not p.name.endswith(".expected.json"))


def test_there_are_enough_examples():
    assert len(INPUTS) >= 8
    for path in INPUTS:
        assert path.with_name(path.stem + ".expected.json").is_file(), path.name


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.stem)
def test_api_gives_the_expected_diagnosis(path):
    expected = json.loads(path.with_name(path.stem + ".expected.json").read_text(encoding="utf-8"))
    got = tmsrules.diagnose(json.loads(path.read_text(encoding="utf-8"))).to_dict()
    got.pop("trace")
    assert got == expected


@pytest.mark.parametrize("path", INPUTS[:3], ids=lambda p: p.stem)
def test_cli_json_gives_the_expected_diagnosis(path):
    expected = json.loads(path.with_name(path.stem + ".expected.json").read_text(encoding="utf-8"))
    run = subprocess.run(
        [sys.executable, "-m", "tmsrules", "diagnose", str(path), "--json"], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)
    got.pop("trace")
    assert got == expected
