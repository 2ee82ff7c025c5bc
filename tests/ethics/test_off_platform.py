"""Off-platform contact detection: phone numbers, WeChat / QQ ids, e-mail and social handles."""

import pytest

from ethics.contacts import off_platform_contact_detect


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的电话是13800138000", "phone: +8613800138000"),
        ("call me on +44 7911 123456", "phone: +447911123456"),
        ("1 3 8 0 0 1 3 8 0 0 0", "phone: +8613800138000"),
        ("一三八零零一三八零零零", "phone: +8613800138000"),
        ("１３８００１３８０００", "phone: +8613800138000"),
        ("加我微信 abc_12345 吧", "wechat: abc_12345"),
        ("my wechat id: Listener_88", "wechat: Listener_88"),
        ("加我vx", "wechat: (asked to add)"),
        ("QQ：123456789", "qq: 123456789"),
        ("扣扣 87654321", "qq: 87654321"),
        ("email me: jane.doe@gmail.com", "email: jane.doe@gmail.com"),
        ("jane at gmail dot com", "email: jane@gmail.com"),
        ("jane(at)qq(dot)com", "email: jane@qq.com"),
        ("telegram: @alice_x", "social: telegram alice_x"),
        ("find me at t.me/alice", "social: t.me/alice"),
        ("@alice_w let us talk there", "social: @alice_w"),
    ],
)
def test_contact_details_are_found(text, expected):
    assert expected in off_platform_contact_detect(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "我们在平台上继续聊吧",
        "I am at home now",
        "See you at 20:30 on 2024-05-01, it costs 100元",
        "I slept 8 hours and walked 12345 steps today",
        "我今年35岁，工作了12年",
        "价格是60元15分钟",
        "全国心理援助热线 400-161-9995",  # a service line, as hotlines publish
        "I want to talk about my mum",
    ],
)
def test_ordinary_text_is_clean(text):
    assert off_platform_contact_detect(text) == []


def test_several_kinds_in_one_message_each_once():
    found = off_platform_contact_detect("wechat: abc_12345 or 13800138000, or 13800138000 again")
    assert found == ["wechat: abc_12345", "phone: +8613800138000"]
