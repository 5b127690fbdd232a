"""Signatures of the rule language's fixed standard library.

The resolver checks calls against this table; the code generator maps each name to its
implementation in :mod:`capic.runtime.stdlib`; docs/language.md documents it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    min_args: int
    max_args: int | None  # None: variadic
    returns: str | None  # "string" | "number" | "bool" | "list" | None (depends on input)
    doc: str
    #: Pure functions of constant arguments are folded at compile time.
    pure: bool = True
    #: Where the call is allowed: "expr" (rules, elements), "pixel" (pixel/environment
    #: settings, resolved at run time), "test" (test expectations).
    context: str = "expr"

    def arity_text(self) -> str:
        if self.max_args is None:
            return f"at least {self.min_args} argument{'s' if self.min_args != 1 else ''}"
        if self.min_args == self.max_args:
            return f"{self.min_args} argument{'s' if self.min_args != 1 else ''}"
        return f"{self.min_args} to {self.max_args} arguments"


FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in [
        Function("lower", 1, 1, "string", "Lowercase a string (null stays null)."),
        Function("upper", 1, 1, "string", "Uppercase a string."),
        Function("trim", 1, 1, "string", "Strip surrounding whitespace."),
        Function(
            "number", 1, 1, "number", 'Parse a number ("12.50" -> 12.5); null if not a number.'
        ),
        Function("int", 1, 1, "number", "Parse an integer (truncates); null if not a number."),
        Function("round", 1, 2, "number", "Round to N decimals (default 0)."),
        Function("string", 1, 1, "string", "Convert to a string (numbers without a trailing .0)."),
        Function(
            "concat",
            1,
            None,
            "string",
            "Join the string forms of the arguments; nulls are skipped.",
        ),
        Function("replace", 3, 3, "string", "Replace every occurrence of a substring."),
        Function("split", 2, 2, "list", "Split a string by a separator."),
        Function("join", 2, 2, "string", "Join a list of strings with a separator."),
        Function("len", 1, 1, "number", "Length of a string or list (0 for null)."),
        Function(
            "coalesce", 1, None, None, "The first argument that is not null (or empty string)."
        ),
        Function("first", 1, 1, None, "The first item of a list, or null."),
        Function("sum", 1, 1, "number", "Sum of the numbers in a list (non-numbers ignored)."),
        Function("exists", 1, 1, "bool", "True when the value is not null."),
        Function("fbclid", 1, 1, "string", "The fbclid query value of a URL, verbatim."),
        Function(
            "fbc_from_url",
            1,
            2,
            "string",
            "An fbc (fb.1.<ms>.<fbclid>) from the fbclid of a URL, created at the time given "
            "(unix seconds or milliseconds, ISO-8601), else at now().",
            pure=False,
        ),
        Function("valid_fbc", 1, 1, "bool", "True when the value has the shape of an fbc."),
        Function("valid_fbp", 1, 1, "bool", "True when the value has the shape of an fbp."),
        Function("url_host", 1, 1, "string", "Host name of a URL, lowercased."),
        Function("url_param", 2, 2, "string", "A query parameter of a URL (first value)."),
        Function(
            "parse_time",
            1,
            2,
            "number",
            "Unix seconds from ISO-8601 or epoch seconds/milliseconds; an optional strptime format.",
        ),
        Function("now", 0, 0, "number", "The current time in unix seconds.", pure=False),
        Function("uuid", 0, 0, "string", "A random UUID4 (a server-side event id).", pure=False),
        Function(
            "sha256",
            1,
            1,
            "string",
            "Lowercase hex SHA-256 of a string. For custom keys only: capic hashes customer information itself.",
        ),
        Function(
            "env",
            1,
            1,
            "string",
            "An environment variable, read at run time.",
            pure=False,
            context="pixel",
        ),
        Function(
            "secret",
            1,
            1,
            "string",
            "A secret read at run time from the secrets directory, else the environment variable of that name.",
            pure=False,
            context="pixel",
        ),
        Function(
            "hashed",
            1,
            1,
            "string",
            "In test expectations: the SHA-256 of the normalized value of its argument.",
            context="test",
        ),
    ]
}

#: Bare names with a meaning in test expectations only.
TEST_MATCHERS = frozenset({"absent", "any"})
ROOTS = frozenset({"event", "request"})
