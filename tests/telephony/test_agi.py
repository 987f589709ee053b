"""AsyncAGI pieces that need no Asterisk: reply parsing, Env decoding, argument quoting."""

from __future__ import annotations

import pytest

from telephony.agi import AGIResult, parse_env, quote_arg
from telephony.ami_protocol import AMIInjectionError


@pytest.mark.parametrize(
    ("line", "code", "value", "data", "extra"),
    [
        ("200 result=0", 200, "0", None, {}),
        ("200 result=49 endpos=9120", 200, "49", None, {"endpos": "9120"}),
        ("200 result=1 (timeout)", 200, "1", "timeout", {}),
        ("200 result= (timeout)", 200, "", "timeout", {}),
        ("200 result=*12#", 200, "*12#", None, {}),
        ("200 result=1 (PJSIP/carrier-0000 (x))", 200, "1", "PJSIP/carrier-0000 (x)", {}),
        ("200 result=-1 endpos=0", 200, "-1", None, {"endpos": "0"}),
        ("510 Invalid or unknown command", 510, "", "Invalid or unknown command", {}),
        ("511 Command Not Permitted on a dead channel or intercept routine", 511, "", None, None),
    ],
)
def test_reply_lines(
    line: str, code: int, value: str, data: str | None, extra: dict[str, str] | None
) -> None:
    result = AGIResult.parse(line + "\n")
    assert result.code == code
    assert result.value == value
    if data is not None:
        assert result.data == data
    if extra is not None:
        assert result.extra == extra


def test_reply_that_is_not_agi() -> None:
    with pytest.raises(ValueError, match="not an AGI reply"):
        AGIResult.parse("hello")


def test_integer_result() -> None:
    assert AGIResult.parse("200 result=49").result == 49
    assert AGIResult.parse("200 result=*1").result is None


def test_env_is_url_decoded_with_chinese() -> None:
    env = parse_env(
        "agi_request%3A%20async%0Aagi_channel%3A%20PJSIP%2Fcarrier-00000000%0A"
        "agi_callerid%3A%2013800138000%0Aagi_calleridname%3A%20%E5%BC%A0%E4%B8%89%0A"
        "agi_dnid%3A%2012345%0A%0A"
    )
    assert env["channel"] == "PJSIP/carrier-00000000"
    assert env["calleridname"] == "张三"
    assert env["callerid"] == "13800138000"
    assert env["dnid"] == "12345"


def test_quoting_escapes_quotes_and_refuses_line_breaks() -> None:
    assert quote_arg('say "hi"\\') == '"say \\"hi\\"\\\\"'
    with pytest.raises(AMIInjectionError):
        quote_arg("hello-world\nHANGUP")
