"""Ed25519 signatures over the manifest (detached, in ``signature.json``).

The manifest lists the SHA-256 of every other file, so signing its canonical bytes signs the
whole bundle. ``signature.json``::

    {"algorithm": "ed25519", "key_id": "<sha256 hex of the public key>",
     "manifest_sha256": "<sha256 hex of the canonical manifest>", "signature": "<base64>"}

The key id is the SHA-256 of the public key in DER SubjectPublicKeyInfo form, which is what
``openssl pkey -in key.pem -pubout -outform DER | sha256sum`` prints. Keys are PEM files::

    openssl genpkey -algorithm ed25519 -out capic-signing.pem        # private: keep secret
    openssl pkey -in capic-signing.pem -pubout -out capic-signing.pub.pem

(:func:`generate_keypair` writes the same two files.)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from capic.bundle.manifest import canonical_json, sha256_hex

__all__ = [
    "ALGORITHM",
    "SignatureError",
    "SignatureInfo",
    "generate_keypair",
    "key_id",
    "load_private_key",
    "load_public_key",
    "parse_signature",
    "sign_manifest",
    "verify_manifest_signature",
]

ALGORITHM = "ed25519"
_FIELDS = {"algorithm", "key_id", "manifest_sha256", "signature"}


class SignatureError(Exception):
    """A key or signature could not be read, or the signature does not verify."""


@dataclass(frozen=True, slots=True)
class SignatureInfo:
    algorithm: str
    key_id: str
    manifest_sha256: str
    signature: bytes


def key_id(public_key: Ed25519PublicKey) -> str:
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def _read(path: str | Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise SignatureError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    """An unencrypted Ed25519 private key from a PEM file."""
    data = _read(path, "signing key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise SignatureError(
            f"{path}: the signing key is encrypted; capic needs an unencrypted PEM key"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise SignatureError(
            f"{path}: not a PEM private key (create one with "
            "`openssl genpkey -algorithm ed25519 -out key.pem`)"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError(f"{path}: not an Ed25519 key (capic signs with Ed25519 only)")
    return key


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file (a private key file is accepted too)."""
    data = _read(path, "public key")
    key: Any
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        try:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        except (TypeError, ValueError, UnsupportedAlgorithm):
            raise SignatureError(
                f"{path}: not a PEM public key (export one with "
                "`openssl pkey -in key.pem -pubout -out key.pub.pem`)"
            ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise SignatureError(f"{path}: not an Ed25519 key (capic signs with Ed25519 only)")
    return key


def sign_manifest(manifest_bytes: bytes, private_key: Ed25519PrivateKey) -> bytes:
    """``signature.json`` bytes (canonical JSON) signing ``manifest_bytes``."""
    signature = private_key.sign(manifest_bytes)
    return canonical_json(
        {
            "algorithm": ALGORITHM,
            "key_id": key_id(private_key.public_key()),
            "manifest_sha256": sha256_hex(manifest_bytes),
            "signature": base64.b64encode(signature).decode("ascii"),
        }
    )


def parse_signature(raw: bytes) -> SignatureInfo:
    """Read ``signature.json``; :class:`SignatureError` when it is malformed."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise SignatureError("signature.json is not valid JSON") from None
    if not isinstance(data, dict) or set(data) != _FIELDS:
        raise SignatureError(
            f"signature.json must have exactly the keys {', '.join(sorted(_FIELDS))}"
        )
    if not all(isinstance(data[k], str) for k in _FIELDS):
        raise SignatureError("signature.json values must be strings")
    if data["algorithm"] != ALGORITHM:
        raise SignatureError(
            f"signature.json: unsupported algorithm {data['algorithm']!r} (capic uses {ALGORITHM})"
        )
    try:
        signature = base64.b64decode(data["signature"], validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("signature.json: the signature is not base64") from None
    return SignatureInfo(data["algorithm"], data["key_id"], data["manifest_sha256"], signature)


def verify_manifest_signature(
    manifest_bytes: bytes, info: SignatureInfo, public_key: Ed25519PublicKey
) -> None:
    """Raise :class:`SignatureError` unless ``info`` is a signature of ``manifest_bytes`` by
    ``public_key``."""
    expected = key_id(public_key)
    if info.key_id != expected:
        raise SignatureError(
            f"signature.json: signed with key {info.key_id[:16]}…, "
            f"but the given key is {expected[:16]}…"
        )
    if info.manifest_sha256 != sha256_hex(manifest_bytes):
        raise SignatureError(
            "manifest.json: changed after signing (its SHA-256 differs from signature.json)"
        )
    try:
        public_key.verify(info.signature, manifest_bytes)
    except InvalidSignature:
        raise SignatureError("signature.json: the signature does not verify") from None


def generate_keypair(directory: str | Path, name: str = "capic-signing") -> tuple[Path, Path]:
    """Write ``<name>.pem`` (private, mode 0600) and ``<name>.pub.pem`` into ``directory``."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private_path = target / f"{name}.pem"
    public_path = target / f"{name}.pub.pem"
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_pem)
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private_path, public_path
