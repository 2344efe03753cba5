"""Input validation: bad input is rejected before inference, naming the path."""

from __future__ import annotations

import pytest

import tmsrules
from tmsrules import Environment, InputError


@pytest.mark.parametrize(
    "data, path",
    [
        ([], ""),
        ({"tmss": {}}, "tmss"),
        ({"tms": {"versoin": "15.2"}}, "tms.versoin"),
        ({"tms": {"version": 15.2}}, "tms.version"),
        ({"tms": {"version": "fifteen"}}, "tms.version"),
        ({"tms": {"communication_security": "ultra"}}, "tms.communication_security"),
        ({"tms": {"windows": "Windows 2003"}}, "tms.windows"),
        ({"tms": {"windows": "10.0"}}, "tms.windows"),
        ({"tms": {"schannel": {"TLS 9.9": {}}}}, "tms.schannel.TLS 9.9"),
        ({"tms": {"schannel": {"TLS 1.2": {"client": "on"}}}}, "tms.schannel.TLS 1.2.client"),
        ({"tms": {"schannel": {"TLS 1.2": {"clients": "enabled"}}}}, "tms.schannel.TLS 1.2.clients"),
        ({"tms": {"reboot_pending": "no"}}, "tms.reboot_pending"),
        ({"tms": {"sql": {"version": "SQL Server 2099"}}}, "tms.sql.version"),
        ({"tms": {"sql": {"local": 1}}}, "tms.sql.local"),
        ({"endpoints": {}}, "endpoints"),
        ({"endpoints": [{"name": "a"}, {"name": "b", "software": "XYZ 1"}]}, "endpoints[1].software"),
        ({"endpoints": [{"name": "a", "management": "ftp"}]}, "endpoints[0].management"),
        ({"endpoints": [{"name": "a", "planned_software": "nope"}]}, "endpoints[0].planned_software"),
        ({"endpoints": [{"name": "a"}, {"name": "b"}, {"name": "a"}]}, "endpoints[2].name"),
        ({"endpoints": [{"name": "a", "accepts": ["TLS 1.0", "SSL 2"]}]}, "endpoints[0].accepts[1]"),
        ({"endpoints": [{"name": "a", "colour": "red"}]}, "endpoints[0].colour"),
        ({"observations": {"client_hello": "TLS 2.0"}}, "observations.client_hello"),
        ({"observations": {"sql_event_ids": [26011, "17182"]}}, "observations.sql_event_ids[1]"),
        ({"observations": {"sql_event_ids": [True]}}, "observations.sql_event_ids[0]"),
    ],
)
def test_bad_input_names_the_field(data, path):
    with pytest.raises(InputError) as info:
        Environment.from_dict(data)
    assert info.value.path == path
    assert isinstance(info.value, ValueError)
    assert "accepted" in str(info.value)
    with pytest.raises(InputError):
        tmsrules.diagnose(data)


def test_every_field_is_optional_and_unknown_is_not_a_default():
    env = Environment.from_dict({})
    assert env.tms.version is None and env.tms.communication_security is None
    assert env.tms.schannel is None and env.tms.reboot_pending is None
    assert env.endpoints == ()


def test_round_trip_keeps_the_facts():
    data = {
        "tms": {"version": "TMS 15.13", "communication_security": "Medium High", "windows": "6.3.9600",
                "schannel": {"tls1.2": {"client": "Enabled"}}, "reboot_pending": True,
                "sql": {"version": "11.0.5058.0", "local": True}},
        "endpoints": [{"name": "X", "software": "tc7.3.3.1c5b7d7", "management": "HTTPS"}],
        "observations": {"client_hello": "TLSv1.2", "sql_event_ids": [26011]},
    }
    env = Environment.from_dict(data)
    assert env.tms.communication_security == "medium-high"
    assert env.tms.windows == "2012r2"
    assert env.tms.channel("TLS 1.2").client == "enabled"
    assert env.tms.channel("TLS 1.0").client == "default"
    assert Environment.from_dict(env.to_dict()) == env


def test_null_means_unknown():
    env = Environment.from_dict({"tms": {"version": None}, "endpoints": [{"name": "a", "planned_software": None}]})
    assert env.tms.version is None
    assert env.endpoints[0].planned_software is None
