"""A fake DingTalk and WeCom robot server on loopback, strict like the real ones.

It checks what the real robots check — the credential, DingTalk's signature (timestamp
within an hour, HMAC-SHA256 of "timestamp\\nsecret"), at most 20 messages a minute per robot,
after which DingTalk throttles the robot for ten minutes (130101) and WeCom answers 45009 —
and answers HTTP 200 with an errcode either way. A test can script the next answers
(an errcode, an HTTP status, or a dropped connection) or stop the server (an outage).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LIMIT_PER_MINUTE = 20


@dataclass
class Robot:
    kind: str  # "dingtalk" or "wecom"
    secret: str = ""
    sent_times: list[float] = field(default_factory=list)
    throttled_until: float = 0.0


@dataclass
class Received:
    credential: str
    body: dict

    @property
    def text(self) -> str:
        body = self.body
        if body["msgtype"] == "markdown":
            return body["markdown"].get("text") or body["markdown"].get("content", "")
        return body["text"]["content"]

    @property
    def mobiles(self) -> list[str]:
        if "at" in self.body:
            return self.body["at"].get("atMobiles", [])
        return self.body.get("text", {}).get("mentioned_mobile_list", [])


class FakeRobotServer:
    def __init__(self):
        self.robots: dict[str, Robot] = {}
        self.received: list[Received] = []  # accepted messages
        self.requests = 0  # every request that reached the server
        self.answers: list = []  # scripted: int errcode, ("http", status) or "drop"
        self.refusals: list[int] = []  # errcodes answered, in order
        self.lock = threading.Lock()
        self._server = None
        self.port = 0

    # ---- control
    def add(self, credential: str, kind: str, secret: str = "") -> None:
        self.robots[credential] = Robot(kind, secret)

    def start(self) -> FakeRobotServer:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ---- the protocol
    def answer(self, path: str, query: dict, body: dict) -> tuple[int, dict | None]:
        with self.lock:
            self.requests += 1
            if self.answers:
                scripted = self.answers.pop(0)
                if scripted == "drop":
                    return 0, None
                if isinstance(scripted, tuple):
                    return scripted[1], {"error": "gateway"}
                self.refusals.append(scripted)
                return 200, {"errcode": scripted, "errmsg": "scripted"}
            if path == "/robot/send":
                return self._dingtalk(query, body)
            if path == "/cgi-bin/webhook/send":
                return self._wecom(query, body)
            return 404, {"error": "not found"}

    def _refuse(self, errcode: int, errmsg: str) -> tuple[int, dict]:
        self.refusals.append(errcode)
        return 200, {"errcode": errcode, "errmsg": errmsg}

    def _rate_ok(self, robot: Robot, now: float) -> bool:
        robot.sent_times = [t for t in robot.sent_times if t > now - 60]
        return len(robot.sent_times) < LIMIT_PER_MINUTE

    def _dingtalk(self, query: dict, body: dict) -> tuple[int, dict]:
        token = query.get("access_token", [""])[0]
        robot = self.robots.get(token)
        if robot is None or robot.kind != "dingtalk":
            return self._refuse(300001, "token is not exist")
        now = time.time()
        if robot.secret:
            timestamp = query.get("timestamp", [""])[0]
            sign = query.get("sign", [""])[0]
            if not timestamp.isdigit() or abs(now * 1000 - int(timestamp)) > 3600 * 1000:
                return self._refuse(310000, "timestamp out of range")
            expected = base64.b64encode(
                hmac.new(robot.secret.encode(), f"{timestamp}\n{robot.secret}".encode(), hashlib.sha256).digest()
            ).decode()
            if sign != expected:  # the query string decoded once: the base64 itself
                return self._refuse(310000, "sign not match")
        if now < robot.throttled_until:
            return self._refuse(130101, "send too fast, exceed 20 times per minute")
        if not self._rate_ok(robot, now):
            robot.throttled_until = now + 600
            return self._refuse(130101, "send too fast, exceed 20 times per minute")
        robot.sent_times.append(now)
        self.received.append(Received(token, body))
        return 200, {"errcode": 0, "errmsg": "ok"}

    def _wecom(self, query: dict, body: dict) -> tuple[int, dict]:
        key = query.get("key", [""])[0]
        robot = self.robots.get(key)
        if robot is None or robot.kind != "wecom":
            return self._refuse(93000, "invalid webhook url")
        now = time.time()
        if not self._rate_ok(robot, now):
            return self._refuse(45009, "api freq out of limit")
        robot.sent_times.append(now)
        self.received.append(Received(key, body))
        return 200, {"errcode": 0, "errmsg": "ok"}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length).decode("utf-8"))
                status, answer = fake.answer(parts.path, parse_qs(parts.query, keep_blank_values=True), body)
                if status == 0:  # a dropped connection
                    self.close_connection = True
                    self.connection.close()
                    return
                content = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *args):
                pass

        return Handler
