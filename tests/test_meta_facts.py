"""One source of Meta facts: which user_data keys are hashed, never hashed, too broad, ... are
read from schemas/*.schema.json (capic.meta.catalog) by the runtime, the emulator, the resolver
and the code generator; none of them holds a key list of its own. Plus per-key vectors: raw
input -> normalized text -> SHA-256 for every key the schema marks hashed."""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

import pytest

from capic.emulator import validation as emulator
from capic.meta import catalog
from capic.runtime import hashing, normalize, validate

PACKAGE = Path(__file__).resolve().parents[1] / "compiler" / "capic"
#: Where copies of the key sets used to live (issue 10, item 15), and where they would go.
SCANNED = ("runtime", "emulator", "model", "codegen")
USER_DATA_KEYS = frozenset(catalog.user_data_keys())


def _is_typing_literal(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    parent = parents.get(node)
    return (
        isinstance(parent, ast.Subscript)
        and isinstance(parent.value, ast.Name)
        and parent.value.id == "Literal"
    )


def key_lists(source: str) -> list[tuple[int, list[str]]]:
    """(line, keys) of every set, list or tuple display naming two or more user_data keys.
    Dicts are registries (key -> its normalizer) and are allowed; typing Literals too."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Set | ast.List | ast.Tuple):
            keys = [
                e.value
                for e in node.elts
                if isinstance(e, ast.Constant)
                and isinstance(e.value, str)
                and e.value in USER_DATA_KEYS
            ]
            if len(keys) >= 2 and not _is_typing_literal(node, parents):
                found.append((node.lineno, keys))
    return found


def test_no_hand_written_key_lists() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {keys}"
        for package in SCANNED
        for path in sorted((PACKAGE / package).rglob("*.py"))
        for line, keys in key_lists(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, "user_data key lists belong in schemas/user_data.schema.json:\n" + (
        "\n".join(offenders)
    )


def test_the_scan_finds_a_key_list() -> None:
    # The detector itself: the very lists that used to be copied.
    copied = 'HASHED_KEYS = frozenset({"em", "ph", "fn"})\nTOO_BROAD = (frozenset({"fn", "ge"}),)\n'
    assert [line for line, _ in key_lists(copied)] == [1, 2]
    assert key_lists('NORMALIZERS = {"em": norm_email, "ph": norm_phone}\n') == []
    assert key_lists('Kind = Literal["fbc", "fbp"]\n') == []


def test_everyone_reads_the_same_facts() -> None:
    hashed = catalog.hashed_keys()
    assert normalize.HASHED_KEYS == hashed == emulator.HASHED_KEYS
    assert USER_DATA_KEYS - hashed == hashing.NEVER_HASHED_KEYS
    assert {"dobd", "dobm", "doby", "f5first", "f5last", "fi"} <= hashed  # the six of issue 10
    assert emulator.TOO_BROAD == validate.TOO_BROAD == catalog.too_broad_subsets()
    assert emulator.ACTION_SOURCES == validate.ACTION_SOURCES == set(catalog.action_sources())
    assert set(hashing.TRIMMED_KEYS) == catalog.trimmed_keys() <= hashing.NEVER_HASHED_KEYS


# (key, raw input, default country, normalized text, SHA-256 of it). Digests are literals, not
# computed: several are the examples of Meta's documentation (capi-facts.md §3.4).
VECTORS = [
    ("em", " John.Doe@Example.COM ", None, "john.doe@example.com", "836f82db99121b3481011f16b49dfa5fbc714a0d1b1b9f784a1ebbbf5b39577f"),
    ("ph", "+1 (650) 555-1212", None, "16505551212", "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"),
    ("ph", "(650) 555-1212", "US", "16505551212", "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"),
    ("fn", "  Mary ", None, "mary", "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec"),
    ("fn", "Valéry", None, "valéry", "08e1996b5dd49e62a4b4c010d44e4345592a863bb9f8e3976219bac29417149c"),
    ("ln", "O'Brien", None, "obrien", "b4cb6cb33fe4b865868de825023a1e2790dc12ac01ecc8d7c5afe8254071c8ba"),
    ("db", "2/16/1997", None, "19970216", "01acdbf6ec7b4f478a225f1a246e5d6767eeab1a7ffa17f025265b5b94f40f0c"),
    ("ge", "Female", None, "f", "252f10c83610ebca1a059c0bae8255eba2f95be4d1d7bcfa89d7248a82d9f111"),
    ("ct", "San Francisco", None, "sanfrancisco", "1a6bd4d9d79dc0a79b53795c70d3349fa9e38968a3fbefbfe8783efb1d2b6aac"),
    ("st", "California", None, "ca", "6959097001d10501ac7d54c0bdb8db61420f658f2922cc26e46d536119a31126"),
    ("zp", "94103-1234", None, "94103", "91dc2519ea98c5002cf2091e6a12b772eafdce9dca618e626d7d3b8275361789"),
    ("zp", "M1 1AE", None, "m11ae", "1dc694c2070e697769fb959b50671d76cafd430d8ca191fbdd0affcaea344ac5"),
    ("country", "United States", None, "us", "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621"),
    ("country", "UK", None, "gb", "0b407281768f0e833afef47ed464b6571d01ca4d53c12ce5c51d1462f4ad6677"),
    ("external_id", " User-123 ", None, "user-123", "fcdec6df4d44dbc637c7c5b58efface52a7f8a88535423430255be0bb89bedd8"),
    ("f5first", "Mary-Jane", None, "maryj", "35509a6c4c3934a47310a2c24bea12ac1117a04c8569b578626b54fba81fe22d"),
    ("f5last", "O'Brien", None, "obrie", "87f318bcd64ca3cdca78d29031620a8a3fcef72f80d742d6f409cb178f03b8ec"),
    ("fi", "Zoë", None, "z", "594e519ae499312b29433b7dd8a97ff068defcba9755b6d5d00e84c524d67b06"),
    ("dobd", "7", None, "07", "19b100ab7725c612f3d80ff203ca53cea5cadaafae3bf0f88f0fb4089fe08815"),
    ("dobm", "2", None, "02", "a953f09a1b6b6725b81956e9ad0b1eb49e3ad40004c04307ef8af6246a054116"),
    ("doby", "1997", None, "1997", "0985b889a1fe4f4e1fb925061ac6fb2247f10875f5fcbe63eec2ab55ed68970e"),
]  # fmt: skip


def test_every_hashed_key_has_vectors() -> None:
    assert {key for key, *_ in VECTORS} == catalog.hashed_keys()


@pytest.mark.parametrize(("key", "raw", "country", "normalized", "digest"), VECTORS)
def test_vector(key: str, raw: str, country: str | None, normalized: str, digest: str) -> None:
    assert normalize.normalize(key, raw, default_country=country) == normalized
    assert hashlib.sha256(normalized.encode("utf-8")).hexdigest() == digest
    sent = hashing.UserDataBuilder(default_country=country).build({key: raw})
    assert sent == {key: digest}
