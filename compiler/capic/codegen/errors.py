"""The code generator's one error type."""

from __future__ import annotations

__all__ = ["CodegenError"]


class CodegenError(ValueError):
    """The rule model cannot be compiled (it still has front-end errors)."""
