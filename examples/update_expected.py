"""Regenerate examples/*.expected.json from the current knowledge base.

Run after a deliberate change to the rules, then review the diff: the
expected files are the examples' reviewed diagnoses.

    python examples/update_expected.py
"""

from __future__ import annotations

import json
from pathlib import Path

import tmsrules

HERE = Path(__file__).resolve().parent


def expected(path: Path) -> dict:
    d = tmsrules.diagnose(json.loads(path.read_text(encoding="utf-8")))
    out = d.to_dict()
    out.pop("trace")  # the trace is explanation detail; rule edits may reorder it
    return out


def main() -> None:
    for path in sorted(HERE.glob("*.json")):
        if path.name.endswith(".expected.json"):
            continue
        target = path.with_name(path.stem + ".expected.json")
        target.write_text(json.dumps(expected(path), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {target.name}")


if __name__ == "__main__":
    main()
