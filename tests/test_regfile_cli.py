"""``tmsrules regfile``: the plan's registry changes as fix.reg / undo.reg, read back and simulated.

The files are written through ``tmsrules.cli.main`` (and once through a real
subprocess), read back through the project's own registry reader
(``tmsrules.evidence.read_evidence``), and the SCHANNEL state they leave is
applied to the environment and diagnosed again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import tmsrules
from tmsrules.cli import main
from tmsrules.evidence import merge, read_evidence
from tmsrules.evidence.command import registry_changes
from tmsrules.evidence.registry import parse_reg
from tmsrules.rulebase import load

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "evidence")
HARDENED = os.path.join(FIX, "schannel_hardened.reg")
KEY = r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols"
SCHANNEL_FAULTS = {"schannel-tls12-disabled", "tms-tls10-client-disabled", "sql-tls10-disabled", "reboot-pending"}

W2008R2 = {
    "tms": {"version": "15.2.1", "communication_security": "medium", "windows": "Windows Server 2008 R2"},
    "endpoints": [{"name": "Boardroom", "software": "ce9.15.3.17", "management": "https",
                   "status": "No HTTPS response"}],
}
SQL2008R2 = {
    "tms": {"version": "15.2.1", "communication_security": "medium-high", "windows": "Windows Server 2012 R2",
            "schannel": {"TLS 1.0": {"client": "disabled", "server": "disabled"}},
            "sql": {"version": "2008 R2", "local": True}},
    "endpoints": [{"name": "Boardroom", "software": "ce9.15.3.17", "management": "https"}],
}
#: the same server, its SCHANNEL state known only from the regedit export
SQL2008R2_BARE = {
    "tms": {"version": "15.2.1", "communication_security": "medium-high", "windows": "Windows Server 2012 R2",
            "sql": {"version": "2008 R2", "local": True}},
    "endpoints": [{"name": "Boardroom", "software": "ce9.15.3.17", "management": "https"}],
}
TMS14_CLIENT_TLS10_OFF = {
    "tms": {"version": "14.6.2", "windows": "Windows Server 2012 R2",
            "schannel": {"TLS 1.0": {"client": "disabled", "server": "default"}}},
    "endpoints": [{"name": "Boardroom", "software": "ce9.15.3.17", "management": "https"}],
}
NOTHING_TO_DO = {
    "tms": {"version": "15.2.1", "communication_security": "medium", "windows": "Windows Server 2016"},
    "endpoints": [{"name": "Boardroom", "software": "ce9.15.3.17", "management": "https"}],
}


def write_env(tmp_path, env, name="env.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(env), encoding="utf-8")
    return str(path)


def regfile(tmp_path, env, *extra, out="fix.reg"):
    """Run ``tmsrules regfile`` through cli.main; (exit code, output path)."""
    target = str(tmp_path / out)
    code = main(["regfile", write_env(tmp_path, env), "-o", target, *extra])
    return code, target


def text(path: str) -> str:
    with open(path, "rb") as fh:
        data = fh.read()
    assert data[:2] == b"\xff\xfe", "regedit 5.00 files are UTF-16 LE with a BOM"
    body = data[2:].decode("utf-16-le")
    assert body.startswith("Windows Registry Editor Version 5.00\r\n\r\n")
    assert "\n" not in body.replace("\r\n", ""), "CRLF line ends only"
    return body


def read_back(path: str) -> dict:
    return read_evidence(path).get("tms", {}).get("schannel", {})


def imported(*paths: str) -> dict:
    """The SCHANNEL state after regedit imports the files in order (values set and deleted line by line)."""
    bodies = []
    for i, path in enumerate(paths):
        with open(path, "rb") as fh:
            data = fh.read()
        body = data[2:].decode("utf-16-le") if data[:2] == b"\xff\xfe" else data.decode("utf-8")
        bodies.append(body.split("\n", 1)[1] if i else body)
    return parse_reg("\r\n".join(bodies), "imported").get("tms", {}).get("schannel", {})


def after_fix(env: dict, schannel: dict) -> dict:
    """``env`` with ``schannel`` applied and the server restarted (the plan's reboot step)."""
    fixed = merge(env, {"tms": {"schannel": schannel, "reboot_pending": False}})
    for proto, sides in schannel.items():                 # an explicit fix replaces a stated key
        fixed["tms"]["schannel"].setdefault(proto, {}).update(sides)
    fixed.pop("observations", None)                       # what was observed is the past
    return fixed


def effective(env: dict, proto: str, side: str) -> str:
    return env["tms"].get("schannel", {}).get(proto, {}).get(side, "default")


# --------------------------------------------------------------------------- the fix


def test_windows_2008_r2_fix_enables_tls11_tls12_client_and_server(tmp_path, capsys):
    code, path = regfile(tmp_path, W2008R2)
    assert code == 0
    body = text(path)
    for proto in ("TLS 1.1", "TLS 1.2"):
        for side in ("Client", "Server"):
            assert (f"[{KEY}\\{proto}\\{side}]\r\n\"Enabled\"=dword:00000001\r\n"
                    "\"DisabledByDefault\"=dword:00000000\r\n") in body
    assert "TLS 1.0" not in body and "SSL 3.0" not in body
    schannel = read_back(path)
    assert schannel == {"TLS 1.1": {"client": "enabled", "server": "enabled"},
                        "TLS 1.2": {"client": "enabled", "server": "enabled"}}
    assert "wrote the fix" in capsys.readouterr().err
    d = tmsrules.diagnose(after_fix(W2008R2, schannel), questions=False)
    assert not SCHANNEL_FAULTS & set(d.cause_ids)
    assert "enable-tls11-tls12" not in d.step_ids


def test_fix_matches_the_simulated_plan(tmp_path):
    """The file holds exactly what the catalog says the plan's steps set: simulate ends in that state."""
    code, path = regfile(tmp_path, W2008R2)
    assert code == 0
    final = tmsrules.simulate(W2008R2)[-1]
    sim = final.environment.to_dict()
    for proto, sides in read_back(path).items():
        for side, state in sides.items():
            assert effective(sim, proto, side) == state
    assert not SCHANNEL_FAULTS & set(final.diagnosis.cause_ids)
    assert final.diagnosis.verdict == "not-affected"


def test_sql_2008_r2_with_tls10_disabled_reenables_tls10_and_ssl3_server(tmp_path):
    code, path = regfile(tmp_path, SQL2008R2)
    assert code == 0
    body = text(path)
    assert f"[{KEY}\\TLS 1.0\\Server]" in body and f"[{KEY}\\SSL 3.0\\Server]" in body
    assert "\\Client]" not in body and "TLS 1.2" not in body
    schannel = read_back(path)
    assert schannel["TLS 1.0"]["server"] == "enabled" and schannel["SSL 3.0"]["server"] == "enabled"
    assert "sql-tls10-disabled" in tmsrules.diagnose(SQL2008R2, questions=False).cause_ids
    fixed = after_fix(SQL2008R2, {p: {"server": s["server"]} for p, s in schannel.items()})
    assert effective(fixed, "TLS 1.0", "client") == "disabled"        # the fix leaves the client side alone
    d = tmsrules.diagnose(fixed, questions=False)
    assert not SCHANNEL_FAULTS & set(d.cause_ids)
    assert d.verdict == "not-affected"


def test_registry_export_as_evidence_drives_the_fix(tmp_path):
    """No stated SCHANNEL facts: the regedit export supplies them, and the fix follows."""
    code, path = regfile(tmp_path, SQL2008R2_BARE, "--evidence", HARDENED)
    assert code == 0
    assert read_back(path) == {"SSL 3.0": {"client": "default", "server": "enabled"},
                               "TLS 1.0": {"client": "default", "server": "enabled"}}
    # imported over the exported state, the server side is back on, the client side stays off
    state = imported(HARDENED, path)
    assert state["TLS 1.0"] == {"client": "disabled", "server": "enabled"}
    assert state["SSL 3.0"] == {"client": "disabled", "server": "enabled"}
    assert state["TLS 1.2"] == {"client": "enabled", "server": "enabled"}
    d = tmsrules.diagnose(after_fix(SQL2008R2_BARE, state), questions=False)
    assert not SCHANNEL_FAULTS & set(d.cause_ids)


def test_alternative_plan_registry_step(tmp_path):
    code, path = regfile(tmp_path, TMS14_CLIENT_TLS10_OFF, "--alternative", "reenable-tls10-client")
    assert code == 0
    assert read_back(path) == {"TLS 1.0": {"client": "enabled", "server": "default"}}
    fixed = after_fix(TMS14_CLIENT_TLS10_OFF, {"TLS 1.0": {"client": "enabled"}})
    assert "tms-tls10-client-disabled" not in tmsrules.diagnose(fixed, questions=False).cause_ids


def test_changes_come_from_the_catalog_effects():
    rb = load()
    assert registry_changes(["backup-registry", "enable-tls11-tls12", "reboot-tms-server"], rb) == {
        "TLS 1.1": {"client": "enabled", "server": "enabled"},
        "TLS 1.2": {"client": "enabled", "server": "enabled"},
    }
    assert registry_changes(["reenable-tls10-for-sql"], rb) == {
        "TLS 1.0": {"server": "enabled"}, "SSL 3.0": {"server": "enabled"}}
    assert registry_changes(["upgrade-tms", "set-medium-high", "verify-client-hello"], rb) == {}


# --------------------------------------------------------------------------- the rollback


def test_rollback_with_a_registry_export_returns_to_the_exported_state(tmp_path):
    code, fix = regfile(tmp_path, SQL2008R2_BARE, "--evidence", HARDENED)
    assert code == 0
    code, undo = regfile(tmp_path, SQL2008R2_BARE, "--evidence", HARDENED, "--rollback", out="undo.reg")
    assert code == 0
    body = text(undo)
    assert f"[{KEY}\\TLS 1.0\\Server]\r\n\"Enabled\"=dword:00000000\r\n\"DisabledByDefault\"=dword:00000001" in body
    assert "\\Client]" not in body                     # only what the fix touched
    exported = read_evidence(HARDENED)["tms"]["schannel"]
    assert imported(HARDENED, fix, undo) == exported
    assert read_back(undo) == {"SSL 3.0": {"client": "default", "server": "disabled"},
                               "TLS 1.0": {"client": "default", "server": "disabled"}}


def test_rollback_of_a_windows_2008_r2_fix_against_an_export(tmp_path):
    """A 2008 R2 server whose export shows no TLS 1.1/1.2 keys: the rollback deletes the values again."""
    export = tmp_path / "before.reg"
    export.write_bytes(b"\xff\xfe" + ("Windows Registry Editor Version 5.00\r\n\r\n"
                                      f"[{KEY}]\r\n\r\n"
                                      f"[{KEY}\\SSL 2.0]\r\n\r\n"
                                      f"[{KEY}\\SSL 2.0\\Client]\r\n\"DisabledByDefault\"=dword:00000001\r\n\r\n"
                                      ).encode("utf-16-le"))
    code, fix = regfile(tmp_path, W2008R2, "--evidence", str(export))
    assert code == 0
    code, undo = regfile(tmp_path, W2008R2, "--evidence", str(export), "--rollback", out="undo.reg")
    assert code == 0
    assert imported(str(export), fix, undo) == read_evidence(str(export))["tms"]["schannel"]
    assert '"Enabled"=-' in text(undo)


def test_rollback_without_an_export_removes_exactly_the_values_the_fix_creates(tmp_path):
    code, undo = regfile(tmp_path, W2008R2, "--rollback", out="undo.reg")
    assert code == 0
    body = text(undo)
    blocks = [b for b in body.split("\r\n\r\n")[1:] if b.strip()]
    assert len(blocks) == 4
    for block in blocks:
        assert block.endswith('"Enabled"=-\r\n"DisabledByDefault"=-')
    assert read_back(undo) == {"TLS 1.1": {"client": "default", "server": "default"},
                               "TLS 1.2": {"client": "default", "server": "default"}}


# --------------------------------------------------------------------------- nothing to write, bad input


def test_plan_without_a_registry_step_writes_nothing(tmp_path, capsys):
    code, path = regfile(tmp_path, NOTHING_TO_DO)
    assert code == 0
    assert not os.path.exists(path)
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no registry step" in err


@pytest.mark.parametrize("args, needle", [
    (["--alternative", "downgrade-endpoints"], "alternative"),
    (["--evidence", "MISSING.pcap"], "missing.pcap"),
])
def test_bad_arguments_exit_2_one_line(tmp_path, capsys, args, needle):
    args = [a.replace("MISSING.pcap", str(tmp_path / "missing.pcap")) for a in args]
    code, path = regfile(tmp_path, W2008R2, *args)
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err
    assert not os.path.exists(path)


@pytest.mark.parametrize("content", [b"", b"{not json", b'{"tms": {"version": "banana"}}', b"[]"])
def test_bad_environment_exits_2(tmp_path, capsys, content):
    env = tmp_path / "env.json"
    env.write_bytes(content)
    assert main(["regfile", str(env), "-o", str(tmp_path / "fix.reg")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tmsrules: ") and err.count("\n") == 1
    assert not (tmp_path / "fix.reg").exists()


def test_garbage_reg_evidence_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.reg"
    bad.write_text("Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\r\n\"x\"=dword:zz\r\n")
    code, _ = regfile(tmp_path, W2008R2, "--evidence", str(bad))
    assert code == 2
    err = capsys.readouterr().err
    assert "bad.reg" in err and err.count("\n") == 1


def test_unwritable_output_exits_2(tmp_path, capsys):
    code = main(["regfile", write_env(tmp_path, W2008R2), "-o", str(tmp_path / "no" / "such" / "fix.reg")])
    assert code == 2
    assert "cannot write" in capsys.readouterr().err


def test_help_says_what_happens_without_a_registry_step(capsys):
    with pytest.raises(SystemExit):
        from tmsrules.cli import build_parser
        build_parser().parse_args(["regfile", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "no registry step" in out and "no file is written" in out


# --------------------------------------------------------------------------- a real process


def test_subprocess_fix_and_rollback(tmp_path):
    env = write_env(tmp_path, SQL2008R2_BARE)
    run = [sys.executable, "-m", "tmsrules", "regfile", env, "--evidence", HARDENED]
    fix = subprocess.run(run + ["-o", str(tmp_path / "fix.reg")], capture_output=True, text=True, timeout=120)
    assert fix.returncode == 0, fix.stderr
    undo = subprocess.run(run + ["--rollback", "-o", str(tmp_path / "undo.reg")],
                          capture_output=True, text=True, timeout=120)
    assert undo.returncode == 0, undo.stderr
    assert imported(HARDENED, str(tmp_path / "fix.reg"), str(tmp_path / "undo.reg")) == \
        read_evidence(HARDENED)["tms"]["schannel"]
    stdout = subprocess.run([sys.executable, "-m", "tmsrules", "regfile", env, "--evidence", HARDENED, "-o", "-"],
                            capture_output=True, timeout=120)
    assert stdout.returncode == 0
    with open(tmp_path / "fix.reg", "rb") as fh:
        assert stdout.stdout == fh.read()
    bad = subprocess.run([sys.executable, "-m", "tmsrules", "regfile", str(tmp_path / "nope.json"), "-o",
                          str(tmp_path / "x.reg")], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


def test_rollback_restores_the_exported_values_value_for_value(tmp_path):
    # an IIS Crypto-style export: TLS 1.1 Client holds DisabledByDefault alone, TLS 1.2 Client
    # Enabled=0 alone, TLS 1.2 Server Enabled=ffffffff. Their states ("disabled", "enabled")
    # rewritten as Enabled/DisabledByDefault pairs are not what was exported
    # (DisabledByDefault=1 without Enabled is not Enabled=0: an application may still ask for it).
    from tmsrules.evidence.registry import parse_reg_values

    export = tmp_path / "before.reg"
    export.write_bytes(b"\xff\xfe" + (
        "Windows Registry Editor Version 5.00\r\n\r\n"
        f"[{KEY}]\r\n\r\n"
        f"[{KEY}\\TLS 1.1\\Client]\r\n\"DisabledByDefault\"=dword:00000001\r\n\r\n"
        f"[{KEY}\\TLS 1.2\\Client]\r\n\"Enabled\"=dword:00000000\r\n\r\n"
        f"[{KEY}\\TLS 1.2\\Server]\r\n\"Enabled\"=dword:ffffffff\r\n\r\n").encode("utf-16-le"))
    code, undo = regfile(tmp_path, W2008R2, "--evidence", str(export), "--rollback", out="undo.reg")
    assert code == 0
    body = text(undo)
    assert f"[{KEY}\\TLS 1.1\\Client]\r\n\"Enabled\"=-\r\n\"DisabledByDefault\"=dword:00000001\r\n" in body
    assert f"[{KEY}\\TLS 1.2\\Client]\r\n\"Enabled\"=dword:00000000\r\n\"DisabledByDefault\"=-\r\n" in body
    assert f"[{KEY}\\TLS 1.2\\Server]\r\n\"Enabled\"=dword:ffffffff\r\n\"DisabledByDefault\"=-\r\n" in body
    code, fix = regfile(tmp_path, W2008R2, "--evidence", str(export))
    assert code == 0
    # export, then the fix, then the rollback, imported in order: the exported values again
    bodies = [open(p, "rb").read()[2:].decode("utf-16-le") for p in (str(export), fix, undo)]
    merged = bodies[0] + "".join(b.split("\n", 1)[1] for b in bodies[1:])
    def values(text, name):            # a key the fix created stays, empty: no values is no key for SCHANNEL
        return {p: {s: v for s, v in sides.items() if v} for p, sides in parse_reg_values(text, name).items()}

    assert values(merged, "imported") == values(bodies[0], "before")
