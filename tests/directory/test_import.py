"""DIR-01: importing contacts files. Encodings with and without a byte order mark, the three
delimiters, localized Outlook headers, XML, the re-import rules (an edited contact is manual
and no import changes it) and malformed files, which change nothing.

Each import is read as the API reads it (cti.directory.fileimport) and decided by the node
(ImportContactsChecked); ``refused`` checks that a refused request changes neither the state
nor the log.
"""

from __future__ import annotations

import codecs
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cti.app.node import Node
from cti.directory import commands as c
from cti.directory.events import CHUNK
from cti.directory.fileimport import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    Encoding,
    FileFormat,
    Parsed,
    parse,
)
from cti.kernel.refusal import Refusal
from tests.directory.helpers import SITE, contacts, done, imported, seeded

A = "331"
GERMAN = "Vorname;Nachname;Firma;Telefon geschäftlich;Mobiltelefon;E-Mail-Adresse\r\n"
ROWS = (
    "Jörg;Müller;Bäckerei Groß;089 1234567;;j.mueller@example.de\r\nÅsa;Öberg;;;0171 7654321;\r\n"
)
EXPECTED = [  # by name, folded: Å sorts as A
    ("Åsa Öberg", "", ["+491717654321"], "imported"),
    ("Jörg Müller", "Bäckerei Groß", ["+49891234567"], "imported"),
]


@pytest.fixture
def node() -> Node:
    return seeded()


def unusable(
    data: bytes, encoding: Encoding = Encoding.UTF_8, fmt: FileFormat = FileFormat.CSV
) -> Refusal:
    with pytest.raises(Refusal) as caught:
        parse(SITE, data, fmt, encoding)
    assert caught.value.name == "unusableFile"
    return caught.value


# -- encodings ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "chosen", "read_as"),
    [
        pytest.param(lambda t: t.encode("utf-8"), Encoding.UTF_8, "utf-8", id="utf-8"),
        pytest.param(
            lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
            Encoding.UTF_8,
            "utf-8-sig",
            id="utf-8-bom",
        ),
        # A BOM wins over the encoding chosen: the file says what it is.
        pytest.param(
            lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
            Encoding.WINDOWS_1252,
            "utf-8-sig",
            id="utf-8-bom-chosen-1252",
        ),
        pytest.param(
            lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"),
            Encoding.UTF_16,
            "utf-16",
            id="utf-16le-bom",
        ),
        pytest.param(
            lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"),
            Encoding.UTF_8,
            "utf-16",
            id="utf-16be-bom",
        ),
        pytest.param(
            lambda t: t.encode("utf-16-le"), Encoding.UTF_16, "utf-16-le", id="utf-16-no-bom"
        ),
        pytest.param(
            lambda t: t.encode("cp1252"), Encoding.WINDOWS_1252, "windows-1252", id="windows-1252"
        ),
        pytest.param(
            lambda t: t.encode("latin-1"), Encoding.ISO_8859_1, "iso-8859-1", id="iso-8859-1"
        ),
        # Strict UTF-8 is read as UTF-8 whatever was chosen (ASCII reads the same in all).
        pytest.param(
            lambda t: t.encode("utf-8"), Encoding.ISO_8859_1, "utf-8", id="utf-8-chosen-latin1"
        ),
    ],
)
def test_dir01_every_encoding_offered_reads_the_same_contacts(
    node: Node, raw: object, chosen: Encoding, read_as: str
) -> None:
    data = raw(GERMAN + ROWS)  # type: ignore[operator]
    report = imported(node, data, encoding=chosen)
    assert (report["added"], report["rejected"], report["encoding"]) == (2, 0, read_as)
    assert contacts(node) == EXPECTED
    assert report["delimiter"] == ";"


@pytest.mark.parametrize(
    ("data", "chosen", "line", "says"),
    [
        ((GERMAN + ROWS).encode("cp1252"), Encoding.UTF_8, 1, "not UTF-8"),  # the header's ä
        # UTF-16 read as 8 bits: every other byte is NUL.
        ((GERMAN + ROWS).encode("utf-16-le"), Encoding.WINDOWS_1252, 1, "NUL"),
        # Bytes Windows-1252 does not define.
        (b"Name;Mobil\r\nA\x81;0171 1\r\n", Encoding.WINDOWS_1252, None, "not windows-1252"),
        # Plain UTF-8 read as UTF-16 (no BOM) is garbage with no name column.
        (b"Name,Mobile\nAnna,0171 1234567\n", Encoding.UTF_16, 1, "no column with names"),
    ],
)
def test_dir01_a_file_in_the_wrong_encoding_is_refused_whole(
    node: Node, data: bytes, chosen: Encoding, line: int | None, says: str
) -> None:
    refusal = unusable(data, chosen)
    assert says in refusal.message
    assert refusal.details.get("line") == line


# -- delimiters and headers ---------------------------------------------------------------------
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_dir01_the_delimiter_is_found_in_the_header(node: Node, delimiter: str) -> None:
    header = delimiter.join(
        ["First Name", "Last Name", "Company", "Business Phone", "Mobile Phone"]
    )
    row = delimiter.join(["Anna", "Schmidt", '"Meier, Müller & Co"', "089 1234567", "0171 2222222"])
    report = imported(node, f"{header}\n{row}\n".encode())
    assert report["delimiter"] == delimiter
    assert contacts(node) == [
        ("Anna Schmidt", "Meier, Müller & Co", ["+49891234567", "+491712222222"], "imported")
    ]


@pytest.mark.parametrize(
    "header",
    [
        "Name,Company,Business,Mobile,Home,Other,Email",  # our own names
        "Full Name,Organization,Business Phone,Mobile Phone,Home Phone,Other Phone,E-mail Address",
        "Anzeigename,Firma,Telefon geschäftlich,Mobiltelefon,Telefon privat,Weiteres Telefon,"
        "E-Mail-Adresse",
        "NAME , firma,TELEFON,Handy,Privat,Weiteres Telefon,e-mail",  # case and spaces
    ],
)
def test_dir01_localized_outlook_headers_are_understood(node: Node, header: str) -> None:
    row = "Anna Schmidt,ACME,089 1234561,0171 1234562,089 1234563,089 1234564,Anna@Example.DE"
    imported(node, f"{header}\n{row}\n".encode())
    page = node.query(c_get(), A)
    entry = page["contacts"][0]  # type: ignore[index]
    assert [(n["label"], n["number"]) for n in entry["numbers"]] == [
        ("business", "+49891234561"),
        ("mobile", "+491711234562"),
        ("home", "+49891234563"),
        ("other", "+49891234564"),
    ]
    assert (entry["name"], entry["company"], entry["email"]) == (
        "Anna Schmidt",
        "ACME",
        "Anna@example.de",
    )


def c_get() -> object:
    from cti.directory.queries import GetContacts

    return GetContacts(user=A)


def test_dir01_a_file_without_a_name_column_is_refused(node: Node) -> None:
    refusal = unusable(b"Telefon;Ort\n089 1;Berlin\n")
    assert refusal.details == {"reason": "noNameColumn", "line": 1}


# -- rows ---------------------------------------------------------------------------------------
def test_dir01_every_rejected_line_is_reported_with_its_reason(node: Node) -> None:
    data = (
        "Name,Company,Mobile,Email\n"
        "Anna,,0171 1,\n"  # 2: fine
        ",,0171 2,\n"  # 3: no name
        "Ben,,,\n"  # 4: no number
        "Carl,,not a number,\n"  # 5
        "Dora,,0171 4,not-an-address\n"  # 6
        "\n"  # 7: blank lines are no rows
        "Anna,,0171 9,\n"  # 8: the same contact as line 2
        '"Emil\nZweizeilig",,0171 5,\n'  # 9-10: one row over two lines, fine
        "Fritz,,0171 6,,extra\n"  # 11: more fields than the header
        f"{'x' * 2000},,0171 7,\n"  # 12: a field too long to be a name
        ",,,\n"  # 13: empty fields only: a blank line as Excel writes it
    ).encode()
    report = imported(node, data)
    assert {k: report[k] for k in ("added", "updated", "unchanged", "rejected")} == {
        "added": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": 7,
    }
    assert [(r["line"], r["reason"]) for r in report["rejectedLines"]] == [
        (3, "noName"),
        (4, "noNumber"),
        (5, "badNumber"),
        (6, "badEmail"),
        (8, "duplicate"),
        (11, "tooManyFields"),
        (12, "fieldTooLong"),
    ]
    assert all(r["message"] for r in report["rejectedLines"])
    assert [name for name, *_ in contacts(node)] == ["Anna", "Emil Zweizeilig"]


# -- re-import ----------------------------------------------------------------------------------
def test_dir01_a_reimport_updates_imported_contacts_and_never_an_edited_one(node: Node) -> None:
    first = b"Name,Company,Mobile\nAnna,ACME,0171 1000001\nBen,,0171 1000002\nCarl,,0171 1000003\n"
    assert imported(node, first)["added"] == 3
    ids = {e["name"]: int(e["id"]) for e in node.query(c_get(), A)["contacts"]}  # type: ignore[index]
    # Ben edited: manually added from now on, even with the same data.
    done(node, c.ChangeContact(user=A, id=ids["Ben"], name="Ben", mobile="0171 1000002"))
    second = (
        b"Name,Company,Mobile\nAnna,ACME,0171 1111111\nBen,,0171 2222222\n"
        b"Carl,,0171 1000003\nDora,,0171 1000004\n"
    )
    report = imported(node, second)
    assert {k: report[k] for k in ("added", "updated", "unchanged", "keptManual", "rejected")} == {
        "added": 1,  # Dora
        "updated": 1,  # Anna's new number
        "unchanged": 2,  # Carl the same; Ben manual
        "keptManual": 1,
        "rejected": 0,
    }
    assert contacts(node) == [
        ("Anna", "ACME", ["+491711111111"], "imported"),
        ("Ben", "", ["+491711000002"], "manual"),
        ("Carl", "", ["+491711000003"], "imported"),
        ("Dora", "", ["+491711000004"], "imported"),
    ]
    # The ids stay: favourites and clients keep pointing at the same contacts.
    after = {e["name"]: int(e["id"]) for e in node.query(c_get(), A)["contacts"]}  # type: ignore[index]
    assert {k: after[k] for k in ids} == ids
    # The same file again: all unchanged, nothing recorded.
    seq = node.state.seq
    assert imported(node, second)["unchanged"] == 4
    assert node.state.seq == seq


def test_dir01_a_dry_run_reports_and_changes_nothing(node: Node) -> None:
    imported(node, b"Name,Mobile\nAnna,0171 1000001\n")
    before, seq = node.state, node.state.seq
    report = imported(node, b"Name,Mobile\nAnna,0171 1000009\nBen,0171 1000002\nx\n", dry_run=True)
    assert (report["dryRun"], report["added"], report["updated"], report["rejected"]) == (
        True,
        1,
        1,
        1,
    )
    assert node.state.seq == seq and node.state.directory == before.directory


# -- malformed files ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "reason", "line"),
    [
        (b"", "empty", None),
        (b"  \n \n", "empty", None),
        (
            b'Name,Mobile\nAnna,0171 1000001\n"Ben,0171 1000002\nCarl,0171 1000003\n',
            "badCsv",
            4,
        ),  # never closed
        (b'Name,Mobile\n"Anna" Great,0171 1000001\n', "badCsv", 2),  # text after a closing quote
        # A field bigger than the csv module reads (131072 characters): broken quoting.
        (b"Name,Mobile\n" + b"A" * 140_000 + b",0171 1000001\n", "badCsv", 2),
        (b"x" * (MAX_FILE_BYTES + 1), "tooBig", None),
    ],
)
def test_dir01_a_malformed_file_is_refused_whole_with_a_clear_reason(
    node: Node, data: bytes, reason: str, line: int | None
) -> None:
    refusal = unusable(data)
    assert refusal.details.get("reason") == reason
    assert refusal.details.get("line") == line
    assert refusal.message.startswith("the file cannot be imported")


def test_dir01_a_file_with_more_rows_than_a_directory_holds_is_refused() -> None:
    data = b"Name,Mobile\n" + b"".join(
        b"N%d,0171 %d\n" % (i, 1000 + i) for i in range(MAX_ROWS + 1)
    )
    refusal = unusable(data)
    assert refusal.details == {"reason": "tooManyRows", "line": MAX_ROWS + 2}


# -- XML ----------------------------------------------------------------------------------------
def test_dir01_xml_contacts_are_read_with_their_lines() -> None:
    data = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<contacts>\n"
        "  <contact><name>Jörg Müller &amp; Söhne</name><business>089 1234567</business>"
        "<email>j@example.de</email></contact>\n"
        "  <contact>\n    <name>Ohne Nummer</name>\n  </contact>\n"
        "  <contact><name>X</name><fax>1</fax></contact>\n"
        "</contacts>\n"
    ).encode()
    parsed = parse(SITE, data, FileFormat.XML, Encoding.UTF_8)
    assert [(r.line, r.name, [n.number for n in r.numbers]) for r in parsed.rows] == [
        (3, "Jörg Müller & Söhne", ["+49891234567"])
    ]
    assert [(r.line, r.reason) for r in parsed.rejected] == [(4, "noNumber"), (7, "unknownField")]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY x "y">]><contacts/>',
            "document type declaration",
        ),
        (b"<contacts><contact><name>A</name></contacts>", "mismatched tag"),
        (b"<people/>", "not <contacts>"),
        (codecs.BOM_UTF16_LE + "<contacts/>".encode("utf-16-le"), "UTF-8"),
    ],
)
def test_dir01_a_malformed_or_dangerous_xml_file_is_refused(data: bytes, says: str) -> None:
    assert says in unusable(data, fmt=FileFormat.XML).message


# -- 100,000 rows -------------------------------------------------------------------------------
def test_dir01_a_file_of_100000_contacts_is_imported_in_one_commit_of_small_events(
    node: Node,
) -> None:
    rows = "".join(
        f"Vorname{i};Nachname{i % 977};Firma {i % 13};089 {1_000_000 + i};0171 {2_000_000 + i};"
        f"p{i}@example.de\n"
        for i in range(100_000)
    )
    data = ("Vorname;Nachname;Firma;Telefon geschäftlich;Mobiltelefon;E-Mail\n" + rows).encode()
    assert len(data) <= MAX_FILE_BYTES
    started = time.perf_counter()
    parsed: Parsed = parse(SITE, data, FileFormat.CSV, Encoding.UTF_8)
    parse_seconds = time.perf_counter() - started
    assert (len(parsed.rows), len(parsed.rejected)) == (100_000, 0)
    seq = node.state.seq
    started = time.perf_counter()
    report = done(node, c.ImportContactsChecked(user=A, rows=parsed.rows))
    decide_seconds = time.perf_counter() - started
    assert (report["added"], report["rejected"]) == (100_000, 0)
    assert len(node.state.directory.of(A).contacts) == 100_000
    stored = node.store.read(seq + 1)
    assert len(stored) == 100_000 // CHUNK
    assert {r.kind for r in stored} == {"contactsImported"}
    assert max(len(r.data) for r in stored) < 64 * 1024  # far below the event limits
    # Generous bounds (a loaded 2-core machine): reading runs off the writer, deciding on it.
    assert parse_seconds < 30 and decide_seconds < 30, (parse_seconds, decide_seconds)


# -- the user's own column names, and any input at all -------------------------------------------
def test_dir01_a_column_mapping_names_headers_the_alias_table_lacks(node: Node) -> None:
    data = "Kunde;Tel. Büro;Notiz\nAnna;089 1234567;x\n".encode()
    with pytest.raises(Refusal, match="no column with names"):
        parse(SITE, data, FileFormat.CSV, Encoding.UTF_8)
    parsed = parse(
        SITE, data, FileFormat.CSV, Encoding.UTF_8, ("kunde=name", "TEL. BÜRO = business")
    )
    assert [(r.name, [n.number for n in r.numbers]) for r in parsed.rows] == [
        ("Anna", ["+49891234567"])
    ]
    with pytest.raises(Refusal) as caught:
        parse(SITE, data, FileFormat.CSV, Encoding.UTF_8, ("Kunde=fax",))
    assert (caught.value.name, caught.value.details["reason"]) == (
        "invalidParameterValue",
        "notAMapping",
    )


@given(
    st.one_of(
        st.binary(max_size=300),
        st.text(
            alphabet=st.sampled_from('Name,Mobil;"\r\n\t 0171 234ÄöüßAnna\x00'), max_size=200
        ).map(lambda t: t.encode("utf-8")),
    ),
    st.sampled_from(list(Encoding)),
    st.sampled_from(list(FileFormat)),
)
def test_dir01_any_file_is_read_or_refused_as_unusable_never_anything_else(
    data: bytes, encoding: Encoding, fmt: FileFormat
) -> None:
    try:
        parsed = parse(SITE, data, fmt, encoding)
    except Refusal as refusal:
        assert refusal.name == "unusableFile" and refusal.details["reason"]
        return
    lines = [r.line for r in parsed.rows] + [r.line for r in parsed.rejected]
    assert all(line >= 1 for line in lines) and len(set(lines)) == len(lines)
