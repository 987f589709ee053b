"""Out-of-scope rules and the explanation an operator can give for each reason.

Theory of operation: a rule names a reason only on clear words, written from the taxonomy's
definitions: a matter already in a legal process (reported to the police, in court, in
arbitration, administrative review, 信访); someone else's private data; an unlawful favour;
a demand no public body meets for an individual (a job, a partner, the weather, a private
errand, punishing someone the caller dislikes). Anything subtler is left to the model's
`scope` head (routing.classifier combines both). A request about *how to start*
a legal process (怎么申请仲裁) is in scope: the rule for `in_legal_process` needs words saying
the process is already under way or decided.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from routing.taxonomy import OutOfScopeReason

_LEGAL_BODY: Final = (
    r"(法院|官司|起诉|上诉|判决|一审|二审|再审|开庭|仲裁|复议|纪委|监委|信访|上访|检察院|诉讼|法官)"
)
_UNDER_WAY: Final = (
    r"(已经|正在|还在|在审|判了|判得|裁决|受理了|立了?案|打完|下来了|不服|不执行|开过庭|等着?判|"
    r"申请了|提起了|递交了|交上去了|排期|在查|在处理|在走|审理|执行|还没判|没判|打了.{0,3}年)"
)
# Reported to the police already: the police have the case.
_REPORTED: Final = (
    r"(已经|早就|之前|也|都)(报了?警|报过警|报了?案|报过案)(?!器)|报(了|过)(警|案)(?!器)|"
    r"去派出所报(了)?案|找过派出所|派出所(已经)?立(了)?案"
)
_PRIVATE_DATA: Final = (
    r"(开房记录|银行流水|通话记录|身份证号|住哪|住址|家庭住址|叫啥名|叫什么名|是谁(?!.{1,2}的)|"
    r"名字和电话|电话号码|手机号|财务报表|客户名单|工资明细|发工资的明细|投标报价|聊天记录|行踪|"
    r"户籍信息|个人信息|存款|财产|病历|婚史|征信|车主信息|联系方式|在哪上班|家里几口人|住在哪|"
    r"电话(多少|号)|车主的?电话|车主是谁|挣多少|收入(多少|是多少)|工资(是)?多少|交多少税|"
    r"结没结过婚|结过婚没|婚姻状况|离没离过婚|缴费人数|员工名单|投标材料|监控录像|"
    r"(他|她)的?电话)"
)
_SOMEONE: Final = (
    r"(他|她|别人|人家|邻居|前妻|前夫|对象|老板|同事|这个人|那个人|某人|那家|他们家|她们家|"
    r"车主|房东|租客|男朋友|女朋友|小三|亲戚|同学|隔壁|竞争对手|对手|别人家|邻居家)"
)
_ASK: Final = r"(查|调|告诉我|给我|想知道|想要|想看|帮我(查|找|问|打听)|能不能查)"
# Asked after the data: can you look it up, send it.
_ASK_AFTER: Final = r"(能查|查着|查得到|查得着|能不能查|查一下|告诉我|发给我|给我看)"
RULES: Final[tuple[tuple[OutOfScopeReason, str], ...]] = (
    ("in_legal_process", rf"{_LEGAL_BODY}.{{0,16}}{_UNDER_WAY}|{_UNDER_WAY}.{{0,12}}{_LEGAL_BODY}"),
    ("in_legal_process", _REPORTED),
    (
        "privacy",
        r"(竞争对手|别人家|人家|其他公司|别的公司).{0,12}(投标报价|报价|客户名单|财务报表)|"
        rf"{_ASK}.{{0,14}}{_PRIVATE_DATA}|{_PRIVATE_DATA}.{{0,8}}(告诉我|给我|发我)|"
        rf"{_ASK}.{{0,4}}{_SOMEONE}的.{{0,6}}(信息|资料|记录|情况)|"
        rf"{_SOMEONE}.{{0,16}}{_PRIVATE_DATA}.{{0,16}}{_ASK_AFTER}|"
        rf"{_SOMEONE}.{{0,10}}(工资|收入|挣)(是|能)?多少",
    ),
    (
        "public_order",
        r"代孕|假证|假的(结婚证|离婚证|营业执照|证明|发票|学历)|办个假|买.{0,4}发票|开赌场|赌场|"
        r"小姐|卖淫|嫖|顶(个)?罪|毒品|冰毒|吓唬|堵门|野生动物|枪支|"
        # help to break the law or escape it
        r"假学历|假文凭|假(结婚|离婚|出生)证|不用实名|不实名|(少|不)(交|缴)税|逃税|偷税漏税|虚开|"
        r"(接着|继续|偷偷)领.{0,12}(别|不)让.{0,6}知道|改.{0,2}(生产)?日期|过期.{0,12}(接着|继续)卖|"
        r"替考|代考|假的?(病假条|证明|学历|结婚证|离婚证)|"
        r"穿山甲|保护动物|斗狗|斗鸡|屏蔽器|(带|有)(点)?彩头|赌博|"
        r"(咋|怎么|如何|能)(才能)?不被(查|罚|发现|抓)|不被(查|罚|发现)(的)?(办法|法子)|"
        r"(又)?查不(着|到)我|泼(点|油漆|粪)|报复(他|她|他们)",
    ),
    (
        "unreasonable",
        r"介绍(个)?对象|给我找(个)?对象|帮我还(信用卡|贷款|钱)|政府(帮我|给我)还|免费分.{0,2}房|"
        r"劝回来|透露.{0,6}号码|彩票.{0,8}号码|(账号|微信|游戏).{0,10}解封|派(个)?车送|"
        r"借给.{0,20}要回来|"
        # a personal job or a post
        r"(给|帮|替)(我|俺|我们)?(家)?(儿子|女儿|闺女|孩子|她|他)?(找|安排|介绍|弄)(个|一份|份)?"
        r"(工作|活|活儿|编制|岗位|差事)|"
        r"(安排|解决)(我|我的|俺)?(的)?(工作|编制)|"
        # the weather
        r"天气(怎么样|咋样|如何|好不好|预报)|(明天|今天|后天|周末|这几天).{0,4}(下不下|会不会下|有没有)(雨|雪)|"
        r"(天|天儿)(咋样|怎么样)|会不会(刮|下)(大)?(风|雨|雪)|要不要穿|"
        r"(明天|今天|后天)(多少|几)度|气温(多少|几度)|"
        # a private errand
        r"(帮|替)(我|俺)(买|取|送|接|排队|遛狗|带孩子|看孩子|搬家|跑腿|代购|抢票|订票|订饭|叫车|"
        r"叫外卖|交话费|充话费|看着)|(帮|替)(我|俺)(去|到).{0,5}(买|取|拿|排队|代购)|"
        r"派(个)?(人|车)(来)?(接|送)(我|俺)|派(个)?(人|车).{0,12}(接|送)(一下)?(我|俺)|"
        r"劝(劝)?(他|她).{0,4}(别|不要)(离婚|分手)|给(我)?(对象|老公|老婆|媳妇|男朋友|女朋友)打(个)?电话|派(个)?人.{0,8}帮(我|俺)(找|做饭|打扫|洗|看|搬|买)|"
        r"(猫|狗|宠物).{0,3}丢了|(跑丢|走丢|丢)的(猫|狗|宠物)|帮(我|俺)跟(我|俺)?的?(对象|媳妇|老婆|男朋友|女朋友)说|"
        r"(话费|流量).{0,6}(给|帮)(我)?(充|交)|给(我)?充(点|个)|(找|介绍)(个)?(买主|买家)|"
        r"(帮|给)(我|俺)(查|看|订|买|抢)(一下)?.{0,8}(火车票|机票|车票|门票)|"
        # a private loss the public should make good, an admission or a favour by influence
        r"(炒股|股市|股票|投资|理财).{0,30}(补偿|赔偿|给(我|我们)?点钱)|(直接)?给(我|我们)(打|发|拨)点钱|"
        r"不用还的|跟学校说说|给(他|她|我)录了|走(个)?后门|"
        # punishing someone the caller dislikes
        r"(把|让|叫|给)(他|她|邻居|那个人|这个人|老板|领导|同事|前夫|前妻|婆婆|他们)"
        r".{0,6}(抓起来|关起来|拘留|坐牢|判刑|开除|撤职|滚蛋|滚出|赶走|赶出去|搬走)|"
        r"教训(一下)?(他|她|他们)|给我出(这口)?气|(他|她)(必须|得)(道歉|赔我|滚)|"
        r"(有仇|看不惯|不顺眼|吵过架|看着来气|就是来气).{0,40}(拖走|收走|罚|查查|赶走|抓起来)|"
        r"罚(他|她)(一下|一顿)|"
        r"(拖走|收走|赶走|抓起来).{0,20}(看(它|他|她)?不顺眼|有仇|看不惯|来气)",
    ),
)
# Asking how to start a process is a consultation the hotline answers.
_HOW_TO: Final = re.compile(r"(咋|怎么|如何|去哪|在哪|想|要|能不能)(申请|起诉|打官司|仲裁|复议)")

_RULES: Final = tuple((reason, re.compile(p)) for reason, p in RULES)
_REPORTING: Final = re.compile(
    r"举报|投诉|查处|调查处理|请(公安|派出所)|有人(在)?(卖|办|开|搞|聚|组织|做|收)"
)

EXPLANATIONS: Final[dict[str, str]] = {
    "emergency": ("这是紧急情况，12345 不能处理警情。请马上拨打对应的紧急电话，我们也在帮您转接。"),
    "in_legal_process": (
        "理解您着急的心情。您反映的事已经进入诉讼、仲裁、复议或信访等法定途径，按照热线受理规定，"
        "12345 不能受理，也不能干预办理过程。建议您继续通过原来的渠道依法主张权利，"
        "有进展可以向受理机关查询。"
    ),
    "privacy": (
        "理解您的难处。您要了解的是他人的个人信息或企业的内部资料，涉及个人隐私和商业秘密，"
        "按照规定我们不能查询或提供。如果权益受到侵害，建议您向公安机关报案或通过法律途径解决。"
    ),
    "public_order": (
        "这个请求违反法律法规和公序良俗，热线不能提供帮助。如果您遇到了困难，"
        "可以具体说说，我们看看有没有合法的渠道能帮到您。"
    ),
    "unreasonable": (
        "非常理解您的心情。不过您提的事情属于个人事务，超出了政府部门的职能范围，热线没办法派单办理。"
        "如果需要，我们可以告诉您可以求助的社会机构或服务渠道。"
    ),
    "contrary_to_fact": "经核实，您反映的情况与事实不符，热线不再派单。感谢您的关心。",
}


@dataclass(frozen=True, slots=True)
class ScopeFinding:
    """The out-of-scope reason a rule found (or None) and the words that matched."""

    reason: OutOfScopeReason | None
    evidence: tuple[str, ...]


def detect(normalized: str) -> ScopeFinding:
    """Apply the out-of-scope rules to a normalised text (routing.text.normalize)."""
    for reason, pattern in _RULES:
        m = pattern.search(normalized)
        if m is None:
            continue
        if (
            reason == "in_legal_process"
            and _HOW_TO.search(normalized)
            and not re.search(r"已经|判了|裁决了|不服", normalized)
        ):
            continue
        if reason == "public_order" and _REPORTING.search(normalized):
            continue  # a caller reporting someone else's unlawful act
        return ScopeFinding(reason, (m.group(0),))
    return ScopeFinding(None, ())


# The caller's own data (我自己的社保, 本人的记录) is never someone else's: no privacy reason.
_OWN: Final = re.compile(r"(我|俺)(自己|本人)的?|本人的|我的(社保|医保|公积金|档案|记录|信息)")
_OTHERS: Final = re.compile(_SOMEONE)


def own_data(normalized: str) -> bool:
    """True when the request is about the caller's own data and names nobody else."""
    return _OWN.search(normalized) is not None and _OTHERS.search(normalized) is None


def explanation(reason: str | None) -> str | None:
    """The suggested words for the operator, or None for an in-scope request."""
    return EXPLANATIONS.get(reason) if reason else None
