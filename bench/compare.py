"""Before/after check for performance work: same rules, same inputs, same bytes.

    python bench/compare.py REV          # tmsrules of git revision REV vs the working tree
    python bench/compare.py REV --random 200

Diagnoses every ``examples/*.json`` (questions on and off, English and
Portuguese), fleets from ``bench.fleet`` and seeded random environments with
the ``tmsrules`` package of ``REV`` (extracted with ``git archive`` into a
temporary directory, run in a child process) and with the working tree,
both over the working tree's ``rules/``, and compares the ``--json`` bytes.
Each environment is diagnosed twice, then with its endpoints renamed and in
reverse order: the Diagnoser's memo answers those from earlier runs, so its
answers are compared with the fresh inferences of ``REV`` too.
Exit 0 when every diagnosis is byte-identical, 1 otherwise (listing them).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_CHILD = r"""
import hashlib, json, random, sys
sys.path.insert(0, sys.argv[3])
from bench import fleet
from tmsrules.diagnose import Diagnoser
d = Diagnoser(rules_dir=sys.argv[1])
envs = {}
import glob, os
for p in sorted(glob.glob(os.path.join(sys.argv[2], "*.json"))):
    if not p.endswith(".expected.json"):
        envs[os.path.basename(p)] = json.load(open(p))
envs["empty"] = {}
envs["fleet-300"] = fleet(300)
rnd = random.Random(4)
fw = ["TC7.3.6", "tc7.3.3.1c5b7d7", "ce8.1.0", "CE9.15.3.17", "RoomOS 11.5.2.4", "Release - 3.1.10-51067", "TC7.3.4", None]
mg = ["https", "http", "telnet", "snmp", None]
for k in range(int(sys.argv[4])):
    envs[f"random-{k}"] = {
        "tms": {"version": rnd.choice(["14.6.2", "15.2.1", None]),
                "communication_security": rnd.choice(["low", "medium", "medium-high", "high", None]),
                "windows": rnd.choice(["2008 R2", "2012 R2", "2016", None]),
                "schannel": rnd.choice([None, {"TLS 1.0": {"client": "disabled", "server": "disabled"}},
                                        {"TLS 1.2": {"client": "enabled", "server": "enabled"}}]),
                "sql": rnd.choice([None, {"version": "10.50.6000.34", "local": True},
                                   {"version": "11.0.5058.0", "local": True}])},
        "endpoints": [{"name": f"e{i}", "software": rnd.choice(fw), "management": rnd.choice(mg),
                       "planned_software": rnd.choice([None, "ce9.1"])} for i in range(rnd.randint(0, 7))],
        "observations": rnd.choice([{}, {"client_hello": "TLS 1.0"}, {"sql_event_ids": [26011]}]),
    }
def renamed(env):
    # the same engine facts under other names, in reverse order (a memo hit, if any)
    eps = env.get("endpoints") if isinstance(env, dict) else None
    if not isinstance(eps, list) or not all(isinstance(e, dict) for e in eps):
        return env
    eps = [dict(e, name=e["name"] + " (renamed)") if isinstance(e.get("name"), str) else e for e in eps]
    return dict(env, endpoints=eps[::-1])
out = {}
# every environment twice (the second time, a Diagnoser with a memo remembers
# it), then renamed and reordered
for again in ("", " again", " renamed"):
    for name, env in envs.items():
        env = renamed(env) if again == " renamed" else env
        for q in (True, False):
            for lang in (("en", "pt-BR") if not name.startswith("random") else ("en",)):
                text = d.diagnose(env, questions=q, lang=lang).to_json()
                out[f"{name}{again} questions={q} {lang}"] = hashlib.sha256(text.encode()).hexdigest()
print(json.dumps(out))
"""


def run(package_root: Path, randoms: int) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(package_root), TMSRULES_CACHE_DIR="")
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(ROOT / "rules"), str(ROOT / "examples"), str(ROOT / "bench"), str(randoms)],
        capture_output=True, check=True, env=env, cwd=tempfile.gettempdir(),
    )
    return json.loads(out.stdout)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rev", help="git revision whose tmsrules/ is the 'before'")
    parser.add_argument("--random", type=int, default=60, help="random environments (default 60)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "archive", args.rev, "tmsrules"], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        before = run(Path(tmp), args.random)
    after = run(ROOT, args.random)
    differ = sorted(k for k in before if before[k] != after.get(k))
    for key in differ:
        print(f"DIFFERENT: {key}")
    print(f"{len(before)} diagnoses compared, {len(differ)} different "
          f"(rules: working tree; before: {args.rev}; after: working tree)")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
