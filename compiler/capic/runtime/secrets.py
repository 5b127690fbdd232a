"""Secrets: access tokens and app secrets, and the references that name them.

Rule files, bundles and outboxes hold a :class:`SecretRef` (``env("META_CAPI_TOKEN")``,
``secret("meta_token")``), never the value. The value is looked up at run time with
:func:`resolve` and carried in a :class:`Secret`, which redacts itself in ``repr``/``str``,
refuses to be pickled or JSON-encoded by accident, and only gives its value to code that
calls :meth:`Secret.reveal` (the Graph transport, when it builds a request body).
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NoReturn, cast

__all__ = ["Secret", "SecretError", "SecretKind", "SecretRef", "resolve"]

SecretKind = Literal["env", "secret", "literal"]
_KINDS: tuple[str, ...] = ("env", "secret", "literal")
_REDACTED = "Secret('***')"


class Secret:
    """A secret string. Redacted when printed; compare, hash and reveal it explicitly."""

    __slots__ = ("_value",)

    _value: str

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret() takes a str")
        object.__setattr__(self, "_value", value)

    def reveal(self) -> str:
        """The secret value. Call this only where the value must leave the process."""
        return self._value

    def __repr__(self) -> str:
        return _REDACTED

    __str__ = __repr__

    def __format__(self, format_spec: str) -> str:
        return _REDACTED

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode("utf-8"), other._value.encode("utf-8"))

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("Secret is immutable")

    def __reduce__(self) -> NoReturn:
        # Pickling would write the value to a queue, a cache or a file: refuse.
        raise TypeError("Secret values cannot be pickled")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self


class SecretError(Exception):
    """A secret reference could not be resolved. The message names the reference only."""


@dataclass(frozen=True, slots=True)
class SecretRef:
    """Where a secret comes from: an environment variable, a mounted secret, or (tolerated at
    run time, forbidden for tokens by the linter) a literal held in ``name``."""

    kind: SecretKind
    name: str

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"unknown secret reference kind {self.kind!r} (env, secret, literal)")
        if self.kind != "literal" and not self.name:
            raise ValueError(f"a {self.kind}() secret reference needs a name")

    @classmethod
    def env(cls, name: str) -> SecretRef:
        return cls("env", name)

    @classmethod
    def secret(cls, name: str) -> SecretRef:
        return cls("secret", name)

    @classmethod
    def literal(cls, value: str) -> SecretRef:
        return cls("literal", value)

    @property
    def is_redacted(self) -> bool:
        """A literal whose value was withheld when it was stored (see ``to_json(redact=True)``)."""
        return self.kind == "literal" and not self.name

    def describe(self) -> str:
        """The reference as users write it; a literal is never shown."""
        if self.kind == "literal":
            return "<literal>"
        return f'{self.kind}("{self.name}")'

    def __repr__(self) -> str:
        name = "***" if self.kind == "literal" else self.name
        return f"SecretRef(kind={self.kind!r}, name={name!r})"

    __str__ = describe

    def to_json(self, *, redact: bool = False) -> dict[str, Any]:
        """``{"kind", "name"}``. With ``redact=True`` a literal keeps only its kind: what an
        outbox stores, so that a token written inline never reaches the disk."""
        if self.kind == "literal" and redact:
            return {"kind": "literal"}
        return {"kind": self.kind, "name": self.name}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SecretRef:
        kind = data.get("kind")
        if kind not in _KINDS:
            raise ValueError(f"unknown secret reference kind {kind!r} (env, secret, literal)")
        name = data.get("name", "")
        if not isinstance(name, str):
            raise ValueError("a secret reference name must be a string")
        return cls(cast(SecretKind, kind), name)


def _valid_file_name(name: str) -> bool:
    return name not in {".", ".."} and "/" not in name and "\\" not in name and "\0" not in name


def resolve(
    ref: SecretRef,
    *,
    secrets_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Secret:
    """Look up the value a reference names.

    - ``env("X")``: the environment variable ``X``.
    - ``secret("x")``: the file ``<secrets_dir>/x`` (trailing newline stripped, as Docker and
      Kubernetes mount secrets), else the environment variable ``x``.
    - a literal: its value.

    Missing or empty values raise :class:`SecretError`, whose message names the reference.
    """
    env = os.environ if environ is None else environ
    where = ref.describe()
    if ref.kind == "literal":
        if not ref.name:
            raise SecretError(
                f"secret {where} is not available: literal tokens are never stored, "
                "so this one must come from the rule project that wrote it"
            )
        if not ref.name.strip("*"):
            # capic.syntax.redact masked it: a token written in a rule file is never used.
            raise SecretError(
                f"secret {where} was written in a rule file (P003), so capic masked it; "
                'read it at run time with env("VAR") or secret("NAME")'
            )
        return Secret(ref.name)
    if ref.kind == "secret":
        if not _valid_file_name(ref.name):
            raise SecretError(f"secret {where} is not a valid secret name")
        if secrets_dir is not None:
            path = Path(secrets_dir) / ref.name
            if path.is_file():
                try:
                    content = path.read_text(encoding="utf-8").rstrip("\r\n")
                except (OSError, UnicodeDecodeError) as exc:
                    raise SecretError(
                        f"secret {where} could not be read from {path}: {type(exc).__name__}"
                    ) from None
                if not content:
                    raise SecretError(f"secret {where} is empty ({path})")
                return Secret(content)
    value = env.get(ref.name)
    if value is None:
        hint = f" and no file {Path(secrets_dir) / ref.name}" if secrets_dir is not None else ""
        raise SecretError(f"secret {where} is not set: no environment variable {ref.name}{hint}")
    if not value:
        raise SecretError(f"secret {where} is empty")
    return Secret(value)
