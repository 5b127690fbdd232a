"""Agreement of capic's normalizer with Meta's reference normalizer vectors, per field.

Usage: python scripts/conformance_report.py [path/to/meta_reference_normalization.json]
(default: ../shared/conformance/ beside the repository). Prints one line per field,
``field agree/total pct``, and a total. Disagreements are deliberate deviations, listed with
their reasons in docs/normalization.md and checked by tests/test_conformance.py; pass
``--show`` to print them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from capic.runtime.normalize import normalize

REPO_ROOT = Path(__file__).resolve().parents[1]
_VECTORS_PATH = Path("shared", "conformance", "meta_reference_normalization.json")
# Beside the checkout, or beside the directory that holds it (a git worktree of it).
DEFAULT_VECTORS = next(
    (p / _VECTORS_PATH for p in REPO_ROOT.parents if (p / _VECTORS_PATH).is_file()),
    REPO_ROOT.parent / _VECTORS_PATH,
)
FIELD_KEYS = {
    "Email": "em",
    "Phone": "ph",
    "Name": "fn",
    "Gender": "ge",
    "DOB": "db",
    "City": "ct",
    "State": "st",
    "ZipCode": "zp",
    "Country": "country",
    "ExternalID": "external_id",
}


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 70 else text[:60] + f"... ({len(text)} chars)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("vectors", nargs="?", type=Path, default=DEFAULT_VECTORS)
    parser.add_argument("--show", action="store_true", help="print every disagreement")
    args = parser.parse_args(argv)
    if not args.vectors.is_file():
        print(f"no vectors at {args.vectors}", file=sys.stderr)
        return 2
    vectors = json.loads(args.vectors.read_text(encoding="utf-8"))
    agree: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for vector in vectors:
        field = vector["field"]
        got = normalize(FIELD_KEYS[field], vector["input"])
        total[field] += 1
        # The reference returns "" where nothing is left to send; capic returns None.
        if got == (vector["expected"] or None):
            agree[field] += 1
        elif args.show:
            print(
                f"  {field}: {_short(vector['input'])} -> capic {_short(got)}, "
                f"reference {_short(vector['expected'])}"
            )
    width = max(len(field) for field in total)
    for field in sorted(total, key=lambda f: (-agree[f] / total[f], f)):
        pct = 100 * agree[field] / total[field]
        print(f"{field:<{width}}  {agree[field]:>4}/{total[field]:<4} {pct:5.1f}%")
    all_agree, all_total = sum(agree.values()), sum(total.values())
    print(f"{'all':<{width}}  {all_agree:>4}/{all_total:<4} {100 * all_agree / all_total:5.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
