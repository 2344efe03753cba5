"""Engine facts: firmware versions that no rule tells apart share a profile."""

from __future__ import annotations

import itertools

from packaging.version import Version

import tmsrules
from tmsrules.diagnose import default_diagnoser
from tmsrules.facts import version_bucket

CUTS = tuple(Version(v) for v in ("7.3.4", "7.3.6", "8.1.0"))
OPS = [lambda a, b: a < b, lambda a, b: a <= b, lambda a, b: a > b, lambda a, b: a >= b,
       lambda a, b: a == b, lambda a, b: a != b]


def test_same_bucket_means_same_answer_to_every_comparison():
    versions = [Version(v) for v in ("7.3.3", "7.3.4", "7.3.5", "7.3.6", "7.3.11", "8.0.1", "8.1.0", "9.15.3.17")]
    for a, b in itertools.combinations(versions, 2):
        if version_bucket(a, CUTS) == version_bucket(b, CUTS):
            assert all(op(a, c) == op(b, c) for op in OPS for c in CUTS), (a, b)
        else:
            assert any(op(a, c) != op(b, c) for op in OPS for c in CUTS), (a, b)


def test_cuts_are_read_from_the_rules():
    cuts = default_diagnoser()._version_cuts
    assert {Version("7.3.4"), Version("7.3.6"), Version("8.1.0")} <= set(cuts)


def test_fleet_of_many_versions_has_few_profiles_and_the_same_verdicts():
    endpoints = [{"name": f"ce{i}", "software": f"ce9.{i}.1", "management": "https"} for i in range(40)]
    endpoints += [{"name": f"tc{i}", "software": f"TC7.3.{i}", "management": "https"} for i in range(12)]
    env = {"tms": {"version": "15.2.1", "communication_security": "medium", "windows": "2012 R2"}, "endpoints": endpoints}
    d = tmsrules.diagnose(env, questions=False)
    verdicts = {e.name: e.verdict for e in d.endpoints}
    assert all(verdicts[f"ce{i}"] == "affected" for i in range(40))
    assert [verdicts[f"tc{i}"] for i in range(12)] == ["not-affected"] * 6 + ["affected"] * 6
    profiles = {f["facts"]["ep"]["id"] for f in d.to_dict()["trace"] if "ep" in f["facts"] and "id" in f["facts"]["ep"]}
    assert len(profiles) == 6  # CE 9.x; TC <7.3.4, =7.3.4, 7.3.5, =7.3.6, >7.3.6
    for endpoint in endpoints[::7]:  # each alone gives the same verdict
        alone = tmsrules.diagnose({**env, "endpoints": [endpoint]}, questions=False)
        assert alone.endpoints[0].verdict == verdicts[endpoint["name"]]
