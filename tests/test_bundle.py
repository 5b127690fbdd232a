"""capic build / verify: reproducible bundles, no secrets, tamper detection, signatures.

Everything goes through the CLI. The helpers at the top are shared with the other
``test_bundle_*`` modules.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import tarfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from capic.cli import cli
from tests.conftest import REPO, SAMPLES, require_tool

STOREFRONT = SAMPLES / "storefront"
TOKEN_VALUE = "EAAGm0PX4ZCpsBA-super-secret-token-value-1234567890"

# A small project with stable sources for golden files (the storefront sample may evolve).
SHOP_FILES: dict[str, str] = {
    "capic.toml": (
        '[project]\nname = "shop"\ndefault_environment = "development"\napi_version = "v25.0"\n'
    ),
    "pixels.capi": (
        "pixel web {\n"
        '  id            = "1234567890123456"\n'
        '  access_token  = env("META_CAPI_TOKEN")\n'
        "  browser_pixel = true\n"
        "}\n"
    ),
    "elements.capi": (
        "element event_type = event.type\n"
        "element email      = event.customer.email\n"
        "element order      = event.order\n"
    ),
    "environments.capi": (
        "environment development {\n"
        '  test_event_code = "TEST4242"\n'
        "  pixel web {\n"
        '    id = "9876543210987654"\n'
        "  }\n"
        "}\n"
        "\n"
        "environment production {\n"
        "}\n"
    ),
    "rules/checkout.capi": (
        'rule "Purchase" {\n'
        '  when event_type == "purchase" and number(order.total) > 0\n'
        "\n"
        "  send Purchase to web {\n"
        "    event_id      = order.id\n"
        "    event_time    = event.time\n"
        '    action_source = "website"\n'
        "    event_source_url = event.url\n"
        "    user {\n"
        "      em                = email\n"
        "      client_ip_address = request.ip\n"
        '      client_user_agent = request.headers["user-agent"]\n'
        "    }\n"
        "    custom {\n"
        '      currency     = upper(order.currency ?? "usd")\n'
        "      value        = number(order.total)\n"
        '      content_type = "product"\n'
        "    }\n"
        "  }\n"
        "}\n"
        "\n"
        'rule "Lead" {\n'
        '  when event_type == "lead"\n'
        "\n"
        "  send Lead to web {\n"
        "    event_id      = event.id\n"
        "    event_time    = event.time\n"
        '    action_source = "website"\n'
        "    event_source_url = event.url\n"
        "    user {\n"
        "      em                = email\n"
        "      client_ip_address = request.ip\n"
        '      client_user_agent = request.headers["user-agent"]\n'
        "    }\n"
        "  }\n"
        "}\n"
    ),
}


def invoke(args: list[str], env: Mapping[str, str | None] | None = None) -> Result:
    """Run the CLI in-process; SOURCE_DATE_EPOCH is unset unless ``env`` sets it."""
    environment: dict[str, str | None] = {"SOURCE_DATE_EPOCH": None}
    environment.update(env or {})
    return CliRunner().invoke(cli, args, env=environment, catch_exceptions=False)


def write_project(root: Path, files: Mapping[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def copy_storefront(tmp_path: Path) -> Path:
    """The storefront sample outside the git checkout (no git metadata, own parse cache)."""
    target = tmp_path / "storefront"
    shutil.copytree(STOREFRONT, target, ignore=shutil.ignore_patterns(".capic_cache"))
    return target


def build(
    project: Path,
    out: Path,
    env_name: str = "production",
    *extra: str,
    env: Mapping[str, str | None] | None = None,
) -> Path:
    result = invoke(["build", str(project), "--env", env_name, "-o", str(out), *extra], env=env)
    assert result.exit_code == 0, result.output
    path = Path(result.stdout.strip())
    assert path.is_file()
    return path


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as tar:
        out = {}
        for m in tar.getmembers():
            handle = tar.extractfile(m)
            assert handle is not None
            out[m.name] = handle.read()
        return out


def repack(
    files: Mapping[str, bytes], target: Path, *, order: list[str] | None = None, mtime: int = 0
) -> Path:
    """Pack with plain tarfile (another 'tool'): chosen order, directory entries, './' prefix."""
    with tarfile.open(target, "w:gz") as tar:
        dirs = sorted({str(Path(p).parent) for p in files if "/" in p})
        for d in dirs:
            info = tarfile.TarInfo(f"./{d}")
            info.type = tarfile.DIRTYPE
            info.mode = 0o775
            info.mtime = mtime
            tar.addfile(info)
        for name in order or list(files):
            data = files[name]
            info = tarfile.TarInfo(f"./{name}")
            info.size = len(data)
            info.mtime = mtime
            info.mode = 0o600
            info.uname = "builder"
            info.uid = 1000
            tar.addfile(info, io.BytesIO(data))
    return target


def manifest_of(path: Path) -> dict[str, Any]:
    data = json.loads(members(path)["manifest.json"])
    assert isinstance(data, dict)
    return data


def sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


# ----------------------------------------------------------------------------- build


def test_build_writes_one_named_bundle_and_prints_its_path(tmp_path: Path) -> None:
    project = copy_storefront(tmp_path)
    out = tmp_path / "dist" / "nested"
    path = build(project, out)
    assert list(out.iterdir()) == [path]
    manifest = manifest_of(path)
    assert path.name == f"storefront-production-{manifest['revision'][:12]}.tar.gz"
    assert manifest["project"] == "storefront"
    assert manifest["environment"] == "production"


def test_bundle_content_and_manifest(tmp_path: Path) -> None:
    from capic import DSL_VERSION, RUNTIME_API_VERSION, __version__
    from capic.bundle.manifest import validate_manifest

    project = copy_storefront(tmp_path)
    path = build(project, tmp_path / "dist")
    files = members(path)
    manifest = json.loads(files["manifest.json"])
    assert validate_manifest(manifest) == []
    sources = sorted(
        p.relative_to(project).as_posix()
        for p in project.rglob("*")
        if p.is_file() and (p.suffix == ".capi" or p.name == "capic.toml")
    )
    assert sorted(files) == sorted(
        ["manifest.json", "model.json", "rules.py", *[f"sources/{s}" for s in sources]]
    )
    assert sorted(manifest["files"]) == sorted(set(files) - {"manifest.json"})
    for name, entry in manifest["files"].items():
        assert entry == {"sha256": sha256(files[name]), "size": len(files[name])}
    for rel in sources:
        original = (project / rel).read_bytes()
        shipped = files[f"sources/{rel}"]
        if b"\ntest " in b"\n" + original:
            # Test blocks (sample customer data) are blanked; the lines stay.
            assert shipped.count(b"\n") == original.count(b"\n")
            assert b"@" not in shipped and b"\ntest " not in b"\n" + shipped
        else:
            assert shipped == original
    assert manifest["capic_version"] == __version__
    assert manifest["dsl_version"] == DSL_VERSION
    assert manifest["runtime_api_version"] == RUNTIME_API_VERSION
    assert manifest["bundle_format_version"] == 1
    assert "created" not in manifest  # never read from the clock
    assert manifest["metadata"] == {}  # outside a git checkout: no commit
    assert manifest["pixels"] == [
        {
            "name": "shop",
            "id": "1234567890123456",
            "token_ref": {"kind": "env", "name": "META_CAPI_TOKEN"},
            "browser_pixel": True,
            "api_version": "v25.0",
            "test_event_code": None,
        }
    ]
    purchase = next(r for r in manifest["rules"] if r["name"] == "MetaConversion_Purchase")
    assert purchase == {
        "name": "MetaConversion_Purchase",
        "events": ["Purchase"],
        "pixels": ["shop"],
        "file": "sources/rules/purchase.capi",
    }
    # Canonical JSON: sorted keys, compact, UTF-8, one trailing newline.
    for name in ("manifest.json", "model.json"):
        raw = files[name]
        data = json.loads(raw)
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert raw == canonical.encode() + b"\n"
    model = json.loads(files["model.json"])
    assert model["root"] == "."
    assert str(tmp_path) not in files["model.json"].decode()
    compile(files["rules.py"], "rules.py", "exec")


def test_two_builds_a_second_apart_are_byte_identical(tmp_path: Path) -> None:
    project = copy_storefront(tmp_path)
    first = build(project, tmp_path / "a").read_bytes()
    time.sleep(1.1)
    os.utime(project / "pixels.capi")  # a touched file is not a changed file
    second = build(project, tmp_path / "b").read_bytes()
    assert first == second


def test_source_date_epoch_is_honoured_and_reproducible(tmp_path: Path) -> None:
    project = copy_storefront(tmp_path)
    env = {"SOURCE_DATE_EPOCH": "1751371200"}
    first = build(project, tmp_path / "a", env=env)
    time.sleep(1.1)
    second = build(project, tmp_path / "b", env=env)
    assert first.read_bytes() == second.read_bytes()
    assert manifest_of(first)["created"] == "2025-07-01T12:00:00Z"
    with tarfile.open(first, "r:gz") as tar:
        assert {m.mtime for m in tar.getmembers()} == {1751371200}
    # Without it, the archive carries no time at all.
    plain = build(project, tmp_path / "c")
    assert plain.read_bytes() != first.read_bytes()
    bad = invoke(
        ["build", str(project), "--env", "production", "-o", str(tmp_path / "d")],
        env={"SOURCE_DATE_EPOCH": "yesterday"},
    )
    assert bad.exit_code == 2
    assert "SOURCE_DATE_EPOCH" in bad.output


def test_archive_is_normalized(tmp_path: Path) -> None:
    path = build(copy_storefront(tmp_path), tmp_path / "dist")
    raw = path.read_bytes()
    # gzip header: magic, deflate, flags (no FNAME/FCOMMENT), mtime 0.
    assert raw[:3] == b"\x1f\x8b\x08"
    assert raw[3] == 0
    assert raw[4:8] == b"\x00\x00\x00\x00"
    with tarfile.open(path, "r:gz") as tar:
        infos = tar.getmembers()
    names = [m.name for m in infos]
    assert names == sorted(names, key=lambda n: n.encode())
    for m in infos:
        assert m.isfile()
        assert (m.uid, m.gid, m.uname, m.gname, m.mtime) == (0, 0, "", "", 0)
        assert m.mode in (0o644, 0o755)


def test_token_value_set_during_build_never_enters_the_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("META_CAPI_TOKEN", TOKEN_VALUE)
    project = copy_storefront(tmp_path)
    path = build(project, tmp_path / "dist", env={"META_CAPI_TOKEN": TOKEN_VALUE})
    raw = path.read_bytes()
    tar_bytes = gzip.decompress(raw)
    for needle in (TOKEN_VALUE.encode(), TOKEN_VALUE[:20].encode()):
        assert needle not in tar_bytes
        assert needle not in raw
    manifest = manifest_of(path)
    assert manifest["pixels"][0]["token_ref"] == {"kind": "env", "name": "META_CAPI_TOKEN"}
    # The token is irrelevant to the build: the same bytes as without it.
    monkeypatch.delenv("META_CAPI_TOKEN")
    assert build(project, tmp_path / "other", env={"META_CAPI_TOKEN": None}).read_bytes() == raw


def test_build_refuses_when_check_reports_errors(tmp_path: Path) -> None:
    project = write_project(tmp_path / "shop", SHOP_FILES)
    rules = project / "rules" / "checkout.capi"
    rules.write_text(rules.read_text().replace("em                = email", "em = emial", 1))
    out = tmp_path / "dist"
    result = invoke(["build", str(project), "--env", "production", "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert "emial" in result.output
    assert "not building" in result.output
    assert not out.exists() or not any(out.iterdir())


def test_production_build_never_carries_a_test_event_code(tmp_path: Path) -> None:
    files = dict(SHOP_FILES)
    files["environments.capi"] = files["environments.capi"].replace(
        "environment production {\n", 'environment production {\n  test_event_code = "TEST1"\n'
    )
    project = write_project(tmp_path / "shop", files)
    out = tmp_path / "dist"
    result = invoke(["build", str(project), "--env", "production", "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert "test event code" in result.output or "test_event_code" in result.output
    assert not out.exists() or not any(out.iterdir())
    # The development bundle carries its test event code.
    dev = build(project, tmp_path / "dev", "development")
    assert manifest_of(dev)["pixels"][0]["test_event_code"] == "TEST4242"
    assert manifest_of(dev)["pixels"][0]["id"] == "9876543210987654"


def test_environment_references_stay_references(tmp_path: Path) -> None:
    path = build(copy_storefront(tmp_path), tmp_path / "dist", "staging")
    pixel = manifest_of(path)["pixels"][0]
    assert pixel["test_event_code"] == {"kind": "env", "name": "CAPI_TEST_EVENT_CODE"}
    assert pixel["id"] == "9876543210987654"


def test_unknown_environment_is_a_usage_error(tmp_path: Path) -> None:
    project = write_project(tmp_path / "shop", SHOP_FILES)
    result = invoke(["build", str(project), "--env", "qa", "-o", str(tmp_path / "dist")])
    assert result.exit_code == 2
    assert "qa" in result.output
    assert "development, production" in result.output


def test_revision_and_metadata_options(tmp_path: Path) -> None:
    project = write_project(tmp_path / "shop", SHOP_FILES)
    path = build(
        project,
        tmp_path / "dist",
        "production",
        "--revision",
        "release/2026.07.01-rc1",
        "--metadata",
        "pipeline=deploy-42",
        "--metadata",
        "builder=ci",
    )
    assert path.name == "shop-production-release_2026.tar.gz"
    manifest = manifest_of(path)
    assert manifest["revision"] == "release/2026.07.01-rc1"
    assert manifest["metadata"] == {"pipeline": "deploy-42", "builder": "ci"}
    args = ["build", str(project), "--env", "production", "-o", str(tmp_path / "x")]
    bad = invoke([*args, "--metadata", "novalue"])
    assert bad.exit_code == 2
    assert "KEY=VALUE" in bad.output


def test_revision_follows_the_sources(tmp_path: Path) -> None:
    project = write_project(tmp_path / "shop", SHOP_FILES)
    first = manifest_of(build(project, tmp_path / "a"))["revision"]
    rules = project / "rules" / "checkout.capi"
    rules.write_text(rules.read_text() + "\n# a comment changes the sources\n")
    second = manifest_of(build(project, tmp_path / "b"))["revision"]
    assert len(first) == 64 and first != second
    assert manifest_of(build(project, tmp_path / "c", "development"))["revision"] != second


def test_git_commit_is_recorded_when_available(tmp_path: Path) -> None:
    require_tool("git", "the bundle records the commit of a git checkout")
    project = write_project(tmp_path / "shop", SHOP_FILES)
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "init"]):
        subprocess.run(["git", *args], cwd=project, check=True, env=env, capture_output=True)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=project, check=True, capture_output=True, text=True
    ).stdout.strip()
    manifest = manifest_of(build(project, tmp_path / "dist"))
    assert manifest["metadata"] == {"git_commit": head}


# ----------------------------------------------------------------------------- verify


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    return build(write_project(tmp_path / "shop", SHOP_FILES), tmp_path / "dist")


def verify(path: Path, *args: str) -> Result:
    return invoke(["verify", str(path), *args])


def test_verify_accepts_a_fresh_bundle(bundle: Path) -> None:
    result = verify(bundle)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{bundle.name}: ok (shop production, revision ")
    assert "signature unsigned" in result.stdout


def tampered(bundle: Path, change: Any) -> Path:
    files = members(bundle)
    change(files)
    return repack(files, bundle.with_name("tampered.tar.gz"))


def test_verify_names_a_changed_module(bundle: Path) -> None:
    def edit(files: dict[str, bytes]) -> None:
        files["rules.py"] += b"\nRULES = ()\n"

    result = verify(tampered(bundle, edit))
    assert result.exit_code == 1
    assert "rules.py: changed" in result.output


def test_verify_names_an_added_file(bundle: Path) -> None:
    def add(files: dict[str, bytes]) -> None:
        files["sources/._checkout.capi"] = b"\x00\x05\x16\x07"

    result = verify(tampered(bundle, add))
    assert result.exit_code == 1
    assert "sources/._checkout.capi: extra file" in result.output


def test_verify_names_a_removed_file(bundle: Path) -> None:
    def remove(files: dict[str, bytes]) -> None:
        del files["sources/rules/checkout.capi"]

    result = verify(tampered(bundle, remove))
    assert result.exit_code == 1
    assert "sources/rules/checkout.capi: missing" in result.output


def test_verify_rejects_a_missing_manifest(bundle: Path) -> None:
    def remove(files: dict[str, bytes]) -> None:
        del files["manifest.json"]

    result = verify(tampered(bundle, remove))
    assert result.exit_code == 1
    assert "manifest.json: missing" in result.output


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda m: m["files"]["model.json"].update(sha256="0" * 64),
            "model.json: changed",
        ),
        (lambda m: m["rules"][0].update(events=["AddToCart"]), "manifest.json: the rule list"),
        (lambda m: m["pixels"][0].update(id="1111111111111111"), "manifest.json: pixel 'web'"),
        (lambda m: m.update(environment="development"), "manifest.json: pixel 'web'"),
        (lambda m: m.update(project="other"), "manifest.json: project 'other'"),
        (lambda m: m.update(signature="x"), "manifest.json: (top level)"),
        (lambda m: m.pop("files"), "manifest.json: (top level)"),
    ],
)
def test_verify_rejects_an_edited_manifest(bundle: Path, edit: Any, message: str) -> None:
    def change(files: dict[str, bytes]) -> None:
        data = json.loads(files["manifest.json"])
        edit(data)
        files["manifest.json"] = json.dumps(data, indent=2).encode()

    result = verify(tampered(bundle, change))
    assert result.exit_code == 1, result.output
    assert message in result.output


def test_verify_rejects_garbage(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tarball at all")
    result = verify(junk)
    assert result.exit_code == 1
    assert "junk.tar.gz" in result.output
    missing = verify(tmp_path / "nope.tar.gz")
    assert missing.exit_code == 1
    assert "no such file" in missing.output


def test_verify_rejects_links_in_the_archive(bundle: Path, tmp_path: Path) -> None:
    files = members(bundle)
    target = tmp_path / "link.tar.gz"
    with tarfile.open(target, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("sources/evil.capi")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
    result = verify(target)
    assert result.exit_code == 1
    assert "sources/evil.capi: not a regular file" in result.output


def test_a_repacked_bundle_still_verifies(bundle: Path, tmp_path: Path) -> None:
    files = members(bundle)
    order = sorted(files, reverse=True)
    repacked = repack(files, tmp_path / "repacked.tar.gz", order=order, mtime=1_700_000_000)
    assert repacked.read_bytes() != bundle.read_bytes()
    result = verify(repacked)
    assert result.exit_code == 0, result.output
    # Uncompressed tar too.
    plain = tmp_path / "plain.tar"
    with tarfile.open(plain, "w") as tar:
        for name in order:
            info = tarfile.TarInfo(name)
            info.size = len(files[name])
            tar.addfile(info, io.BytesIO(files[name]))
    assert verify(plain).exit_code == 0


def test_a_bundle_repacked_with_the_tar_command_still_verifies(
    bundle: Path, tmp_path: Path
) -> None:
    require_tool("tar", "the test repacks a bundle with it")
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    subprocess.run(["tar", "-xzf", str(bundle), "-C", str(unpacked)], check=True)
    os.utime(unpacked / "rules.py", (1_600_000_000, 1_600_000_000))
    repacked = tmp_path / "by-tar.tar.gz"
    subprocess.run(["tar", "-czf", str(repacked), "-C", str(unpacked), "."], check=True)
    result = verify(repacked)
    assert result.exit_code == 0, result.output


# ----------------------------------------------------------------------------- signatures


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    from capic.bundle.sign import generate_keypair

    return generate_keypair(tmp_path / "keys")


@pytest.fixture
def signed(tmp_path: Path, keys: tuple[Path, Path]) -> Path:
    project = write_project(tmp_path / "shop", SHOP_FILES)
    return build(project, tmp_path / "signed", "production", "--sign-key", str(keys[0]))


def test_signed_bundle_verifies_with_its_key(signed: Path, keys: tuple[Path, Path]) -> None:
    from capic.bundle.sign import key_id, load_public_key

    files = members(signed)
    assert "signature.json" in files
    assert "signature.json" not in json.loads(files["manifest.json"])["files"]
    signature = json.loads(files["signature.json"])
    assert signature["algorithm"] == "ed25519"
    assert signature["key_id"] == key_id(load_public_key(keys[1]))
    assert signature["manifest_sha256"] == sha256(files["manifest.json"])
    result = verify(signed, "--key", str(keys[1]))
    assert result.exit_code == 0, result.output
    assert "signature valid" in result.stdout
    # A private key file is accepted as --key too (its public half is used).
    assert verify(signed, "--key", str(keys[0])).exit_code == 0


def test_signing_is_reproducible(tmp_path: Path, signed: Path, keys: tuple[Path, Path]) -> None:
    project = tmp_path / "shop"
    again = build(project, tmp_path / "again", "production", "--sign-key", str(keys[0]))
    assert again.read_bytes() == signed.read_bytes()  # Ed25519 signatures are deterministic


def test_signed_bundle_is_rejected_with_another_key(signed: Path, tmp_path: Path) -> None:
    from capic.bundle.sign import generate_keypair

    _, other = generate_keypair(tmp_path / "other", "other")
    result = verify(signed, "--key", str(other))
    assert result.exit_code == 1
    assert "signature.json: signed with key" in result.output


def test_signed_bundle_without_key_is_reported_not_silently_accepted(signed: Path) -> None:
    result = verify(signed)
    assert result.exit_code == 0
    assert "signature not checked: pass --key" in result.stderr
    assert "signature signed (key" in result.stdout
    required = verify(signed, "--require-signature")
    assert required.exit_code == 1
    assert "signature.json: signature not checked" in required.output


def test_unsigned_bundle_with_key_is_rejected(bundle: Path, keys: tuple[Path, Path]) -> None:
    result = verify(bundle, "--key", str(keys[1]))
    assert result.exit_code == 1
    assert "signature.json: missing" in result.output
    assert verify(bundle, "--require-signature").exit_code == 1


def test_signed_bundle_with_edited_manifest_is_rejected(
    signed: Path, keys: tuple[Path, Path]
) -> None:
    def edit(files: dict[str, bytes]) -> None:
        data = json.loads(files["manifest.json"])
        data["metadata"]["approved_by"] = "mallory"
        files["manifest.json"] = json.dumps(data).encode()

    forged = tampered(signed, edit)
    with_key = verify(forged, "--key", str(keys[1]))
    assert with_key.exit_code == 1
    assert "manifest.json: changed after signing" in with_key.output
    without_key = verify(forged)
    assert without_key.exit_code == 1
    assert "manifest.json: changed after signing" in without_key.output


def test_forged_signature_is_rejected(signed: Path, keys: tuple[Path, Path]) -> None:
    import base64

    def forge(files: dict[str, bytes]) -> None:
        data = json.loads(files["signature.json"])
        raw = bytearray(base64.b64decode(data["signature"]))
        raw[0] ^= 0xFF
        data["signature"] = base64.b64encode(bytes(raw)).decode()
        files["signature.json"] = json.dumps(data).encode()

    result = verify(tampered(signed, forge), "--key", str(keys[1]))
    assert result.exit_code == 1
    assert "signature.json: the signature does not verify" in result.output


def test_whitespace_in_a_signed_manifest_does_not_matter(
    signed: Path, keys: tuple[Path, Path]
) -> None:
    def reformat(files: dict[str, bytes]) -> None:
        files["manifest.json"] = json.dumps(json.loads(files["manifest.json"]), indent=4).encode()

    assert verify(tampered(signed, reformat), "--key", str(keys[1])).exit_code == 0


def test_unusable_keys_are_usage_errors(tmp_path: Path, bundle: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN NONSENSE-----\n")
    assert verify(bundle, "--key", str(bad)).exit_code == 2
    args = ["build", str(tmp_path / "shop"), "--env", "production", "-o", str(tmp_path / "o")]
    result = invoke([*args, "--sign-key", str(bad)])
    assert result.exit_code == 2
    assert "openssl genpkey -algorithm ed25519" in result.output


def test_openssl_keys_work(tmp_path: Path, bundle: Path) -> None:
    require_tool("openssl", "the test makes Ed25519 keys with it")
    from capic.bundle.sign import key_id, load_public_key

    private, public = tmp_path / "k.pem", tmp_path / "k.pub.pem"
    done = subprocess.run(
        ["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(private)],
        capture_output=True,
        check=False,
    )
    # Debian's OpenSSL (1.1.1 and later) makes Ed25519 keys; one that cannot is a broken setup.
    assert done.returncode == 0, done.stderr
    subprocess.run(
        ["openssl", "pkey", "-in", str(private), "-pubout", "-out", str(public)], check=True
    )
    der = subprocess.run(
        ["openssl", "pkey", "-in", str(private), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    assert key_id(load_public_key(public)) == sha256(der)
    signed = build(tmp_path / "shop", tmp_path / "ossl", "production", "--sign-key", str(private))
    assert verify(signed, "--key", str(public)).exit_code == 0


def test_build_help_documents_the_key_command() -> None:
    result = invoke(["build", "--help"])
    assert "openssl genpkey -algorithm ed25519" in result.output
    assert REPO.is_dir()
