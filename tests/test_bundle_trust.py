"""Signed bundles and untrusted archives: ``capic run --bundle --key`` never imports a bundle
that is not exactly what the key's holder signed, and the archive reader bounds every size
before it reads.

The tampered bundles carry attacker code in ``rules.py`` that writes a marker file when it is
imported: each test checks the marker never appears (the code never ran), not only the exit
status. One test per attack: unsigned, signature stripped, re-signed with another key, a
member modified, a manifest hash changed under the signature, a 1 GiB tar header and a gzip
bomb (both from a few megabytes, read with bounded memory).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import time
import zlib
from pathlib import Path

import pytest

from capic.bundle.manifest import canonical_json
from capic.bundle.sign import generate_keypair, load_private_key, sign_manifest
from tests.test_bundle import SHOP_FILES, build, invoke, members, sha256, write_project


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    private, public = generate_keypair(tmp_path / "keys", "release")
    attacker, _ = generate_keypair(tmp_path / "keys", "attacker")
    return {"private": private, "public": public, "attacker": attacker}


@pytest.fixture
def signed(tmp_path: Path, keys: dict[str, Path]) -> Path:
    project = write_project(tmp_path / "shop", SHOP_FILES)
    return build(project, tmp_path / "dist", "production", "--sign-key", str(keys["private"]))


@pytest.fixture
def events(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    now = int(time.time())  # within Meta's 7-day window
    event = {"type": "lead", "id": "l1", "time": now, "url": "https://shop.example.com/"}
    request = {"ip": "203.0.113.7", "headers": {"user-agent": "Mozilla/5.0"}}
    path.write_text(json.dumps({"event": event, "request": request}) + "\n")
    return path


def _evil(files: dict[str, bytes], marker: Path) -> None:
    files["rules.py"] += (
        f"\nimport pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n".encode()
    )


def _fix_manifest(files: dict[str, bytes]) -> None:
    """What an attacker who knows the format does: make the manifest match the new files."""
    manifest = json.loads(files["manifest.json"])
    for name, entry in manifest["files"].items():
        entry["sha256"] = sha256(files[name])
        entry["size"] = len(files[name])
    files["manifest.json"] = canonical_json(manifest)


def _pack(files: dict[str, bytes], target: Path) -> Path:
    with tarfile.open(target, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return target


def _resigned_by_the_attacker(
    signed: Path, keys: dict[str, Path], marker: Path, target: Path
) -> Path:
    """The release with attacker code, its manifest fixed and signed with another key."""
    files = members(signed)
    _evil(files, marker)
    _fix_manifest(files)
    files["signature.json"] = sign_manifest(
        files["manifest.json"], load_private_key(keys["attacker"])
    )
    return _pack(files, target)


def _run(bundle: Path, events: Path, *args: str, env: dict[str, str | None] | None = None):  # type: ignore[no-untyped-def]
    return invoke(
        ["run", "--bundle", str(bundle), "--events", str(events), "--dry-run", *args], env=env
    )


def test_the_signed_bundle_runs_with_its_key(
    signed: Path, events: Path, keys: dict[str, Path]
) -> None:
    result = _run(signed, events, "--key", str(keys["public"]))
    assert result.exit_code == 0, result.output
    assert '"event_name":"Lead"' in result.stdout.replace(" ", "")


def test_unsigned_bundle_is_refused(
    signed: Path, events: Path, keys: dict[str, Path], tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    files = members(signed)
    del files["signature.json"]
    _evil(files, marker)
    _fix_manifest(files)
    evil = _pack(files, tmp_path / "unsigned.tar.gz")
    assert _run(evil, events).exit_code == 0 and marker.exists()  # without a key it runs...
    marker.unlink()
    result = _run(evil, events, "--key", str(keys["public"]))  # ...with one it never does
    assert result.exit_code == 2
    assert "signature.json: missing" in result.output
    assert not marker.exists()


def test_stripped_signature_is_refused(
    signed: Path, events: Path, keys: dict[str, Path], tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    files = members(signed)
    del files["signature.json"]  # the release's own code, its signature removed
    stripped = _pack(files, tmp_path / "stripped.tar.gz")
    result = _run(stripped, events, "--key", str(keys["public"]))
    assert result.exit_code == 2 and "signature.json: missing" in result.output
    assert not marker.exists()


def test_bundle_resigned_with_another_key_is_refused(
    signed: Path, events: Path, keys: dict[str, Path], tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    evil = _resigned_by_the_attacker(signed, keys, marker, tmp_path / "resigned.tar.gz")
    result = _run(evil, events, "--key", str(keys["public"]))
    assert result.exit_code == 2
    assert "signature.json: signed with key" in result.output
    assert not marker.exists()


def test_modified_member_is_refused(
    signed: Path, events: Path, keys: dict[str, Path], tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    files = members(signed)
    _evil(files, marker)  # the manifest still lists the release's rules.py
    evil = _pack(files, tmp_path / "modified.tar.gz")
    result = _run(evil, events, "--key", str(keys["public"]))
    assert result.exit_code == 2 and "rules.py: changed" in result.output
    assert not marker.exists()


def test_manifest_hash_changed_under_the_signature_is_refused(
    signed: Path, events: Path, keys: dict[str, Path], tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    files = members(signed)
    _evil(files, marker)
    _fix_manifest(files)  # hashes match the files, but not what was signed
    evil = _pack(files, tmp_path / "mismatch.tar.gz")
    result = _run(evil, events, "--key", str(keys["public"]))
    assert result.exit_code == 2
    assert "manifest.json: changed after signing" in result.output
    assert not marker.exists()


def test_environment_variables_set_the_key_and_require_signatures(
    signed: Path, events: Path, keys: dict[str, Path], tmp_path: Path
) -> None:
    files = members(signed)
    del files["signature.json"]
    unsigned = _pack(files, tmp_path / "unsigned.tar.gz")
    by_env = {"CAPIC_BUNDLE_KEY": str(keys["public"])}
    assert _run(signed, events, env=by_env).exit_code == 0
    assert _run(unsigned, events, env=by_env).exit_code == 2
    required = {"CAPIC_REQUIRE_SIGNED_BUNDLES": "1"}
    refused = _run(unsigned, events, env=required)
    assert refused.exit_code == 2 and "a signature is required" in refused.output
    # Required but no key: a signed bundle is refused too, since nothing checks it.
    assert _run(signed, events, env=required).exit_code == 2
    assert _run(signed, events, env={**required, **by_env}).exit_code == 0


def test_an_unreadable_key_is_a_usage_error(signed: Path, events: Path, tmp_path: Path) -> None:
    bad = tmp_path / "key.pem"
    bad.write_text("not a key\n")
    result = _run(signed, events, "--key", str(bad))
    assert result.exit_code == 2 and "not a PEM public key" in result.output


# ----------------------------------------------------------------------------- archive limits


def _header(name: str, size: int, kind: bytes) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    info.type = kind
    return info.tobuf(format=tarfile.USTAR_FORMAT)


def _zeros_gzip(prefix: bytes, total: int, members_of: int | None = None) -> bytes:
    """A gzip stream of ``prefix`` then ``total`` zero bytes, built without holding them; with
    ``members_of`` the zeros are split into tar members of that size (each with a header)."""
    deflate = zlib.compressobj(1, zlib.DEFLATED, 31)
    out = [deflate.compress(prefix)]
    zeros = bytes(1 << 20)
    written = 0
    while written < total:
        if members_of is not None and written % members_of == 0:
            out.append(deflate.compress(_header(f"m{written}", members_of, tarfile.REGTYPE)))
        out.append(deflate.compress(zeros))
        written += len(zeros)
    out.append(deflate.flush())
    return b"".join(out)


def _verify_in_subprocess(bundle: Path) -> tuple[int, str, int]:
    """(exit status, output, peak memory in MiB) of `capic verify` in a fresh process."""
    script = (
        "import resource, sys\n"
        "from capic.cli import main\n"
        "try:\n    main(['verify', sys.argv[1]])\nexcept SystemExit as exc:\n    code = exc.code\n"
        "print('MAXRSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(bundle)], capture_output=True, text=True, check=False
    )
    peak = int(done.stdout.rsplit("MAXRSS", 1)[1])
    return done.returncode, done.stdout + done.stderr, peak


def test_a_1_gib_tar_header_is_refused_before_it_is_read(signed: Path, tmp_path: Path) -> None:
    pax = _header("././@PaxHeader", 1 << 30, tarfile.XHDTYPE)
    bundle = tmp_path / "header.tar.gz"
    bundle.write_bytes(_zeros_gzip(pax, 1 << 30))
    assert bundle.stat().st_size < 8 << 20  # about 4.7 MB on disk
    code, output, peak = _verify_in_subprocess(bundle)
    assert code == 1
    assert f"a tar header of {1 << 30} bytes" in output
    assert peak < 200, f"{peak} MiB"


def test_a_gzip_bomb_is_refused_with_bounded_memory(tmp_path: Path) -> None:
    bundle = tmp_path / "bomb.tar.gz"
    bundle.write_bytes(_zeros_gzip(b"", 1 << 30, members_of=32 << 20))  # 32 MiB members
    code, output, peak = _verify_in_subprocess(bundle)
    assert code == 1
    assert "looks like a compression bomb" in output
    assert peak < 400, f"{peak} MiB"


def test_a_member_larger_than_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    from capic.bundle.archive import MAX_MEMBER_SIZE, ArchiveError, unpack

    raw = _header("rules.py", MAX_MEMBER_SIZE + 1, tarfile.REGTYPE)
    with pytest.raises(ArchiveError, match="a member of"):
        unpack(_zeros_gzip(raw, 0))


def test_other_tar_tools_and_compressions_still_read(signed: Path, tmp_path: Path) -> None:
    import bz2
    import lzma

    from capic.bundle.archive import unpack

    expected = members(signed)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in expected.items():
            info = tarfile.TarInfo("./" + name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    plain = raw.getvalue()
    for data in (plain, bz2.compress(plain), lzma.compress(plain), zlib.compress(plain, wbits=31)):
        assert unpack(data) == expected


def test_serve_requires_signatures_like_run(signed: Path, tmp_path: Path) -> None:
    """`capic serve --bundle` honours --require-signature and its variable too: an unsigned
    bundle never becomes active, the service does not start (exit 2). In a process of its own:
    serve configures logging for the whole process."""
    import os

    files = members(signed)
    del files["signature.json"]
    unsigned = _pack(files, tmp_path / "unsigned.tar.gz")
    args = ["serve", "--bundle", str(unsigned), "--port", "0", "--admin-port", "0"]
    args += ["--outbox", str(tmp_path / "outbox.sqlite")]
    for extra, env in (
        (["--require-signature"], {}),
        ([], {"CAPIC_REQUIRE_SIGNED_BUNDLES": "1"}),
    ):
        done = subprocess.run(
            [sys.executable, "-c", "from capic.cli import main; main()", *args, *extra],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, **env},
            cwd=tmp_path,
        )
        assert done.returncode == 2, done.stdout + done.stderr
        assert "signature.json: missing: a signature is required" in done.stderr


def test_serve_refuses_a_bundle_resigned_with_another_key(
    signed: Path, keys: dict[str, Path], tmp_path: Path
) -> None:
    """`capic serve --bundle --key` loads through the same options and path as `capic run`:
    attacker code re-signed with another key never runs and the service does not start."""
    marker = tmp_path / "marker"
    evil = _resigned_by_the_attacker(signed, keys, marker, tmp_path / "resigned.tar.gz")
    args = ["serve", "--bundle", str(evil), "--key", str(keys["public"])]
    args += ["--port", "0", "--admin-port", "0", "--outbox", str(tmp_path / "outbox.sqlite")]
    done = subprocess.run(
        [sys.executable, "-c", "from capic.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "signature.json: signed with key" in done.stderr
    assert "Traceback" not in done.stderr
    assert not marker.exists()
