"""Email backends for the digest delivery tests: count, slow down, or fail on demand."""
import smtplib
import threading
import time

from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

CONTROL = {"fail_next": 0, "delay": 0.0}
LOCK = threading.Lock()


class FlakyBackend(LocmemBackend):
    """locmem (django.core.mail.outbox), but refuses the next CONTROL['fail_next'] sends."""

    def send_messages(self, messages):
        with LOCK:
            failing = CONTROL["fail_next"] > 0
            if failing:
                CONTROL["fail_next"] -= 1
        if failing:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        if CONTROL["delay"]:
            time.sleep(CONTROL["delay"])
        with LOCK:
            return super().send_messages(messages)
