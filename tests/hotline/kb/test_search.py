"""The ranking's pure parts: which terms a query gives, and how candidates are ordered."""

from __future__ import annotations

from hotline.kb.search import (
    Candidate,
    fts5_match_any,
    index_text,
    pg_tsquery_any,
    query_terms,
    rank,
)


def test_fillers_and_particles_are_word_boundaries() -> None:
    assert query_terms("我想问一下那个公积金怎么提取啊") == ["公积", "积金", "提取"]
    # the recogniser's spaces and punctuation do not matter; a homophone is folded back
    assert query_terms("公积经 怎么 提取，") == ["公积", "积金", "提取"]


def test_digits_read_out_and_latin_words_are_terms() -> None:
    assert query_terms("12345") == query_terms("一 二 三 四 五") == ["一二", "二三", "三四", "四五"]
    assert query_terms("ETC卡怎么办") == ["etc"]
    assert query_terms("ETC 卡片") == ["etc", "卡片"]


def test_terms_are_only_letters_so_no_query_syntax_reaches_the_engines() -> None:
    terms = query_terms('公积 "OR" NEAR( * 金) -- \' ; \\ ᠮᠣᠩᠭᠣᠯ')
    assert all(t.isalpha() for t in terms)
    assert fts5_match_any(["公积", "etc"]) == '"公 积" OR "etc"'
    assert pg_tsquery_any(["公积", "etc"]) == "(公 <-> 积) | (etc)"
    assert index_text("公积金", "ETC卡") == "公 积 金 etc 卡"


def test_a_long_query_keeps_its_first_terms_only() -> None:
    text = "".join(chr(0x4E00 + i) for i in range(0, 900, 1))
    assert len(query_terms(text)) == 200


def _c(id_: int, question: str, keywords: tuple[str, ...] = (), answer: str = "") -> Candidate:
    return Candidate(id_, question, keywords, answer or question)


def test_a_term_in_the_question_outweighs_the_same_in_the_answer() -> None:
    ranked = rank(
        "停水了",
        [_c(1, "水费怎么交", answer="停水时请联系供水企业"), _c(2, "家里停水了怎么办")],
        total=2,
        limit=5,
    )
    assert [r.id for r in ranked] == [2, 1]
    assert ranked[0].matched == ["停水"]


def test_rare_terms_outweigh_common_ones_and_ties_go_to_the_lower_id() -> None:
    candidates = [
        _c(1, "怎么办理居住证"),
        _c(2, "营业执照怎么办理"),
        _c(3, "怎么办理户口迁移"),
        _c(4, "营业执照怎么办理"),
    ]
    ranked = rank("我想办理营业执照", candidates, total=4, limit=5)
    assert [r.id for r in ranked[:2]] == [2, 4]
    assert ranked[0].score == ranked[1].score
    assert [r.id for r in ranked[2:]] == [1, 3]


def test_entries_without_a_real_term_are_dropped_and_the_limit_holds() -> None:
    # "金提" would only be a match across two words of the entry's fields
    ranked = rank("公积金提取", [_c(1, "黄金", ("提取",))], total=1, limit=5)
    assert [r.matched for r in ranked] == [["提取"]]
    many = [_c(i, f"公积金问题{i}") for i in range(1, 30)]
    assert len(rank("公积金", many, total=29, limit=7)) == 7
