"""The fuzzer's inputs: the test corpus and its grammar-aware mutations (see ``fuzz.py``).

An input is derived from ``random.Random(f"{seed}/{index}")`` only, so ``--replay INDEX``
rebuilds it exactly. Kinds:

- **project**: a project of the corpus (a sample, or a fixture next to the lint prelude) with
  one ``.capi`` file mutated on the token level (the capic lexer's terminals): deletions,
  duplications, swaps, splices from other files, vocabulary tokens, extreme literals, nesting
  and operator chains around and beyond the front end's limits, truncation, byte flips and
  invalid UTF-8; sometimes ``capic.toml`` too;
- **noise**: a project whose rule file is random bytes or random tokens;
- **bundle**: a bundle (built by this capic, or the 0.1.0 fixture) mutated at the gzip, tar or
  member level, for ``capic verify``, ``capic inspect`` and ``load_bundle``.
"""

from __future__ import annotations

import gzip
import io
import random
import re
import tarfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LINT = REPO / "tests" / "data" / "lint"

_TOKEN = re.compile(
    r"""(?P<ws>\s+)
      |(?P<comment>\#[^\n]*)
      |(?P<string>"(?:[^"\\\n]|\\.)*")
      |(?P<number>[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
      |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
      |(?P<op>==|!=|<=|>=|\?\?|[-+*/<>=:,.()\[\]{}])
      |(?P<other>.)""",
    re.X | re.S,
)
_REGEX = re.compile(r"/(?:[^/\\\n]|\\.)+/[ims]*")

KEYWORDS = [
    "pixel", "element", "rule", "send", "to", "when", "environment", "test", "expect", "sends",
    "nothing", "and", "or", "not", "in", "contains", "starts_with", "ends_with", "iequals",
    "icontains", "istarts_with", "iends_with", "matches", "true", "false", "null", "for", "if",
]  # fmt: skip
OPERATORS = [
    "==", "!=", "<", "<=", ">", ">=", "??", "+", "-", "*", "/", "=", ":", ",", ".", "(", ")",
    "[", "]", "{", "}",
]  # fmt: skip
NAMES = [
    "event", "request", "shop", "web", "order", "ua", "ip", "url", "em", "ph", "fn", "ln",
    "external_id", "client_ip_address", "client_user_agent", "fbp", "fbc", "value", "currency",
    "contents", "content_ids", "custom", "user", "app", "extinfo", "original_event",
    "attribution", "event_id", "event_time", "action_source", "event_source_url", "access_token",
    "app_secret", "api_version", "test_event_code", "browser_pixel", "id", "now", "environment",
]  # fmt: skip
FUNCTIONS = [
    "lower", "upper", "trim", "number", "int", "round", "string", "concat", "replace", "split",
    "join", "len", "coalesce", "first", "sum", "exists", "url_host", "url_param", "parse_time",
    "now", "uuid", "sha256", "env", "secret", "hashed", "absent", "any",
]  # fmt: skip
LITERALS = [
    '"USD"', '""', '"Purchase"', '"website"', '"v12.0"', '"v99.0"', '"v25.0"', '"é"',
    '"\\u00e9"', '"\\uD800"', '"\\u{10FFFF}"', '"\\q"', '"a\\"b"', "0", "-1", "1.5",
    "1e308", "1e999", "9223372036854775807", "9223372036854775808",
    "123456789012345678901234567890", "/a+/i", "/(a+)+$/", "/[/", "/\\d{1000}/",
    '"EAAB' + "k" * 40 + '"',
]  # fmt: skip
#: Wrappers for nesting an expression token: "{x}" is the token.
NESTERS = ["not {x}", "({x})", "[{x}]", "lower({x})", "-{x}", '{{"k": {x}}}', "{x}.a", "{x}[0]"]
CHAIN_OPS = ["+", "*", "or", "and", "??", "-", "/"]
DEPTHS = [1, 2, 3, 8, 30, 55, 60, 62, 63, 64, 65, 66, 70, 100, 200, 1000]


@dataclass
class Entry:
    """A corpus file: the project it belongs to (a directory of files) and its path there."""

    base: str
    path: str
    text: str


@dataclass
class Corpus:
    entries: list[Entry]
    #: Project name -> files (path -> text) of the unmutated project.
    bases: dict[str, dict[str, str]]


def load_corpus() -> Corpus:
    bases: dict[str, dict[str, str]] = {}
    entries: list[Entry] = []
    for sample in sorted((REPO / "samples").iterdir()):
        if not (sample / "capic.toml").is_file():
            continue
        files = {
            p.relative_to(sample).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(sample.rglob("*"))
            if p.is_file() and (p.suffix == ".capi" or p.name == "capic.toml")
        }
        bases[sample.name] = files
        entries.extend(Entry(sample.name, p, t) for p, t in files.items() if p.endswith(".capi"))
    bases["prelude"] = {
        "capic.toml": '[project]\nname = "fuzz"\n',
        "prelude.capi": (LINT / "prelude.capi").read_text(encoding="utf-8"),
        "environments.capi": "environment production {\n}\n",
        "main.capi": "",
    }
    for path in sorted((REPO / "tests" / "data" / "broken").glob("*.capi")):
        entries.append(Entry("prelude", "main.capi", path.read_text(encoding="utf-8")))
    for path in sorted((LINT / "checks").glob("*.toml")):
        for case in tomllib.loads(path.read_text(encoding="utf-8"))["case"]:
            entries.append(Entry("prelude", "main.capi", case["source"]))
    return Corpus(entries, bases)


def tokenize(text: str) -> list[str]:
    """The text as tokens (whitespace and comments kept, so joining gives the text back)."""
    out: list[str] = []
    pos = 0
    last = ""
    while pos < len(text):
        if last == "matches":
            m = _REGEX.match(text, pos)
            if m is not None:
                out.append(m.group(0))
                pos = m.end()
                last = m.group(0)
                continue
        m = _TOKEN.match(text, pos)
        assert m is not None
        out.append(m.group(0))
        pos = m.end()
        if m.lastgroup not in {"ws", "comment"}:
            last = m.group(0)
    return out


def _is_expr_token(tok: str) -> bool:
    return bool(tok) and (tok[0].isalpha() or tok[0] in '"0123456789_') and tok not in KEYWORDS


@dataclass
class Mutated:
    """One generated input: files of a project (path -> bytes) or a bundle, and what was done."""

    kind: str
    base: str
    files: dict[str, bytes] = field(default_factory=dict)
    bundle: bytes = b""
    steps: list[str] = field(default_factory=list)


class Mutator:
    def __init__(self, corpus: Corpus, bundles: dict[str, bytes]) -> None:
        self.corpus = corpus
        self.bundles = bundles

    def generate(self, seed: int, index: int) -> Mutated:
        rng = random.Random(f"{seed}/{index}")
        roll = rng.random()
        if roll < 0.08 and self.bundles:
            return self._bundle(rng)
        if roll < 0.14:
            return self._noise(rng)
        return self._project(rng)

    # ------------------------------------------------------------------ projects
    def _project(self, rng: random.Random) -> Mutated:
        entry = rng.choice(self.corpus.entries)
        files = {p: t.encode("utf-8") for p, t in self.corpus.bases[entry.base].items()}
        out = Mutated("project", entry.base, files)
        tokens = tokenize(entry.text)
        for _ in range(rng.choice([1, 1, 1, 2, 2, 3, 5])):
            op = rng.choice(_TOKEN_OPS)
            tokens = op(self, rng, tokens)
            out.steps.append(op.__name__)
        data = "".join(tokens).encode("utf-8")
        if rng.random() < 0.06:
            data = _byte_mutation(rng, data)
            out.steps.append("bytes")
        out.files[entry.path] = data
        if rng.random() < 0.03:
            toml = files["capic.toml"].decode("utf-8")
            out.files["capic.toml"] = _toml_mutation(rng, toml).encode("utf-8")
            out.steps.append("toml")
        return out

    def _noise(self, rng: random.Random) -> Mutated:
        files = {p: t.encode("utf-8") for p, t in self.corpus.bases["prelude"].items()}
        if rng.random() < 0.5:
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 3000)))
            step = "random bytes"
        else:
            pool = KEYWORDS + OPERATORS + NAMES + FUNCTIONS + LITERALS + ["\n", " ", "#c\n"]
            data = " ".join(rng.choice(pool) for _ in range(rng.randrange(0, 600))).encode()
            step = "random tokens"
        files["main.capi"] = data
        return Mutated("project", "prelude", files, steps=[step])

    # ------------------------------------------------------------------ bundles
    def _bundle(self, rng: random.Random) -> Mutated:
        name = rng.choice(sorted(self.bundles))
        data = self.bundles[name]
        how = rng.choice(["gzip bytes", "tar bytes", "member", "header"])
        if how == "gzip bytes":
            data = _byte_mutation(rng, data)
        elif how == "tar bytes":
            try:
                raw = gzip.decompress(data)
            except (OSError, EOFError):
                raw = data
            data = gzip.compress(_byte_mutation(rng, raw), mtime=0)
        else:
            data = _tar_mutation(rng, data, header=how == "header")
        return Mutated("bundle", name, bundle=data, steps=[how])


# ----------------------------------------------------------------------------- token operations


def _span(rng: random.Random, tokens: list[str], most: int) -> tuple[int, int]:
    if not tokens:
        return 0, 0
    i = rng.randrange(len(tokens))
    return i, min(len(tokens), i + rng.randint(1, most))


def delete_span(m: Mutator, rng: random.Random, tokens: list[str]) -> list[str]:
    i, j = _span(rng, tokens, 8)
    return tokens[:i] + tokens[j:]


def duplicate_span(m: Mutator, rng: random.Random, tokens: list[str]) -> list[str]:
    i, j = _span(rng, tokens, 24)
    return tokens[:j] + tokens[i:j] + tokens[j:]


def swap_tokens(m: Mutator, rng: random.Random, tokens: list[str]) -> list[str]:
    if len(tokens) < 2:
        return tokens
    i, k = rng.randrange(len(tokens)), rng.randrange(len(tokens))
    tokens = list(tokens)
    tokens[i], tokens[k] = tokens[k], tokens[i]
    return tokens


def _word(rng: random.Random) -> str:
    pool = rng.choice([KEYWORDS, OPERATORS, NAMES, FUNCTIONS, LITERALS])
    return rng.choice(pool)


def replace_token(m: Mutator, rng: random.Random, tokens: list[str]) -> list[str]:
    if not tokens:
        return [_word(rng)]
    tokens = list(tokens)
    tokens[rng.randrange(len(tokens))] = _word(rng)
    return tokens


def insert_tokens(m: Mutator, rng: random.Random, tokens: list[str]) -> list[str]:
    i = rng.randrange(len(tokens) + 1)
    new = [" " + _word(rng) + " " for _ in range(rng.randint(1, 4))]
    return tokens[:i] + new + tokens[i:]


def splice(m: Mutator, rng: random.Random, tokens: list[str]) -> list[str]:
    other = tokenize(rng.choice(m.corpus.entries).text)
    a, b = _span(rng, other, 60)
    i = rng.randrange(len(tokens) + 1)
    return tokens[:i] + other[a:b] + tokens[i:]


def extreme_literal(m: Mutator, rng: random.Random, tokens: list[str]) -> list[str]:
    spots = [i for i, t in enumerate(tokens) if t[:1] in '"0123456789/' and len(t) > 0]
    i = rng.choice(spots) if spots else rng.randrange(len(tokens) + 1)
    size = rng.choice([16_383, 16_384, 16_385, 70_000, 200_000])
    value = rng.choice(
        [
            '"' + "x" * size + '"',
            '"' + "\\u00e9" * (size // 6) + '"',
            "9" * rng.choice([19, 20, 400, 4300, 5000]),
            "1e" + str(rng.choice([308, 309, 400, 99999])),
            "0." + "0" * 400 + "1",
            "/" + "a" * size + "/",
            rng.choice(LITERALS),
        ]
    )
    tokens = list(tokens)
    if i < len(tokens):
        tokens[i] = value
    else:
        tokens.append(value)
    return tokens


def nest(m: Mutator, rng: random.Random, tokens: list[str]) -> list[str]:
    spots = [i for i, t in enumerate(tokens) if _is_expr_token(t)]
    if not spots:
        return tokens
    i = rng.choice(spots)
    depth = rng.choice(DEPTHS)
    wrappers = [rng.choice(NESTERS)] if rng.random() < 0.7 else NESTERS
    x = tokens[i]
    for n in range(depth):
        x = wrappers[n % len(wrappers)].format(x=x)
    return [*tokens[:i], x, *tokens[i + 1 :]]


def chain(m: Mutator, rng: random.Random, tokens: list[str]) -> list[str]:
    spots = [i for i, t in enumerate(tokens) if _is_expr_token(t)]
    if not spots:
        return tokens
    i = rng.choice(spots)
    op = rng.choice(CHAIN_OPS)
    terms = rng.choice(DEPTHS)
    return [*tokens[: i + 1], f" {op} {tokens[i]}" * terms, *tokens[i + 1 :]]


def duplicate_declaration(m: Mutator, rng: random.Random, tokens: list[str]) -> list[str]:
    text = "".join(tokens)
    starts = [
        mt.start() for mt in re.finditer(r"(?m)^(pixel|element|rule|environment|test)\b", text)
    ]
    if not starts:
        return tokens
    a = rng.choice(starts)
    later = [s for s in starts if s > a]
    b = later[0] if later else len(text)
    return tokenize(text[:b] + text[a:b] + text[b:])


def truncate(m: Mutator, rng: random.Random, tokens: list[str]) -> list[str]:
    return tokens[: rng.randrange(len(tokens) + 1)]


_TOKEN_OPS = [
    delete_span, delete_span, duplicate_span, swap_tokens, replace_token, replace_token,
    insert_tokens, insert_tokens, splice, extreme_literal, nest, nest, chain,
    duplicate_declaration, truncate,
]  # fmt: skip


# ----------------------------------------------------------------------------- bytes, toml, tar


def _byte_mutation(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        kind = rng.randrange(5)
        pos = rng.randrange(len(out) + 1)
        if kind == 0 and out:
            out[min(pos, len(out) - 1)] ^= 1 << rng.randrange(8)
        elif kind == 1:
            out[pos:pos] = rng.choice(
                [b"\x00", b"\r", b"\xff\xfe", b"\xef\xbb\xbf", b"\xc3", b"\n"]
            )
        elif kind == 2:
            del out[pos : pos + rng.randint(1, 64)]
        elif kind == 3:
            out[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 32)))
        else:
            del out[pos:]
    return bytes(out)


def _toml_mutation(rng: random.Random, text: str) -> str:
    lines = text.splitlines()
    extra = rng.choice(
        [
            'api_version = "v12.0"',
            'api_version = "v99.0"',
            'api_version = "v26.0"',
            "default_environment = 1",
            'default_environment = "nope"',
            "[lint]\nselect = 3",
            '[lint]\nselect = ["ZZZ"]',
            "[lint.options.P004]\nenvironments = 1",
            "[[[",
            'name = "' + "x" * 5000 + '"',
        ]
    )
    if rng.random() < 0.5 and lines:
        lines.insert(rng.randrange(len(lines) + 1), extra)
    else:
        lines.append(extra)
    return "\n".join(lines) + "\n"


def _tar_mutation(rng: random.Random, data: bytes, *, header: bool) -> bytes:
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            members = [(m, tar.extractfile(m)) for m in tar.getmembers()]
            files = [(m, f.read() if f is not None else b"") for m, f in members]
    except (tarfile.TarError, OSError, EOFError):
        return _byte_mutation(rng, data)
    raw = io.BytesIO()
    target = rng.randrange(len(files)) if files else -1
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for i, (member, content) in enumerate(files):
            if i == target:
                if header:
                    member.name = rng.choice(
                        [member.name, "../" + member.name, "/abs", "./" + member.name, "a//b", ""]
                    )
                    member.type = rng.choice([tarfile.REGTYPE, tarfile.SYMTYPE, tarfile.DIRTYPE])
                    member.linkname = "manifest.json"
                    if rng.random() < 0.5:
                        member.pax_headers = {"comment": "x" * rng.choice([10, 70_000])}
                else:
                    tokens = tokenize(content.decode("utf-8", "replace"))
                    for _ in range(rng.randint(1, 3)):
                        tokens = rng.choice([delete_span, replace_token, duplicate_span])(
                            Mutator(Corpus([], {}), {}), rng, tokens
                        )
                    content = "".join(tokens).encode("utf-8")
                member.size = len(content)
            tar.addfile(member, io.BytesIO(content) if member.isfile() else None)
        if rng.random() < 0.2 and files:
            duplicate = tarfile.TarInfo(files[-1][0].name)  # a member twice
            duplicate.size = len(files[-1][1])
            tar.addfile(duplicate, io.BytesIO(files[-1][1]))
    return gzip.compress(raw.getvalue(), mtime=0)
