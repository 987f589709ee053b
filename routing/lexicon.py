"""Domain vocabulary given to the model as extra features.

Each department's "typical matters" (the taxonomy table) and the words an operator would file
them under, plus the words that mark a kind of request. A text that contains a word gets the
feature `#<label>`; the model learns how much to trust it. This lets a few hundred templates
cover words the corpus never happens to use, which character n-grams alone cannot do.
"""

from __future__ import annotations

import re
from typing import Final

DEPARTMENT_WORDS: Final[dict[str, tuple[str, ...]]] = {
    "public_security": (
        "户籍", "户口", "身份证", "居住证", "驾驶证", "驾照", "交通违法", "违章", "闯红灯", "罚单",
        "派出所", "民警", "警察", "治安", "谣言", "造谣", "传销", "赌博", "赌钱", "诈骗", "车牌",
        "上牌", "落户", "迁户", "交警", "扣分", "电诈",
    ),
    "market_supervision": (
        "食品安全", "过期", "消费", "维权", "假冒", "假货", "伪劣", "三无", "价格", "标价", "宰客",
        "计量", "缺斤少两", "秤", "无证经营", "营业执照", "执照", "退款", "退货", "三包", "售后",
        "预付卡", "办卡", "充值卡", "商家", "超市", "药店", "加油站", "商标",
    ),
    "human_resources_social_security": (
        "工资", "欠薪", "拖欠工资", "社保", "养老保险", "养老金", "退休", "就业", "失业", "失业金",
        "稳岗", "劳动", "加班费", "辞退", "劳动合同", "农民工", "包工头", "人社", "招聘", "技能培训",
        "工伤", "童工", "劳动监察",
    ),
    "housing_urban_rural": (
        "物业", "物业费", "房屋质量", "开发商", "交房", "建筑工地", "工地", "施工", "老旧小区",
        "改造", "市政", "电梯", "维修基金", "公租房", "廉租房", "井盖", "外墙", "承重墙", "业主",
        "住建", "烂尾",
    ),
    "urban_management": (
        "占道", "占道经营", "摆摊", "违章建筑", "违建", "私搭乱建", "环境卫生", "垃圾", "清运",
        "积雪", "清雪", "扫雪", "城管", "广告牌", "招牌", "遛狗", "共享单车", "渣土", "乱堆",
        "环卫", "烧烤摊", "流动摊贩", "树木",
    ),
    "ecology_environment": (
        "污染", "大气", "排污", "废水", "污水", "噪声", "噪音", "固废", "危废", "危险废物",
        "黑烟", "异味", "臭气", "油烟", "环评", "化工", "偷排", "烧垃圾", "扬尘", "空气质量",
        "养殖场",
    ),
    "transport": (
        "出租车", "的士", "公交", "公交车", "线路", "末班车", "道路运输", "网约车", "滴滴", "黑车",
        "绕路", "拒载", "客运", "运输", "司机", "站点", "长途车", "物流",
    ),
    "education": (
        "学校", "招生", "入学", "上学", "转学", "学区", "收费", "补课", "校外培训", "培训班",
        "培训机构", "老师", "班主任", "学生", "幼儿园", "小学", "中学", "教育局", "学费", "食堂",
    ),
    "health": (
        "医院", "医生", "大夫", "护士", "看病", "挂号", "急诊", "医疗", "非法行医", "诊所",
        "疾控", "疫苗", "预防针", "卫生院", "卫生服务中心", "家庭医生", "出生医学证明", "卫健委",
    ),
    "civil_affairs": (
        "养老院", "敬老院", "低保", "高龄补贴", "婚姻登记", "结婚登记", "离婚登记", "社会救助",
        "救助", "殡葬", "丧葬", "殡仪馆", "民政", "残疾人", "流浪", "老年食堂", "困难户", "特困",
    ),
    "medical_security": (
        "医保", "医保报销", "异地就医", "医保卡", "报销比例", "门诊慢性病", "慢病", "医保局",
        "居民医保", "新生儿医保", "医保基金", "住院报销",
    ),
    "housing_provident_fund": (
        "公积金", "缴存", "提取", "公积金贷款", "住房公积金",
    ),
    "natural_resources": (
        "不动产", "不动产登记", "房产证", "房本", "过户", "土地", "耕地", "矿产", "挖沙", "采砂",
        "宅基地", "抵押", "土地出让", "国土",
    ),
    "agriculture_animal_husbandry": (
        "农业", "牧业", "农牧", "草场", "草原", "牲畜", "防疫", "兽医", "种子", "化肥", "农药",
        "庄稼", "种地", "农机", "合作社", "大棚", "牛羊", "羊", "猪", "补奖", "农技", "冰雹",
    ),
    "government_services": (
        "政务大厅", "政务服务", "办事大厅", "办事流程", "窗口", "蒙速办", "网上办", "一窗通办",
        "取号", "跑了好几趟", "材料不全", "审批", "年报", "代办", "办事",
    ),
    "finance": (
        "财政", "财政资金", "补贴发放", "政府欠款", "欠款", "工程款", "政府采购", "专项资金",
        "惠民补贴", "一卡通", "贴息", "拨款", "截留",
    ),
    "heating": ("暖气", "供暖", "供热", "热力", "暖气片", "采暖", "取暖费", "供暖费", "停暖"),
    "water_supply": ("停水", "自来水", "水质", "水费", "水表", "水压", "水管", "供水", "来水"),
    "power_supply": (
        "停电", "电费", "供电", "电压", "电线", "电线杆", "用电", "线路", "跳闸", "电表", "峰谷",
    ),
    "gas_supply": (
        "燃气", "燃气费", "天然气", "燃气安检", "报警器", "燃气表", "燃气灶", "通气", "停气", "充气",
    ),
    "postal": ("快递", "包裹", "快递员", "网点", "丢件", "签收", "寄件", "邮政", "驿站", "快递柜"),
}

KIND_WORDS: Final[dict[str, tuple[str, ...]]] = {
    "consult": (
        "咨询", "想问", "问一下", "问问", "请问", "咋办", "怎么办", "在哪", "去哪", "多少钱",
        "需要啥", "要带啥", "能不能", "吗", "流程", "手续", "条件", "咋申请", "怎么申请",
    ),
    "help": ("帮帮", "帮忙", "求助", "帮我", "救助", "来修", "派人", "派个人", "给处理", "过不下去"),
    "complaint": (
        "投诉", "态度", "不管", "不给", "太差", "不合理", "凭啥", "乱收", "拖着", "一直不",
    ),
    "report": ("举报", "偷偷", "私自", "违法", "没有资质", "无证", "冒充", "非法", "查查"),
    "suggestion": ("建议", "希望", "能不能多", "最好", "应该"),
    "praise": ("表扬", "感谢", "谢谢你们", "点赞", "锦旗", "服务好", "特别好", "负责"),
}


def _compile(table: dict[str, tuple[str, ...]], prefix: str) -> list[tuple[re.Pattern[str], str]]:
    return [
        (re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))),
         f"#{prefix}{label}")
        for label, words in table.items()
    ]


_PATTERNS: Final = _compile(DEPARTMENT_WORDS, "d:") + _compile(KIND_WORDS, "k:")


def lexicon_features(normalized: str) -> list[str]:
    """One `#d:<department>` or `#k:<kind>` token per vocabulary word found in the text."""
    out: list[str] = []
    for pattern, token in _PATTERNS:
        out.extend(token for _ in pattern.finditer(normalized))
    return out
