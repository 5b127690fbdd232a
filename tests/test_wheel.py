"""The wheel ships the grammar and the schemas: build it, install it in a fresh virtualenv
outside the repository, and run ``capic check`` on a copy of a sample and ``capic schema`` from
a directory that is not the checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO, SAMPLES, in_ci

pytestmark = pytest.mark.slow

#: pip's messages when it cannot reach a package index (offline machines skip the test).
_OFFLINE = (
    "Temporary failure in name resolution",
    "Failed to establish a new connection",
    "Network is unreachable",
    "No matching distribution found",
    "Could not find a version that satisfies",
    "ConnectionError",
    "ProxyError",
    "Read timed out",
)


def clean_env() -> dict[str, str]:
    """The environment without anything that would let the checkout leak into the venv."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.pop("META_CAPI_TOKEN", None)
    return env


def run(args: list[str | Path], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (no system site-packages) with the freshly built wheel installed."""
    root = tmp_path_factory.mktemp("wheel")
    dist = root / "dist"
    build = run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", dist, REPO],
        cwd=root,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    wheels = list(dist.glob("capic-*.whl"))
    assert len(wheels) == 1, wheels
    wheel = wheels[0]
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert "capic/_data/grammar/capic.lark" in names
    assert "capic/_data/schemas/server_event.schema.json" in names
    assert not any(n.startswith(("tests/", "samples/")) for n in names)

    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False, clear=True).create(env_dir)
    python = env_dir / "bin" / "python"
    install = run([python, "-m", "pip", "install", "--quiet", wheel], cwd=root)
    if install.returncode != 0:
        output = install.stdout + install.stderr
        if any(marker in output for marker in _OFFLINE) and not in_ci():
            # A developer offline; CI installed the project from an index, so there it fails.
            pytest.skip(f"pip cannot reach a package index to install the dependencies:\n{output}")
        raise AssertionError(output)
    return env_dir


def test_installed_capic_is_the_wheel_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    python = installed / "bin" / "python"
    probe = run(
        [
            python,
            "-c",
            "import capic, capic.resources as r; "
            "print(capic.__file__); print(r.data_dir('grammar')); print(r.data_dir('schemas'))",
        ],
        cwd=tmp_path,
    )
    assert probe.returncode == 0, probe.stderr
    module, grammar, schemas = probe.stdout.splitlines()
    for path in (module, grammar, schemas):
        assert Path(path).resolve().is_relative_to(installed.resolve()), path
        assert not Path(path).resolve().is_relative_to(REPO)
    assert grammar.endswith(os.path.join("capic", "_data", "grammar"))


def test_check_a_copied_sample_outside_the_repo(installed: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    shutil.copytree(SAMPLES / "storefront", work / "storefront")
    capic = installed / "bin" / "capic"
    result = run([capic, "check", "storefront"], cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    # A broken copy gives file:line:col diagnostics and exit 1, still without a traceback.
    rule = work / "storefront" / "rules" / "purchase.capi"
    rule.write_text(rule.read_text(encoding="utf-8").replace("when ", "wen ", 1), encoding="utf-8")
    broken = run([capic, "check", "--output-format", "concise", "storefront"], cwd=work)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "storefront/rules/purchase.capi:4:" in broken.stdout
    assert "Traceback" not in broken.stdout + broken.stderr


def test_schema_command_reads_the_packaged_schemas(installed: Path, tmp_path: Path) -> None:
    capic = installed / "bin" / "capic"
    listing = run([capic, "schema"], cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    names = [line.split()[0] for line in listing.stdout.splitlines()]
    expected = sorted(
        p.name.removesuffix(".schema.json") for p in (REPO / "schemas").glob("*.json")
    )
    assert names == expected
    one = run([capic, "schema", "server_event"], cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    assert json.loads(one.stdout) == json.loads(
        (REPO / "schemas" / "server_event.schema.json").read_text(encoding="utf-8")
    )
