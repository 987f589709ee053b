"""Explicit requests for an emergency service: handed over without the IVR's question."""

from __future__ import annotations

import pytest

from routing.handoff import requested_service


@pytest.mark.parametrize(
    ("said", "service"),
    [
        ("帮我转120", "120"),
        ("给我接一下幺幺零", "110"),
        ("打119", "119"),
        ("帮 我 转 一 二 零", "120"),  # the recogniser's spacing
        ("快帮我打幺幺九", "119"),
        ("转到122", "122"),
        ("请接通一一零", "110"),
        ("麻烦你转接一下一二零好吗", "120"),
        ("给我接一一零吧", "110"),
        ("转妖妖灵", "110"),  # the spoken nickname of 110
        ("我家着火了 帮我转幺幺九", "119"),
        ("没办法了帮我转120", "120"),
    ],
)
def test_a_request_to_be_put_through_names_the_service(said: str, service: str) -> None:
    assert requested_service(said) == service


@pytest.mark.parametrize(
    "said",
    [
        "我打119没人接",  # a past call, not a request to the hotline
        "不用转120",
        "不用帮我转120",
        "别给我打一二零",
        "我想投诉120来得太慢",
        "我已经打过110了",
        "楼下着火了，好大的烟，快来人",  # an emergency, but no request: the IVR asks
        "我家电话是13911901234",
        "帮我转一二三四五",
        "帮我转1100号房间",
        "110",
        "",
    ],
)
def test_everything_else_is_no_request(said: str) -> None:
    assert requested_service(said) is None


def test_nothing_to_read() -> None:
    assert requested_service(None) is None
