"""The labelled corpus: a deterministic generator and a loader.

Theory of operation: every hand-written template in routing.corpus_templates is expanded into
several spoken variants (a framing around it, fillers in its slots, dialect words, numbers in
digits or in words, interjections), and every variant gets an ASR-noised twin (spaces between
words, no punctuation, digits read out, some homophones).

The held-out split is decided before expansion, so training never sees it:
* one template in five is held out, with all its variants, chosen by a stable hash of the
  template id (never by list position, so adding a template moves no other one; new templates
  are appended to their list so the ids of the others stay);
  the templates of TRAIN_ONLY_TEMPLATES and STYLE_TEMPLATES are never held out;
* one filler in three per slot, one opener and closer in three, are kept for held-out texts,
  chosen by a stable hash of the filler itself.
Held-out texts are therefore new sentences with new names and places, not paraphrases of
training rows. They were still written by the same hand as the training templates, so the
held-out scores measure generalisation to new phrasings, not to real callers.

`python -m routing.corpus` (or `hotline classify build`) rewrites routing/data/corpus.jsonl;
the same code always writes the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

from routing import corpus_templates as T

DATA_DIR: Final = Path(__file__).resolve().parent / "data"
CORPUS_PATH: Final = DATA_DIR / "corpus.jsonl"

VARIANTS_PER_TEMPLATE: Final = 5
HELD_OUT_EVERY: Final = 5  # one template in five
TRAIN_ONLY_PREFIX: Final = "train:"  # template ids of T.TRAIN_ONLY_TEMPLATES
STYLE_PREFIX: Final = "style:"  # template ids of T.STYLE_TEMPLATES (training only too)
# Rows of the first fresh evaluation set (routing/data/fresh): read once as a test, then made
# training data (training only, each row its own template, source "fresh1", taken as written).
FRESH1_PREFIX: Final = "fresh1:"
FRESH1_PATH: Final = DATA_DIR / "fresh" / "requests.jsonl"
TRAINING_ONLY_PREFIXES: Final = (TRAIN_ONLY_PREFIX, STYLE_PREFIX, FRESH1_PREFIX)


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled request of the corpus."""

    id: str
    text: str
    split: str  # "train" or "heldout"
    source: str  # "clean", "asr" or "fresh1" (a row of the first fresh set, as written)
    template: str
    intent: str
    emergency: str | None
    in_scope: bool
    out_of_scope_reason: str | None
    kind: str | None
    domain: str | None
    department: str | None
    enterprise: bool


@dataclass(frozen=True, slots=True)
class _Template:
    tid: str
    text: str
    held_out: bool
    intent: str
    emergency: str | None
    in_scope: bool
    reason: str | None
    kind: str | None
    domain: str | None
    department: str | None
    enterprise: bool
    written: bool = False  # a written message: no spoken framing, taken as it is


# --- spoken-style transforms -------------------------------------------------------------------

_DIALECT: Final[list[tuple[str, str]]] = [
    ("什么", "啥"),
    ("怎么办", "咋整"),
    ("怎么", "咋"),
    ("干什么", "嘎哈"),
    ("非常", "贼"),
    ("特别", "老"),
    ("我们", "俺们"),
    ("没有", "没"),
    ("一点都不", "一点儿也不"),
    ("这样", "这么着"),
    ("不知道", "不晓得"),
]
_INTERJECTIONS: Final = ["就是", "那个", "嗯", "然后", "反正", "就是说", "你知道吧", "那啥", "哎"]
# Spoken numbers that a typist (web, WeChat) would write as digits.
_TO_DIGITS: Final[dict[str, str]] = {
    "三个月": "3个月",
    "两千块": "2000块",
    "一万多": "1万多",
    "五百": "500",
    "八百块钱": "800块钱",
    "一千二": "1200",
    "十二": "12",
    "三十六": "36",
    "十来天": "10来天",
    "一百零三": "103",
    "二十一": "21",
    "四十": "40",
    "十五": "15",
    "一二三四五六": "123456",
    "十二三四五": "12345",
    "一年多": "1年多",
    "两万三": "23000",
    "三楼": "3楼",
    "五万块钱": "5万块钱",
    "八十多": "80多",
}
# Recogniser confusions: single characters and words with the same or a near reading.
_ASR_CHARS: Final[dict[str, str]] = {
    "的": "得",
    "在": "再",
    "做": "作",
    "那": "哪",
    "他": "她",
    "已": "以",
    "到": "道",
    "是": "事",
    "现": "线",
    "事": "是",
    "和": "合",
    "天": "填",
    "里": "李",
    "给": "几",
    "找": "照",
    "说": "硕",
    "问": "文",
    "买": "卖",
    "钱": "前",
    "快": "块",
}
_ASR_WORDS: Final[dict[str, str]] = {
    "反映": "反应",
    "暖气": "暖器",
    "物业": "物页",
    "公积金": "工积金",
    "着火": "着伙",
    "救命": "就命",
    "车祸": "车获",
    "工资": "工次",
    "投诉": "投数",
    "社保": "社报",
    "燃气": "然气",
    "煤气": "煤汽",
    "工单": "公单",
    "停电": "停点",
    "小区": "小曲",
    "派出所": "怕出所",
    "医院": "一院",
    "营业执照": "营业职照",
    "报销": "报消",
    "低保": "底保",
    "拖欠": "脱欠",
    "仲裁": "中裁",
    "快递": "快第",
    "供暖": "公暖",
    "老人": "老任",
    "孩子": "孩字",
    "晕倒": "晕到",
}
_DIGIT_WORDS: Final = str.maketrans("0123456789", "零一二三四五六七八九")
_PUNCT_RE: Final = re.compile(r"[，。！？、,.!?；;：:\s]+")


def _stable_hash(key: str) -> int:
    """A hash of `key` that never changes between runs, machines or Python versions."""
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")


def _split_list(items: list[str], held_out: bool) -> list[str]:
    """The part of a filler list a split may use: one filler in three (by its hash) is held
    out; a list too small to lose one keeps all for training."""
    if len(items) < 3:
        return items
    held = [x for x in items if _stable_hash("filler:" + x) % 3 == 0]
    if not held or len(held) == len(items):
        held = items[2::3]
    return [x for x in items if (x in held) == held_out]


def _fill(text: str, rng: random.Random, held_out: bool) -> str:
    def sub(m: re.Match[str]) -> str:
        return rng.choice(_split_list(T.SLOTS[m.group(1)], held_out))

    return re.sub(r"\{(\w+)\}", sub, text)


def _speak(text: str, rng: random.Random) -> str:
    """Colloquial rewrites of a clean sentence: dialect words, interjections, digits."""
    for std, dia in _DIALECT:
        if std in text and rng.random() < 0.45:
            text = text.replace(std, dia)
    parts = text.split("，")
    if len(parts) > 1 and rng.random() < 0.5:
        i = rng.randrange(1, len(parts))
        parts[i] = rng.choice(_INTERJECTIONS) + parts[i]
    if rng.random() < 0.2:  # the caller repeats the gist of what they said
        parts.append(parts[0][-8:])
    text = "，".join(parts)
    if rng.random() < 0.5:
        for spoken, digits in _TO_DIGITS.items():
            text = text.replace(spoken, digits)
    return text


def asr_noise(text: str, rng: random.Random) -> str:
    """What a recogniser would return for `text` read aloud: see the module header."""
    text = text.translate(_DIGIT_WORDS)
    for word, wrong in _ASR_WORDS.items():
        if word in text and rng.random() < 0.35:
            text = text.replace(word, wrong, 1)
    chars = [
        _ASR_CHARS[c] if c in _ASR_CHARS and rng.random() < 0.08 else c
        for c in _PUNCT_RE.sub("", text)
    ]
    words: list[str] = []
    i = 0
    while i < len(chars):
        n = rng.choice((1, 1, 2, 2, 2, 3))
        words.append("".join(chars[i : i + n]))
        i += n
    return " ".join(words)


# --- templates -> examples ---------------------------------------------------------------------


def _parse_labels(spec: str) -> tuple[str, dict[str, str]]:
    kind, *flags = spec.split(",")
    out: dict[str, str] = {}
    for flag in flags:
        key, _, value = flag.partition("=")
        out[key] = value
    return kind, out


def _held_out(tids: list[str]) -> set[str]:
    """The templates of one group (a department, a reason, an emergency number...) held out:
    the fifth of them whose ids hash lowest (at least one). Ranking by a stable hash within
    the group keeps every label in both splits, and adding a template moves at most one."""
    ranked = sorted(tids, key=lambda tid: (_stable_hash("template:" + tid), tid))
    return set(ranked[: max(1, len(tids) // HELD_OUT_EVERY)])


def _group(prefix: str, n: int) -> tuple[list[str], set[str]]:
    tids = [f"{prefix}:{i}" for i in range(n)]
    return tids, _held_out(tids)


def _department_template(tid: str, dept: str, line: str, held_out: bool) -> _Template:
    """An in-scope request for `dept` from a `labels|text` line."""
    spec, text = line.split("|", 1)
    kind, flags = _parse_labels(spec)
    return _Template(
        tid=tid,
        text=text,
        held_out=held_out,
        intent="follow_up" if "f" in flags else "new_request",
        emergency=None,
        in_scope=True,
        reason=None,
        kind=kind,
        domain=flags.get("d") or T.DEPARTMENT_DOMAIN[dept],
        department=dept,
        enterprise="E" in flags,
    )


def _style_template(tid: str, line: str) -> _Template:
    """A template of T.STYLE_TEMPLATES (`key=value,...|text`, see there)."""
    spec, text = line.split("|", 1)
    labels: dict[str, str] = {}
    for flag in spec.split(","):
        key, _, value = flag.partition("=")
        labels[key] = value
    number = labels.get("em")
    reason = labels.get("oos")
    dept = labels.get("dept")
    if number:
        return _Template(
            tid,
            text,
            False,
            "emergency",
            number,
            False,
            "emergency",
            None,
            None,
            None,
            False,
            written="w" in labels,
        )
    return _Template(
        tid=tid,
        text=text,
        held_out=False,
        intent="follow_up" if "f" in labels else "new_request",
        emergency=None,
        in_scope=reason is None,
        reason=reason,
        kind=labels["kind"],
        domain=labels.get("d") or (T.DEPARTMENT_DOMAIN[dept] if dept else "government_services"),
        department=dept if reason is None else None,
        enterprise="E" in labels,
        written="w" in labels,
    )


def _templates() -> Iterator[_Template]:
    for dept, lines in T.DEPARTMENT_TEMPLATES.items():
        tids, held = _group(f"dept:{dept}", len(lines))
        for tid, line in zip(tids, lines, strict=True):
            yield _department_template(tid, dept, line, tid in held)
    for group, rows in (("followup", T.FOLLOW_UP_TEMPLATES), ("nearmiss", T.NEAR_MISS_TEMPLATES)):
        tids, held = _group(group, len(rows))
        for tid, (dept, line) in zip(tids, rows, strict=True):
            spec, text = line.split("|", 1)
            kind, flags = _parse_labels(spec)
            follow = group == "followup" or "f" in flags
            yield _Template(
                tid=tid,
                text=text,
                held_out=tid in held,
                intent="follow_up" if follow else "new_request",
                emergency=None,
                in_scope=True,
                reason=None,
                kind=kind,
                domain=T.DEPARTMENT_DOMAIN[dept] if dept else "government_services",
                department=dept or None,
                enterprise="E" in flags,
            )
    for i, (dept, line) in enumerate(T.TRAIN_ONLY_TEMPLATES):
        yield _department_template(f"{TRAIN_ONLY_PREFIX}{i}", dept, line, held_out=False)
    for i, line in enumerate(T.STYLE_TEMPLATES):
        yield _style_template(f"{STYLE_PREFIX}{i}", line)
    for reason, lines in T.OUT_OF_SCOPE_TEMPLATES.items():
        tids, held = _group(f"oos:{reason}", len(lines))
        for tid, line in zip(tids, lines, strict=True):
            spec, text = line.split("|", 1)
            kind, flags = _parse_labels(spec)
            yield _Template(
                tid=tid,
                text=text,
                held_out=tid in held,
                intent="new_request",
                emergency=None,
                in_scope=False,
                reason=reason,
                kind=kind,
                domain=flags["d"],
                department=None,
                enterprise="E" in flags,
            )
    for number, lines in T.EMERGENCY_TEMPLATES.items():
        tids, held = _group(f"emergency:{number}", len(lines))
        for tid, text in zip(tids, lines, strict=True):
            yield _Template(
                tid=tid,
                text=text,
                held_out=tid in held,
                intent="emergency",
                emergency=number,
                in_scope=False,
                reason="emergency",
                kind=None,
                domain=None,
                department=None,
                enterprise=False,
            )


def generate() -> list[Example]:
    """Expand every template into its clean and ASR variants; deterministic."""
    out: list[Example] = []
    for tpl in _templates():
        rng = random.Random(zlib.crc32(tpl.tid.encode()))
        split = "heldout" if tpl.held_out else "train"
        emergency = tpl.intent == "emergency"
        openers = _split_list(T.EMERGENCY_OPENERS if emergency else T.OPENERS, tpl.held_out)
        closers = _split_list(T.EMERGENCY_CLOSERS if emergency else T.CLOSERS, tpl.held_out)
        seen: set[str] = set()
        for _attempt in range(VARIANTS_PER_TEMPLATE * 3):  # retries make duplicates rare
            if len(seen) == VARIANTS_PER_TEMPLATE:
                break
            body = _fill(tpl.text, rng, tpl.held_out)
            if tpl.written:  # typed as it is: one variant (and its recogniser twin)
                clean = body
            else:
                framed = _fill(rng.choice(openers), rng, tpl.held_out) + body + rng.choice(closers)
                clean = _speak(framed, rng)
            if clean in seen:
                continue
            seen.add(clean)
            labels = {
                "template": tpl.tid,
                "intent": tpl.intent,
                "emergency": tpl.emergency,
                "in_scope": tpl.in_scope,
                "out_of_scope_reason": tpl.reason,
                "kind": tpl.kind,
                "domain": tpl.domain,
                "department": tpl.department,
                "enterprise": tpl.enterprise,
            }
            n = len(seen)
            out.append(
                Example(id=f"{tpl.tid}:{n}", text=clean, split=split, source="clean", **labels)  # type: ignore[arg-type]
            )
            out.append(
                Example(
                    id=f"{tpl.tid}:{n}:asr",
                    text=asr_noise(clean, rng),
                    split=split,
                    source="asr",
                    **labels,  # type: ignore[arg-type]
                )
            )
    return out + _fresh1()


_LABELS: Final = (
    "intent",
    "emergency",
    "in_scope",
    "out_of_scope_reason",
    "kind",
    "domain",
    "department",
    "enterprise",
)


def _fresh1() -> list[Example]:
    """The first fresh set's rows as training rows: each its own template, taken as written
    (its recogniser-style rows are already spaced and misheard), no variants."""
    if not FRESH1_PATH.exists():
        return []
    with FRESH1_PATH.open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [
        Example(
            id=f"{FRESH1_PREFIX}{row['id']}",
            text=row["text"],
            split="train",
            source="fresh1",
            template=f"{FRESH1_PREFIX}{row['id']}",
            **{k: row[k] for k in _LABELS},
        )
        for row in rows
    ]


def write(path: Path = CORPUS_PATH) -> int:
    """Write the generated corpus to `path` as JSON lines; returns the number of rows."""
    rows = generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for ex in rows:
            f.write(json.dumps(asdict(ex), ensure_ascii=False, sort_keys=True) + "\n")
    return len(rows)


def load(path: Path = CORPUS_PATH) -> list[Example]:
    """Read a corpus written by `write`."""
    with path.open(encoding="utf-8") as f:
        return [Example(**json.loads(line)) for line in f if line.strip()]


if __name__ == "__main__":
    print(write())
