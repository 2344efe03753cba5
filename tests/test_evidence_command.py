"""The argparse handlers of `tmsrules evidence` and `tmsrules probe`, called with parsed args."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import ssl
import subprocess
import threading

import pytest

from tmsrules.errors import InputError
from tmsrules.evidence import read_evidence
from tmsrules.evidence.command import add_evidence_parser, add_probe_parser, parse_target
from tmsrules.probe import local_support

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "evidence")


def fx(name: str) -> str:
    return os.path.join(FIX, name)


def run(argv):
    parser = argparse.ArgumentParser(prog="tmsrules")
    sub = parser.add_subparsers(dest="command")
    add_evidence_parser(sub)
    add_probe_parser(sub)
    args = parser.parse_args(argv)
    return args.func(args)


def test_evidence_prints_sorted_indented_json(capsys):
    files = [fx("tc736_medium_alert.pcap"), fx("schannel_seed.reg"), fx("application.csv")]
    assert run(["evidence", *files]) == 0
    out = capsys.readouterr().out
    assert json.loads(out) == read_evidence(*files)
    assert out == json.dumps(read_evidence(*files), sort_keys=True, indent=2) + "\n"
    assert out.index('"observations"') < out.index('"tms"')


def test_evidence_bad_file_exits_2_with_one_line(tmp_path, capsys):
    bad = tmp_path / "cut.pcap"
    with open(fx("site.pcap"), "rb") as fh:
        bad.write_bytes(fh.read()[:1000])
    assert run(["evidence", fx("schannel_seed.reg"), str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tmsrules: ") and "cut.pcap:offset " in lines[0]


def test_evidence_requires_a_file():
    with pytest.raises(SystemExit):
        run(["evidence"])


@pytest.mark.parametrize(
    "text, host, port",
    [("tc1.example.com", "tc1.example.com", 443), ("10.0.0.5:8443", "10.0.0.5", 8443),
     ("[::1]:4443", "::1", 4443), ("[::1]", "::1", 443), ("fe80::1", "fe80::1", 443)],
)
def test_parse_target(text, host, port):
    assert parse_target(text) == (host, port)


@pytest.mark.parametrize("text", ["host:0", "host:99999", "host:https", ":443", "[::1", "[::1]x"])
def test_parse_target_rejects(text):
    with pytest.raises(InputError):
        parse_target(text)


@pytest.fixture(scope="module")
def tc736_server(tmp_path_factory):
    """A TLS server like TC 7.3.6 (minimum TLS 1.2) on 127.0.0.1."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a self-signed certificate")
    d = tmp_path_factory.mktemp("cert")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=tc",
                    "-keyout", str(d / "k.pem"), "-out", str(d / "c.pem")], check=True, capture_output=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(d / "c.pem"), str(d / "k.pem"))
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.1)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(3)
            try:
                with ctx.wrap_socket(conn, server_side=True):
                    pass
            except (OSError, ssl.SSLError):
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield sock.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    sock.close()


def test_probe_readable_line(tc736_server, capsys):
    assert run(["probe", f"127.0.0.1:{tc736_server}", "--timeout", "3"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert out.startswith(f"127.0.0.1:{tc736_server}: ")
    assert "TLS 1.2 accepted" in out
    if local_support()["TLS 1.0"]:
        assert "TLS 1.0 refused" in out and "refuses TLS 1.0" in out


def test_probe_json(tc736_server, capsys):
    assert run(["probe", f"127.0.0.1:{tc736_server}", "--json", "--timeout", "3"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["host"] == "127.0.0.1" and result["port"] == tc736_server
    assert result["accepts"]["TLS 1.2"] is True
    assert result["accepts"]["TLS 1.3"] is (False if local_support()["TLS 1.3"] else None)
    assert result["refuses_tls10"] is (True if local_support()["TLS 1.0"] else None)


def test_probe_unreachable_exits_3(capsys):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    assert run(["probe", f"127.0.0.1:{port}", "--timeout", "2"]) == 3
    err = capsys.readouterr().err
    assert err == f"tmsrules: 127.0.0.1:{port}: connection refused (nothing listens on that port)\n"


def test_probe_bad_target_exits_2(capsys):
    assert run(["probe", "127.0.0.1:http"]) == 2
    assert capsys.readouterr().err.startswith("tmsrules: HOST[:PORT]: ")
    assert run(["probe", "127.0.0.1", "--timeout", "0"]) == 2
    assert "timeout" in capsys.readouterr().err
