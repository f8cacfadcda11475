"""The robots' wire format: credentials, DingTalk's signature, bodies, and answers judged by errcode."""
import base64
import hashlib
import hmac
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from qiantang_warnings.chat import protocols
from qiantang_warnings.chat.protocols import WebhookError


def test_the_credential_comes_from_the_pasted_url():
    assert protocols.credential_of("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=abc123def456") == "abc123def456"
    assert protocols.credential_of("wecom", " https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=633a31f6-7f9c ") == "633a31f6-7f9c"


@pytest.mark.parametrize("kind, url, says", [
    ("dingtalk", "oapi.dingtalk.com/robot/send?access_token=abc123def456", "完整的Webhook地址"),
    ("dingtalk", "https://oapi.dingtalk.com/robot/send", "access_token"),
    ("dingtalk", "https://oapi.dingtalk.com/robot/send?key=abc123def456", "access_token"),
    ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?access_token=abc123def456", "key参数"),
    ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=a'b<c>", "key参数"),
])
def test_a_url_without_its_credential_is_refused_in_chinese(kind, url, says):
    with pytest.raises(WebhookError, match=says):
        protocols.credential_of(kind, url)


def test_dingtalk_signature_is_hmac_sha256_of_timestamp_and_secret_url_encoded_once():
    secret, timestamp = "SECabc", 1700000000000
    raw = base64.b64encode(hmac.new(b"SECabc", b"1700000000000\nSECabc", hashlib.sha256).digest()).decode()
    url = protocols.send_url("dingtalk", "https://x/robot/send?access_token=tok12345678",
                             host="https://gateway.gov.example/", secret=secret, timestamp_ms=timestamp)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "gateway.gov.example", "/robot/send")
    query = parse_qs(parts.query)
    assert query == {"access_token": ["tok12345678"], "timestamp": [str(timestamp)], "sign": [raw]}


def test_unsigned_and_wecom_urls_carry_only_the_credential_on_the_configured_host():
    assert protocols.send_url("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=tok12345678",
                              host="http://127.0.0.1:9", timestamp_ms=1) == "http://127.0.0.1:9/robot/send?access_token=tok12345678"
    assert protocols.send_url("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=key-12345678",
                              host="https://wx.gov.example", timestamp_ms=1) == "https://wx.gov.example/cgi-bin/webhook/send?key=key-12345678"


def test_dingtalk_mentions_by_at_mobiles_in_markdown():
    body = protocols.body("dingtalk", title="红灯", text="#### 红灯 @13800001111", mobiles=["13800001111"])
    assert body == {"msgtype": "markdown", "markdown": {"title": "红灯", "text": "#### 红灯 @13800001111"},
                    "at": {"atMobiles": ["13800001111"], "isAtAll": False}}


def test_wecom_markdown_without_mentions_and_text_with_mentioned_mobiles():
    assert protocols.body("wecom", title="t", text="**项目**：[QT-1 甲](https://x/p/QT-1/)", mobiles=[]) == {
        "msgtype": "markdown", "markdown": {"content": "**项目**：[QT-1 甲](https://x/p/QT-1/)"}}
    body = protocols.body("wecom", title="t", text="#### 交办\n\n**项目**：[QT-1 甲](https://x/p/QT-1/)", mobiles=["13900002222"])
    assert body == {"msgtype": "text", "text": {"content": "交办\n\n项目：QT-1 甲 https://x/p/QT-1/",
                                                 "mentioned_mobile_list": ["13900002222"]}}


def answer(kind, status, payload):
    content = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return protocols.read_answer(kind, status, content)


@pytest.mark.parametrize("kind, status, payload, outcome, pause", [
    ("dingtalk", 200, {"errcode": 0, "errmsg": "ok"}, "ok", 0),
    ("wecom", 200, {"errcode": 0, "errmsg": "ok"}, "ok", 0),
    ("dingtalk", 200, {"errcode": 310000, "errmsg": "sign not match"}, "refused", 0),
    ("dingtalk", 200, {"errcode": 130101, "errmsg": "send too fast"}, "throttle", 600),
    ("wecom", 200, {"errcode": 45009, "errmsg": "api freq out of limit"}, "throttle", 60),
    ("wecom", 200, {"errcode": 93000, "errmsg": "invalid webhook url"}, "refused", 0),
    ("wecom", 200, {"errcode": 130101, "errmsg": "?"}, "refused", 0),  # not WeCom's throttling code
    ("dingtalk", 502, {"errcode": 0}, "transient", 0),  # a gateway's error page, whatever it says
    ("dingtalk", 200, b"<html>busy</html>", "transient", 0),
    ("wecom", 200, {"errmsg": "no code"}, "transient", 0),
])
def test_success_is_decided_by_the_errcode_not_the_http_status(kind, status, payload, outcome, pause):
    result = answer(kind, status, payload)
    assert (result.outcome, result.pause_seconds) == (outcome, pause)


def test_refusals_explain_what_to_check():
    refused = answer("dingtalk", 200, {"errcode": 310000, "errmsg": "sign not match"})
    assert "310000" in protocols.explain("dingtalk", refused)
    assert "加签密钥" in protocols.explain("dingtalk", refused)
    bad_url = answer("wecom", 200, {"errcode": 93000, "errmsg": "invalid webhook url"})
    assert "Webhook地址无效" in protocols.explain("wecom", bad_url)
    throttled = answer("dingtalk", 200, {"errcode": 130101, "errmsg": "send too fast"})
    assert "暂停10分钟" in protocols.explain("dingtalk", throttled)
