"""The DingTalk and WeCom group-robot protocols: pure functions, no network, no database.

Both answer HTTP 200 with {"errcode": 0, "errmsg": "ok"} on success and HTTP 200 with
another errcode on failure, so an answer is judged by its body. DingTalk's signing (加签):
`timestamp` in milliseconds and `sign = urlencode(base64(HMAC-SHA256(secret,
f"{timestamp}\\n{secret}")))`, both query parameters, valid for an hour.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, quote_plus, urlencode, urlsplit

from django.utils.translation import gettext as _

DINGTALK = "dingtalk"
WECOM = "wecom"

SEND_PATHS = {DINGTALK: "/robot/send", WECOM: "/cgi-bin/webhook/send"}
CREDENTIAL_PARAMS = {DINGTALK: "access_token", WECOM: "key"}
# What one message may hold, in UTF-8 bytes, with room to spare (DingTalk takes about
# 20,000; WeCom's markdown 4,096 and its text 2,048).
MAX_BYTES = {DINGTALK: 15000, WECOM: 4000}
MAX_TEXT_BYTES_WECOM = 2000

# Answers that mean "too many messages": the robot is paused this many seconds, not retried at once.
THROTTLED = {
    DINGTALK: {130101: 600, 410100: 600, 660026: 600},  # 130101: over 20 a minute, throttled 10 min
    WECOM: {45009: 60},  # over 20 a minute
}


class WebhookError(ValueError):
    """A webhook URL the robot kind cannot use."""


def credential_of(kind: str, webhook_url: str) -> str:
    """The robot's credential from the URL the office pasted (access_token or key)."""
    if kind not in SEND_PATHS:
        raise WebhookError(_("未知的机器人类型"))
    url = (webhook_url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise WebhookError(_("请粘贴完整的Webhook地址（以https://开头）"))
    values = parse_qs(parts.query).get(CREDENTIAL_PARAMS[kind], [])
    credential = values[0].strip() if values else ""
    if not credential or not re.fullmatch(r"[A-Za-z0-9_\-]{8,200}", credential):
        if kind == DINGTALK:
            raise WebhookError(_("钉钉机器人的地址须含access_token参数，如 https://oapi.dingtalk.com/robot/send?access_token=…"))
        raise WebhookError(_("企业微信机器人的地址须含key参数，如 https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"))
    return credential


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's `sign` query parameter, already URL-encoded."""
    message = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


def send_url(kind: str, webhook_url: str, *, host: str, secret: str = "", timestamp_ms: int) -> str:
    """Where to POST: the configured host (or gateway), the kind's path, the credential, and
    for a signing DingTalk robot the timestamp and signature."""
    query = urlencode({CREDENTIAL_PARAMS[kind]: credential_of(kind, webhook_url)})
    if kind == DINGTALK and secret:
        query += f"&timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"
    return f"{host.rstrip('/')}{SEND_PATHS[kind]}?{query}"


def plain_text(markdown: str) -> str:
    """Markdown as WeCom's text message shows it: links as "label url", no markup."""
    text = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"\1 \2", markdown)
    text = re.sub(r"^#+\s*", "", text, flags=re.MULTILINE)
    text = text.replace("**", "").replace("\n---\n", "\n")
    return text.strip()


def body(kind: str, *, title: str, text: str, mobiles: list[str]) -> dict:
    """The JSON body of one message. DingTalk's markdown mentions by `at.atMobiles` (the
    text must contain "@mobile" too); WeCom's markdown cannot mention by mobile, so a WeCom
    message that must mention someone goes as text with `mentioned_mobile_list`."""
    if kind == DINGTALK:
        return {
            "msgtype": "markdown",
            "markdown": {"title": title, "text": text},
            "at": {"atMobiles": list(mobiles), "isAtAll": False},
        }
    if mobiles:
        return {"msgtype": "text", "text": {"content": plain_text(text), "mentioned_mobile_list": list(mobiles)}}
    return {"msgtype": "markdown", "markdown": {"content": text}}


def max_bytes(kind: str, *, mentions: bool) -> int:
    if kind == WECOM and mentions:
        return MAX_TEXT_BYTES_WECOM
    return MAX_BYTES[kind]


@dataclass(frozen=True)
class Answer:
    """What the robot's answer means for the delivery."""

    outcome: str  # one of OK, THROTTLE, REFUSED, TRANSIENT
    errcode: int | None = None
    errmsg: str = ""
    pause_seconds: int = 0


OK = "ok"
THROTTLE = "throttle"  # pause the robot, keep the messages, try again after the pause
REFUSED = "refused"  # signature, keyword, IP, URL or content refused: the office must act
TRANSIENT = "transient"  # network or server trouble: retry with backoff


def read_answer(kind: str, status: int, content: bytes) -> Answer:
    """Judge an HTTP answer by its JSON body's errcode (both robots answer 200 on failure)."""
    if status != 200:
        return Answer(TRANSIENT, errmsg=f"HTTP {status}")
    try:
        data = json.loads(content.decode("utf-8"))
        errcode = int(data.get("errcode"))
    except (ValueError, TypeError, AttributeError, UnicodeDecodeError):
        return Answer(TRANSIENT, errmsg=_("机器人返回了无法识别的内容"))
    errmsg = str(data.get("errmsg", ""))[:500]
    if errcode == 0:
        return Answer(OK, 0, errmsg)
    if errcode in THROTTLED[kind]:
        return Answer(THROTTLE, errcode, errmsg, THROTTLED[kind][errcode])
    # Anything else is a refusal a retry cannot cure (DingTalk 310000: signature, keyword or
    # IP; WeCom 93000: bad URL; a robot removed from its group): held until the office acts.
    return Answer(REFUSED, errcode, errmsg)


def explain(kind: str, answer: Answer) -> str:
    """The office's reading of a failed answer, in its language."""
    code = answer.errcode
    if answer.outcome == THROTTLE:
        return _("机器人限流（错误码%(code)s：%(msg)s），暂停%(minutes)s分钟后继续发送") % {
            "code": code, "msg": answer.errmsg, "minutes": max(1, answer.pause_seconds // 60)}
    if answer.outcome == TRANSIENT:
        return _("发送失败（%(msg)s），稍后自动重试") % {"msg": answer.errmsg}
    if kind == DINGTALK and code == 310000:
        hint = _("请检查加签密钥、自定义关键词（消息含“预警”）或IP白名单")
    elif kind == WECOM and code == 93000:
        hint = _("Webhook地址无效，请重新复制群机器人地址")
    elif code in (300001, 400101, 400102, 93004):
        hint = _("机器人不存在或已停用，请在群设置中检查")
    else:
        hint = _("请检查群机器人的配置")
    return _("机器人拒绝了消息（错误码%(code)s：%(msg)s）。%(hint)s；消息已保留，修改配置并保存后自动重发") % {
        "code": code, "msg": answer.errmsg, "hint": hint}
