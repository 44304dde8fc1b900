"""DIR-02..04: the search index, a read model of the log. Name search (folded, German
transliteration, every word a prefix, AND), counts per directory, ranking, number search
(normalised by the number plan), the internal directory following the accounts, the system
directory from the site, privacy between users, and a rebuild equal to the incremental index.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cti.accounts.commands import RemoveAccount, SetProfileChecked
from cti.app.feed import LogReader
from cti.app.node import Node
from cti.directory import commands as c
from cti.directory.folding import keys, words
from cti.directory.index_db import NUMBER_CAP, DirectoryIndex
from cti.directory.numbers import number_prefixes
from tests.directory.helpers import SITE, done, imported, seeded

A, B = "331", "332"


@pytest.fixture
def node() -> Node:
    node = seeded()
    imported(
        node,
        (
            "Name;Firma;Mobil;Geschäftlich\n"
            "Jörg Müller;Bäckerei Groß;0171 1000001;\n"
            "Anna Mueller;;0171 1000002;\n"
            "Hans Schmidt;Müller & Söhne;0171 1000003;\n"
            "Straße Amt;;;089 2000004\n"
            "Zoë Åberg;;0171 1000005;\n"
        ).encode(),
    )
    done(node, c.AddContact(user=B, name="Max Müller", mobile="0171 9000009"))
    return node


@pytest.fixture
def index(node: Node, tmp_path: Path) -> Iterator[DirectoryIndex]:
    index = DirectoryIndex(tmp_path / "directory.db", "epoch", SITE)
    catch_up(index, node)
    yield index
    index.close()


def catch_up(index: DirectoryIndex, node: Node) -> None:
    reader = LogReader(node.feed, node.store)
    while batch := reader.read(index.position() + 1):
        index.apply(batch)


def search(
    index: DirectoryIndex, text: str, user: str = A, limit: int = 20
) -> tuple[dict[str, int], list[str]]:
    counts, hits, *_ = index.search(user, text, limit)
    return counts, [f"{h['directory'][0]}:{h['name']}" for h in hits]


# -- folding ------------------------------------------------------------------------------------
def test_dir04_names_are_found_by_folded_and_transliterated_keys() -> None:
    assert keys("Jörg Müller", "Straße") == ["jorg", "muller", "joerg", "mueller", "strasse"]
    assert words("  Zoë-Åberg ") == ["zoe", "aberg"]


@given(st.text(max_size=30))
def test_dir04_every_word_of_a_name_is_its_own_key(name: str) -> None:
    """What a user types of a name (its words, folded) always finds it: the query's words
    are keys of the name."""
    assert set(words(name)) <= set(keys(name))


# -- by name ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "counts", "hits"),
    [
        # Both spellings of Müller, and the company "Müller & Söhne": names before companies.
        ("mül", (2, 0, 0), ["p:Jörg Müller", "p:Hans Schmidt"]),
        ("mue", (3, 0, 0), ["p:Anna Mueller", "p:Jörg Müller", "p:Hans Schmidt"]),
        ("MUL", (2, 0, 0), ["p:Jörg Müller", "p:Hans Schmidt"]),
        ("jo mü", (1, 0, 0), ["p:Jörg Müller"]),
        ("mü jö", (1, 0, 0), ["p:Jörg Müller"]),  # any order
        ("jö an", (0, 0, 0), []),  # AND: no one is both
        ("stra", (1, 0, 0), ["p:Straße Amt"]),
        ("strasse", (1, 0, 0), ["p:Straße Amt"]),
        ("zoe", (1, 0, 0), ["p:Zoë Åberg"]),
        ("aberg", (1, 0, 0), ["p:Zoë Åberg"]),
        # Internal people (accounts) and the MULAP group; the system directory's speed dials.
        # Names starting with it first (personal before internal), then a later word.
        ("an", (1, 2, 0), ["p:Anna Mueller", "i:Anna Berger", "i:Lager (analog)"]),
        # The MULAP group of the site and the account that acts as it.
        ("vert", (0, 2, 0), ["i:Vertrieb", "i:Vertrieb"]),
        ("taxi", (0, 0, 1), ["s:Taxi Zentrale"]),
        ("zentr", (0, 0, 1), ["s:Taxi Zentrale"]),
        ("", (0, 0, 0), []),
        ("  ", (0, 0, 0), []),
        ('"*', (0, 0, 0), []),  # FTS syntax is no query syntax here
    ],
)
def test_dir04_a_name_search_counts_per_directory_and_ranks(
    index: DirectoryIndex, text: str, counts: tuple[int, int, int], hits: list[str]
) -> None:
    got_counts, got_hits = search(index, text)
    assert (got_counts["personal"], got_counts["internal"], got_counts["system"]) == counts
    assert got_hits == hits


def test_dir04_the_limit_cuts_the_hits_not_the_counts(index: DirectoryIndex) -> None:
    counts, hits = search(index, "mue", limit=1)
    assert counts["personal"] == 3 and hits == ["p:Anna Mueller"]


def test_dir04_a_user_searches_their_own_personal_directory_only(index: DirectoryIndex) -> None:
    assert search(index, "max", user=A) == ({"personal": 0, "internal": 0, "system": 0}, [])
    assert search(index, "max", user=B)[1] == ["p:Max Müller"]
    assert search(index, "0171 9000009", user=A)[0]["personal"] == 0
    assert search(index, "jörg", user=B)[0]["personal"] == 0


# -- by number ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "hits"),
    [
        ("0171 1000001", ["p:Jörg Müller"]),  # as dialled
        ("+49 171 1000001", ["p:Jörg Müller"]),  # canonical
        ("0049-171-1000001", ["p:Jörg Müller"]),  # international prefix
        ("(0171) 100000", ["p:Anna Mueller", "p:Hans Schmidt", "p:Jörg Müller", "p:Zoë Åberg"]),
        ("089 2000004", ["p:Straße Amt"]),
        ("331", ["i:Bernd Vogel"]),  # an internal number
        ("+49 89 7007 331", ["i:Bernd Vogel"]),  # its DID
        ("0171 555", ["s:Hausmeister"]),
        ("0172", []),
    ],
)
def test_dir04_a_number_search_normalises_and_matches_prefixes(
    index: DirectoryIndex, text: str, hits: list[str]
) -> None:
    assert search(index, text)[1] == hits


# -- following the log --------------------------------------------------------------------------
def test_dir02_the_internal_directory_follows_accounts_and_profiles(
    node: Node, index: DirectoryIndex
) -> None:
    done(node, SetProfileChecked(name=B, mobile="0171 7777777", email="c.wolf@example.com"), by=B)
    catch_up(index, node)
    hits = index.search(A, "0171 7777777", 5).hits
    assert hits == [
        {
            "directory": "internal",
            "id": B,
            "name": "Clara Wolf",
            "numbers": [
                {"label": "extension", "number": B},
                {"label": "mobile", "number": "+491717777777"},
            ],
            "kind": "user",
            "email": "c.wolf@example.com",
        }
    ]
    done(node, RemoveAccount(name=B), by="330")
    catch_up(index, node)
    assert search(index, "clara")[0]["internal"] == 0
    assert search(index, "0171 7777777")[1] == []


def test_dir04_edits_deletes_and_reimports_reach_the_index(
    node: Node, index: DirectoryIndex
) -> None:
    done(node, c.ChangeContact(user=A, id=1, name="Jörg Meier", mobile="0171 1000001"))
    done(node, c.DeleteContact(user=A, id=2))
    catch_up(index, node)
    assert search(index, "mue")[1] == ["p:Hans Schmidt"]
    assert search(index, "mei")[1] == ["p:Jörg Meier"]


def test_dir04_a_rebuild_from_the_log_equals_the_index_that_followed_it(
    node: Node, index: DirectoryIndex, tmp_path: Path
) -> None:
    done(node, c.DeleteContact(user=A, id=3))
    done(node, c.AddContact(user=A, name="Neu", home="089 3000003"))
    catch_up(index, node)
    rebuilt = DirectoryIndex(tmp_path / "rebuilt.db", "epoch", SITE)
    catch_up(rebuilt, node)
    for text in ("m", "mue", "an", "0171", "089", "33", "ta", "neu", "schm"):
        for user in (A, B):
            assert index.search(user, text, 50) == rebuilt.search(user, text, 50), text
    # Another log (epoch): emptied and rebuilt.
    rebuilt.close()
    other = DirectoryIndex(tmp_path / "rebuilt.db", "another", SITE)
    assert other.position() == 0 and search(other, "mue")[0]["personal"] == 0
    assert search(other, "taxi")[1] == ["s:Taxi Zentrale"]  # the site's entries are there
    other.close()


@given(
    st.text(
        st.characters(blacklist_categories=("Cc", "Cs", "Cf", "Co", "Cn", "Zl", "Zp")),
        min_size=1,
        max_size=24,
    ),
    st.integers(1, 4),
)
def test_dir04_whatever_the_name_the_start_of_each_word_finds_it(
    tmp_path_factory: pytest.TempPathFactory, name: str, cut: int
) -> None:
    """The index's tokenizer and our folding agree: the first letters of every word of a
    name, as a user types them, find the contact (whatever script, marks or symbols). A text
    of digits only is a number search (specs/directory.md), so such words are left out."""
    node = seeded()
    name = " ".join(name.split())
    if not name or not words(name):
        return
    done(node, c.AddContact(user=A, name=name, mobile="0171 1000001"))
    index = DirectoryIndex(tmp_path_factory.mktemp("p") / "d.db", "epoch", SITE)
    try:
        catch_up(index, node)
        for word in words(name):
            if number_prefixes(SITE, word[:cut]):
                continue
            counts = index.search(A, word[:cut], 5).counts
            assert counts["personal"] == 1, (name, word[:cut])
    finally:
        index.close()


def test_dir04_a_number_search_counts_up_to_a_cap(node: Node, tmp_path: Path) -> None:
    """A number's first digits may match every contact: counting stops at NUMBER_CAP and the
    result says the counts are incomplete."""
    rows = "".join(f"N{i},0171 {3_000_000 + i}\n" for i in range(NUMBER_CAP + 5))
    imported(node, ("Name,Mobile\n" + rows).encode(), user=B)
    index = DirectoryIndex(tmp_path / "cap.db", "epoch", SITE)
    catch_up(index, node)
    capped = index.search(B, "0171 3", 3)
    assert (capped.counts["personal"], capped.complete) == (NUMBER_CAP, False)
    assert len(capped.hits) == 3
    exact = index.search(B, f"0171 {3_000_000 + NUMBER_CAP}", 3)
    assert exact.complete and [h["name"] for h in exact.hits] == [f"N{NUMBER_CAP}"]
    index.close()
