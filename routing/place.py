"""The place a request is about, taken from what the caller said or wrote.

Theory of operation: a Chinese address names its parts by their last characters: a district
ends in 区/县/旗, a subdistrict or town in 街道/镇/乡, a street in 路/街/大道/巷/胡同, a community in 小区/社区/村/花园/家园/苑/
公寓, a building is a number before 号楼/栋/幢. `parse_place` first brings every spelling to one
form (`_prepare`): NFKC (full-width digits and letters), no spaces (the recogniser puts one
between words), fillers out (嗯, 那个, 就是...), Chinese numerals before 号/栋/单元... as digits
(三号楼 -> 3号楼, 一二三号 -> 123号, 十二栋 -> 12栋), 3#楼 -> 3号楼, 3-2-301 -> 3号楼2单元.
Then one left-to-right scan finds each suffix and takes the name before it, back to the
previous part, a word that cannot be in a name (我, 在, 的...), a digit, a Latin letter or a
punctuation mark, and drops
leading words of speech (今天, 反映...). A name left empty joins the part before it
(北苑 + 小区 -> 北苑小区). 栋, 幢 and 座 become 号楼.

`Place.text` is the normalised place, parts in a fixed order between middle dots, and parses
back to the same parts. `compare_places` says which parts two places share and whether they are the same place.
Pure functions, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields
from typing import Final

#: the parts of a place, in the order the normalised text names them
PARTS: Final = (
    "district",
    "subdistrict",
    "street",
    "number",
    "community",
    "building",
    "unit",
    "landmark",
)
SEPARATOR: Final = "·"
#: the normalised place fits the orders' `place` column
MAX_PLACE_CHARS: Final = 128
#: how much text is read (a transcript can be long; the place is said early)
MAX_TEXT_CHARS: Final = 4000

_SUFFIXES: Final[dict[str, str]] = {
    "区": "district",
    "县": "district",
    "旗": "district",
    "街道": "subdistrict",
    "镇": "subdistrict",
    "乡": "subdistrict",
    "大道": "street",
    "大街": "street",
    "路": "street",
    "街": "street",
    "巷": "street",
    "胡同": "street",
    "小区": "community",
    "社区": "community",
    "新村": "community",
    "村": "community",
    "花园": "community",
    "家园": "community",
    "苑": "community",
    "公寓": "community",
    "公园": "landmark",
    "广场": "landmark",
    "医院": "landmark",
    "幼儿园": "landmark",
    "小学": "landmark",
    "中学": "landmark",
    "大学": "landmark",
    "学校": "landmark",
    "菜市场": "landmark",
    "市场": "landmark",
    "超市": "landmark",
    "商场": "landmark",
    "购物中心": "landmark",
    "大厦": "landmark",
    "火车站": "landmark",
    "汽车站": "landmark",
    "地铁站": "landmark",
    "公交站": "landmark",
    "体育馆": "landmark",
    "图书馆": "landmark",
    "博物馆": "landmark",
    "立交桥": "landmark",
    "大桥": "landmark",
    "桥": "landmark",
}
_SUFFIX_AT: Final = re.compile("|".join(sorted(_SUFFIXES, key=len, reverse=True)))
#: the longest name kept before a suffix (longer runs are speech, not a name)
_MAX_NAME: Final = 8
#: characters that are never part of a place name: a name stops at them
_STOPS: Final = frozenset(
    "的在是我你他她它们了住到去从跟与及或对给把被让这那个就说也还又再很有没不要想能会吗呢吧"
    "呀嘛哦喂哎市省旁近附条些该咱您请问找向往至于为等"
)
#: words of speech that come before a name and are not part of it
_LEADING: Final = tuple(
    sorted(
        (
            "反映",
            "一下",
            "投诉",
            "举报",
            "咨询",
            "位于",
            "附近",
            "门口",
            "对面",
            "旁边",
            "隔壁",
            "地址",
            "家住",
            "现在",
            "今天",
            "昨天",
            "前天",
            "刚才",
            "早上",
            "晚上",
            "上午",
            "下午",
            "中午",
            "半夜",
            "整个",
            "一个",
            "关于",
            "孩子",
            "然后",
            "所以",
            "因为",
            "但是",
            "而且",
            "反正",
            "外面",
            "里面",
            "下面",
            "上面",
            "楼下",
            "楼上",
        ),
        key=len,
        reverse=True,
    )
)
#: words that end like a place but are not one (线路 is a line, 逛街 is shopping)
_NOT_PLACES: Final = frozenset(
    "线路 道路 马路 公路 门路 电路 网路 思路 出路 走路 绕路 修路 堵路 过路 迷路 山路 小路 "
    "夜路 近路 远路 半路 上路 问路 带路 让路 套路 老路 水路 管路 回路 铁路 上街 逛街 过街 "
    "沿街 临街 满街 农村 乡村 山村 全村 本村 邻村 园区 校区 景区 片区 街区 市区 郊区 山区 "
    "灾区 禁区 辖区 地区 营区 厂区 矿区 库区 牧区 农区 专区 国旗 红旗 家乡 老乡 城乡 故乡 "
    "下乡 回乡 同乡 城镇 乡镇".split()
)
_FILLERS: Final = re.compile("就是说|就是|那个|这个|然后呢|嗯|呃|额|啊|唉|诶")
_NUMERAL_CHARS: Final = "零〇一二两三四五六七八九十百千幺"
_NUMERAL_DIGITS: Final = {
    "零": 0,
    "〇": 0,
    "幺": 1,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_NUMERAL_UNITS: Final = {"十": 10, "百": 100, "千": 1000}
#: the words a house, building, unit or room number comes before
_COUNTED: Final = "号楼|号院|号|栋|幢|座|单元|室|层|楼|户|期"
_SPOKEN_NUMBER: Final = re.compile(f"([{_NUMERAL_CHARS}]+)(?={_COUNTED})")
_HASH: Final = re.compile(r"(\d+)#")
#: 3-2-301 (building, unit, room); not a date or a phone number
_DASHED: Final = re.compile(r"(?<![\d-])(\d{1,3})-(\d{1,2})(?:-\d{1,4})?(?![\d-])")
_NUMBERED: Final = re.compile(r"(\d{1,5}|[A-Z])(号楼|号院|号|栋|幢|座|单元|室|层|楼|户|期)")


def chinese_number(numeral: str) -> int | None:
    """The value of a Chinese numeral: positional (一百零五 -> 105, 十二 -> 12) or read out
    digit by digit (一二三 -> 123, 幺零 -> 10). None when it is not a number."""
    if not numeral or any(ch not in _NUMERAL_CHARS for ch in numeral):
        return None
    if not any(ch in _NUMERAL_UNITS for ch in numeral):
        return int("".join(str(_NUMERAL_DIGITS[ch]) for ch in numeral))
    total, digit, last_unit = 0, None, 10_000
    for ch in numeral:
        if ch in _NUMERAL_UNITS:
            unit = _NUMERAL_UNITS[ch]
            if unit >= last_unit:
                return None
            total += (1 if digit is None else digit) * unit
            digit, last_unit = None, unit
        elif ch in ("零", "〇"):
            if digit is not None:
                return None
        else:
            if digit is not None:
                return None
            digit = _NUMERAL_DIGITS[ch]
    return total + (digit or 0)


def _spoken_number(match: re.Match[str]) -> str:
    value = chinese_number(match.group(1))
    return match.group(1) if value is None else str(value)


def _keep(ch: str) -> bool:
    return unicodedata.category(ch)[0] in ("L", "N") or ch in "-#"


def _prepare(text: str) -> str:
    """One spelling for every way of writing or saying a place (see the module header);
    punctuation becomes a comma, so that no name runs across two sentences."""
    text = unicodedata.normalize("NFKC", text[:MAX_TEXT_CHARS]).upper()
    text = "".join(ch for ch in text if not ch.isspace())
    text = "".join(ch if _keep(ch) else "," for ch in text)
    text = _FILLERS.sub("", text)
    text = _SPOKEN_NUMBER.sub(_spoken_number, text)
    text = _HASH.sub(r"\1号", text)
    text = _DASHED.sub(r"\1号楼\2单元", text)
    # a dash or hash that is not part of a number is punctuation
    return text.replace("-", ",").replace("#", ",")


@dataclass(frozen=True)
class Place:
    """A place and its parts ("" for a part not said)."""

    district: str = ""
    subdistrict: str = ""
    street: str = ""
    number: str = ""
    community: str = ""
    building: str = ""
    unit: str = ""
    landmark: str = ""

    @property
    def text(self) -> str:
        """The normalised place: its parts in a fixed order (`PARTS`) between middle dots, the
        house number with its street ("新城区·胜利路12号·阳光小区·3号楼"); "" when none. The
        dots keep two parts from reading as one name when it is parsed again."""
        parts = self.parts()
        if "street" in parts and "number" in parts:
            parts["street"] += parts.pop("number")
        return SEPARATOR.join(parts.values())[:MAX_PLACE_CHARS]

    def parts(self) -> dict[str, str]:
        """The parts said, in the order of `PARTS`."""
        return {name: value for name in PARTS if (value := getattr(self, name))}

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


def _name_before(text: str, start: int, end: int) -> str:
    """The name that ends at `end`: back to `start`, a stop character or `_MAX_NAME`
    characters, without the words of speech that lead into it."""
    begin = end
    while begin > start and end - begin < _MAX_NAME:
        ch = text[begin - 1]
        if ch in _STOPS or ch == "," or ch.isascii():
            break
        begin -= 1
    name = text[begin:end]
    # a name never runs back across a community's own word ("…小区今天新城区": 新城区)
    for word in ("小区", "社区"):
        if word in name:
            name = name[name.rindex(word) + len(word) :]
    stripped = True
    while stripped:
        stripped = False
        for word in _LEADING:
            if name.startswith(word):
                name, stripped = name[len(word) :], True
                break
    return name


@dataclass
class _Found:
    kind: str
    value: str
    end: int


def _scan(text: str) -> list[_Found]:
    """Every part in `text`, left to right."""
    found: list[_Found] = []
    boundary = 0
    i = 0
    while i < len(text):
        numbered = _NUMBERED.match(text, i) if text[i].isalnum() else None
        if numbered is not None and (i == 0 or not text[i - 1].isdigit()):
            value, word = numbered.groups()
            previous = found[-1] if found and found[-1].end == i else None
            kind = ""
            if word in ("号楼", "栋", "幢", "座"):
                kind, value = "building", f"{value}号楼"
            elif word == "单元" and value.isdigit():
                kind, value = "unit", f"{value}单元"
            elif word in ("号", "号院") and value.isdigit() and previous is not None:
                # a house number belongs to a street; after a community it is a building
                if previous.kind == "street":
                    kind, value = "number", f"{value}号"
                elif previous.kind == "community":
                    kind, value = "building", f"{value}号楼"
            if kind:
                found.append(_Found(kind, value, numbered.end()))
            boundary = i = numbered.end()
            continue
        suffix = _SUFFIX_AT.match(text, i)
        if suffix is None:
            i += 1
            continue
        kind = _SUFFIXES[suffix.group(0)]
        name = _name_before(text, boundary, i)
        word = name + suffix.group(0)
        previous = found[-1] if found and found[-1].end == i else None
        if not name and previous is not None and not previous.value.endswith(suffix.group(0)):
            # 北苑 + 小区, 金桥 + 花园, 红旗 + 街: one name, the kind of its last suffix
            if previous.kind not in ("number", "building", "unit"):
                previous.kind, previous.value = kind, previous.value + suffix.group(0)
                previous.end = boundary = i = suffix.end()
                continue
        if len(name) >= 2 and word[-2:] not in _NOT_PLACES and word not in _NOT_PLACES:
            found.append(_Found(kind, word, suffix.end()))
            boundary = suffix.end()
        i = suffix.end()
    return found


def parse_place(text: str) -> Place:
    """The place named in `text` (a transcript or a written message): the first of each
    part. Never raises on a `str`; an empty Place when no place is named."""
    parts: dict[str, str] = {}
    for item in _scan(_prepare(text)):
        parts.setdefault(item.kind, item.value)
    return Place(**parts)


def place_of(text: str) -> str:
    """The normalised place named in `text` ("" if none): what a work order's `place`
    column holds."""
    return parse_place(text).text


#: parts that say where, on their own; the others (number, building, unit) only refine
ANCHORS: Final = ("community", "street", "landmark")
#: parts that, when both places name them and they differ, make two places different
_DECISIVE: Final = ("district", "community")


@dataclass(frozen=True)
class PlaceMatch:
    """What two places share: `matched` parts (same value), `differing` parts (both named,
    different values), `same` when they are one place, and `score` in [0, 1]: the share of
    the parts named by either that match."""

    same: bool
    matched: tuple[str, ...]
    differing: tuple[str, ...]
    score: float


def compare_places(a: Place, b: Place) -> PlaceMatch:
    """Whether `a` and `b` are the same place: they share a community, a street or a
    landmark, and name no different district or community; a different street counts only
    when no community matches (a community can lie on two streets). Different house,
    building or unit numbers still make one place: a burst main floods a whole block."""
    pa, pb = a.parts(), b.parts()
    matched = tuple(p for p in PARTS if p in pa and pb.get(p) == pa[p])
    differing = tuple(p for p in PARTS if p in pa and p in pb and pb[p] != pa[p])
    named = len(set(pa) | set(pb))
    score = len(matched) / named if named else 0.0
    same = any(p in matched for p in ANCHORS) and not any(p in differing for p in _DECISIVE)
    if same and "street" in differing and "community" not in matched:
        same = False
    return PlaceMatch(same, matched, differing, round(score, 3))
