"""Reading a contacts file (DIR-01): CSV in a chosen encoding, or UTF-8 XML. Pure.

A file is read row by row into :class:`Row` (a contact as the file gives it, its numbers
canonical) or :class:`Rejected` (the line and why). A file that cannot be read at all (the
wrong encoding, broken quoting, no name column, too big) raises Refusal ``unusableFile`` with
the reason and, where there is one, the line: the import then changes nothing.

CSV: a byte order mark wins over the chosen encoding (UTF-8, UTF-16 LE/BE) and is removed;
otherwise a file that is strict UTF-8 is read as UTF-8 (an ASCII file reads the same in every
encoding offered), else in the chosen encoding. The delimiter is the one of ``,`` ``;`` and tab
that the header line has most of (German Excel writes ``;``). Headers are matched on their
folded text against an alias table (English and German Outlook exports, and our own names).

XML: ``<contacts><contact><name>..</name><company>..</company><business>..</business>
<mobile>..</mobile><home>..</home><other>..</other><email>..</email></contact>...</contacts>``
in UTF-8; a document type declaration (and with it every entity) is refused, so no entity is
ever expanded or fetched.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from enum import StrEnum
from xml.parsers import expat

import attrs

from cti.accounts.profiles import canonical_email
from cti.directory.model import MAX_CONTACTS, MAX_EMAIL, MAX_NAME, Number, NumberLabel
from cti.kernel.refusal import Refusal, invalid_field
from cti.site import Site
from cti.site.numbers import InvalidNumber

MAX_FILE_BYTES = 12 * 1024 * 1024  # 100,000 contacts with two numbers and an e-mail fit
MAX_ROWS = MAX_CONTACTS  # data rows (lines with contacts) a file may have
MAX_FIELD = 1024  # characters of one field: more is no contact (a row with one is rejected)
REJECTED_SHOWN = 1000  # rejected lines listed in a report; the count is always complete


class FileFormat(StrEnum):
    CSV = "csv"
    XML = "xml"


class Encoding(StrEnum):
    UTF_8 = "utf-8"
    UTF_16 = "utf-16"
    WINDOWS_1252 = "windows-1252"
    ISO_8859_1 = "iso-8859-1"


@attrs.frozen
class Row:
    line: int  # where the contact starts in the file (1: the first line)
    name: str
    company: str
    numbers: tuple[Number, ...]
    email: str | None


@attrs.frozen
class Rejected:
    line: int
    reason: str  # stable, for programs: empty, noName, noNumber, badNumber, ...
    message: str  # for people


@attrs.frozen
class Parsed:
    rows: tuple[Row, ...]
    rejected: tuple[Rejected, ...]
    encoding: str  # what the file was read as ("utf-8-sig": UTF-8 with a BOM)
    delimiter: str | None = None  # CSV only


def unusable(reason: str, message: str, line: int | None = None) -> Refusal:
    details: dict[str, object] = {"reason": reason}
    if line is not None:
        details["line"] = line
        message = f"line {line}: {message}"
    return Refusal("unusableFile", f"the file cannot be imported: {message}", details)


# -- the fields a file may have, by alias (folded header text) ------------------------------
_FIELDS = ("name", "first", "middle", "last", "company", *NumberLabel, "email")
_ALIASES: dict[str, str] = {}
for _field, _names in {
    "name": ("name", "full name", "display name", "anzeigename", "vollstandiger name"),
    "first": ("first name", "given name", "vorname"),
    "middle": ("middle name", "weitere vornamen", "zweiter vorname"),
    "last": ("last name", "surname", "family name", "nachname"),
    "company": ("company", "organization", "organisation", "firma", "unternehmen"),
    "business": (
        "business",
        "business phone",
        "work phone",
        "phone",
        "telephone",
        "telefon",
        "telefon geschaftlich",
        "geschaftlich",
    ),
    "mobile": ("mobile", "mobile phone", "cell phone", "mobiltelefon", "handy", "mobil"),
    "home": ("home", "home phone", "telefon privat", "privat"),
    "other": (
        "other",
        "other phone",
        "business phone 2",
        "weiteres telefon",
        "telefon geschaftlich 2",
    ),
    "email": (
        "email",
        "e-mail",
        "e-mail address",
        "email address",
        "e-mail-adresse",
        "e-mail adresse",
    ),
}.items():
    for _name in _names:
        _ALIASES[_name] = str(_field)


def _header_key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().strip('"').casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", plain).strip()


# -- decoding ---------------------------------------------------------------------------------
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _line_of(data: bytes, offset: int, unit: int = 1) -> int:
    return data[:offset].count(b"\n" if unit == 1 else b"\n\x00") + 1


def decode(data: bytes, encoding: Encoding) -> tuple[str, str]:
    """The text of ``data`` and the encoding it was read as; raises Refusal ``unusableFile``."""
    chosen = next((name for bom, name in _BOMS if data.startswith(bom)), None)
    if chosen is None:
        if encoding is Encoding.UTF_16:
            chosen = "utf-16-le"  # no BOM: Windows writes little-endian
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                if encoding is Encoding.UTF_8:
                    raise unusable(
                        "encoding",
                        f"not UTF-8 (byte {exc.start}): choose the encoding the file was saved in",
                        _line_of(data, exc.start),
                    ) from None
            else:
                return _checked(text, "utf-8")
            chosen = encoding.value
    try:
        text = data.decode(chosen)
    except UnicodeDecodeError as exc:
        raise unusable(
            "encoding",
            f"not {chosen} (byte {exc.start}): choose the encoding the file was saved in",
        ) from None
    return _checked(text.removeprefix("\ufeff"), chosen)


def _checked(text: str, encoding: str) -> tuple[str, str]:
    """Text with NUL characters was read in the wrong encoding (UTF-16 read as 8 bits)."""
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise unusable(
            "encoding", f"holds NUL characters: is it UTF-16? (read as {encoding})", line
        )
    return text, encoding


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc


# -- rows -------------------------------------------------------------------------------------
def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def _row(site: Site, line: int, fields: dict[str, str]) -> Row | Rejected:
    values = {k: _clean(v) for k, v in fields.items()}
    if not any(values.values()):
        return Rejected(line, "empty", "the line holds nothing")
    for key, value in values.items():
        if len(value) > MAX_FIELD:
            return Rejected(line, "fieldTooLong", f"{key} has {len(value)} characters")
        if _CONTROL.search(value):
            return Rejected(line, "notPrintable", f"{key} holds characters that do not print")
    name = values.get("name") or " ".join(
        v for v in (values.get("first"), values.get("middle"), values.get("last")) if v
    )
    company = values.get("company", "")
    if not name:
        name = company  # a company's own number
    if not name:
        return Rejected(line, "noName", "no name (and no company)")
    if len(name) > MAX_NAME or len(company) > MAX_NAME:
        return Rejected(line, "nameTooLong", f"names have at most {MAX_NAME} characters")
    numbers: list[Number] = []
    for label in NumberLabel:
        text = values.get(label.value)
        if not text:
            continue
        try:
            number = site.plan.canonical(text)
        except InvalidNumber as exc:
            return Rejected(line, "badNumber", f"{label.value} {text!r}: {exc}")
        if all(n.number != number for n in numbers):
            numbers.append(Number(label, number))
    if not numbers:
        return Rejected(line, "noNumber", "no phone number")
    email = values.get("email") or None
    if email is not None:
        if len(email) > MAX_EMAIL:
            return Rejected(line, "badEmail", f"email has more than {MAX_EMAIL} characters")
        try:
            email = canonical_email(email)
        except Refusal as refusal:
            return Rejected(line, "badEmail", refusal.message)
    return Row(line, name, company, tuple(numbers), email)


def _delimiter(header: str) -> str:
    counts = {d: 0 for d in (",", ";", "\t")}
    quoted = False
    for ch in header:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    return max(counts, key=lambda d: (counts[d], d == ","))


def _count(text: str, delimiter: str) -> None:
    """Refuse a file of more rows than a directory holds before reading any of them."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    count = 0
    try:
        for record in reader:
            if any(record):
                count += 1
            if count > MAX_ROWS + 1:  # the header and MAX_ROWS rows
                raise unusable("tooManyRows", f"more than {MAX_ROWS} rows", reader.line_num)
    except csv.Error as exc:
        raise unusable("badCsv", f"{exc} (broken quoting?)", reader.line_num) from None


def column_mapping(columns: tuple[str, ...]) -> dict[str, str]:
    """A user's own header names (``"Tel. Büro=business"``): folded header -> field; raises
    Refusal ``invalidParameterValue`` for an entry that is not ``header=field``."""
    out: dict[str, str] = {}
    for entry in columns:
        header, _, field = entry.rpartition("=")
        field = field.strip()
        if not header.strip() or field not in _FIELDS:
            raise invalid_field(
                "columns",
                "notAMapping",
                f"{entry!r}: give header=field, field one of {', '.join(_FIELDS)}",
            )
        out[_header_key(header)] = field
    return out


def parse_csv(site: Site, data: bytes, encoding: Encoding, columns: tuple[str, ...] = ()) -> Parsed:
    aliases = {**_ALIASES, **column_mapping(columns)}
    text, used = decode(data, encoding)
    header_line = text.split("\n", 1)[0]
    delimiter = _delimiter(header_line)
    _count(text, delimiter)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[Row] = []
    rejected: list[Rejected] = []
    try:
        header = next(reader, None)
        if header is None:
            raise unusable("empty", "the file is empty")
        names = [aliases.get(_header_key(h)) for h in header]
        found = {c for c in names if c is not None}
        if not found & {"name", "first", "last", "company"}:
            raise unusable(
                "noNameColumn",
                f"no column with names in the header {header[:8]} (e.g. Name, First Name,"
                " Last Name, Company; Vorname, Nachname, Firma)",
                1,
            )
        line = reader.line_num + 1
        for record in reader:
            if len(rows) + len(rejected) >= MAX_ROWS:
                raise unusable("tooManyRows", f"more than {MAX_ROWS} rows", line)
            if not any(field.strip() for field in record):
                line = reader.line_num + 1
                continue  # blank lines are no rows
            if len(record) > len(names):
                extra = record[len(names) :]
                if any(x.strip() for x in extra):
                    rejected.append(
                        Rejected(
                            line,
                            "tooManyFields",
                            f"{len(record)} fields, the header has {len(names)}",
                        )
                    )
                    line = reader.line_num + 1
                    continue
            fields: dict[str, str] = {}
            for column, value in zip(names, record, strict=False):
                if column is not None and value.strip():
                    fields[column] = fields.get(column, "") or value
            result = _row(site, line, fields)
            (rows if isinstance(result, Row) else rejected).append(result)  # type: ignore[arg-type]
            line = reader.line_num + 1
    except csv.Error as exc:
        raise unusable("badCsv", f"{exc} (broken quoting?)", reader.line_num) from None
    return Parsed(tuple(rows), tuple(rejected), used, delimiter)


# -- XML --------------------------------------------------------------------------------------
class _Refused(Exception):
    pass


def _xml_records(data: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    parser = expat.ParserCreate(encoding="utf-8")
    records: list[tuple[int, dict[str, str]]] = []
    path: list[str] = []
    current: dict[str, str] | None = None
    text: list[str] = []

    def refuse_dtd(*_: object) -> None:
        raise _Refused("a document type declaration (and entities) is not accepted")

    def start(tag: str, _attrs: dict[str, str]) -> None:
        nonlocal current
        path.append(tag)
        text.clear()
        if len(path) == 1 and tag != "contacts":
            raise _Refused(f"the root element is <{tag}>, not <contacts>")
        if len(path) == 2 and tag == "contact":
            current = {}
            records.append((parser.CurrentLineNumber, current))

    def end(tag: str) -> None:
        nonlocal current
        if len(path) == 3 and current is not None:
            current[tag] = current.get(tag, "") or "".join(text)
        if len(path) == 2:
            current = None
        path.pop()
        text.clear()

    def chars(data: str) -> None:
        if len(path) == 3:
            text.append(data)

    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(data, True)
    except _Refused as exc:
        raise unusable("badXml", str(exc), parser.CurrentLineNumber) from None
    except expat.ExpatError as exc:
        raise unusable("badXml", expat.errors.messages[exc.code], exc.lineno) from None
    return iter(records)


def parse_xml(site: Site, data: bytes) -> Parsed:
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        raise unusable("encoding", "XML contacts files are UTF-8")
    rows: list[Row] = []
    rejected: list[Rejected] = []
    for line, record in _xml_records(data):
        if len(rows) + len(rejected) >= MAX_ROWS:
            raise unusable("tooManyRows", f"more than {MAX_ROWS} contacts", line)
        unknown = sorted(k for k in record if k not in _FIELDS)
        if unknown:
            rejected.append(Rejected(line, "unknownField", f"unknown element <{unknown[0]}>"))
            continue
        result = _row(site, line, record)
        (rows if isinstance(result, Row) else rejected).append(result)  # type: ignore[arg-type]
    return Parsed(tuple(rows), tuple(rejected), "utf-8")


def parse(
    site: Site,
    data: bytes,
    file_format: FileFormat,
    encoding: Encoding,
    columns: tuple[str, ...] = (),
) -> Parsed:
    """The rows of a contacts file; raises Refusal ``unusableFile``. ``columns``: the
    user's own header names for a CSV file, beside the alias table."""
    if len(data) > MAX_FILE_BYTES:
        raise unusable("tooBig", f"{len(data)} bytes, at most {MAX_FILE_BYTES} are read")
    if not data.strip():
        raise unusable("empty", "the file is empty")
    if file_format is FileFormat.XML:
        return parse_xml(site, data)
    return parse_csv(site, data, encoding, columns)
