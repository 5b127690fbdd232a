"""Secrets are redacted everywhere, and references resolve from env vars and mounted files."""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from capic.runtime.secrets import Secret, SecretError, SecretRef, resolve

VALUE = "EAAGsuperSecretTokenValue42"


def test_secret_is_redacted_in_every_rendering() -> None:
    secret = Secret(VALUE)
    assert repr(secret) == "Secret('***')"
    assert str(secret) == "Secret('***')"
    assert f"{secret}" == "Secret('***')"
    assert f"{secret!r:>40}".strip() == "Secret('***')"
    assert "%s" % (secret,) == "Secret('***')"  # noqa: UP031
    assert VALUE not in repr([secret, {"t": secret}])
    assert secret.reveal() == VALUE


def test_secret_compares_by_value_and_is_immutable() -> None:
    assert Secret(VALUE) == Secret(VALUE)
    assert Secret(VALUE) != Secret("other")
    assert Secret(VALUE) != VALUE  # never equal to the plain string
    assert hash(Secret(VALUE)) == hash(Secret(VALUE))
    assert len({Secret(VALUE), Secret(VALUE)}) == 1
    with pytest.raises(AttributeError):
        Secret(VALUE)._value = "x"
    with pytest.raises(TypeError):
        Secret(123)  # type: ignore[arg-type]


def test_secret_is_not_serializable_by_accident() -> None:
    secret = Secret(VALUE)
    with pytest.raises(TypeError):
        json.dumps({"token": secret})
    with pytest.raises(TypeError):
        orjson.dumps({"token": secret})
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    assert copy.copy(secret) is secret
    assert copy.deepcopy({"t": secret})["t"] is secret


@given(st.text(min_size=1))
def test_repr_never_contains_the_value(value: str) -> None:
    secret = Secret(value)
    rendered = repr(secret) + str(secret) + format(secret)
    if value not in "Secret('***')":
        assert value not in rendered


@pytest.mark.parametrize(
    ("ref", "described"),
    [
        (SecretRef.env("META_CAPI_TOKEN"), 'env("META_CAPI_TOKEN")'),
        (SecretRef.secret("meta_token"), 'secret("meta_token")'),
        (SecretRef.literal(VALUE), "<literal>"),
    ],
)
def test_describe(ref: SecretRef, described: str) -> None:
    assert ref.describe() == described
    assert str(ref) == described
    assert VALUE not in repr(ref)


def test_ref_json_round_trip_and_redaction() -> None:
    for ref in (SecretRef.env("A"), SecretRef.secret("b"), SecretRef.literal(VALUE)):
        assert SecretRef.from_json(ref.to_json()) == ref
    redacted = SecretRef.literal(VALUE).to_json(redact=True)
    assert redacted == {"kind": "literal"}
    back = SecretRef.from_json(redacted)
    assert back.is_redacted and back.describe() == "<literal>"
    assert SecretRef.env("A").to_json(redact=True) == {"kind": "env", "name": "A"}


@pytest.mark.parametrize(
    "data", [{"kind": "vault", "name": "x"}, {"name": "x"}, {"kind": "env", "name": 3}]
)
def test_ref_from_json_rejects_garbage(data: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SecretRef.from_json(data)


def test_ref_needs_a_name() -> None:
    with pytest.raises(ValueError):
        SecretRef.env("")
    with pytest.raises(ValueError):
        SecretRef("vault", "x")  # type: ignore[arg-type]


def test_resolve_env() -> None:
    assert resolve(SecretRef.env("TOK"), environ={"TOK": VALUE}).reveal() == VALUE


@pytest.mark.parametrize("environ", [{}, {"TOK": ""}])
def test_resolve_env_missing_or_empty_names_the_reference(environ: dict[str, str]) -> None:
    with pytest.raises(SecretError, match=r'env\("TOK"\)'):
        resolve(SecretRef.env("TOK"), environ=environ)


def test_resolve_uses_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPIC_TEST_SECRET_VALUE", VALUE)
    assert resolve(SecretRef.env("CAPIC_TEST_SECRET_VALUE")).reveal() == VALUE


@pytest.mark.parametrize("content", [VALUE, VALUE + "\n", VALUE + "\r\n", VALUE + "\n\n"])
def test_resolve_secret_file_strips_trailing_newline(tmp_path: Path, content: str) -> None:
    (tmp_path / "meta_token").write_text(content, encoding="utf-8")
    secret = resolve(SecretRef.secret("meta_token"), secrets_dir=tmp_path, environ={})
    assert secret.reveal() == VALUE


def test_resolve_secret_falls_back_to_env(tmp_path: Path) -> None:
    ref = SecretRef.secret("meta_token")
    assert resolve(ref, secrets_dir=tmp_path, environ={"meta_token": VALUE}).reveal() == VALUE
    assert resolve(ref, environ={"meta_token": VALUE}).reveal() == VALUE


def test_resolve_secret_missing_names_reference_not_value(tmp_path: Path) -> None:
    with pytest.raises(SecretError) as info:
        resolve(SecretRef.secret("meta_token"), secrets_dir=tmp_path, environ={"x": VALUE})
    assert 'secret("meta_token")' in str(info.value)
    assert VALUE not in str(info.value)


def test_resolve_secret_empty_file(tmp_path: Path) -> None:
    (tmp_path / "meta_token").write_text("\n", encoding="utf-8")
    with pytest.raises(SecretError, match="empty"):
        resolve(SecretRef.secret("meta_token"), secrets_dir=tmp_path, environ={})


@pytest.mark.parametrize("name", ["../etc/passwd", "a/b", ".."])
def test_resolve_secret_refuses_paths(tmp_path: Path, name: str) -> None:
    with pytest.raises(SecretError, match="not a valid secret name"):
        resolve(SecretRef.secret(name), secrets_dir=tmp_path, environ={})


def test_resolve_literal_and_redacted_literal() -> None:
    assert resolve(SecretRef.literal(VALUE), environ={}).reveal() == VALUE
    with pytest.raises(SecretError, match="literal tokens are never stored"):
        resolve(SecretRef.from_json({"kind": "literal"}), environ={})
