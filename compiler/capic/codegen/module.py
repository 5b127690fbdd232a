"""Module-wide state of a generated module: what the template lays out (:class:`ModuleParts`)
and the names rules share while they are written (:class:`ModuleNames`): imports, regexes,
hoisted constants, hashing and conversion functions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from capic.codegen.errors import CodegenError
from capic.codegen.literals import Code, ident, lit, slug
from capic.runtime import stdlib

__all__ = ["ModuleNames", "ModuleParts"]


@dataclass
class ModuleParts:
    """Everything the module template needs (all text is :class:`Code`)."""

    imports: list[Code] = field(default_factory=list)
    regexes: list[tuple[Code, Code, Code]] = field(default_factory=list)
    constants: list[tuple[Code, Code]] = field(default_factory=list)
    #: (name, constructor, keyword arguments) of the module's SendSpec constants.
    specs: list[tuple[Code, Code, list[tuple[Code, Code]]]] = field(default_factory=list)
    #: (function, scope attribute, pixel literal, gate expression) of the consent gates.
    consent_functions: list[tuple[Code, Code, Code, Code]] = field(default_factory=list)
    memo_attrs: list[Code] = field(default_factory=list)
    memo_functions: list[tuple[Code, Code, Code, Code]] = field(default_factory=list)
    rule_functions: list[tuple[Code, Code, list[Code]]] = field(default_factory=list)
    #: (module name, user_data key) of the per-key hashing functions the rules call.
    hashers: list[tuple[Code, Code]] = field(default_factory=list)
    #: (conversion name, fast type name, section, key) of the section conversions the rules
    #: apply in generated code (see ``capic.runtime.payload.section_conversion``).
    conversions: list[tuple[Code, Code, Code, Code]] = field(default_factory=list)
    #: (module name, user_data key) of the normalizers the rules call (inlined puts).
    normalizers: list[tuple[Code, Code]] = field(default_factory=list)
    #: (module name, user_data key) of the digest memo lookups of the memoized keys.
    memos: list[tuple[Code, Code]] = field(default_factory=list)


class ModuleNames:
    """Module-wide names: imports, regexes, hoisted constants."""

    def __init__(self) -> None:
        self.stdlib: set[str] = set()
        self.paths: set[str] = set()
        self.regexes: dict[tuple[str, str], Code] = {}
        self.constants: dict[Code, Code] = {}
        self._const_names: dict[str, Code] = {}
        self.hashers: dict[str, Code] = {}
        self.conversions: dict[tuple[str, str], tuple[Code, Code]] = {}
        self.normalizers: dict[str, Code] = {}
        self.memos: dict[str, Code] = {}
        #: Names imported from ``capic.runtime.payload`` besides Sender and SendSpec.
        self.payload: set[str] = set()
        #: Other runtime names imported as ``_NAME``: (module under capic.runtime, name).
        self.runtime: set[tuple[str, str]] = set()

    def hasher(self, key: str) -> Code:
        """The module name of the put function of the hashed user_data key ``key``."""
        name = self.hashers.get(key)
        if name is None:
            name = self.hashers[key] = ident(f"_H_{slug(key).upper()}")
        return name

    def normalizer(self, key: str) -> Code:
        """The module name of the normalizer of the (not memoized) hashed key ``key``."""
        name = self.normalizers.get(key)
        if name is None:
            name = self.normalizers[key] = ident(f"_N_{slug(key).upper()}")
        return name

    def memo(self, key: str) -> Code:
        """The module name of the digest memo lookup of the memoized hashed key ``key``."""
        name = self.memos.get(key)
        if name is None:
            name = self.memos[key] = ident(f"_M_{slug(key).upper()}")
        return name

    def conversion(self, section: str, key: str) -> tuple[Code, Code]:
        """Module names of the conversion of ``section.key`` and of the type it leaves as is."""
        names = self.conversions.get((section, key))
        if names is None:
            base = slug(f"{section}_{key}").upper()
            names = self.conversions[(section, key)] = (ident(f"_C_{base}"), ident(f"_T_{base}"))
            self.payload.add("section_conversion")
        return names

    def fn(self, impl: str) -> Code:
        """The local name of a runtime stdlib function."""
        if not hasattr(stdlib, impl):
            raise CodegenError(f"no runtime implementation {impl!r}")
        self.stdlib.add(impl)
        return Code(f"_f_{impl}")

    def path_fn(self, name: str) -> Code:
        self.paths.add(name)
        return Code(f"_p_{name}")

    def regex(self, pattern: str, flags: str) -> Code:
        key = (pattern, "".join(sorted(set(flags))))
        name = self.regexes.get(key)
        if name is None:
            name = self.regexes[key] = Code(f"_RE_{len(self.regexes)}")
        return name

    def regex_definitions(self) -> list[tuple[Code, Code, Code]]:
        """(name, pattern literal, flags code) of every regex, for ``re.compile`` at import;
        the flag names come from the language's one flag table (``stdlib.REGEX_FLAGS``)."""
        out = []
        for (pattern, flags), name in self.regexes.items():
            names = [f"re.{stdlib.REGEX_FLAGS[ch].name}" for ch in flags]
            out.append((name, lit(pattern), Code(" | ".join(names) or "0")))
        return out

    def table(self, value: dict[str, Any] | list[Any]) -> Code:
        """A module constant holding a lookup table (an object or a list that generated code
        only reads)."""
        return self.constant(value, "TABLE")

    def constant(self, value: Any, prefix: str) -> Code:
        """A module constant holding ``value`` (tuples and strings, or lookup tables that
        generated code never writes into)."""
        text = lit(value)
        name = self._const_names.get(text)
        if name is None:
            name = self._const_names[text] = Code(f"_{prefix}{len(self._const_names)}")
            self.constants[name] = text
        return name
