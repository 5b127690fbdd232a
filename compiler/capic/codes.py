"""Front-end diagnostic codes (syntax S*, references/types R*, project config C*).

The linter's checks live in :mod:`capic.lint`; these are the "pseudo-rules" for problems found
before linting. Each has the same documentation fields as a check, so that ``capic rule S012``
and SARIF output can explain them.
"""

from __future__ import annotations

from dataclasses import dataclass

from capic.diagnostics import Diagnostic, Fix, Severity, Span


@dataclass(frozen=True, slots=True)
class CodeInfo:
    code: str
    name: str
    group: str
    severity: Severity
    summary: str
    why: str
    example: str
    fix: str

    def diagnostic(
        self,
        message: str,
        span: Span | None,
        help: str | None = None,
        *,
        fix: Fix | None = None,
        **data: object,
    ) -> Diagnostic:
        return Diagnostic(
            self.code, self.name, self.severity, message, span, help, dict(data), fix=fix
        )


_E = Severity.ERROR

FRONTEND_CODES: dict[str, CodeInfo] = {
    c.code: c
    for c in [
        CodeInfo(
            "S001",
            "syntax-error",
            "syntax",
            _E,
            "The file does not follow the capic grammar.",
            "capic cannot read a file it cannot parse; nothing in it is checked or compiled.",
            'rule "x" { when event.a == 1 send Purchase to shop { event_id = } }',
            "Write what the message says is expected at that position.",
        ),
        CodeInfo(
            "S002",
            "unexpected-character",
            "syntax",
            _E,
            "A character that cannot start any token.",
            "Stray characters usually come from copy-pasting JSON or JavaScript.",
            "element total = order.value $ 2",
            "Remove the character or quote the text.",
        ),
        CodeInfo(
            "S003",
            "unterminated-string",
            "syntax",
            _E,
            "A string literal is not closed on its line.",
            "Strings cannot span lines; an unclosed quote swallows the rest of the line.",
            'element name = "Purchase',
            'Close the string with " on the same line; write \\n for a newline.',
        ),
        CodeInfo(
            "S004",
            "invalid-escape",
            "syntax",
            _E,
            "A string contains an unknown escape sequence.",
            "Unknown escapes are ambiguous; capic refuses to guess what was meant.",
            'element re = "a\\qb"',
            'Use \\" \\\\ \\n \\t \\r \\/ \\uXXXX or \\u{X...}.',
        ),
        CodeInfo(
            "S010",
            "missing-closing-brace",
            "syntax",
            _E,
            "A block opened with { is not closed before the next declaration or the end.",
            "An unclosed block makes everything after it part of the block.",
            'rule "a" {\n  send Lead to shop {\n    event_id = event.id\n}\nrule "b" { ... }',
            "Add the missing } where the block ends.",
        ),
        CodeInfo(
            "S011",
            "assignment-in-condition",
            "syntax",
            _E,
            "A single = where a comparison is expected.",
            "= assigns a field; comparisons use ==.",
            'when event.type = "purchase"',
            'Write ==: when event.type == "purchase".',
        ),
        CodeInfo(
            "S012",
            "unquoted-rule-name",
            "syntax",
            _E,
            "Rule and test names are strings.",
            "Rule names may contain spaces and punctuation, so they are always quoted.",
            "rule MetaConversion_Purchase { ... }",
            'Quote the name: rule "MetaConversion_Purchase" { ... }.',
        ),
        CodeInfo(
            "S013",
            "comma-in-block",
            "syntax",
            _E,
            "A comma between the entries of a block.",
            "Blocks put one `key = value` per line, without commas (lists and objects use commas).",
            'pixel shop { id = "123", access_token = env("T") }',
            "Remove the comma; put each entry on its own line.",
        ),
        CodeInfo(
            "S014",
            "single-quoted-string",
            "syntax",
            _E,
            "Strings use double quotes.",
            "Only double-quoted strings exist in capic, as in JSON.",
            "currency = 'USD'",
            'Write "USD".',
        ),
        CodeInfo(
            "S015",
            "colon-in-block",
            "syntax",
            _E,
            "A JSON-style `key: value` inside a block.",
            "Blocks use `key = value`; colons are allowed only inside object literals { ... }.",
            'custom { currency: "USD" }',
            'Write currency = "USD".',
        ),
        CodeInfo(
            "S016",
            "c-style-operator",
            "syntax",
            _E,
            "&&, ||, ! or === used as an operator.",
            "capic spells logical operators as words.",
            "when a && b",
            "Use and, or, not (and == for equality).",
        ),
        CodeInfo(
            "S017",
            "send-without-pixel",
            "syntax",
            _E,
            "A send action without `to PIXEL`.",
            "Every send names the pixel (dataset) that receives the event.",
            "send Purchase { ... }",
            "Write send Purchase to <pixel> { ... }.",
        ),
        CodeInfo(
            "S018",
            "regex-as-string",
            "syntax",
            _E,
            "`matches` takes a regex literal, not a string.",
            "Regex literals are validated when the file is checked and compiled once.",
            'when event.url matches "^https://"',
            "Write a regex literal: matches /^https:\\/\\//.",
        ),
        CodeInfo(
            "S019",
            "missing-comma",
            "syntax",
            _E,
            "Two list items, arguments or object entries without a comma between them.",
            "Lists, calls and objects separate their items with commas.",
            "[1 2 3]",
            "Add the missing comma.",
        ),
        CodeInfo(
            "S020",
            "misplaced-when",
            "syntax",
            _E,
            "`when` after an action, or twice in one rule.",
            "A rule has at most one condition and it comes before the actions.",
            'rule "r" { send Lead to shop { } when event.a }',
            "Move the condition to the start of the rule; join conditions with and/or.",
        ),
        CodeInfo(
            "S021",
            "reserved-word",
            "syntax",
            _E,
            "A reserved word used where a name is expected.",
            "Operator words (and, or, not, in, contains, ...) cannot name fields after an expression.",
            "custom {\n  value = 1\n  in = 2\n}",
            'Quote the key ("in" = 2) or choose another name.',
        ),
        CodeInfo(
            "S022",
            "missing-equals",
            "syntax",
            _E,
            "An element or field without `=` before its value.",
            "Elements and fields are written NAME = EXPR.",
            "element email event.user.email",
            "Insert = between the name and the value.",
        ),
        CodeInfo(
            "S023",
            "unexpected-end-of-file",
            "syntax",
            _E,
            "The file ends in the middle of a declaration.",
            "Usually a missing closing brace or an unfinished expression.",
            'rule "r" { send Lead to shop {',
            "Finish the declaration (often: add the closing braces).",
        ),
        CodeInfo(
            "S030",
            "nesting-too-deep",
            "syntax",
            _E,
            "Something nested more than 64 levels deep: blocks, sections, object entries, "
            "calls, lists, `not`s and every operator of a chain each count one level.",
            "capic bounds nesting far below where its own stages or the Python compiler that "
            "loads the generated module would fail; no real rule comes close.",
            "when not not not ... not event.flag   (65 times)\n"
            'when event.type == "a" or event.type == "b" or ...   (65 comparisons)',
            "Split the expression into elements; write a long chain of `or` comparisons as "
            '`event.type in ["a", "b", ...]`.',
        ),
        CodeInfo(
            "S031",
            "text-too-long",
            "syntax",
            _E,
            "A string, regex or name longer than 16,384 characters.",
            "Rule files hold rules, not data; values that long belong in the event.",
            'element banner = "...(20,000 characters)..."',
            "Read the value from the event or shorten it.",
        ),
        CodeInfo(
            "S032",
            "number-out-of-range",
            "syntax",
            _E,
            "An integer outside the signed 64-bit range, or a number too large for a 64-bit float.",
            "Neither JSON encoders nor the Graph API accept such numbers: the event would "
            "fail to encode at run time.",
            "custom { value = 123456789012345678901234567890 }",
            "Use a number between -9223372036854775808 and 9223372036854775807 (or a string).",
        ),
        CodeInfo(
            "S033",
            "declaration-too-large",
            "syntax",
            _E,
            "One top-level declaration with more than 50,000 parts (names, literals, "
            "operators, entries).",
            "capic bounds the work one declaration can cause in every stage.",
            'test "t" { event = { ... (a 60,000-item list) ... } }',
            "Split the declaration, or shorten the literal.",
        ),
        CodeInfo(
            "S034",
            "file-too-large",
            "syntax",
            _E,
            "A `*.capi` file larger than 1 MiB (1,048,576 bytes): it is not parsed.",
            "Rule files hold rules, not data; lexing and showing a file that size would cost "
            "seconds and gigabytes in every check, editor and CI run.",
            "rules/catalog.capi   (12 MB of generated text)",
            "Split the file, or read the data from the event instead of writing it in rules.",
        ),
        CodeInfo(
            "S050",
            "incomplete-if-expression",
            "syntax",
            _E,
            "An `if ... then ... else` expression without its `else`, or written as an operand "
            "of another operator without parentheses.",
            "A conditional expression always has a value, so both branches are written; it "
            "binds loosest of all, so inside another expression it is parenthesized.",
            'element tier = if big then "gold"\nelement cost = 1 + if express then 10 else 0',
            'Write both branches (else null for "nothing") and parenthesize it inside an '
            "operator: 1 + (if express then 10 else 0).",
        ),
        CodeInfo(
            "R001",
            "unknown-pixel",
            "references",
            _E,
            "A send, environment or test names a pixel that is not declared.",
            "Events sent to an undeclared pixel have nowhere to go.",
            "send Purchase to shpo { ... }",
            "Declare the pixel with `pixel NAME { ... }` or fix the name.",
        ),
        CodeInfo(
            "R002",
            "unknown-name",
            "references",
            _E,
            "A name that is not an element, a comprehension variable, `event` or `request`; or a "
            "spread (`...NAME`) of a shared block that is not declared.",
            "Unknown names would always evaluate to nothing.",
            "when emial != null",
            "Declare the element or fix the spelling.",
        ),
        CodeInfo(
            "R003",
            "duplicate-definition",
            "references",
            _E,
            "Two pixels, elements, environments or tests share a name.",
            "References must be unambiguous across all files of a project.",
            "element email = ...\nelement email = ...",
            "Rename or remove one of them.",
        ),
        CodeInfo(
            "R004",
            "element-cycle",
            "references",
            _E,
            "Elements that refer to each other in a cycle.",
            "A cyclic element has no value.",
            "element a = b\nelement b = a",
            "Break the cycle.",
        ),
        CodeInfo(
            "R005",
            "unknown-function",
            "references",
            _E,
            "A call to a function that is not in capic's standard library.",
            "Only the fixed standard library is available to rules.",
            "element e = lowercase(event.email)",
            "Use a standard library function (see docs/language.md).",
        ),
        CodeInfo(
            "R006",
            "wrong-arity",
            "references",
            _E,
            "A function called with the wrong number of arguments.",
            "Extra or missing arguments are always a mistake.",
            'element e = replace(event.email, "x")',
            "Pass the documented arguments.",
        ),
        CodeInfo(
            "R007",
            "unknown-section",
            "references",
            _E,
            "A section name that is not valid at that place.",
            "Sections map to fixed parts of the Conversions API payload.",
            "send Purchase to shop { userdata { ... } }",
            "Use user, custom, app, original_event or attribution (inside app: extinfo).",
        ),
        CodeInfo(
            "R008",
            "invalid-regex",
            "references",
            _E,
            "A regex literal that Python's re module cannot compile.",
            "A broken pattern would fail on every event.",
            "when event.url matches /(abc/",
            "Fix the pattern.",
        ),
        CodeInfo(
            "R009",
            "type-mismatch",
            "types",
            _E,
            "An operation on literal values of the wrong type.",
            "The expression can never produce a meaningful value.",
            'element total = "10" * 2',
            "Convert with number(...) or fix the literal.",
        ),
        CodeInfo(
            "R010",
            "misplaced-call",
            "references",
            _E,
            "A function that is only valid in one context was used in another.",
            "env()/secret() are read at run time for pixel settings only; hashed() is for test expectations.",
            'custom { token = env("META_TOKEN") }',
            "Use env()/secret() in pixel fields, hashed()/absent/any in test expectations.",
        ),
        CodeInfo(
            "R011",
            "unknown-field",
            "references",
            _E,
            "A field that is not valid in this block.",
            "Unknown fields would be silently ignored.",
            'pixel shop { pixel_id = "123" }',
            "Use one of the documented fields for this block.",
        ),
        CodeInfo(
            "R012",
            "duplicate-key",
            "references",
            _E,
            "The same key twice in one block or object.",
            "The second value would silently win.",
            "custom { value = 1  value = 2 }",
            "Remove one of them.",
        ),
        CodeInfo(
            "R013",
            "unknown-environment",
            "references",
            _E,
            "A reference to an environment that is not declared.",
            "The environment would have no settings.",
            'test "t" { environment = "prod" }',
            "Declare the environment or fix the name.",
        ),
        CodeInfo(
            "R014",
            "unknown-rule",
            "references",
            _E,
            "A test expectation names a rule that does not exist.",
            "The expectation could never be met.",
            'expect "MetaConversion_Purchse" sends Purchase to shop { }',
            "Fix the rule name.",
        ),
        CodeInfo(
            "R015",
            "invalid-value",
            "types",
            _E,
            "A value that must be a constant or of a given type is not.",
            "Pixel settings, test events and environment settings are fixed at build time.",
            "pixel shop { browser_pixel = event.flag }",
            "Write a literal of the documented type.",
        ),
        CodeInfo(
            "R016",
            "reserved-name",
            "references",
            _E,
            "An element named like a root (event, request) or a built-in.",
            "The element would shadow what every rule relies on.",
            "element event = 1",
            "Choose another name.",
        ),
        CodeInfo(
            "R030",
            "expansion-too-deep",
            "references",
            _E,
            "An expression more than 64 levels deep once the elements it uses are written "
            "out (each element reference counts one level more than the element itself).",
            "The code generator writes elements into the rules that use them; a long chain "
            "of elements would make code deeper than capic and Python can compile.",
            "element e1 = not event.flag\nelement e2 = not e1\n...\nelement e70 = not e69",
            "Shorten the chain of elements or simplify the expressions in it.",
        ),
        CodeInfo(
            "R050",
            "shared-kind-mismatch",
            "references",
            _E,
            "A shared block spread where its kind does not fit (a user block spread into custom, "
            "a send body spread into a section), a spread where none is allowed (pixel, "
            "environment and test blocks), or a shared block of an unknown kind.",
            "Each kind of shared block holds the keys of one part of the payload; spread "
            "elsewhere, its keys would mean something else or nothing at all.",
            "shared user customer { em = email }\n\nsend Lead to shop {\n  custom { ...customer }\n}",
            "Spread a block where its kind is written: `user { ...customer }`; kinds are send, "
            "user, custom, app, original_event and attribution.",
        ),
        CodeInfo(
            "R051",
            "conflicting-spreads",
            "references",
            _E,
            "Two shared blocks spread into one block both give the same key, and the block does "
            "not set it itself.",
            "Which value wins would depend on the order of the spreads; capic refuses to guess.",
            "send Lead to shop {\n  ...web\n  ...app_defaults   # both set action_source\n}",
            "Set the key in the block itself (it wins over every spread), or remove it from one "
            "of the shared blocks.",
        ),
        CodeInfo(
            "R052",
            "shared-cycle",
            "references",
            _E,
            "Shared blocks that spread each other in a cycle.",
            "A block that contains itself has no end.",
            "shared user a { ...b }\nshared user b { ...a }",
            "Break the cycle: move the common keys into a third block both spread.",
        ),
        CodeInfo(
            "R053",
            "ambiguous-event-name",
            "references",
            _E,
            "`send NAME` where NAME is not a standard event but is an element: it would send "
            "an event named NAME, not the name the element holds.",
            "A bare name after `send` is the event's name; the element was almost certainly meant.",
            "element event_name = names[event.type]\n\nsend event_name to shop { ... }",
            "Write send (event_name) to compute the name from the element, or quote the custom "
            'event name: send "event_name".',
        ),
        CodeInfo(
            "R054",
            "invalid-consent",
            "references",
            _E,
            "A `consent { ... }` block that is not valid where it is written: a gate (pixel or "
            'environment) without `granted` or with an outcome other than "drop" or '
            '"limited_data_use"; an exemption (send) without a written reason, or written in '
            "a shared block.",
            "A consent gate decides whether an event may be sent at all; it must say exactly "
            "what happens, and an exemption must say why, in the send it exempts.",
            'pixel shop {\n  ...\n  consent { otherwise = "drop" }\n}',
            'Write consent { granted = EXPR  otherwise = "drop" } on a pixel or environment, and '
            'consent { exempt = "why this send needs no consent" } in a send.',
        ),
        CodeInfo(
            "C001",
            "invalid-project-config",
            "config",
            _E,
            "capic.toml cannot be read or does not match its schema.",
            "Project settings (name, environments, default country) steer every stage.",
            '[project]\nnmae = "shop"',
            "Fix the file; `capic schema config` shows the schema.",
        ),
        CodeInfo(
            "C002",
            "unreadable-file",
            "config",
            _E,
            "A path given to capic does not exist, or a rule file could not be read.",
            "capic cannot check what it cannot read; the run stops with exit status 2.",
            "capic check missing.capi",
            "Pass existing .capi files or a project directory.",
        ),
        CodeInfo(
            "C003",
            "invalid-encoding",
            "config",
            _E,
            "A rule file is not valid UTF-8.",
            "capic reads rule files as UTF-8 text; a file in another encoding (Latin-1, UTF-16) "
            "cannot be parsed, so nothing in it is checked or compiled.",
            "rules/purchase.capi saved as Windows-1252 with a `é` in a comment",
            "Save the file as UTF-8 (a UTF-8 byte order mark is accepted).",
        ),
    ]
}


def code(code: str) -> CodeInfo:
    return FRONTEND_CODES[code]
