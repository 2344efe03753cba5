"""Live probes against real TLS servers on 127.0.0.1 (threads, ephemeral ports, a self-signed certificate)."""

from __future__ import annotations

import shutil
import socket
import ssl
import struct
import subprocess
import threading
import time
import warnings

import pytest

from tmsrules.errors import InputError, TmsRulesError
from tmsrules.probe import ProbeError, _context, accepted_versions, describe, local_support, probe

V = ssl.TLSVersion
LOCAL = local_support()


@pytest.fixture(scope="session")
def cert(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a self-signed certificate")
    d = tmp_path_factory.mktemp("cert")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=endpoint.example", "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")],
                   check=True, capture_output=True)
    return str(d / "cert.pem"), str(d / "key.pem")


class Server:
    """A TLS server thread on 127.0.0.1:<ephemeral> between two versions; ``mode`` "reset" or "silent" misbehave."""

    def __init__(self, cert, minv=None, maxv=None, mode="tls"):
        self.mode = mode
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(*cert)
        self.ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            if minv:
                self.ctx.minimum_version = minv
            if maxv:
                self.ctx.maximum_version = maxv
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)                  # accept() wakes up to see self.stop
        self.port = self.sock.getsockname()[1]
        self.handshakes = []
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(3)
            try:
                if self.mode == "reset":
                    conn.recv(4096)
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                elif self.mode == "silent":
                    conn.recv(4096)
                    time.sleep(1.0)
                else:
                    with self.ctx.wrap_socket(conn, server_side=True) as tls:
                        self.handshakes.append(tls.version())
            except (OSError, ssl.SSLError):
                pass
            finally:
                conn.close()

    def close(self):
        self.stop = True
        self.thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def server(cert):
    made = []

    def make(*args, **kwargs):
        s = Server(cert, *args, **kwargs)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def expect(accepted: dict) -> dict:
    """What a probe must report: the server's answer, or None where the local OpenSSL cannot offer a version."""
    return {name: (value if LOCAL[name] else None) for name, value in accepted.items()}


def test_tc733_like_server_accepts_tls10(server):
    s = server(V.TLSv1, V.TLSv1_2)
    result = probe("127.0.0.1", s.port, timeout=3)
    assert result["host"] == "127.0.0.1" and result["port"] == s.port
    assert result["accepts"] == expect({"TLS 1.0": True, "TLS 1.1": True, "TLS 1.2": True, "TLS 1.3": False})
    assert result["refuses_tls10"] is (False if LOCAL["TLS 1.0"] else None)
    # each accepted handshake really happened at that version, on the server's side too
    assert sorted(s.handshakes) == sorted(v for v, n in (("TLSv1", "TLS 1.0"), ("TLSv1.1", "TLS 1.1"),
                                                          ("TLSv1.2", "TLS 1.2")) if LOCAL[n])


def test_tc736_like_server_refuses_tls10(server):
    s = server(V.TLSv1_2, V.TLSv1_2)
    result = probe("127.0.0.1", s.port, timeout=3)
    assert result["accepts"] == expect({"TLS 1.0": False, "TLS 1.1": False, "TLS 1.2": True, "TLS 1.3": False})
    assert result["refuses_tls10"] is (True if LOCAL["TLS 1.0"] else None)
    assert accepted_versions(result) == ["TLS 1.2"]
    assert "refuses TLS 1.0" in describe(result)


def test_ce9_like_server(server):
    s = server(V.TLSv1_2, V.TLSv1_3)
    result = probe("127.0.0.1", s.port, timeout=3)
    assert accepted_versions(result) == [n for n in ("TLS 1.2", "TLS 1.3") if LOCAL[n]]


def test_resetting_server_accepts_nothing(server):
    s = server(mode="reset")
    result = probe("127.0.0.1", s.port, timeout=3)
    assert result["accepts"] == expect({"TLS 1.0": False, "TLS 1.1": False, "TLS 1.2": False, "TLS 1.3": False})


def test_silent_server_times_out_per_handshake_not_forever(server):
    s = server(mode="silent")
    start = time.monotonic()
    result = probe("127.0.0.1", s.port, timeout=0.3)
    assert time.monotonic() - start < 4 * (0.3 + 1.0) + 2
    assert not any(result["accepts"].values())


def test_closed_port_is_a_probe_error():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()                                              # nothing listens there now
    with pytest.raises(ProbeError) as err:
        probe("127.0.0.1", port, timeout=2)
    assert isinstance(err.value, TmsRulesError)
    assert f"127.0.0.1:{port}: connection refused" in str(err.value)
    assert err.value.host == "127.0.0.1" and err.value.port == port


def test_connect_timeout_is_a_probe_error():
    # a listener whose accept queue is full: the kernel drops further SYNs, so connect() times out
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(8):
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", port))
            fillers.append(c)
        time.sleep(0.2)
        start = time.monotonic()
        with pytest.raises(ProbeError, match=rf"127\.0\.0\.1:{port}: TCP connection timed out after 0\.5 s"):
            probe("127.0.0.1", port, timeout=0.5)
        assert time.monotonic() - start < 5
    finally:
        for c in fillers:
            c.close()
        listener.close()


@pytest.mark.parametrize("port", [0, 70000, "443", True])
def test_bad_port(port):
    with pytest.raises(InputError, match="port"):
        probe("127.0.0.1", port)


@pytest.mark.parametrize("timeout", [0, -1, 1000])
def test_bad_timeout(timeout):
    with pytest.raises(InputError, match="timeout"):
        probe("127.0.0.1", 443, timeout=timeout)


def test_a_version_the_local_openssl_cannot_offer_is_reported_as_untested():
    # TLS 1.0 with only AES-GCM suites (TLS 1.2+): OpenSSL cannot write that ClientHello at all
    assert _context(V.TLSv1, "AESGCM") is None
    assert _context(V.TLSv1_2, "AESGCM") is not None
    result = {"host": "h", "port": 443, "accepts": {"TLS 1.0": None, "TLS 1.1": None, "TLS 1.2": True,
                                                    "TLS 1.3": True}, "refuses_tls10": None}
    assert "TLS 1.0 not tested (local OpenSSL cannot offer it)" in describe(result)
    assert accepted_versions(result) == ["TLS 1.2", "TLS 1.3"]


def test_probe_leaves_the_default_context_alone(server):
    s = server(V.TLSv1, V.TLSv1_2)
    before = ssl.create_default_context()
    probe("127.0.0.1", s.port, timeout=3)
    after = ssl.create_default_context()
    assert before.minimum_version == after.minimum_version
    assert [c["name"] for c in before.get_ciphers()] == [c["name"] for c in after.get_ciphers()]


def test_refusals_say_how(server):
    s = server(V.TLSv1_2, V.TLSv1_2)
    result = probe("127.0.0.1", s.port, timeout=3)
    if LOCAL["TLS 1.0"]:
        assert result["failures"]["TLS 1.0"] == "alert: protocol_version"
        assert "TLS 1.0 refused (alert: protocol_version)" in describe(result)
    assert "TLS 1.2" not in result["failures"]
    from tmsrules.probe import no_tls_answer

    assert no_tls_answer(result) is None


@pytest.mark.parametrize("mode, why", [("reset", "connection reset"), ("silent", "no TLS answer within 0.3 s")])
def test_cli_exits_3_when_no_version_gets_a_tls_answer(server, capsys, mode, why):
    # silence or a reset at every version is no claim about the endpoint's TLS versions:
    # it must not read as "refuses TLS 1.0 (like TC >= 7.3.6)" with exit 0
    from tmsrules.cli import main

    s = server(mode=mode)
    assert main(["probe", f"127.0.0.1:{s.port}", "--timeout", "0.3", "--json"]) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"tmsrules: 127.0.0.1:{s.port}: no TLS handshake succeeded at any version")
    if mode == "reset":
        assert why in lines[0] or "closed by the endpoint" in lines[0]
    else:
        assert why in lines[0]


@pytest.mark.parametrize("host", ["a" * 70 + ".example", "a..b", "ex ample", "a\x00b"])
def test_bad_host_names_are_input_errors(host):
    # a label over 63 characters made the idna codec raise UnicodeError: an internal error (exit 1)
    with pytest.raises(InputError, match="^host: "):
        probe(host, 443, timeout=1)
