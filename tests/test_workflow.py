"""The support engineer's workflow, end to end, through real processes.

Evidence in (a tcpdump capture, a regedit export, an Event Viewer export, a
live probe), ``tmsrules diagnose ENV.json --evidence ... --json`` gives the
diagnosis, ``tmsrules regfile`` writes the fix. Bad files end in exit 2 and
one line on stderr. Also: SSL 3.0 in captures (handshakes only, never
``client_hello``).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import warnings

import pytest

import tmsrules
from tmsrules import Environment, InputError
from tmsrules.evidence import read_evidence
from tmsrules.probe import accepted_versions, local_support

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "evidence")
V = ssl.TLSVersion
KEY = r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols"


def fixture(name: str) -> str:
    return os.path.join(FIX, name)


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tmsrules", *args], capture_output=True, text=True,
                          timeout=timeout)


def diagnose_cli(tmp_path, env: dict, *evidence: str) -> dict:
    path = tmp_path / "env.json"
    path.write_text(json.dumps(env), encoding="utf-8")
    args = ["diagnose", str(path), "--json"]
    if evidence:
        args += ["--evidence", *evidence]
    done = run(*args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def ids(items) -> list[str]:
    return [item["id"] for item in items]


def warning(d: dict, id: str) -> dict:
    found = [w for w in d["warnings"] if w["id"] == id]
    assert found, f"no {id} warning in {ids(d['warnings'])}"
    return found[0]


def endpoint(d: dict, name: str) -> dict:
    return next(e for e in d["endpoints"] if e["name"] == name)


WS2012R2 = "Windows Server 2012 R2"


# --------------------------------------------------------------------------- capture vs stated setting


def test_tls10_capture_contradicts_a_stated_medium_high(tmp_path):
    env = {"tms": {"version": "15.2.1", "communication_security": "Medium-High", "windows": WS2012R2},
           "endpoints": [{"name": "Boardroom", "software": "ce9.15.3.17", "management": "https",
                          "status": "No HTTPS response"}]}
    without = diagnose_cli(tmp_path, env)
    assert "ClientHello" not in " ".join(w["text"] for w in without["warnings"] if w["id"] == "evidence-conflict")
    d = diagnose_cli(tmp_path, env, fixture("tc736_medium_alert.pcap"))
    text = warning(d, "evidence-conflict")["text"]
    assert "Communication Security" in text and "ClientHello" in text      # both sources named
    assert "TLS 1.0" in text
    # the capture wins: TMS offers TLS 1.0 only, the CE 9 endpoint refuses it
    assert d["verdict"] == "affected"
    assert endpoint(d, "Boardroom")["verdict"] == "affected"
    assert {"endpoint-refuses-tls10", "tms-security-medium"} <= set(ids(d["causes"]))
    assert "set-medium-high" in ids(d["plan"])


def test_medium_high_capture_agrees_with_the_stated_setting(tmp_path):
    env = {"tms": {"version": "15.2.1", "communication_security": "medium-high", "windows": WS2012R2},
           "endpoints": [{"name": "Boardroom", "software": "ce9.15.3.17", "management": "https"}]}
    d = diagnose_cli(tmp_path, env, fixture("tc736_medium_high.pcap"))
    assert "evidence-conflict" not in ids(d["warnings"])
    assert d["verdict"] == "not-affected"


# --------------------------------------------------------------------------- registry export + event log


SQL2012 = {"tms": {"version": "15.2.1", "communication_security": "medium-high", "windows": WS2012R2,
                   "sql": {"version": "SQL Server 2012 SP2", "local": True}},
           "endpoints": [{"name": "Boardroom", "software": "ce9.15.3.17", "management": "https"}]}


def test_export_disabling_tls10_server_with_sql_2012_and_its_events(tmp_path):
    evidence = read_evidence(fixture("schannel_hardened.reg"), fixture("application.csv"))
    assert evidence["tms"]["schannel"]["TLS 1.0"]["server"] == "disabled"
    assert {17182, 26011} <= set(evidence["observations"]["sql_event_ids"])
    d = diagnose_cli(tmp_path, SQL2012, fixture("schannel_hardened.reg"), fixture("application.csv"))
    assert "sql-tls10-disabled" in ids(d["causes"])
    assert ids(d["plan"])[0] == "patch-sql"
    assert "evidence-conflict" not in ids(d["warnings"])
    assert d["verdict"] == "affected"
    # patching SQL changes no registry key: regfile says so and writes nothing
    env = tmp_path / "env.json"
    done = run("regfile", str(env), "--evidence", fixture("schannel_hardened.reg"), fixture("application.csv"),
               "-o", str(tmp_path / "fix.reg"))
    assert done.returncode == 0
    assert "no registry step" in done.stderr and done.stderr.count("\n") == 1
    assert not (tmp_path / "fix.reg").exists()


def test_sql_events_contradict_an_export_that_leaves_tls10_enabled(tmp_path):
    d = diagnose_cli(tmp_path, SQL2012, fixture("schannel_seed.reg"), fixture("sql_wevtutil.xml"))
    text = warning(d, "evidence-conflict")["text"]
    assert "SQL Server events" in text and "SCHANNEL keys" in text
    assert "sql-tls10-disabled" in ids(d["causes"])                    # the events win


def test_no_client_hello_capture_with_keys_that_allow_tls10(tmp_path):
    env = {"tms": {"version": "15.2.1", "communication_security": "medium", "windows": WS2012R2,
                   "schannel": {"TLS 1.0": {"client": "enabled", "server": "enabled"}}},
           "endpoints": [{"name": "Boardroom", "software": "TC7.3.3", "management": "https"}]}
    d = diagnose_cli(tmp_path, env, fixture("no_client_hello.pcap"))
    assert "evidence-conflict" in ids(d["warnings"])


# --------------------------------------------------------------------------- live probe, attached as accepts


class LoopbackServer:
    """A TLS server on 127.0.0.1:<ephemeral> between two versions (like test_probe's)."""

    def __init__(self, cert, minv, maxv):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(*cert)
        self.ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self.ctx.minimum_version, self.ctx.maximum_version = minv, maxv
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.stop = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(3)
            try:
                with self.ctx.wrap_socket(conn, server_side=True):
                    pass
            except (OSError, ssl.SSLError):
                pass
            finally:
                conn.close()

    def close(self):
        self.stop = True
        self.thread.join(timeout=5)
        self.sock.close()


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a self-signed certificate")
    d = tmp_path_factory.mktemp("cert")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=endpoint.example", "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")],
                   check=True, capture_output=True)
    return str(d / "cert.pem"), str(d / "key.pem")


def probe_cli(port: int) -> list[str]:
    done = run("probe", f"127.0.0.1:{port}", "--timeout", "3", "--json")
    assert done.returncode == 0, done.stderr
    return accepted_versions(json.loads(done.stdout))


@pytest.mark.skipif(not local_support()["TLS 1.0"], reason="the local OpenSSL cannot offer TLS 1.0")
def test_probe_results_outrank_firmware_and_disagreements_are_reported(tmp_path, cert):
    tc733_like, tc736_like = LoopbackServer(cert, V.TLSv1, V.TLSv1_2), LoopbackServer(cert, V.TLSv1_2, V.TLSv1_2)
    try:
        accepts_old, accepts_new = probe_cli(tc733_like.port), probe_cli(tc736_like.port)
    finally:
        tc733_like.close()
        tc736_like.close()
    assert "TLS 1.0" in accepts_old and "TLS 1.0" not in accepts_new
    env = {"tms": {"version": "15.2.1", "communication_security": "medium", "windows": WS2012R2},
           "endpoints": [
               # the firmware says CE 9 (refuses TLS 1.0), the probe saw TLS 1.0 accepted
               {"name": "Boardroom", "software": "ce9.15.3.17", "management": "https", "accepts": accepts_old},
               # the firmware says TC 7.3.3 (accepts TLS 1.0), the probe saw it refused
               {"name": "Lobby", "software": "TC7.3.3", "management": "https", "accepts": accepts_new},
               # firmware and probe agree
               {"name": "Desk", "software": "TC7.3.6", "management": "https", "accepts": accepts_new},
           ]}
    d = diagnose_cli(tmp_path, env)
    conflict = warning(d, "evidence-conflict")
    assert "firmware" in conflict["text"] and "probe" in conflict["text"]
    assert sorted(conflict["endpoints"]) == ["Boardroom", "Lobby"]
    assert endpoint(d, "Boardroom")["verdict"] == "not-affected"       # the probe wins over CE 9
    assert endpoint(d, "Lobby")["verdict"] == "affected"               # the probe wins over TC 7.3.3
    assert endpoint(d, "Desk")["verdict"] == "affected"
    # without the probe, the firmware decides the other way round
    for e in env["endpoints"]:
        del e["accepts"]
    d = diagnose_cli(tmp_path, env)
    assert endpoint(d, "Boardroom")["verdict"] == "affected"
    assert endpoint(d, "Lobby")["verdict"] == "not-affected"
    assert "evidence-conflict" not in ids(d["warnings"])


# --------------------------------------------------------------------------- the whole workflow


def test_capture_export_and_events_in_diagnosis_and_fix_reg_out(tmp_path):
    """A 2008 R2 TMS at Medium: capture + export + event log in; diagnosis, fix.reg and undo.reg out."""
    env = {"tms": {"version": "15.2.1", "windows": "Windows Server 2008 R2",
                   "sql": {"version": "10.50.6000.34", "local": True}},
           "endpoints": [{"name": "Boardroom", "software": "ce9.15.3.17", "management": "https",
                          "status": "No HTTPS response"}]}
    export = tmp_path / "before.reg"          # what regedit exports on a 2008 R2 server nobody touched
    export.write_bytes(b"\xff\xfe" + ("Windows Registry Editor Version 5.00\r\n\r\n"
                                      f"[{KEY}]\r\n\r\n[{KEY}\\SSL 2.0]\r\n\r\n"
                                      f"[{KEY}\\SSL 2.0\\Client]\r\n\"DisabledByDefault\"=dword:00000001\r\n\r\n"
                                      ).encode("utf-16-le"))
    evidence = [fixture("tc736_medium_alert.pcap"), str(export), fixture("sql_wevtutil.xml")]
    d = diagnose_cli(tmp_path, env, *evidence)
    assert d["verdict"] == "affected"
    # unknown Communication Security + a TLS 1.0 ClientHello on TMS 15 = Low or Medium
    assert {"endpoint-refuses-tls10", "tms-security-medium", "schannel-tls12-disabled"} <= set(ids(d["causes"]))
    assert "enable-tls11-tls12" in ids(d["plan"]) and "set-medium-high" in ids(d["plan"])
    assert ids(d["plan"])[-1] == "verify-client-hello"
    env_path = tmp_path / "env.json"
    fix = run("regfile", str(env_path), "--evidence", *evidence, "-o", str(tmp_path / "fix.reg"))
    assert fix.returncode == 0, fix.stderr
    undo = run("regfile", str(env_path), "--evidence", *evidence, "--rollback", "-o", str(tmp_path / "undo.reg"))
    assert undo.returncode == 0, undo.stderr
    fixed = read_evidence(str(tmp_path / "fix.reg"))["tms"]["schannel"]
    assert fixed == {"TLS 1.1": {"client": "enabled", "server": "enabled"},
                     "TLS 1.2": {"client": "enabled", "server": "enabled"}}
    assert read_evidence(str(tmp_path / "undo.reg"))["tms"]["schannel"] == {
        "TLS 1.1": {"client": "default", "server": "default"},
        "TLS 1.2": {"client": "default", "server": "default"}}
    # the fix applied and the server restarted: no SCHANNEL fault is left
    after = json.loads(json.dumps(env))
    after["tms"].update({"schannel": fixed, "reboot_pending": False, "communication_security": "medium-high"})
    d2 = tmsrules.diagnose(after, questions=False)
    assert not {"schannel-tls12-disabled", "reboot-pending", "sql-tls10-disabled"} & set(d2.cause_ids)


# --------------------------------------------------------------------------- bad files


def _bad_files(tmp_path) -> dict[str, str]:
    with open(fixture("site.pcap"), "rb") as fh:
        whole = fh.read()
    files = {
        "truncated.pcap": whole[:5000],
        "garbage.reg": ("Windows Registry Editor Version 5.00\r\n\r\n"
                        f"[{KEY}\\TLS 1.0\\Server]\r\n\"Enabled\"=dword:xyz\r\n").encode("utf-16-le"),
        "empty.pcap": b"",
        "noise.bin": bytes(range(256)) * 4,
        "half.xml": b'<?xml version="1.0"?><Events><Event><System><Provider Name="MSSQLSERVER"/><EventID>171',
    }
    out = {}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        out[name] = str(tmp_path / name)
    return out


@pytest.mark.parametrize("name", ["truncated.pcap", "garbage.reg", "empty.pcap", "noise.bin", "half.xml"])
def test_bad_evidence_files_exit_2_with_one_line(tmp_path, name):
    bad = _bad_files(tmp_path)[name]
    env = tmp_path / "env.json"
    env.write_text(json.dumps(SQL2012), encoding="utf-8")
    for args in (["evidence", bad],
                 ["diagnose", str(env), "--evidence", fixture("tc733_medium.pcap"), bad, "--json"],
                 ["regfile", str(env), "--evidence", bad, "-o", str(tmp_path / "fix.reg")]):
        done = run(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stdout == ""
        assert done.stderr.startswith("tmsrules: ") and done.stderr.count("\n") == 1, done.stderr
        assert name in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "fix.reg").exists()


# --------------------------------------------------------------------------- SSL 3.0 in captures


def test_ssl3_only_capture_lists_the_handshake_but_no_client_hello():
    obs = read_evidence(fixture("ssl3_only.pcap"))["observations"]
    assert "client_hello" not in obs                        # TMS never offers SSL 3.0: unknown
    [h] = obs["handshakes"]
    assert h["offered"] == "SSL 3.0" and h["server"] == "127.0.0.11:443"
    assert h["answer"].startswith("alert: ")


def test_ssl3_next_to_a_tls10_hello_reports_tls10():
    obs = read_evidence(fixture("ssl3_mixed.pcap"))["observations"]
    assert obs["client_hello"] == "TLS 1.0"
    assert [h["offered"] for h in obs["handshakes"]] == ["SSL 3.0", "TLS 1.0"]


def test_ssl3_next_to_a_silent_connection_reports_none():
    obs = read_evidence(fixture("ssl3_silent.pcap"))["observations"]
    assert obs["client_hello"] == "none"
    assert [h["offered"] for h in obs["handshakes"]] == ["SSL 3.0", "none"]


def test_model_accepts_ssl3_in_handshakes_only():
    env = Environment.from_dict({"observations": {"handshakes": [
        {"client": "a", "server": "b", "offered": "SSL 3.0", "answer": "alert: handshake_failure"},
        {"offered": "SSLv3"}, {"offered": "0x0300"}, {"offered": "tls1.2"}, {"offered": "none"}]}})
    assert [h.offered for h in env.observations.handshakes] == ["SSL 3.0"] * 3 + ["TLS 1.2", "none"]
    assert env.to_dict()["observations"]["handshakes"][0]["offered"] == "SSL 3.0"
    with pytest.raises(InputError, match=r"observations\.client_hello"):
        Environment.from_dict({"observations": {"client_hello": "SSL 3.0"}})
    for bad in ("SSL 2.0", "banana", 3):
        with pytest.raises(InputError, match=r"observations\.handshakes\[0\]\.offered"):
            Environment.from_dict({"observations": {"handshakes": [{"offered": bad}]}})


@pytest.mark.parametrize("name", ["ssl3_only.pcap", "ssl3_mixed.pcap", "ssl3_silent.pcap"])
def test_every_ssl3_capture_is_valid_input(tmp_path, name):
    env = {"tms": {"version": "15.2.1", "windows": WS2012R2},
           "endpoints": [{"name": "Boardroom", "software": "TC7.3.3", "management": "https"}]}
    evidence = read_evidence(fixture(name))
    Environment.from_dict({**env, **evidence})
    d = diagnose_cli(tmp_path, env, fixture(name))
    assert d["contract"] == 1
    if name == "ssl3_mixed.pcap":                           # TLS 1.0 seen: Low or Medium
        assert "tms-security-medium" not in ids(d["causes"])  # TC 7.3.3 accepts TLS 1.0: nothing broken
        assert d["verdict"] in ("not-affected", "undetermined")


def test_read_evidence_is_public_api():
    assert "read_evidence" in tmsrules.__all__
    assert tmsrules.read_evidence(fixture("tc733_medium.pcap"))["observations"]["client_hello"] == "TLS 1.0"
