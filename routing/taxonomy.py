"""The label sets of the request taxonomy (docs/taxonomy.md), in one place.

Every other module and every test takes its label names from here, so a label that drifts from
the contract fails in one obvious spot.
"""

from __future__ import annotations

from typing import Final, Literal

Intent = Literal["new_request", "follow_up", "emergency"]
EmergencyNumber = Literal["110", "119", "120", "122"]
OutOfScopeReason = Literal[
    "emergency", "in_legal_process", "privacy", "public_order", "unreasonable", "contrary_to_fact"
]
Kind = Literal["consult", "help", "complaint", "report", "suggestion", "praise"]
Domain = Literal[
    "government_services",
    "economic_regulation",
    "market_regulation",
    "social_management",
    "public_services",
    "environment",
]
Department = Literal[
    "public_security",
    "market_supervision",
    "human_resources_social_security",
    "housing_urban_rural",
    "urban_management",
    "ecology_environment",
    "transport",
    "education",
    "health",
    "civil_affairs",
    "medical_security",
    "housing_provident_fund",
    "natural_resources",
    "agriculture_animal_husbandry",
    "government_services",
    "finance",
    "heating",
    "water_supply",
    "power_supply",
    "gas_supply",
    "postal",
]
Group = Literal["intake", "multimedia", "dispatch", "callback"]

INTENTS: Final = ("new_request", "follow_up", "emergency")
EMERGENCY_NUMBERS: Final = ("110", "119", "120", "122")
OUT_OF_SCOPE_REASONS: Final = (
    "emergency",
    "in_legal_process",
    "privacy",
    "public_order",
    "unreasonable",
    "contrary_to_fact",
)
# The reasons a text classifier can decide; `contrary_to_fact` needs verification first.
CLASSIFIER_OOS_REASONS: Final = ("in_legal_process", "privacy", "public_order", "unreasonable")
KINDS: Final = ("consult", "help", "complaint", "report", "suggestion", "praise")
DOMAINS: Final = (
    "government_services",
    "economic_regulation",
    "market_regulation",
    "social_management",
    "public_services",
    "environment",
)
DEPARTMENTS: Final = (
    "public_security",
    "market_supervision",
    "human_resources_social_security",
    "housing_urban_rural",
    "urban_management",
    "ecology_environment",
    "transport",
    "education",
    "health",
    "civil_affairs",
    "medical_security",
    "housing_provident_fund",
    "natural_resources",
    "agriculture_animal_husbandry",
    "government_services",
    "finance",
    "heating",
    "water_supply",
    "power_supply",
    "gas_supply",
    "postal",
)
GROUPS: Final = ("intake", "multimedia", "dispatch", "callback")

# The keys of the output object, in the order the contract shows them.
OUTPUT_KEYS: Final = (
    "intent",
    "emergency",
    "in_scope",
    "out_of_scope_reason",
    "kind",
    "domain",
    "department",
    "enterprise",
    "confidence",
    "route",
)
ROUTE_KEYS: Final = ("group", "skills", "priority")

DEPARTMENT_ZH: Final[dict[str, str]] = {
    "public_security": "公安局",
    "market_supervision": "市场监督管理局",
    "human_resources_social_security": "人力资源和社会保障局",
    "housing_urban_rural": "住房和城乡建设局",
    "urban_management": "城市管理综合执法局",
    "ecology_environment": "生态环境局",
    "transport": "交通运输局",
    "education": "教育局",
    "health": "卫生健康委员会",
    "civil_affairs": "民政局",
    "medical_security": "医疗保障局",
    "housing_provident_fund": "住房公积金管理中心",
    "natural_resources": "自然资源局",
    "agriculture_animal_husbandry": "农牧局",
    "government_services": "政务服务局",
    "finance": "财政局",
    "heating": "供热",
    "water_supply": "供水",
    "power_supply": "供电",
    "gas_supply": "燃气",
    "postal": "邮政管理局",
}
