"""read_evidence over several files, content detection, and merge()."""

from __future__ import annotations

import copy
import os
import shutil

import pytest

from tmsrules.errors import InputError
from tmsrules.evidence import detect_format, merge, read_evidence

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "evidence")


def fx(name: str) -> str:
    return os.path.join(FIX, name)


def test_capture_registry_and_events_merge_into_one_environment():
    env = read_evidence(fx("no_client_hello.pcap"), fx("schannel_seed.reg"), fx("application.xml"),
                        fx("tc736_medium_alert.pcap"))
    assert env["tms"]["schannel"]["TLS 1.0"] == {"client": "disabled", "server": "default"}
    obs = env["observations"]
    # "none" from the first capture, TLS 1.0 from the second: the highest wins
    assert obs["client_hello"] == "TLS 1.0"
    assert [h["offered"] for h in obs["handshakes"]] == ["none", "TLS 1.0"]
    assert obs["sql_event_ids"] == [26011, 17182, 17826, 17120]
    assert set(env) == {"tms", "observations"}
    assert set(env["tms"]) == {"schannel"}


def test_event_ids_concatenate_in_argument_order():
    env = read_evidence(fx("sql_wevtutil.xml"), fx("application.xml"))
    assert env["observations"]["sql_event_ids"] == [17182, 26011, 26011, 17182, 17826, 17120]


@pytest.mark.parametrize(
    "fixture, fmt",
    [("site.pcap", "pcap"), ("site.pcapng", "pcapng"), ("schannel_seed.reg", "reg"),
     ("schannel_regedit4.reg", "reg"), ("application.csv", "event-csv"), ("application_utf16.csv", "event-csv"),
     ("application.xml", "event-xml"), ("sql_wevtutil.xml", "event-xml")],
)
def test_format_comes_from_content_not_name(tmp_path, fixture, fmt):
    misnamed = tmp_path / "evidence.txt"
    shutil.copy(fx(fixture), misnamed)
    with open(misnamed, "rb") as fh:
        assert detect_format(fh.read(), str(misnamed)) == fmt
    assert read_evidence(str(misnamed)) == read_evidence(fx(fixture))


def test_no_paths_and_directories(tmp_path):
    with pytest.raises(InputError, match="no evidence file"):
        read_evidence()
    with pytest.raises(InputError, match="is a directory"):
        read_evidence(str(tmp_path))


def test_one_bad_file_fails_the_whole_read(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("hello, these are my notes\n")
    with pytest.raises(InputError, match=r"notes\.txt: unrecognized file format"):
        read_evidence(fx("site.pcap"), str(bad))


def test_merge_rules():
    base = {
        "tms": {"version": "15.2.1", "schannel": {"TLS 1.2": {"client": "disabled", "server": "enabled"}}},
        "endpoints": [{"name": "Boardroom", "software": "ce9.15.3.17"}],
        "observations": {"client_hello": "TLS 1.2", "sql_event_ids": [1]},
    }
    keep = copy.deepcopy(base)
    a = {"tms": {"schannel": {"TLS 1.2": {"client": "enabled", "server": "default"},
                              "TLS 1.0": {"client": "disabled", "server": "default"}}},
         "observations": {"client_hello": "TLS 1.0", "sql_event_ids": [2, 3],
                          "handshakes": [{"client": "a", "server": "b", "offered": "TLS 1.0", "answer": "reset"}]}}
    b = {"tms": {"communication_security": "medium", "schannel": {"TLS 1.0": {"client": "default", "server": "enabled"}}},
         "endpoints": [{"name": "Boardroom", "accepts": ["TLS 1.2"]}, {"name": "Lobby", "software": "tc7.3.3"}],
         "observations": {"client_hello": "TLS 1.3", "sql_event_ids": [4],
                          "handshakes": [{"client": "c", "server": "d", "offered": "none", "answer": "none"}]}}
    out = merge(base, a, b)
    assert base == keep                                             # inputs untouched
    assert out["tms"] == {
        "version": "15.2.1",
        "communication_security": "medium",
        "schannel": {
            "TLS 1.2": {"client": "enabled", "server": "enabled"},  # explicit later state wins; "default" does not
            "TLS 1.0": {"client": "disabled", "server": "enabled"},
        },
    }
    assert out["endpoints"] == [{"name": "Boardroom", "software": "ce9.15.3.17", "accepts": ["TLS 1.2"]},
                                {"name": "Lobby", "software": "tc7.3.3"}]
    assert out["observations"]["client_hello"] == "TLS 1.3"
    assert out["observations"]["sql_event_ids"] == [1, 2, 3, 4]
    assert [h["client"] for h in out["observations"]["handshakes"]] == ["a", "c"]
    # the result shares nothing with the inputs
    out["observations"]["handshakes"][0]["client"] = "changed"
    assert a["observations"]["handshakes"][0]["client"] == "a"


@pytest.mark.parametrize(
    "seen, highest",
    [(["none", "TLS 1.0"], "TLS 1.0"), (["TLS 1.2", "none"], "TLS 1.2"), (["none"], "none"),
     (["SSL 3.0", "TLS 1.0", "TLS 1.1"], "TLS 1.1"), (["TLS 1.3", "TLS 1.0"], "TLS 1.3")],
)
def test_client_hello_is_the_highest_seen(seen, highest):
    assert merge({}, *({"observations": {"client_hello": v}} for v in seen))["observations"]["client_hello"] == highest


def test_merge_of_nothing():
    assert merge({}) == {}
    assert merge(None, {}) == {}
    assert merge({"tms": {"version": "15.0"}}) == {"tms": {"version": "15.0"}}


def test_every_fixture_gives_a_valid_contract_environment():
    model = pytest.importorskip("tmsrules.model")
    names = sorted(n for n in os.listdir(FIX) if not n.endswith(".py"))
    assert len(names) >= 17
    for name in names:
        model.Environment.from_dict(read_evidence(fx(name)))
    model.Environment.from_dict(read_evidence(*(fx(n) for n in names)))
