"""Who is asking and whether it is about an earlier request: follow-up and enterprise cues.

Theory of operation: the model's intent and enterprise heads learn these from the corpus, but a
few clear words decide on their own, whatever the matter:

* a **follow-up** names an existing work order (its number read out, routing.followup), asks how
  an earlier report is going (进度, 办得怎么样, 有没有结果), chases it (催, 还没回复, 说好的
  答复), or returns a call the hotline made (回电, 未接来电, 你们给我打过电话); or it names an
  earlier report (上次反映的) and asks what came of it (处理了没, 到哪了, 没动静);
* an **enterprise** speaks as a company or a shop (我们公司/企业/厂/店 wants, applies, is owed),
  never as its employee (我们公司拖欠工资 is a worker's complaint).

Written from how such requests are phrased, not from the corpus; a test checks that no cue
matches only held-out rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from routing.followup import read_order_number

FOLLOW_UP: Final = re.compile(
    r"进度|进展|办得怎么样|办得咋样|办到哪|处理得怎么样|处理得咋样|处理到哪|处理结果|办理结果|"
    r"有没有(结果|回复|答复|回音|消息|人管)|有结果了吗|"
    r"催(一下|一催|办|促|催)|再催|来催|"
    r"还没(有)?(回复|答复|回音|处理|解决|办|人来|人联系|给我回|给个说法|消息)|"
    r"一直没(有)?(回复|答复|回音|人联系|消息)|"
    r"(?<![一二三四五六七八九十两几])回电|回拨|回(个|一个)?电话|回访|未接来电|漏接|没接到|"
    r"第[二三四五六七八九几]次(打电话|打来|反映|来电|投诉|找你们)|已(经)?办结|"
    r"(你们|热线|一二三四五|刚才|刚刚)(的人)?(给我)?打(过)?(电话|来)|"
    r"工单|(受理|投诉|反映|热线|你们给的|给我的)的?单号|单号是|受理号|编号|"
    r"(上次|之前|前几天|上周|上个月|前段时间)(我)?(反映|打电话|打来|报|说|投诉|举报)的|"
    r"(答应|说好|承诺)(了)?(我)?.{0,10}(回复|答复|处理|给我|解决|回电)"
)
# An earlier report named, and a question about what came of it: together a follow-up.
EARLIER: Final = re.compile(
    r"(上次|上回|之前|以前|前两天|前几天|昨天|前天|上周|上礼拜|上个月|前段时间|早先)"
    r"(.{0,6}(投诉|反映|举报|打电话|打过电话|报修|申请|提交)(过|了)?|.{0,10}的事)|"
    r"我(投诉|反映|举报|报修)(过|了)|通过你们|你们(工作人员|的人)?(说|答应)|"
    r"([一二三四五六七八九十]{1,2}月份?|年初|年前|早就)(就)?(反映|投诉|报|打电话)(了|过)"
)
STATUS: Final = re.compile(
    r"(处理|查|核实|审批|办|解决|修|整改|落实|答复)(了没|完了吗|了吗|完了没|好了没|得咋样|到哪)|"
    r"到哪(一步)?了|(没|没有|还没)(收到)?(回复|答复|回话|结果|动静|信儿|消息|下文)|"
    r"(给|有)?回话了没|有结果|想知道结果|咋还没|怎么还没|还没有?信|动静都没|"
    r"到现在(也|都|还)?没|(也|还)没(查|办|处理|解决)(出来|好|完)"
)
_WE: Final = r"(我们|我|咱们|咱|俺们|俺|本)"
ENTERPRISE: Final = re.compile(
    rf"{_WE}(这个|这家|家|的)?(公司|企业|厂|工厂|厂子|门店|店铺|店|饭店|餐馆|超市|合作社|养殖场|"
    r"商户|公司这边|单位给员工)|我司|本公司|作为(一家)?(企业|商户|个体户|公司)|"
    # a business named by its trade: 我们物流公司, 我们洗车店, 我们网店, 我们商铺
    rf"{_WE}(这个|这家|家|的)?(物流|运输|洗车|汽修|装修|建筑|餐饮|食品|科技|商贸|贸易|加工|服装|"
    r"养殖|种植|网|小|快递)(公司|店|厂|企业|铺)|"
    rf"{_WE}(这个|这家|家|的)?(商铺|底商|网店|车间|生产线|厂房|加工厂|门市)|"
    r"(我|我们)(是|就是)(那个)?(楼下|街边)?的?(底商|商铺|店主|老板)|"
    r"(我|我们|俺们|咱们)是(一家|个)?.{0,6}(企业|公司|个体户|个体工商户|商户|做.{0,6}生意的)|"
    r"(公司|企业|厂)的(法人|老板|负责人)|我们是.{0,10}(公司|企业|厂)|"
    # an employer's business: staff, debts owed to the firm, tenders, a new business
    r"给(员工|职工)(开|交|缴|办|增员|减员)|新招的员工|员工的(社保|医保|公积金)|"
    r"(工程款|货款|尾款|项目款|修路钱|结算款)|中标|政府采购|招投标|保证金|"
    r"中小企业|小微企业|企业(的)?(贷款|补贴|资金|政策|开办|注销)|"
    r"(新)?开了?(个|家)(饭店|公司|店|厂|超市|餐馆)|开了(个|家|一个|一家)小?(饭店|饭馆|店|超市|餐馆)|"
    r"找(我们|俺们).{0,4}干的|"
    # the firm itself as the subject of an application: 企业排污许可证, 企业职工医保, 新建厂房
    r"^(企业|合作社|饭店|商户)|新办企业|公司(外籍)?员工的|新建厂房|生产线都停"
)
# A worker speaking of their employer, not for it: the firm wrongs the speaker.
EMPLOYEE: Final = re.compile(
    r"(欠|拖欠|克扣|不发|不给|扣)了?(我|俺)(?!们?(公司|企业|厂|单位|店))|(辞退|开除|裁)了?(我|俺)|"
    r"把(我|俺)(辞退|开除|裁)|"
    r"我(在|是).{0,8}(上班|打工|干活)|(拖欠|克扣|不发)(我们)?(的)?(工资|加班费)"
)


@dataclass(frozen=True, slots=True)
class Cues:
    follow_up: tuple[str, ...]  # the words (or the order number) that make it a follow-up
    enterprise: tuple[str, ...]
    employee: bool  # a worker speaks of their employer: not an enterprise request


def read_cues(raw: str, normalized: str) -> Cues:
    """The follow-up and enterprise cues of a request (`raw` for an order number as typed,
    `normalized` for the words)."""
    follow: list[str] = []
    number = read_order_number(raw)
    if number is not None:
        follow.append(number)
    m = FOLLOW_UP.search(normalized)
    if m is not None:
        follow.append(m.group(0))
    else:
        earlier, status = EARLIER.search(normalized), STATUS.search(normalized)
        if earlier is not None and status is not None:
            follow += [earlier.group(0), status.group(0)]
    enterprise: tuple[str, ...] = ()
    employee = EMPLOYEE.search(normalized) is not None
    e = ENTERPRISE.search(normalized)
    if e is not None and not employee:
        enterprise = (e.group(0),)
    return Cues(tuple(follow), enterprise, employee)
