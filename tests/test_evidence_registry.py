"""Registry exports of the SCHANNEL Protocols key -> tms.schannel (knowledge.md §4)."""

from __future__ import annotations

import os

import pytest

from tmsrules.errors import InputError
from tmsrules.evidence import read_evidence, read_file
from tmsrules.evidence.registry import PROTOCOLS_KEY, parse_reg, state_of

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "evidence")


def fx(name: str) -> str:
    return os.path.join(FIX, name)


def schannel(path) -> dict:
    return read_evidence(str(path))["tms"]["schannel"]


def write(tmp_path, name: str, text: str, encoding: str = "utf-16-le", newline: str = "\r\n") -> str:
    data = text.replace("\n", newline).encode(encoding)
    if encoding == "utf-16-le":
        data = b"\xff\xfe" + data
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_fixtures_are_written_like_regedit():
    with open(fx("schannel_seed.reg"), "rb") as fh:
        data = fh.read()
    assert data[:2] == b"\xff\xfe"
    text = data[2:].decode("utf-16-le")
    assert text.startswith("Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\")
    assert "\n" not in text.replace("\r\n", "")
    assert '"Enabled"=dword:00000000\r\n' in text
    assert read_file(fx("schannel_seed.reg"))[0] == "reg"


def test_seed_export_after_the_registry_step():
    assert schannel(fx("schannel_seed.reg")) == {
        # the export holds the Protocols key itself: protocols it lacks have no key
        "SSL 3.0": {"client": "default", "server": "default"},
        "TLS 1.0": {"client": "disabled", "server": "default"},
        "TLS 1.1": {"client": "enabled", "server": "enabled"},
        "TLS 1.2": {"client": "enabled", "server": "enabled"},
        "TLS 1.3": {"client": "default", "server": "default"},
    }


def test_iis_crypto_export_ffffffff_and_cipher_keys_ignored():
    assert schannel(fx("schannel_iis_crypto.reg")) == {
        "SSL 3.0": {"client": "disabled", "server": "disabled"},
        "TLS 1.0": {"client": "disabled", "server": "disabled"},
        "TLS 1.1": {"client": "disabled", "server": "disabled"},
        "TLS 1.2": {"client": "enabled", "server": "enabled"},      # Enabled=ffffffff
        "TLS 1.3": {"client": "default", "server": "default"},
    }


def test_regedit4_ansi_with_comments_deletions_hex4_and_continuations():
    with open(fx("schannel_regedit4.reg"), "rb") as fh:
        data = fh.read()
    assert data.startswith(b"REGEDIT4\r\n") and b"\x96" in data      # cp1252 en dash: ANSI
    assert schannel(fx("schannel_regedit4.reg")) == {
        "TLS 1.0": {"client": "disabled", "server": "default"},      # [-...\TLS 1.0\Server]
        "TLS 1.2": {"client": "enabled", "server": "enabled"},       # hex(4):01,00,00,00 ; DBD deleted
    }


def test_utf8_lf_disabled_by_default_only_and_empty_keys():
    with open(fx("schannel_utf8_lf.reg"), "rb") as fh:
        data = fh.read()
    assert b"\r" not in data and data[:3] != b"\xef\xbb\xbf"
    assert schannel(fx("schannel_utf8_lf.reg")) == {
        "SSL 3.0": {"client": "default", "server": "default"},       # protocol key, no side keys
        "TLS 1.1": {"client": "disabled", "server": "default"},      # only DisabledByDefault=1
        "TLS 1.2": {"client": "enabled", "server": "default"},       # only DisabledByDefault=0; Server key empty
    }


@pytest.mark.parametrize(
    "values, state",
    [
        ({"enabled": 0}, "disabled"),
        ({"enabled": 0, "disabledbydefault": 0}, "disabled"),
        ({"enabled": 1}, "enabled"),
        ({"enabled": 0xFFFFFFFF, "disabledbydefault": 0}, "enabled"),
        ({"enabled": 1, "disabledbydefault": 1}, "disabled"),
        ({"disabledbydefault": 1}, "disabled"),
        ({"disabledbydefault": 0}, "enabled"),
        ({}, "default"),
    ],
)
def test_state_table(values, state):
    assert state_of(values) == state


HEAD = "Windows Registry Editor Version 5.00\n\n"
K = PROTOCOLS_KEY


def test_later_lines_win_and_deleted_key_then_recreated(tmp_path):
    path = write(tmp_path, "x.reg", HEAD + (
        f"[{K}\\TLS 1.2\\Client]\n\"Enabled\"=dword:00000000\n\n"
        f"[-{K}\\TLS 1.2]\n\n"
        f"[{K}\\TLS 1.2\\Server]\n\"Enabled\"=dword:00000001\n\"Enabled\"=dword:00000000\n\n"))
    assert schannel(path) == {"TLS 1.2": {"client": "default", "server": "disabled"}}


def test_deleting_the_protocols_key_leaves_every_protocol_default(tmp_path):
    path = write(tmp_path, "x.reg", HEAD + f"[{K}\\TLS 1.0\\Client]\n\"Enabled\"=dword:0\n\n[-{K}]\n\n")
    assert schannel(path) == {p: {"client": "default", "server": "default"}
                              for p in ("SSL 3.0", "TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3")}


def test_case_insensitive_paths_hklm_and_other_protocols_ignored(tmp_path):
    path = write(tmp_path, "x.reg", HEAD + (
        "[hklm\\system\\currentcontrolset\\control\\securityproviders\\schannel\\protocols\\tls 1.1\\CLIENT]\n"
        "\"ENABLED\"=DWORD:00000001\n\n"
        f"[{K}\\SSL 2.0\\Client]\n\"Enabled\"=dword:00000001\n\n"
        f"[{K}\\DTLS 1.2\\Client]\n\"Enabled\"=dword:00000000\n\n"
        f"[{K}\\TLS 1.2\\Client\\Sub]\n\"Enabled\"=dword:00000000\n\n"
        f"[{K}\\TLS 1.2\\Client]\n@=\"x\"\n\"Enabled\"=\"1\"\n\"DisabledByDefault\"=hex(b):00,00,00,00,00,00,00,00\n\n"))
    assert schannel(path) == {
        "TLS 1.1": {"client": "enabled", "server": "default"},
        "TLS 1.2": {"client": "default", "server": "default"},       # REG_SZ / QWORD: not DWORDs
    }


def test_line_continuation_of_a_hex4_dword(tmp_path):
    path = write(tmp_path, "x.reg", HEAD + f"[{K}\\TLS 1.2\\Client]\n\"Enabled\"=hex(4):01,\\\n  00,00,00\n\n")
    assert schannel(path) == {"TLS 1.2": {"client": "enabled", "server": "default"}}


def test_file_without_schannel_keys_shows_nothing(tmp_path):
    path = write(tmp_path, "x.reg", HEAD + "[HKEY_CURRENT_USER\\Software\\Foo]\n\"Enabled\"=dword:00000000\n\n")
    assert read_evidence(path) == {}


@pytest.mark.parametrize(
    "body, line, message",
    [
        (f"[{K}\\TLS 1.2\\Client]\n\"Enabled\"=dword:1000000001\n", 4, "unreadable value data"),
        (f"[{K}\\TLS 1.2\\Client]\n\"Enabled\"=dword:zz\n", 4, "unreadable value data"),
        (f"[{K}\\TLS 1.2\\Client\n\"Enabled\"=dword:1\n", 3, "unterminated key line"),
        (f"[{K}\\TLS 1.2\\Client]\nEnabled=1\n", 4, "not a key, value or comment"),
        ("\"Enabled\"=dword:00000001\n", 3, "a value before any [key] line"),
        (f"[{K}\\TLS 1.2\\Client]\n\"Enabled\"=hex(4):01,00,00\n", 4, "needs 4 bytes"),
        (f"[{K}\\TLS 1.2\\Client]\n\"Enabled\"=hex(4):01,00,00,1ff\n", 4, "is not a byte"),
        (f"[{K}\\TLS 1.2\\Client]\n\"Blob\"=hex:01,02,\\\n", 4, "past the end of the file"),
    ],
)
def test_malformed_reg_files_name_the_line(tmp_path, body, line, message):
    path = write(tmp_path, "bad.reg", HEAD + body)
    with pytest.raises(InputError) as err:
        read_evidence(path)
    assert f"bad.reg:line {line}" in str(err.value)
    assert message in str(err.value)


def test_odd_length_utf16_is_reported(tmp_path):
    path = tmp_path / "odd.reg"
    path.write_bytes(b"\xff\xfe" + (HEAD + f"[{K}]\r\n").encode("utf-16-le") + b"\x00")
    with pytest.raises(InputError, match=r"odd\.reg:offset \d+: text cannot be decoded"):
        read_evidence(str(path))


def test_huge_text_file_is_refused(tmp_path):
    path = tmp_path / "huge.reg"
    with open(path, "wb") as fh:
        fh.write(HEAD.encode())
        fh.truncate(17 * 1024 * 1024)
    with pytest.raises(InputError, match=r"huge\.reg: file is too big"):
        read_evidence(str(path))


def test_parse_reg_rejects_text_without_header():
    with pytest.raises(InputError, match="not a registry export"):
        parse_reg("[HKEY_LOCAL_MACHINE\\X]\n", "t.reg")


def test_a_long_continued_value_is_read_in_linear_time(tmp_path):
    # 600,000 continuation lines (3.6 MB): joining them one by one was quadratic (minutes)
    path = tmp_path / "long.reg"
    path.write_bytes((HEAD + "[HKEY_CURRENT_USER\\X]\r\n\"Blob\"=hex:" + "00,\\\r\n" * 600_000 + "00\r\n").encode())
    import time

    start = time.monotonic()
    assert read_evidence(str(path)) == {}
    assert time.monotonic() - start < 20


def test_huge_quoted_strings_do_not_exhaust_memory(tmp_path):
    # a 15 MB value name and value full of escaped quotes: a regex with a repeated
    # alternation took over a gigabyte of backtracking state for them
    import subprocess
    import sys

    path = tmp_path / "quotes.reg"
    path.write_bytes((HEAD + "[HKEY_CURRENT_USER\\X]\r\n\"" + 'a\\"' * 2_500_000 + "\"=\""
                      + 'b\\"' * 2_500_000 + "\"\r\n").encode())
    code = ("import resource, sys; from tmsrules.evidence import read_evidence; "
            "assert read_evidence(sys.argv[1]) == {}; "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) < 600 * 1024            # KiB on Linux
