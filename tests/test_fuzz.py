"""A fixed slice of the fuzzer (``scripts/fuzz.py``): the same inputs every run, no crash.

The slice is a few hundred mutated projects and bundles (about half a minute on a loaded
2-core machine) through check, compile, parse, build, verify, inspect and ``load_bundle``, a
few of them also through the real console script. Longer campaigns run by hand::

    python scripts/fuzz.py --inputs 100000 --time-budget 14400 --crashes out/crashes
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest

from tests.conftest import REPO

SEED = 20260301
COUNT = 500


def _load_fuzz() -> ModuleType:
    path = REPO / "scripts" / "fuzz.py"
    spec = importlib.util.spec_from_file_location("capic_fuzz", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["capic_fuzz"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_a_fixed_slice_of_the_fuzzer_finds_no_crash() -> None:
    fuzz = _load_fuzz()
    report = fuzz.run(SEED, COUNT, subprocess_every=120)
    summary = report.to_json()
    assert report.inputs == COUNT
    assert report.crashes == [], summary["signatures"]
    assert summary["kinds"].get("bundle", 0) > 0 and summary["subprocess_runs"] >= 3
    # The slice reaches the later stages, not only syntax errors.
    assert summary["exit_statuses"].get("compile 0", 0) > 0
    assert summary["exit_statuses"].get("build 0", 0) > 0


def test_inputs_are_reproducible() -> None:
    fuzz = _load_fuzz()
    from fuzz_mutations import Mutator, load_corpus

    bundle = REPO / "tests" / "data" / "upgrade" / "storefront-production-0.1.0.tar.gz"
    mutator = Mutator(load_corpus(), {"fixture": bundle.read_bytes()})
    for index in range(60):
        first, again = mutator.generate(7, index), mutator.generate(7, index)
        assert (first.kind, first.files, first.bundle, first.steps) == (
            again.kind,
            again.files,
            again.bundle,
            again.steps,
        )
    assert fuzz.CPU_LIMIT == 5.0
