"""Hostile input (issue #4): a Diagnosis or an InputError, never anything else.

Arbitrary JSON-like values, wrong types, NaN, huge strings, deep nesting,
unicode, 100,000 endpoints; the CLI on bad files; byte-identical output.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tmsrules
from tmsrules import cli
from tmsrules.model import MAX_ENDPOINTS, MAX_STRING

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.json") if not p.name.endswith(".expected.json"))

HOSTILE = settings(
    deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)

# ---------------------------------------------------------------- strategies

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["", "https", "TLS 1.0", "15.2.1", "medium", "ce9.15.3.17", "\x00", "\ud800", "💥" * 5]),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.text(max_size=12), children, max_size=5),
    ),
    max_leaves=25,
)

# plausible keys, so that junk reaches deep into the validation, not only its first check
TMS_KEYS = ["version", "communication_security", "windows", "schannel", "reboot_pending", "sql", "extra"]
EP_KEYS = ["name", "software", "management", "status", "planned_software", "accepts", "extra"]
OBS_KEYS = ["client_hello", "sql_event_ids", "handshakes", "extra"]
GOOD = {
    "version": st.sampled_from(["15.2.1", "14.6.2", "TMS 15.13", "15.0", "x", ""]),
    "communication_security": st.sampled_from(["low", "Medium-High", "medium high", "HIGH", "max"]),
    "windows": st.sampled_from(["2012 R2", "Windows Server 2008 R2", "6.3.9600", "10.0.17763", "Vista"]),
    "software": st.sampled_from(["TC7.3.6", "ce8.1.0", "RoomOS 11.5.2.4", "Release - 3.1.10-51067", "TC", "9"]),
    "management": st.sampled_from(["https", "http", "telnet", "snmp", "ftp"]),
    "client_hello": st.sampled_from(["TLS 1.0", "TLS 1.3", "none", "SSL 2.0"]),
}


def _field(key):
    good = GOOD.get(key, st.nothing())
    return st.one_of(good, json_values) if key in GOOD else json_values


@st.composite
def near_environments(draw):
    env: dict = {}
    if draw(st.booleans()):
        keys = draw(st.lists(st.sampled_from(TMS_KEYS), unique=True, max_size=5))
        tms = {k: draw(_field(k)) for k in keys}
        if draw(st.booleans()):
            tms["schannel"] = draw(
                st.dictionaries(
                    st.sampled_from(["TLS 1.0", "TLS 1.2", "SSL 3.0", "TLS 9", "tls1.2"]),
                    st.one_of(
                        st.fixed_dictionaries(
                            {}, optional={"client": st.sampled_from(["enabled", "disabled", "default", 1, None]),
                                          "server": st.sampled_from(["enabled", "disabled", "default", "on"])}
                        ),
                        json_values,
                    ),
                    max_size=3,
                )
            )
        if draw(st.booleans()):
            tms["sql"] = draw(
                st.one_of(
                    st.fixed_dictionaries(
                        {}, optional={"version": st.one_of(st.sampled_from(["11.0.5058.0", "SQL Server 2012 SP2", "2008 R2"]), json_values),
                                      "local": st.one_of(st.booleans(), json_values)}
                    ),
                    json_values,
                )
            )
        env["tms"] = tms
    if draw(st.booleans()):
        eps = []
        for i in range(draw(st.integers(0, 4))):
            keys = draw(st.lists(st.sampled_from(EP_KEYS), unique=True, max_size=5))
            ep = {k: draw(_field(k)) for k in keys}
            if draw(st.booleans()):
                ep["name"] = f"ep{i}"
            eps.append(ep if draw(st.integers(0, 9)) else draw(json_values))
        env["endpoints"] = eps
    if draw(st.booleans()):
        keys = draw(st.lists(st.sampled_from(OBS_KEYS), unique=True, max_size=3))
        env["observations"] = {k: draw(_field(k)) for k in keys}
    return env


def _diagnose_or_input_error(value, questions=False):
    try:
        d = tmsrules.diagnose(value, questions=questions)
    except tmsrules.InputError as exc:
        assert str(exc)  # a message, naming where
        return exc
    assert isinstance(d, tmsrules.Diagnosis)
    d.to_json()  # serialisable
    return d


# ---------------------------------------------------------------- property tests


@HOSTILE
@given(json_values)
def test_arbitrary_json_values(value):
    _diagnose_or_input_error(value)


@HOSTILE
@given(st.dictionaries(st.sampled_from(["tms", "endpoints", "observations", "other"]), json_values, max_size=3))
def test_arbitrary_values_under_the_contract_keys(value):
    _diagnose_or_input_error(value)


@settings(HOSTILE, max_examples=300)
@given(near_environments())
def test_near_valid_environments(env):
    _diagnose_or_input_error(env)


@settings(HOSTILE, max_examples=40)
@given(near_environments())
def test_near_valid_environments_with_questions(env):
    _diagnose_or_input_error(env, questions=True)


@HOSTILE
@given(json_values)
def test_the_cli_parser_on_arbitrary_text(value):
    try:
        text = json.dumps(value)
    except (ValueError, UnicodeEncodeError):  # pragma: no cover
        return
    try:
        data = cli.parse_json(text, "<test>")
    except tmsrules.InputError:
        assert any(isinstance(v, float) and not math.isfinite(v) for v in _leaves(value))
        return
    _diagnose_or_input_error(data)


def _leaves(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


# ---------------------------------------------------------------- limits, with clear messages


def test_huge_strings_are_refused_with_the_limit():
    for env, path in [
        ({"tms": {"version": "1" * (MAX_STRING + 1)}}, "tms.version"),
        ({"tms": {"windows": "x" * 10_000_000}}, "tms.windows"),
        ({"endpoints": [{"name": "n" * (MAX_STRING + 1)}]}, "endpoints[0].name"),
        ({"endpoints": [{"name": "a", "status": "s" * (MAX_STRING + 1)}]}, "endpoints[0].status"),
    ]:
        with pytest.raises(tmsrules.InputError) as info:
            tmsrules.diagnose(env)
        assert info.value.path == path
        assert f"at most {MAX_STRING} characters" in str(info.value)


def test_nan_and_infinity_are_refused():
    for value in (math.nan, math.inf, -math.inf, 1e308 * 10):
        for env in ({"tms": {"version": value}}, {"observations": {"sql_event_ids": [value]}},
                    {"tms": {"reboot_pending": value}}):
            with pytest.raises(tmsrules.InputError):
                tmsrules.diagnose(env)


def test_deep_nesting_is_refused_without_recursion_error():
    deep: object = "x"
    for _ in range(100_000):
        deep = [deep]
    for env in ({"tms": deep}, {"tms": {"sql": deep}}, {"endpoints": [deep]}, {"observations": {"handshakes": deep}}):
        with pytest.raises(tmsrules.InputError):
            tmsrules.diagnose(env)
    text = "[" * 200_000 + "]" * 200_000
    with pytest.raises(tmsrules.InputError) as info:
        cli.parse_json(text, "deep.json")
    assert "nested too deeply" in str(info.value)


def test_unicode_everywhere_is_fine():
    names = ["Sala de reunião", "会议室", "غرفة", "💥🔥", "a\u0301", "\u202eevil", "\x00nul", "tab\tname"]
    env = {
        "tms": {"version": "15.2.1", "communication_security": "medium"},
        "endpoints": [{"name": n, "software": "ce9.15.3.17", "management": "https"} for n in names],
    }
    d = tmsrules.diagnose(env)
    assert [e.name for e in d.endpoints] == names
    assert json.loads(d.to_json())["endpoints"][0]["name"] == names[0]
    with pytest.raises(tmsrules.InputError):
        tmsrules.diagnose({"tms": {"version": "１５.２"}}) if False else tmsrules.diagnose({"tms": {"version": "15.2\u0000"}})


def _fleet(n: int) -> dict:
    software = ["TC7.3.6", "TC7.3.3", "ce9.15.3.17", "RoomOS 11.5.2.4", "Release - 3.1.10-51067", None]
    management = ["https", "https", "http", "telnet", None]
    return {
        "tms": {"version": "15.2.1", "communication_security": "medium"},
        "endpoints": [
            {"name": f"ep-{i}", "software": software[i % len(software)], "management": management[i % len(management)]}
            for i in range(n)
        ],
    }


def test_100k_endpoints_are_diagnosed_not_hung():
    env = _fleet(MAX_ENDPOINTS)
    started = time.monotonic()
    d = tmsrules.diagnose(env, questions=True)
    elapsed = time.monotonic() - started
    assert len(d.endpoints) == MAX_ENDPOINTS
    assert elapsed < 120, elapsed
    assert len({q.fact for q in d.questions}) == len(d.questions)


def test_more_than_the_endpoint_limit_is_refused_clearly():
    env = {"endpoints": [{"name": str(i)} for i in range(MAX_ENDPOINTS + 1)]}
    with pytest.raises(tmsrules.InputError) as info:
        tmsrules.diagnose(env)
    assert info.value.path == "endpoints"
    assert f"at most {MAX_ENDPOINTS} items" in str(info.value)


def _distinct(n: int) -> dict:
    return {"tms": {"version": "15.2.1"},
            "endpoints": [{"name": f"e{i}", "software": f"ce9.{i // 100}.{i % 100}", "management": "https"}
                          for i in range(n)]}


def test_distinct_firmware_versions_share_profiles():
    """100,000 endpoints on 100,000 different firmware versions: no rule tells
    most of them apart, so they collapse into a few profiles and are diagnosed."""
    started = time.monotonic()
    d = tmsrules.diagnose(_distinct(MAX_ENDPOINTS), questions=False)
    assert time.monotonic() - started < 120
    assert len(d.endpoints) == MAX_ENDPOINTS
    assert {e.verdict for e in d.endpoints} == {"undetermined"}  # security unknown


def _combinations(limit: int) -> dict:
    import itertools

    software = ["TC7.3.3", "TC7.3.4", "TC7.3.6", "ce8.0.1", "ce8.1.0", "ce9.1", "RoomOS 11.5", "Release - 3.1.10"]
    management = ["https", "http", "telnet", "snmp", None]
    status = [None, "No HTTPS response", "Security violation: Telnet communication is not allowed", "other"]
    planned = [None, "TC7.3.3", "TC7.3.6", "ce8.1.0", "RoomOS 11.5"]
    accepts = [None, ["TLS 1.0"], ["TLS 1.2"]]
    endpoints = []
    for i, (sw, mg, st, pl, ac) in enumerate(itertools.product(software, management, status, planned, accepts)):
        if i == limit:
            break
        endpoints.append({"name": f"e{i}", "software": sw, "management": mg, "status": st,
                          "planned_software": pl, "accepts": ac})
    return {"tms": {"version": "15.2.1"}, "endpoints": endpoints}


def test_too_many_kinds_of_endpoint_are_refused_quickly():
    """Endpoints that differ in everything the rules read would cost the engine
    one profile each; the limit on distinct profiles refuses them before inference."""
    from tmsrules.diagnose import MAX_PROFILES

    started = time.monotonic()
    with pytest.raises(tmsrules.InputError) as info:
        tmsrules.diagnose(_combinations(2 * MAX_PROFILES))
    assert time.monotonic() - started < 60
    assert info.value.path == "endpoints"
    assert f"at most {MAX_PROFILES} distinct combinations" in str(info.value)


def test_huge_integers_are_refused_before_conversion():
    for digits in ("9" * 5000, "-" + "9" * 5000, "1" * 100_000):
        with pytest.raises(tmsrules.InputError) as info:
            cli.parse_json('{"observations": {"sql_event_ids": [%s]}}' % digits, "f.json")
        assert "digits is too long" in str(info.value) and info.value.path == "f.json"
    assert cli.parse_json("[" + "9" * cli.MAX_INT_DIGITS + "]", "f") == [int("9" * cli.MAX_INT_DIGITS)]


def test_a_field_given_twice_is_refused_naming_its_path():
    cases = {
        '{"tms": {"version": "15.2"}, "tms": {"version": "14.6"}}': "tms",
        '{"tms": {"schannel": {"TLS 1.2": {"client": "enabled", "client": "disabled"}}}}': "tms.schannel.TLS 1.2.client",
        '{"endpoints": [{"name": "a"}, {"name": "b", "software": "ce9.1", "software": "TC7.3.3"}]}': "endpoints[1].software",
    }
    for text, path in cases.items():
        with pytest.raises(tmsrules.InputError) as info:
            cli.parse_json(text, "f.json")
        assert info.value.path == path and "given twice" in str(info.value)
    assert cli.parse_json('{"a": {"x": 1}, "b": {"x": 1}}', "f") == {"a": {"x": 1}, "b": {"x": 1}}


def test_read_json_size_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "MAX_INPUT_BYTES", 1024)
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"tms": {"windows": "x" * 2000}}))
    with pytest.raises(tmsrules.InputError) as info:
        cli.read_json(str(path))
    assert "larger than" in str(info.value)


# ---------------------------------------------------------------- the CLI: never a traceback


def _cli(*args, stdin: bytes | None = None, env: dict | None = None):
    return subprocess.run(
        [sys.executable, "-m", "tmsrules", *args],
        input=stdin, capture_output=True, cwd=ROOT, timeout=300, env=env,
    )


BAD_FILES = {
    "binary.json": bytes(range(256)) * 4,
    "invalid.json": b'{"tms": {"version": "15.2.1",}',
    "nan.json": b'{"tms": {"version": NaN}}',
    "infinity.json": b'{"observations": {"sql_event_ids": [Infinity]}}',
    "deep.json": b"[" * 100_000 + b"]" * 100_000,
    "deep-object.json": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "empty.json": b"",
    "list.json": b"[1, 2, 3]",
    "string.json": b'"hello"',
    "utf16.json": '{"tms": {}}'.encode("utf-16"),
    "wrong-type.json": b'{"tms": {"version": 15}}',
    "huge-string.json": b'{"tms": {"windows": "' + b"x" * 2_000_000 + b'"}}',
    "unknown-field.json": b'{"tms": {"verison": "15.2.1"}}',
    # int() refuses more than 4,300 digits with a ValueError (Python 3.11+)
    "huge-int.json": b'{"observations": {"sql_event_ids": [' + b"9" * 5000 + b"]}}",
    "duplicate-field.json": b'{"tms": {"communication_security": "medium", "communication_security": "high"}}',
    "whitespace.json": b" \r\n\t",
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_cli_bad_file_is_one_line_exit_2(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(BAD_FILES[name])
    for args, stdin in ((["diagnose", str(path)], None), (["diagnose", "--json", "-"], BAD_FILES[name])):
        r = _cli(*args, stdin=stdin)
        err = r.stderr.decode("utf-8", "replace")
        assert r.returncode == 2, (name, err)
        assert "Traceback" not in err
        assert err.startswith("tmsrules: ") and err.count("\n") == 1, err
        assert r.stdout == b""


@pytest.mark.parametrize("target", ["missing.json", "a-directory"])
def test_cli_missing_file_or_directory(tmp_path, target):
    (tmp_path / "a-directory").mkdir()
    r = _cli("diagnose", str(tmp_path / target))
    assert r.returncode == 2
    assert r.stderr.decode().count("\n") == 1 and b"Traceback" not in r.stderr


SURROGATE = '{"endpoints": [{"name": "\\ud800", "software": "ce9.15.3.17", "management": "https"}]}'


def test_cli_lone_surrogate_in_input_never_tracebacks(tmp_path):
    path = tmp_path / "surrogate.json"
    path.write_text(SURROGATE)
    for args in (["diagnose", str(path)], ["diagnose", "--json", str(path)]):
        r = _cli(*args)
        assert b"Traceback" not in r.stderr
        assert r.stderr.count(b"\n") <= 1


def test_cli_lone_surrogate_is_bad_input(tmp_path):
    path = tmp_path / "surrogate.json"
    path.write_text(SURROGATE)
    assert _cli("diagnose", "--json", str(path)).returncode == 2


def test_jsonl_lone_surrogate_is_a_bad_line(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text(SURROGATE + "\n" + json.dumps({"tms": {"version": "15.2.1"}}) + "\n")
    r = _cli("diagnose", "--jsonl", str(path))
    assert r.returncode == 2
    assert r.stderr.decode().startswith("tmsrules: line 1: ") and r.stderr.count(b"\n") == 1
    assert len(r.stdout.splitlines()) == 1


# ---------------------------------------------------------------- determinism


def test_same_input_gives_byte_identical_json_in_one_process():
    for path in EXAMPLES:
        env = json.loads(path.read_text())
        first = tmsrules.diagnose(env).to_json()
        assert all(tmsrules.diagnose(env).to_json() == first for _ in range(3))


def test_same_input_gives_byte_identical_json_across_processes(tmp_path):
    fleet = tmp_path / "fleet.json"
    fleet.write_text(json.dumps(_fleet(300)))
    inputs = [str(p) for p in EXAMPLES[:6]] + [str(fleet)]
    outputs = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = []
        for path in inputs:
            r = _cli("diagnose", "--json", path, env=env)
            assert r.returncode == 0, r.stderr
            out.append(r.stdout)
        outputs.append(out)
    assert outputs[0] == outputs[1]
