"""The dispatch catalogue (派单目录): the matters (事项) a request can be about, each with the
department it is dispatched to, its domain and its deadline class.

Theory of operation: a catalogue is a document (`routing/data/catalogue.yaml` ships a starter
one; ops will keep versions of their own) that `validate` checks rule by rule, returning every
problem with where it is (matter id and field) and what is wrong, instead of stopping at the
first. A valid document becomes a `Catalogue`: frozen matters plus two tries compiled once.

`Catalogue.match(text)` finds which matters a request is about. The text is normalised as the
classifier does (`routing.text.normalize`: recogniser spaces and punctuation out, digits as
Chinese numerals, known recogniser homophones folded back), then every name, alias and keyword
found in it is a hit, by one walk of a character trie from each position. A recogniser can also
write a word with a character of the same sound (停点 for 停电); when pypinyin is installed a
second trie over toneless syllables finds those, provided most of the characters are right, so
a chance collision of sounds is rare. A hit inside a longer or surer hit is dropped (暖气费
says fee, not 暖气); a matter scores by its longest hit, with a small bonus for more distinct
hits that never outweighs one more character, so the longest, most specific keyword wins. Ties
go by matter id, so the order never depends on the input's history.
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal, cast

import yaml  # type: ignore[import-untyped]

from routing.taxonomy import DEPARTMENTS, DOMAINS, Department, Domain
from routing.text import canonical as normalize  # the matcher reads sounds itself

DeadlineClass = Literal["utilities", "general", "complex"]
#: utilities: water, power, gas and heating (24 hours by default); general: 5 working days;
#: complex: 15 working days. The hours and days live in the work-order deadline table.
DEADLINE_CLASSES: Final = ("utilities", "general", "complex")
TermKind = Literal["name", "alias", "keyword"]

CATALOGUE_PATH: Final = Path(__file__).resolve().parent / "data" / "catalogue.yaml"

# Limits on a catalogue document and on what is matched.
MAX_DOCUMENT_BYTES: Final = 4_000_000
MAX_MATTERS: Final = 5_000
MAX_ID_CHARS: Final = 64
MAX_NAME_CHARS: Final = 40
MAX_ALIASES: Final = 30
MAX_KEYWORDS: Final = 80
MAX_NOTE_CHARS: Final = 500
#: a term as written, and as matched (normalised): one character would match far too much
MAX_TERM_CHARS: Final = 64
MIN_MATCHED_CHARS: Final = 2
MAX_MATCHED_CHARS: Final = 24
#: characters of a request that are looked at (a long written message is a few thousand)
MAX_TEXT_CHARS: Final = 20_000
MAX_LIMIT: Final = 20

MATTER_KEYS: Final = (
    "id",
    "name",
    "department",
    "domain",
    "deadline_class",
    "aliases",
    "keywords",
    "note",
)
DOCUMENT_KEYS: Final = ("matters",)
_ID_RE: Final = re.compile(r"[a-z][a-z0-9_]*(?:[.\-][a-z0-9_]+)*\Z")
# A hit found by sound weighs half a character less than the same hit spelt right.
_BY_SOUND_PENALTY: Final = 0.5
_BONUS_PER_EXTRA_HIT: Final = 0.15
_MAX_BONUS: Final = 0.45


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a catalogue document: where (matter id and field) and what."""

    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


class CatalogueError(ValueError):
    """A catalogue document that cannot be used; `problems` lists every reason."""

    error_id = "bad_catalogue"

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        shown = "; ".join(str(p) for p in self.problems[:5])
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        super().__init__(f"bad dispatch catalogue: {shown}{more}")


@dataclass(frozen=True)
class Matter:
    id: str
    name: str
    department: Department
    domain: Domain
    deadline_class: DeadlineClass
    aliases: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    note: str | None = None

    def terms(self) -> Iterable[tuple[TermKind, str]]:
        """Every name, alias and keyword as written, with its kind."""
        yield "name", self.name
        for alias in self.aliases:
            yield "alias", alias
        for keyword in self.keywords:
            yield "keyword", keyword

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "department": self.department,
            "domain": self.domain,
            "deadline_class": self.deadline_class,
            "aliases": list(self.aliases),
            "keywords": list(self.keywords),
        }
        if self.note is not None:
            data["note"] = self.note
        return data


@dataclass(frozen=True)
class Hit:
    """A term of a matter found in a request."""

    term: str  # as the catalogue writes it
    kind: TermKind
    heard: str  # the normalised text that matched it
    by_sound: bool  # same sound, some characters differ (a recogniser homophone)


@dataclass(frozen=True)
class MatterMatch:
    matter: Matter
    score: float
    hits: tuple[Hit, ...]

    @property
    def department(self) -> Department:
        return self.matter.department

    def explain(self) -> str:
        """One line for an operator: the matter and the words that named it."""
        words = "、".join(
            f"{hit.heard}（音近{hit.term}）" if hit.by_sound else hit.term for hit in self.hits
        )
        return f"事项「{self.matter.name}」：{words}"


# ---- validation: one small rule per check --------------------------------------------------


def _where(index: int, raw: object, fieldname: str | None = None) -> str:
    mid = raw.get("id") if isinstance(raw, Mapping) else None
    head = f"{mid} (matters[{index}])" if isinstance(mid, str) and mid else f"matters[{index}]"
    return f"{head}.{fieldname}" if fieldname else head


def _suggest(value: str, known: Sequence[str]) -> str:
    # A label the value starts (heat -> heating) beats one that merely looks alike (health).
    close = [k for k in known if k.startswith(value.lower())] or difflib.get_close_matches(
        value, known, n=1
    )
    return f"; did you mean {close[0]!r}?" if close else f"; one of {', '.join(known)}"


def _check_label(where: str, value: object, known: Sequence[str], what: str) -> list[Problem]:
    if not isinstance(value, str) or not value:
        return [Problem(where, f"missing {what} (one of {', '.join(known)})")]
    if value not in known:
        return [Problem(where, f"unknown {what} {value!r}{_suggest(value, known)}")]
    return []


def _check_id(where: str, value: object) -> list[Problem]:
    if not isinstance(value, str) or not value:
        return [Problem(where, "missing id (a stable slug such as 'heating.not_warm')")]
    if len(value) > MAX_ID_CHARS or not _ID_RE.match(value):
        return [
            Problem(
                where,
                f"bad id {value[:MAX_ID_CHARS]!r}: lower-case letters, digits, '_', '.' and '-', "
                f"starting with a letter, at most {MAX_ID_CHARS} characters",
            )
        ]
    return []


def _check_term(where: str, value: object) -> list[Problem]:
    if not isinstance(value, str):
        return [Problem(where, f"must be text, not {type(value).__name__}")]
    if len(value) > MAX_TERM_CHARS:
        return [Problem(where, f"longer than {MAX_TERM_CHARS} characters")]
    matched = normalize(value)
    if len(matched) < MIN_MATCHED_CHARS:
        return [
            Problem(
                where,
                f"{value!r} has fewer than {MIN_MATCHED_CHARS} letters or digits to match "
                "(a single character would match almost any request)",
            )
        ]
    if len(matched) > MAX_MATCHED_CHARS:
        return [Problem(where, f"{value!r}: more than {MAX_MATCHED_CHARS} letters or digits")]
    return []


def _check_name(where: str, value: object) -> list[Problem]:
    if not isinstance(value, str) or not value.strip():
        return [Problem(where, "missing name")]
    if len(value) > MAX_NAME_CHARS:
        return [Problem(where, f"longer than {MAX_NAME_CHARS} characters")]
    return []


def _check_terms(
    where: str, value: object, limit: int, *, required: bool
) -> tuple[list[Problem], list[object]]:
    if value is None and not required:
        return [], []
    if not isinstance(value, list):
        return [Problem(where, "must be a list of words")], []
    if required and not value:
        return [Problem(where, "empty: a matter needs at least one keyword")], []
    if len(value) > limit:
        return [Problem(where, f"{len(value)} entries; at most {limit}")], []
    problems = [p for i, term in enumerate(value) for p in _check_term(f"{where}[{i}]", term)]
    return problems, value


def _check_matter(index: int, raw: object) -> list[Problem]:
    if not isinstance(raw, Mapping):
        return [Problem(_where(index, raw), "must be a mapping of id, name, department, ...")]

    def field_where(name: str) -> str:
        return _where(index, raw, name)

    problems = [
        Problem(field_where(str(key)), f"unknown field (known: {', '.join(MATTER_KEYS)})")
        for key in raw
        if key not in MATTER_KEYS
    ]
    problems += _check_id(field_where("id"), raw.get("id"))
    problems += _check_name(field_where("name"), raw.get("name"))
    problems += _check_label(
        field_where("department"), raw.get("department"), DEPARTMENTS, "department"
    )
    problems += _check_label(field_where("domain"), raw.get("domain"), DOMAINS, "domain")
    problems += _check_label(
        field_where("deadline_class"), raw.get("deadline_class"), DEADLINE_CLASSES, "deadline class"
    )
    alias_problems, aliases = _check_terms(
        field_where("aliases"), raw.get("aliases"), MAX_ALIASES, required=False
    )
    keyword_problems, keywords = _check_terms(
        field_where("keywords"), raw.get("keywords"), MAX_KEYWORDS, required=True
    )
    problems += alias_problems + keyword_problems
    note = raw.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE_CHARS):
        problems.append(
            Problem(field_where("note"), f"text of at most {MAX_NOTE_CHARS} characters")
        )
    problems += _check_repeats(index, raw, [("aliases", aliases), ("keywords", keywords)])
    return problems


def _check_repeats(
    index: int, raw: Mapping[Any, Any], lists: Sequence[tuple[str, list[object]]]
) -> list[Problem]:
    """A term written twice in one matter (after normalisation) is a slip worth naming."""
    seen: dict[str, str] = {}
    name = raw.get("name")
    if isinstance(name, str) and normalize(name):
        seen[normalize(name)] = "name"
    problems = []
    for fieldname, items in lists:
        for i, term in enumerate(items):
            if not isinstance(term, str) or not normalize(term):
                continue
            key, here = normalize(term), f"{fieldname}[{i}]"
            if key in seen:
                problems.append(Problem(_where(index, raw, here), f"{term!r} repeats {seen[key]}"))
            else:
                seen[key] = here
    return problems


def _check_unique_ids(matters: Sequence[object]) -> list[Problem]:
    first: dict[str, int] = {}
    problems = []
    for index, raw in enumerate(matters):
        mid = raw.get("id") if isinstance(raw, Mapping) else None
        if not isinstance(mid, str):
            continue
        if mid in first:
            problems.append(
                Problem(_where(index, raw, "id"), f"duplicate id, also matters[{first[mid]}]")
            )
        else:
            first[mid] = index
    return problems


def _raw_terms(raw: Mapping[Any, Any]) -> Iterable[tuple[str, str]]:
    """(field, term) for the name, aliases and keywords of a raw matter, texts only."""
    if isinstance(raw.get("name"), str):
        yield "name", raw["name"]
    for fieldname in ("aliases", "keywords"):
        items = raw.get(fieldname)
        if isinstance(items, list):
            for i, term in enumerate(items):
                if isinstance(term, str):
                    yield f"{fieldname}[{i}]", term


def _check_departments_of_terms(matters: Sequence[object]) -> list[Problem]:
    """A name, alias or keyword of two matters with different departments leaves the dispatch
    undecided: it must point at one department."""
    owner: dict[str, tuple[str, str]] = {}  # normalised term -> (matter id, department)
    problems = []
    for index, raw in enumerate(matters):
        if not isinstance(raw, Mapping):
            continue
        mid, dept = raw.get("id"), raw.get("department")
        if not isinstance(mid, str) or dept not in DEPARTMENTS:
            continue
        for fieldname, term in _raw_terms(raw):
            key = normalize(term)
            if len(key) < MIN_MATCHED_CHARS:
                continue
            other = owner.setdefault(key, (mid, str(dept)))
            if other[1] != dept:
                problems.append(
                    Problem(
                        _where(index, raw, fieldname),
                        f"{term!r} also names matter {other[0]!r} of department {other[1]!r}; "
                        "a word must point at one department",
                    )
                )
    return problems


def validate(data: object) -> list[Problem]:
    """Every problem of a catalogue document (the parsed YAML or JSON); empty when it is valid."""
    if not isinstance(data, Mapping):
        return [Problem("catalogue", "must be a mapping with a 'matters' list")]
    problems = [
        Problem(str(key), f"unknown field (known: {', '.join(DOCUMENT_KEYS)})")
        for key in data
        if key not in DOCUMENT_KEYS
    ]
    matters = data.get("matters")
    if not isinstance(matters, list) or not matters:
        return problems + [Problem("matters", "must be a non-empty list of matters")]
    if len(matters) > MAX_MATTERS:
        return problems + [Problem("matters", f"{len(matters)} matters; at most {MAX_MATTERS}")]
    for index, raw in enumerate(matters):
        problems += _check_matter(index, raw)
    problems += _check_unique_ids(matters)
    problems += _check_departments_of_terms(matters)
    return problems


# ---- sounds ---------------------------------------------------------------------------------


def _toneless(reading: str) -> str:
    """`lǜ` -> `lu`: the tone marks (and the umlaut) off, as a recogniser ignores tones."""
    return "".join(
        ch for ch in unicodedata.normalize("NFD", reading) if not unicodedata.combining(ch)
    )


@lru_cache(maxsize=1)
def _pinyin_table() -> Mapping[int, str] | None:
    """pypinyin's reading table (code point -> readings), or None when it is not installed."""
    try:
        from pypinyin.pinyin_dict import pinyin_dict
    except ImportError:  # homophones are then left to routing.text's table
        return None
    return cast(Mapping[int, str], pinyin_dict)


@lru_cache(maxsize=65_536)
def _readings(ch: str) -> tuple[str, ...]:
    """Every toneless reading of a character; a character without one stands for itself."""
    table = _pinyin_table()
    found = table.get(ord(ch)) if table is not None else None
    if not found:
        return (ch,)
    return tuple(dict.fromkeys(_toneless(r) for r in found.split(",")))


def _term_sounds(term: str) -> tuple[str, ...]:
    """The syllables of a normalised term, each character read as it is in the word (行 in
    银行 is hang), falling back to its first reading."""
    from pypinyin import Style, lazy_pinyin

    said = lazy_pinyin(term, style=Style.TONE)  # a run of latin letters comes back as one
    if len(said) != len(term):
        return tuple(_readings(ch)[0] for ch in term)
    return tuple(
        _toneless(s) if "\u4e00" <= ch <= "\u9fff" else ch for s, ch in zip(said, term, strict=True)
    )


# ---- the compiled index ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    matter: int  # index in Catalogue.matters
    kind: TermKind
    term: str  # as written
    key: str  # normalised


class _Node:
    __slots__ = ("children", "entries")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.entries: list[_Entry] = []


def _insert(root: _Node, path: Sequence[str], entry: _Entry) -> None:
    node = root
    for step in path:
        node = node.children.setdefault(step, _Node())
    node.entries.append(entry)


@dataclass(frozen=True)
class _Found:
    start: int
    end: int
    entry: _Entry
    by_sound: bool

    @property
    def weight(self) -> float:
        return (self.end - self.start) - (_BY_SOUND_PENALTY if self.by_sound else 0.0)


def _close_enough(heard: str, key: str) -> bool:
    """A hit by sound counts when at most a third of the characters (at least one) differ."""
    differ = sum(1 for a, b in zip(heard, key, strict=True) if a != b)
    return 0 < differ <= max(1, len(key) // 3)


class _Index:
    def __init__(self, matters: Sequence[Matter], by_sound: bool) -> None:
        self.chars = _Node()
        self.sounds: _Node | None = _Node() if by_sound else None
        for position, matter in enumerate(matters):
            seen: set[str] = set()
            for kind, term in matter.terms():
                key = normalize(term)
                if not MIN_MATCHED_CHARS <= len(key) <= MAX_MATCHED_CHARS or key in seen:
                    continue
                seen.add(key)
                entry = _Entry(position, kind, term, key)
                _insert(self.chars, key, entry)
                if self.sounds is not None:
                    _insert(self.sounds, _term_sounds(key), entry)

    def find(self, text: str) -> list[_Found]:
        found = []
        n = len(text)
        for start in range(n):
            node: _Node | None = self.chars
            end = start
            while end < n and node is not None:
                node = node.children.get(text[end])
                end += 1
                if node is not None and node.entries:
                    found += [_Found(start, end, e, False) for e in node.entries]
        if self.sounds is not None:
            found += self._find_by_sound(text)
        return found

    def _find_by_sound(self, text: str) -> list[_Found]:
        assert self.sounds is not None
        readings = [_readings(ch) for ch in text]
        found = []
        for start in range(len(text)):
            stack = [(self.sounds, start)]
            while stack:
                node, end = stack.pop()
                for entry in node.entries:
                    if _close_enough(text[start:end], entry.key):
                        found.append(_Found(start, end, entry, True))
                if end < len(text):
                    for syllable in readings[end]:
                        child = node.children.get(syllable)
                        if child is not None:
                            stack.append((child, end + 1))
        return found


def _undominated(found: list[_Found]) -> list[_Found]:
    """Drop every hit lying inside a kept hit that weighs more (longest, surest first)."""
    kept: list[_Found] = []
    covering: dict[int, list[_Found]] = {}
    for hit in sorted(found, key=lambda f: (-f.weight, f.start, f.entry.matter, f.entry.key)):
        if any(k.end >= hit.end and k.weight > hit.weight for k in covering.get(hit.start, ())):
            continue
        kept.append(hit)
        for position in range(hit.start, hit.end):
            covering.setdefault(position, []).append(hit)
    return kept


# ---- the catalogue --------------------------------------------------------------------------


@dataclass(frozen=True)
class Catalogue:
    """A validated dispatch catalogue, ready to match requests. Build it with `from_data`,
    `parse_catalogue` or `load_catalogue`; it never changes after."""

    matters: tuple[Matter, ...]
    #: whether recogniser homophones are matched by sound (needs pypinyin)
    by_sound: bool
    _by_id: Mapping[str, Matter] = field(repr=False, compare=False)
    _index: _Index = field(repr=False, compare=False)

    @classmethod
    def from_data(cls, data: object, *, by_sound: bool = True) -> Catalogue:
        """The catalogue of a parsed document. Raises CatalogueError listing every problem."""
        problems = validate(data)
        if problems:
            raise CatalogueError(problems)
        raw_matters = cast(Mapping[str, Any], data)["matters"]
        matters = tuple(_matter(raw) for raw in raw_matters)
        sound = by_sound and _pinyin_table() is not None
        return cls(
            matters=matters,
            by_sound=sound,
            _by_id=MappingProxyType({m.id: m for m in matters}),
            _index=_Index(matters, sound),
        )

    def __len__(self) -> int:
        return len(self.matters)

    def get(self, matter_id: str) -> Matter | None:
        return self._by_id.get(matter_id)

    def deadline_class_of(self, matter_id: str) -> DeadlineClass | None:
        """The deadline class of a matter, None for an id the catalogue does not know."""
        matter = self._by_id.get(matter_id)
        return matter.deadline_class if matter is not None else None

    def to_data(self) -> dict[str, Any]:
        """The document this catalogue was built from (from_data(to_data()) is equal)."""
        return {"matters": [m.to_dict() for m in self.matters]}

    def match(self, text: str, limit: int = 3) -> list[MatterMatch]:
        """The matters `text` is about, best first (at most `limit`, up to MAX_LIMIT); empty
        when no term of the catalogue is in it. Takes clean text or recogniser output; only
        the first MAX_TEXT_CHARS characters are read. Raises ValueError for a limit below 1."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        heard = normalize(text[:MAX_TEXT_CHARS])
        hits = _undominated(self._index.find(heard))
        by_matter: dict[int, list[_Found]] = {}
        for hit in hits:
            by_matter.setdefault(hit.entry.matter, []).append(hit)
        ranked = sorted(
            (self._scored(position, found, heard) for position, found in by_matter.items()),
            key=lambda m: (-m.score, m.matter.id),
        )
        return ranked[: min(limit, MAX_LIMIT)]

    def _scored(self, position: int, found: list[_Found], heard: str) -> MatterMatch:
        best: dict[str, _Found] = {}  # normalised term -> its heaviest hit
        for hit in found:
            if hit.entry.key not in best or hit.weight > best[hit.entry.key].weight:
                best[hit.entry.key] = hit
        ordered = sorted(best.values(), key=lambda f: (-f.weight, f.start))
        bonus = min(_MAX_BONUS, _BONUS_PER_EXTRA_HIT * (len(ordered) - 1))
        return MatterMatch(
            matter=self.matters[position],
            score=round(ordered[0].weight + bonus, 3),
            hits=tuple(
                Hit(f.entry.term, f.entry.kind, heard[f.start : f.end], f.by_sound) for f in ordered
            ),
        )


def _strings(value: object) -> tuple[str, ...]:
    return tuple(cast(list[str], value or []))


def _matter(raw: Mapping[str, Any]) -> Matter:
    return Matter(
        id=raw["id"],
        name=raw["name"].strip(),
        department=raw["department"],
        domain=raw["domain"],
        deadline_class=raw["deadline_class"],
        aliases=_strings(raw.get("aliases")),
        keywords=_strings(raw.get("keywords")),
        note=raw.get("note"),
    )


def parse_document(text: str) -> object:
    """A catalogue document from YAML (or JSON, which YAML reads too). Raises CatalogueError
    for text that is too long or not YAML."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_DOCUMENT_BYTES:
        raise CatalogueError([Problem("document", f"larger than {MAX_DOCUMENT_BYTES} bytes")])
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = (
            f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "document"
        )
        what = f"not valid YAML or JSON: {getattr(exc, 'problem', None) or exc}"
        raise CatalogueError([Problem(where, what)]) from None


def parse_catalogue(text: str, *, by_sound: bool = True) -> Catalogue:
    """The catalogue of a YAML or JSON text. Raises CatalogueError listing every problem."""
    return Catalogue.from_data(parse_document(text), by_sound=by_sound)


def load_catalogue(path: str | Path | None = None, *, by_sound: bool = True) -> Catalogue:
    """The catalogue in a file (`.json` or YAML); the shipped starter one without a path.
    Raises CatalogueError for a file that is too large or not a valid catalogue, and OSError
    for one that cannot be read."""
    source = Path(path) if path is not None else CATALOGUE_PATH
    with source.open("rb") as handle:
        raw = handle.read(MAX_DOCUMENT_BYTES + 1)
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise CatalogueError([Problem(str(source), f"larger than {MAX_DOCUMENT_BYTES} bytes")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogueError([Problem(str(source), f"not UTF-8 text ({exc.reason})")]) from None
    if source.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno}, column {exc.colno}"
            raise CatalogueError([Problem(where, f"not valid JSON: {exc.msg}")]) from None
        return Catalogue.from_data(data, by_sound=by_sound)
    return parse_catalogue(text, by_sound=by_sound)


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    """The shipped catalogue, loaded once on first use (read-only after)."""
    return load_catalogue()


def match(text: str, limit: int = 3) -> list[MatterMatch]:
    """Match `text` against the shipped catalogue; see Catalogue.match."""
    return default_catalogue().match(text, limit)


def deadline_class_of(matter_id: str) -> DeadlineClass | None:
    """The deadline class of a matter of the shipped catalogue, None for an unknown id."""
    return default_catalogue().deadline_class_of(matter_id)
