"""A real SMTP server (aiosmtpd) in the test process that keeps every message it accepts."""
import email
import email.policy
import socket
from contextlib import contextmanager

from aiosmtpd.controller import Controller


class Catcher:
    def __init__(self):
        self.messages = []  # email.message.EmailMessage, parsed as a mail client would
        self.envelopes = []
        self.refuse_next = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_next:
            self.refuse_next -= 1
            return "451 4.3.0 Try again later"
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_catcher():
    catcher = Catcher()
    controller = Controller(catcher, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        catcher.port = controller.port
        yield catcher
    finally:
        controller.stop()
