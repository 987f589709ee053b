"""The dispatch catalogue: the shipped starter catalogue is valid and covers every department,
requests as callers say or write them (clean and recogniser-style) name the right matter, and a
bad catalogue is refused with every problem named by matter id and field."""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from routing import catalogue as cat
from routing.catalogue import (
    DEADLINE_CLASSES,
    MAX_LIMIT,
    MAX_MATTERS,
    Catalogue,
    CatalogueError,
    Problem,
    default_catalogue,
    load_catalogue,
    parse_catalogue,
    validate,
)
from routing.taxonomy import DEPARTMENTS, DOMAINS
from routing.text import normalize

SHIPPED = cat.CATALOGUE_PATH

# Requests written for this test, as a caller would say or write them: (text, matter, department).
REQUESTS = [
    ("这两天屋里冷得很，暖气摸着温乎乎的，老人孩子都冻感冒了", "heating.not_warm", "heating"),
    ("小区已经连着两天没有自来水了，做饭都没法做", "water.outage", "water_supply"),
    ("楼里又停电了，一个月停了三回，冰箱里东西都坏了", "power.outage", "power_supply"),
    ("燃气卡充了钱插进去还是没气，做不了饭", "gas.prepaid_cut", "gas_supply"),
    ("物业费一年比一年高，物业乱收费谁来管", "housing.property_fee", "housing_urban_rural"),
    (
        "隔壁那家在楼顶私自搭建了一个大棚子，这不是违建吗",
        "urban.illegal_building",
        "urban_management",
    ),
    ("我在一家饭馆吃完饭就拉肚子，怀疑是食材变质了", "market.food_safety", "market_supervision"),
    (
        "我们公司拖欠工资三个月了，老板电话也不接",
        "hr.wage_arrears",
        "human_resources_social_security",
    ),
    ("想咨询一下身份证丢了在哪补办", "police.id_card", "public_security"),
    ("滴滴司机多收了二十块钱，网约车乱收费", "transport.ride_hailing", "transport"),
    ("学校周末还组织补课，每个人收好几百的补课费", "edu.fees", "education"),
    ("医院里的大夫态度太差了，问两句就不耐烦", "health.hospital_service", "health"),
    ("我爸是低保户，今年的低保金怎么少了", "civil.dibao", "civil_affairs"),
    ("我想问一下异地就医备案在手机上怎么弄", "medsec.remote_care", "medical_security"),
    ("离职了想把公积金提出来，需要什么手续", "hpf.withdrawal", "housing_provident_fund"),
    ("我们村有人私挖滥采，晚上拉沙子的车一趟一趟的", "nr.illegal_mining", "natural_resources"),
    ("今年冰雹把庄稼全打了，有没有农业保险", "agri.disaster", "agriculture_animal_husbandry"),
    ("窗口的工作人员让我跑了好几趟，每次都说材料不全", "gov.window_conduct", "government_services"),
    ("去年的惠民补贴到现在还没到账，补贴没到账找谁", "fin.subsidy_payment", "finance"),
    ("快递显示签收了，可我根本没收到", "postal.lost", "postal"),
    ("工厂晚上偷排污水，河水都发黑了", "eco.water_pollution", "ecology_environment"),
    ("小区门口的路灯坏了一个多月了", "urban.streetlight", "urban_management"),
    ("楼上天天半夜施工，吵得睡不着", "eco.construction_noise", "ecology_environment"),
    ("想问一下婚姻登记处周六上班吗", "civil.marriage", "civil_affairs"),
]

# Recogniser homophones that routing.text's table does not fold: found by sound only.
HOMOPHONES = [
    ("燃 汽 表 坏 了 一 直 不 走", "gas.meter", "燃气表坏了"),
    ("小 区 门 口 的 路 等 坏 了", "urban.streetlight", "路灯坏了"),
    ("医 宝 卡 丢 了 怎 么 补", "medsec.card", "医保卡丢了"),
    ("社 保 卡 鸡 活 不 了", "hr.social_card", "社保卡激活"),
]

UNRELATED = [
    "天气预报说明天下雨吗",
    "喂你好我想问一下这个事情应该找谁啊",
    "你们能不能快点给我解决一下我等了很久了",
    "我妈年纪大了腿脚不方便出门不太容易",
]


def _matter(mid: str, department: str, keywords: list[Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": mid,
        "name": extra.pop("name", mid),
        "department": department,
        "domain": extra.pop("domain", "public_services"),
        "deadline_class": extra.pop("deadline_class", "general"),
        "aliases": extra.pop("aliases", []),
        "keywords": keywords,
        **extra,
    }


def _doc(*matters: dict[str, Any]) -> dict[str, Any]:
    return {"matters": list(matters)}


GOOD = _doc(
    _matter("heating.not_warm", "heating", ["暖气不热", "家里冷", "暖气"], name="暖气不热事项"),
    _matter("heating.fee", "heating", ["暖气费"], name="供暖费"),
)


# ---- the shipped catalogue ------------------------------------------------------------------


def test_the_shipped_catalogue_is_valid() -> None:
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    assert validate(data) == []
    catalogue = default_catalogue()
    assert len(catalogue) == len(data["matters"]) >= 250
    assert len({m.id for m in catalogue.matters}) == len(catalogue)


def test_every_department_has_matters() -> None:
    counts: Counter[str] = Counter(m.department for m in default_catalogue().matters)
    assert {d for d in DEPARTMENTS if counts[d] < 8} == set()
    assert set(counts) <= set(DEPARTMENTS)
    busy = ("housing_urban_rural", "urban_management", "market_supervision")
    assert all(counts[d] >= 15 for d in busy), counts


def test_every_matter_has_a_domain_and_deadline_class_of_the_taxonomy() -> None:
    matters = default_catalogue().matters
    assert {m.domain for m in matters} <= set(DOMAINS)
    assert {m.deadline_class for m in matters} == set(DEADLINE_CLASSES)


def test_deadline_class_of_a_matter() -> None:
    assert cat.deadline_class_of("water.outage") == "utilities"
    assert cat.deadline_class_of("heating.not_warm") == "utilities"
    assert cat.deadline_class_of("housing.demolition") == "complex"
    assert cat.deadline_class_of("postal.lost") == "general"
    assert cat.deadline_class_of("no.such_matter") is None


def test_outages_of_the_four_utilities_have_the_24_hour_class() -> None:
    catalogue = default_catalogue()
    for mid in ("heating.no_heat", "water.outage", "power.outage", "gas.outage"):
        matter = catalogue.get(mid)
        assert matter is not None and matter.deadline_class == "utilities", mid


# ---- matching -------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "matter", "department"), REQUESTS)
def test_a_request_names_its_matter(text: str, matter: str, department: str) -> None:
    best = cat.match(text)[0]
    assert (best.matter.id, best.department) == (matter, department), best.explain()
    assert best.matter.name in best.explain()


@pytest.mark.parametrize(("text", "matter", "department"), REQUESTS)
def test_recogniser_text_names_the_same_matter(
    text: str, matter: str, department: str, spaced: Callable[[str], str]
) -> None:
    clean, heard = cat.match(text), cat.match(spaced(text))
    assert heard and (heard[0].matter.id, heard[0].department) == (matter, department)
    assert [m.matter.id for m in heard] == [m.matter.id for m in clean]


@pytest.mark.parametrize(("text", "matter", "meant"), HOMOPHONES)
def test_a_recogniser_homophone_is_matched_by_sound(text: str, matter: str, meant: str) -> None:
    catalogue = default_catalogue()
    assert catalogue.by_sound, "pypinyin is a dependency: sound matching must be on"
    best = catalogue.match(text)[0]
    assert best.matter.id == matter
    assert any(hit.by_sound and hit.term == meant for hit in best.hits), best.hits
    assert "音近" in best.explain()
    # Without sounds the same text does not reach that matter through the misheard word.
    plain = Catalogue.from_data(catalogue.to_data(), by_sound=False)
    assert all(hit.term != meant for m in plain.match(text) for hit in m.hits)


@pytest.mark.parametrize("text", UNRELATED)
def test_a_request_about_no_matter_matches_nothing(text: str) -> None:
    assert cat.match(text) == []


def test_the_longest_keyword_wins_and_the_shorter_inside_it_is_dropped() -> None:
    catalogue = Catalogue.from_data(GOOD)
    (only,) = catalogue.match("这个月的暖气费太贵了")  # 暖气费, not the 暖气 inside it
    assert only.matter.id == "heating.fee"
    assert [hit.term for hit in only.hits] == ["暖气费"]
    longer = catalogue.match("暖气不热，暖气费还照收")
    assert [m.matter.id for m in longer] == ["heating.not_warm", "heating.fee"]
    assert longer[0].score > longer[1].score


def test_more_hits_never_outweigh_a_longer_keyword() -> None:
    data = _doc(
        _matter("power.outage", "power_supply", ["停电了", "没电", "断电", "跳闸"]),
        _matter("power.notice", "power_supply", ["停电没通知"]),
    )
    best = Catalogue.from_data(data).match("又停电没通知，家里没电断电跳闸")[0]
    assert best.matter.id == "power.notice"


def test_ties_go_by_matter_id_whatever_the_catalogue_order() -> None:
    a = _matter("water.b_second", "water_supply", ["水压低"])
    b = _matter("water.a_first", "water_supply", ["水压低"])
    for order in ((a, b), (b, a)):
        found = Catalogue.from_data(_doc(*order)).match("楼上水压低")
        assert [m.matter.id for m in found] == ["water.a_first", "water.b_second"]
        assert found[0].score == found[1].score


def test_limit() -> None:
    text = "暖气不热停水停电燃气费快递丢了物业费太高路灯坏了"
    assert len(cat.match(text, limit=1)) == 1
    assert len(cat.match(text, limit=5)) == 5
    assert len(cat.match(text * 5, limit=10_000)) <= MAX_LIMIT
    with pytest.raises(ValueError, match="limit"):
        cat.match(text, limit=0)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=300), limit=st.integers(min_value=1, max_value=50))
def test_match_never_raises(text: str, limit: int) -> None:
    found = cat.match(text, limit)
    assert len(found) <= min(limit, MAX_LIMIT)
    assert [m.score for m in found] == sorted((m.score for m in found), reverse=True)
    heard = normalize(text)
    assert all(hit.heard in heard for m in found for hit in m.hits)


@settings(max_examples=100, deadline=None)
@given(
    noise=st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=40)
)
def test_a_keyword_is_found_in_any_surrounding_text(noise: str) -> None:
    found = cat.match(noise[:20] + "公积金提取" + noise[20:])
    assert "hpf.withdrawal" in {m.matter.id for m in found}


# ---- bad catalogues -------------------------------------------------------------------------


def _problems(data: object) -> list[str]:
    return [str(p) for p in validate(data)]


def test_a_good_document_has_no_problem_and_round_trips() -> None:
    assert validate(GOOD) == []
    catalogue = Catalogue.from_data(GOOD)
    assert Catalogue.from_data(catalogue.to_data()) == catalogue


def test_unknown_department_domain_and_class_name_the_matter_and_field() -> None:
    data = _doc(_matter("heat.x", "heat", ["暖气"], domain="utilities", deadline_class="urgent"))
    problems = validate(data)
    wheres = [p.where for p in problems]
    assert wheres == [
        "heat.x (matters[0]).department",
        "heat.x (matters[0]).domain",
        "heat.x (matters[0]).deadline_class",
    ]
    assert "unknown department 'heat'" in problems[0].what
    assert "did you mean 'heating'" in problems[0].what
    assert "unknown domain 'utilities'" in problems[1].what
    assert "one of utilities, general, complex" in problems[2].what


def test_duplicate_ids() -> None:
    data = _doc(
        _matter("water.outage", "water_supply", ["停水"]),
        _matter("water.outage", "water_supply", ["没水了"]),
    )
    assert _problems(data) == ["water.outage (matters[1]).id: duplicate id, also matters[0]"]


def test_an_alias_of_two_departments_is_refused_and_of_one_is_not() -> None:
    same = _doc(
        _matter("water.meter", "water_supply", ["水表坏了"], aliases=["水表"]),
        _matter("water.meter_change", "water_supply", ["换水表"], aliases=["水表"]),
    )
    assert validate(same) == []
    other = copy.deepcopy(same)
    other["matters"][1]["department"] = "market_supervision"
    (problem,) = validate(other)
    assert problem.where == "water.meter_change (matters[1]).aliases[0]"
    assert "'水表' also names matter 'water.meter' of department 'water_supply'" in problem.what


def test_a_keyword_written_differently_is_the_same_word() -> None:
    data = _doc(
        _matter("car.a", "market_supervision", ["4S店"]),
        _matter("car.b", "transport", ["四s 店"]),  # one word once normalised
    )
    (problem,) = validate(data)
    assert problem.where == "car.b (matters[1]).keywords[0]"


def test_empty_missing_and_too_short_keywords() -> None:
    assert _problems(_doc(_matter("a.empty", "postal", []))) == [
        "a.empty (matters[0]).keywords: empty: a matter needs at least one keyword"
    ]
    missing = _matter("a.missing", "postal", [])
    del missing["keywords"]
    assert _problems(_doc(missing)) == ["a.missing (matters[0]).keywords: must be a list of words"]
    short = validate(_doc(_matter("a.short", "postal", ["快", "，。", 7])))
    assert [p.where for p in short] == [
        "a.short (matters[0]).keywords[0]",
        "a.short (matters[0]).keywords[1]",
        "a.short (matters[0]).keywords[2]",
    ]
    assert "fewer than 2 letters or digits" in short[0].what
    assert "must be text, not int" in short[2].what


def test_a_word_repeated_in_one_matter() -> None:
    data = _doc(_matter("a.rep", "postal", ["快递丢了", "快递 丢了！"], aliases=["快递丢了"]))
    assert _problems(data) == [
        "a.rep (matters[0]).keywords[0]: '快递丢了' repeats aliases[0]",
        "a.rep (matters[0]).keywords[1]: '快递 丢了！' repeats aliases[0]",
    ]


def test_sizes_are_limited() -> None:
    many = _doc(*[_matter(f"m.n{i}", "postal", [f"快递{i}号"]) for i in range(MAX_MATTERS + 1)])
    assert _problems(many) == [f"matters: {MAX_MATTERS + 1} matters; at most {MAX_MATTERS}"]
    long_name = _matter("a.long", "postal", ["快递"], name="长" * 41, note="注" * 501)
    long_name["keywords"] = ["快递" * 13] + [f"快递{i}" for i in range(80)]
    wheres = [p.where for p in validate(_doc(long_name))]
    assert wheres == [
        "a.long (matters[0]).name",
        "a.long (matters[0]).keywords",
        "a.long (matters[0]).note",
    ]


def test_shapes_and_ids() -> None:
    assert _problems([]) == ["catalogue: must be a mapping with a 'matters' list"]
    assert _problems({"matters": []}) == ["matters: must be a non-empty list of matters"]
    assert _problems({"matters": ["x"], "version": 2}) == [
        "version: unknown field (known: matters)",
        "matters[0]: must be a mapping of id, name, department, ...",
    ]
    bad_id = _matter("Heating Not Warm", "heating", ["暖气"], keyword=["x"])
    problems = validate(_doc(bad_id))
    assert [p.where for p in problems] == [
        "Heating Not Warm (matters[0]).keyword",
        "Heating Not Warm (matters[0]).id",
    ]
    assert "unknown field" in problems[0].what and "bad id" in problems[1].what


def test_from_data_refuses_with_every_problem() -> None:
    data = _doc(_matter("a.x", "nowhere", []), _matter("a.x", "postal", ["快递"]))
    with pytest.raises(CatalogueError) as caught:
        Catalogue.from_data(data)
    assert [p.where for p in caught.value.problems] == [
        "a.x (matters[0]).department",
        "a.x (matters[0]).keywords",
        "a.x (matters[1]).id",
    ]
    assert "a.x (matters[0]).department: unknown department 'nowhere'" in str(caught.value)


# ---- files ----------------------------------------------------------------------------------


def test_load_yaml_and_json_files(tmp_path: Path) -> None:
    as_yaml = tmp_path / "catalogue.yaml"
    as_yaml.write_text(yaml.safe_dump(GOOD, allow_unicode=True), encoding="utf-8")
    as_json = tmp_path / "catalogue.json"
    as_json.write_text(json.dumps(GOOD, ensure_ascii=False), encoding="utf-8")
    assert load_catalogue(as_yaml) == load_catalogue(as_json) == Catalogue.from_data(GOOD)
    assert load_catalogue(as_json).match("家里冷")[0].matter.id == "heating.not_warm"


def test_a_broken_file_says_where(tmp_path: Path) -> None:
    broken = tmp_path / "catalogue.yaml"
    broken.write_text("matters:\n  - id: [a\n", encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(broken)
    assert caught.value.problems[0].where.startswith("line ")
    bad_json = tmp_path / "catalogue.json"
    bad_json.write_text('{"matters": [}', encoding="utf-8")
    with pytest.raises(CatalogueError, match="line 1, column 14: not valid JSON"):
        load_catalogue(bad_json)
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("matters: [é]".encode("latin-1"))
    with pytest.raises(CatalogueError, match="not UTF-8"):
        load_catalogue(latin1)


def test_an_oversized_document_is_refused_before_parsing(tmp_path: Path) -> None:
    huge = tmp_path / "catalogue.yaml"
    huge.write_bytes(b"#" * (cat.MAX_DOCUMENT_BYTES + 1))
    with pytest.raises(CatalogueError, match="larger than"):
        load_catalogue(huge)
    with pytest.raises(CatalogueError, match="larger than"):
        parse_catalogue("#" * (cat.MAX_DOCUMENT_BYTES + 1))


def test_problem_text() -> None:
    assert str(Problem("a.x (matters[0]).name", "missing name")) == (
        "a.x (matters[0]).name: missing name"
    )
