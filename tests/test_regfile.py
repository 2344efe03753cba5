"""fix.reg / undo.reg: exact regedit bytes, read back through the project's own registry reader."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tmsrules.errors import InputError
from tmsrules.evidence import read_evidence
from tmsrules.evidence.registry import parse_reg
from tmsrules.regfile import render_reg, render_rollback

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "evidence")
KEY = r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols"
PROTOCOLS = ("SSL 3.0", "TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3")

ENABLE_TLS11_TLS12 = {"TLS 1.1": {"client": "enabled", "server": "enabled"},
                      "TLS 1.2": {"client": "enabled", "server": "enabled"}}
REENABLE_TLS10_FOR_SQL = {"TLS 1.0": {"server": "enabled"}, "SSL 3.0": {"server": "enabled"}}


def text(data: bytes) -> str:
    assert data[:2] == b"\xff\xfe"
    return data[2:].decode("utf-16-le")


def schannel_of(*reg_files: bytes) -> dict:
    """The SCHANNEL state after importing the files in order (regedit applies them line by line)."""
    lines = []
    for i, data in enumerate(reg_files):
        body = text(data) if data[:2] == b"\xff\xfe" else data.decode("utf-8")
        if i:
            body = body.split("\n", 1)[1]                # drop the header of the later files
        lines.append(body)
    return parse_reg("\r\n".join(lines), "simulated").get("tms", {}).get("schannel", {})


def read_back(tmp_path, data: bytes, name="fix.reg") -> dict:
    path = tmp_path / name
    path.write_bytes(data)
    return read_evidence(str(path)).get("tms", {}).get("schannel", {})


def test_exact_bytes_of_a_fix():
    data = render_reg({"TLS 1.2": {"client": "enabled"}})
    expected = ("Windows Registry Editor Version 5.00\r\n"
                "\r\n"
                f"[{KEY}\\TLS 1.2\\Client]\r\n"
                '"Enabled"=dword:00000001\r\n'
                '"DisabledByDefault"=dword:00000000\r\n'
                "\r\n")
    assert data == b"\xff\xfe" + expected.encode("utf-16-le")


def test_disabled_and_default_values_and_canonical_order():
    t = text(render_reg({"TLS 1.2": {"server": "default"}, "TLS 1.0": {"Client": "Disabled"}}))
    assert t.index("TLS 1.0\\Client]") < t.index("TLS 1.2\\Server]")
    assert f'[{KEY}\\TLS 1.0\\Client]\r\n"Enabled"=dword:00000000\r\n"DisabledByDefault"=dword:00000001\r\n' in t
    assert f'[{KEY}\\TLS 1.2\\Server]\r\n"Enabled"=-\r\n"DisabledByDefault"=-\r\n' in t
    assert "\n" not in t.replace("\r\n", "")


def test_fix_reads_back_through_the_registry_reader(tmp_path):
    assert read_back(tmp_path, render_reg(ENABLE_TLS11_TLS12)) == ENABLE_TLS11_TLS12
    assert read_back(tmp_path, render_reg(REENABLE_TLS10_FOR_SQL)) == {
        "SSL 3.0": {"client": "default", "server": "enabled"},
        "TLS 1.0": {"client": "default", "server": "enabled"},
    }


def _exported(name: str) -> dict:
    return read_evidence(os.path.join(FIX, name))["tms"]["schannel"]


def _fixture(name: str) -> bytes:
    with open(os.path.join(FIX, name), "rb") as fh:
        return fh.read()


def test_sql_fix_on_an_iis_crypto_server_and_its_rollback_from_the_export():
    exported = _exported("schannel_iis_crypto.reg")
    assert exported["TLS 1.0"]["server"] == "disabled"
    fix = render_reg(REENABLE_TLS10_FOR_SQL)
    after = schannel_of(_fixture("schannel_iis_crypto.reg"), fix)
    assert after["TLS 1.0"] == {"client": "disabled", "server": "enabled"}
    assert after["SSL 3.0"] == {"client": "disabled", "server": "enabled"}
    assert after["TLS 1.2"] == exported["TLS 1.2"]                  # untouched
    undo = render_rollback(REENABLE_TLS10_FOR_SQL, exported)
    assert schannel_of(_fixture("schannel_iis_crypto.reg"), fix, undo) == exported


def test_rollback_without_export_deletes_exactly_what_the_fix_creates(tmp_path):
    undo = render_rollback(ENABLE_TLS11_TLS12)
    t = text(undo)
    assert t.count('"Enabled"=-') == 4 and t.count('"DisabledByDefault"=-') == 4
    assert "dword" not in t
    assert read_back(tmp_path, undo, "undo.reg") == {p: {"client": "default", "server": "default"}
                                                     for p in ("TLS 1.1", "TLS 1.2")}
    # on a server that had no keys (2008 R2 defaults), fix + undo leaves no value in effect
    assert schannel_of(render_reg(ENABLE_TLS11_TLS12), undo) == read_back(tmp_path, undo, "undo2.reg")


def test_rollback_without_export_cannot_restore_a_deletion_and_says_so(tmp_path):
    undo = render_rollback({"TLS 1.0": {"client": "default"}, "TLS 1.2": {"client": "enabled"}})
    t = text(undo)
    assert "; TLS 1.0 Client: the fix deleted its values" in t
    assert "TLS 1.0\\Client]" not in t
    assert read_back(tmp_path, undo) == {"TLS 1.2": {"client": "default", "server": "default"}}


def test_rollback_of_the_seed_fix_restores_the_seed_export():
    exported = _exported("schannel_seed.reg")                      # TLS 1.0 client disabled
    changes = {"TLS 1.0": {"client": "enabled"}, "TLS 1.3": {"client": "enabled"}}
    fix, undo = render_reg(changes), render_rollback(changes, exported)
    after = schannel_of(_fixture("schannel_seed.reg"), fix)
    assert after["TLS 1.0"]["client"] == "enabled" and after["TLS 1.3"]["client"] == "enabled"
    assert schannel_of(_fixture("schannel_seed.reg"), fix, undo) == exported


@pytest.mark.parametrize(
    "changes, where",
    [({"TLS 2.0": {"client": "enabled"}}, "changes.TLS 2.0"),
     ({"TLS 1.2": {"both": "enabled"}}, "changes.TLS 1.2.both"),
     ({"TLS 1.2": {"client": "on"}}, "changes.TLS 1.2.client"),
     ({"TLS 1.2": "enabled"}, "changes.TLS 1.2"),
     (["TLS 1.2"], "changes")],
)
def test_bad_changes(changes, where):
    with pytest.raises(InputError, match=rf"^{where}: "):
        render_reg(changes)


def test_bad_export():
    with pytest.raises(InputError, match=r"^exported\.TLS 1\.2\.client: unknown state"):
        render_rollback({"TLS 1.2": {"client": "enabled"}}, {"TLS 1.2": {"client": "maybe"}})


STATE = st.sampled_from(["enabled", "disabled", "default"])
SIDE_MAP = st.dictionaries(st.sampled_from(["client", "server"]), STATE, min_size=1)
SCHANNEL = st.dictionaries(st.sampled_from(PROTOCOLS), SIDE_MAP, min_size=1)


@given(before=SCHANNEL, changes=SCHANNEL)
@settings(max_examples=200, deadline=None)
def test_fix_then_rollback_restores_any_exported_state(before, changes):
    export = render_reg(before)                      # a registry holding exactly `before`
    exported = schannel_of(export)
    fix = render_reg(changes)
    after = schannel_of(export, fix)
    for proto, sides in changes.items():
        for side, state in sides.items():
            assert after[proto][side] == state
    restored = schannel_of(export, fix, render_rollback(changes, exported))
    for proto, sides in changes.items():
        for side in sides:
            assert restored[proto][side] == exported.get(proto, {}).get(side, "default")
    for proto, sides in exported.items():            # what the fix did not touch stays as it was
        for side, state in sides.items():
            if side not in changes.get(proto, {}):
                assert restored[proto][side] == state
