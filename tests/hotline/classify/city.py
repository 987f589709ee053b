"""A small city history and a small base corpus, shared by the classify tests.

The base is one clean variant of up to three training templates of every label combination of
the shipped corpus (about 200 rows): a fit takes seconds instead of minutes, and every head
still has all its classes. The
city's rows teach a word the corpus never uses (蓝马甲, the city's volunteer patrol, run by
civil affairs)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from routing import corpus

HEADER = "text,kind,department,out_of_scope_reason,emergency,intent,domain,enterprise\n"
CITY_ROWS = [
    "蓝马甲的补贴这个月还没发",
    "我想报名参加蓝马甲怎么报",
    "蓝马甲巡逻队的排班谁管",
    "咱们街道蓝马甲的服装什么时候发",
    "蓝马甲队员受伤了找谁报销",
    "蓝马甲招人有年龄限制吗",
    "我家老人想当蓝马甲行不行",
    "蓝马甲的证件丢了怎么补",
    "问一下蓝马甲值班在哪登记",
    "蓝马甲培训什么时候开课",
    "蓝马甲的积分能换什么",
    "蓝马甲退出要办什么手续",
]


def city_csv() -> str:
    lines = [
        f"{text},consult,civil_affairs,,,new_request,public_services,false" for text in CITY_ROWS
    ]
    lines.append("楼下饭店油烟太大熏得没法开窗,complaint,ecology_environment,,,,,")
    lines.append("仓库着火了火很大快来,,,,119,,,")
    return HEADER + "\n".join(lines) + "\n"


def write_small_base(path: Path) -> Path:
    seen: set[str] = set()
    per_label: dict[tuple[object, ...], int] = {}
    small = []
    for e in corpus.load():
        if e.split != "train" or e.source != "clean" or e.template in seen:
            continue
        key = (e.intent, e.emergency, e.out_of_scope_reason, e.kind, e.department, e.enterprise)
        if per_label.get(key, 0) >= 3:
            continue
        seen.add(e.template)
        per_label[key] = per_label.get(key, 0) + 1
        small.append(e)
    with path.open("w", encoding="utf-8") as f:
        for e in small:
            f.write(json.dumps(asdict(e), ensure_ascii=False) + "\n")
    return path
