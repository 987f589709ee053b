"""The place normaliser: what callers say and write, and the normalised place it gives."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from routing.place import (
    MAX_PLACE_CHARS,
    Place,
    chinese_number,
    compare_places,
    parse_place,
    place_of,
)


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        (
            "我家住在新城区胜利路一二三号阳光小区三号楼二单元，水管爆了",
            {
                "district": "新城区",
                "street": "胜利路",
                "number": "123号",
                "community": "阳光小区",
                "building": "3号楼",
                "unit": "2单元",
            },
        ),
        # recogniser output: a space between words, fillers, numerals read out
        (
            "喂 你好 我 是 阳光 小区 那个 五 栋 的 嗯 停水 了",
            {"community": "阳光小区", "building": "5号楼"},
        ),
        ("北苑小区十二幢楼下水管子爆了", {"community": "北苑小区", "building": "12号楼"}),
        ("锦绣家园3#楼2单元", {"community": "锦绣家园", "building": "3号楼", "unit": "2单元"}),
        ("金桥花园3-2-301漏水", {"community": "金桥花园", "building": "3号楼", "unit": "2单元"}),
        ("铁路小区门口积水", {"community": "铁路小区"}),
        (
            "呼和浩特市赛罕区昭君路人民公园旁边",
            {"district": "赛罕区", "street": "昭君路", "landmark": "人民公园"},
        ),
        (
            "新华街道红旗街８号院",
            {"subdistrict": "新华街道", "street": "红旗街", "number": "8号"},
        ),
        ("反映一下阳光小区停水", {"community": "阳光小区"}),
        ("今天早上兴安北路１２号门口的井盖没了", {"street": "兴安北路", "number": "12号"}),
        ("南湖新村一百零五号楼", {"community": "南湖新村", "building": "105号楼"}),
        ("东胜胡同里的路灯坏了", {"street": "东胜胡同"}),
        ("在城关镇西大巷子口", {"subdistrict": "城关镇", "street": "西大巷"}),
        ("土默特左旗察素齐镇", {"district": "土默特左旗", "subdistrict": "察素齐镇"}),
        ("我老家乡下的事", {}),
        ("新华大街与胜利路交叉口", {"street": "新华大街"}),
        ("阳光小区A座", {"community": "阳光小区", "building": "A号楼"}),
    ],
)
def test_a_place_said_or_written_is_split_into_its_parts(text: str, parts: dict[str, str]) -> None:
    assert parse_place(text).parts() == parts


@pytest.mark.parametrize(
    "text",
    [
        "供电公司的师傅大雪天来给我们修线路，太辛苦了",
        "我们村的路坏了",
        "这条路上的路灯不亮",
        "逛街的时候钱包丢了",
        "我的电话是138-0000-0000，2024-12-01出的事",
        "暖气不热，屋里才十二度",
        "",
    ],
)
def test_text_that_names_no_place_gives_none(text: str) -> None:
    assert parse_place(text) == Place()
    assert place_of(text) == ""


def test_spellings_of_one_building_give_one_normalised_place() -> None:
    spellings = [
        "阳光小区3号楼",
        "阳光小区三号楼",
        "阳光小区３号楼",
        "阳光小区3栋",
        "阳光小区三幢",
        "阳光 小区 三 栋",
        "阳光小区3#楼",
        "阳光小区，嗯，那个3号楼",
    ]
    assert {place_of(s) for s in spellings} == {"阳光小区·3号楼"}


@pytest.mark.parametrize(
    ("numeral", "value"),
    [
        ("三", 3),
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("一百零五", 105),
        ("两千零一十", 2010),
        ("一二三", 123),
        ("幺零八", 108),
        ("十十", None),
        ("三三十", None),
        ("", None),
        ("楼", None),
    ],
)
def test_chinese_numerals(numeral: str, value: int | None) -> None:
    assert chinese_number(numeral) == value


def test_the_same_street_is_one_place_whatever_the_house_number() -> None:
    a = parse_place("胜利路12号水管爆了")
    b = parse_place("胜利路十五号门口冒水")
    match = compare_places(a, b)
    assert match.same
    assert match.matched == ("street",)
    assert match.differing == ("number",)
    assert match.score == 0.5


def test_one_community_on_two_streets_is_one_place() -> None:
    match = compare_places(parse_place("胜利路阳光小区"), parse_place("建设路阳光小区5栋"))
    assert match.same and match.matched == ("community",)


def test_different_communities_or_districts_are_different_places() -> None:
    assert not compare_places(parse_place("胜利路阳光小区"), parse_place("胜利路北苑小区")).same
    assert not compare_places(parse_place("新城区胜利路"), parse_place("赛罕区胜利路")).same
    assert not compare_places(parse_place("胜利路"), parse_place("建设路")).same
    # a building number alone says nowhere
    assert not compare_places(parse_place("3号楼"), parse_place("3号楼")).same
    assert not compare_places(Place(), Place()).same


def test_the_normalised_place_names_its_parts_in_order() -> None:
    place = parse_place("阳光小区3号楼，在新城区胜利路十二号")
    assert place.text == "新城区·胜利路12号·阳光小区·3号楼"


def test_identical_places_score_one() -> None:
    place = parse_place("新城区胜利路12号阳光小区3号楼")
    assert compare_places(place, parse_place(place.text)).score == 1.0


# ---- properties --------------------------------------------------------------------------
_PIECES = st.sampled_from(
    [
        "新城区",
        "赛罕区",
        "胜利路",
        "兴安北路",
        "新华大街",
        "新华街道",
        "东胜胡同",
        "阳光小区",
        "北苑",
        "小区",
        "金桥花园",
        "锦绣家园",
        "南湖新村",
        "人民公园",
        "医院",
        "三号楼",
        "十二栋",
        "5幢",
        "２单元",
        "一二三号",
        "3-2-301",
        "路",
        "街",
        "区",
        "村",
        "我家在",
        "那个",
        "嗯",
        "，",
        " ",
        "的",
        "水管爆了",
        "今天",
        "门口",
        "A座",
        "#",
        "-",
    ]
)
_TEXTS = st.one_of(st.lists(_PIECES, max_size=12).map("".join), st.text(max_size=60))


@settings(max_examples=400, deadline=None)
@given(_TEXTS)
@example("今天路小区今天新城区")  # a district's name once ran back across 小区
def test_the_normalised_place_parses_back_to_the_same_parts(text: str) -> None:
    place = parse_place(text)
    assert parse_place(place.text) == place
    assert len(place.text) <= MAX_PLACE_CHARS
    assert not any(ch.isspace() for ch in place.text)


@settings(max_examples=200, deadline=None)
@given(_TEXTS)
def test_spaces_and_full_width_digits_do_not_change_the_place(text: str) -> None:
    full_width = text.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    spaced = " ".join(text)
    assert parse_place(full_width) == parse_place(text)
    assert parse_place(spaced) == parse_place(text)


@settings(max_examples=200, deadline=None)
@given(_TEXTS, _TEXTS)
def test_comparing_places_is_symmetric(a: str, b: str) -> None:
    pa, pb = parse_place(a), parse_place(b)
    ab, ba = compare_places(pa, pb), compare_places(pb, pa)
    assert (ab.same, ab.matched, ab.differing, ab.score) == (
        ba.same,
        ba.matched,
        ba.differing,
        ba.score,
    )
    assert 0.0 <= ab.score <= 1.0
