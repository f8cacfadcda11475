"""Sending the digest exactly once per (recipient, ISO week).

A DigestDelivery row is created under the (user, week) constraint, then claimed with a
compare-and-set UPDATE on its state: only the process whose UPDATE touched the row talks
to the SMTP server, and it marks the row sent afterwards. Beat firing twice, two workers
or a retried task therefore find the row claimed or sent and do nothing. A claim older
than DIGEST_STALE_CLAIM_SECONDS means the sender died between claiming and marking (the
server may or may not have accepted the mail): it is resent with the same Message-ID, so
mail clients recognise a duplicate, and flagged `interrupted` for the office.
"""
from __future__ import annotations

import logging
import smtplib
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from qiantang.links import absolute_url

from ..models import DigestDelivery
from .content import Digest, build_digest
from .recipients import Recipient, digest_for_user, recipients
from .snapshot import district_snapshot

logger = logging.getLogger(__name__)

State = DigestDelivery.State
CLAIMABLE = [State.PENDING, State.FAILED]
# Errors worth another attempt later; anything else is a bug and propagates.
TRANSIENT_ERRORS = (smtplib.SMTPException, OSError)


class DigestSendError(Exception):
    """The SMTP server did not take the digest; the delivery is marked failed, retry later."""


def stale_after() -> timedelta:
    return timedelta(seconds=getattr(settings, "DIGEST_STALE_CLAIM_SECONDS", 900))


def message_id(user_id: int, week: str) -> str:
    """Stable per (recipient, week): a resent digest is recognisably the same message."""
    domain = getattr(settings, "DIGEST_MESSAGE_ID_DOMAIN", "qiantang.local")
    return f"<digest.{week}.{user_id}@{domain}>"


def ensure_delivery(user, week: str) -> DigestDelivery:
    """The week's row for this user, created once whoever asks first."""
    defaults = {"email": user.email, "message_id": message_id(user.pk, week)}
    try:
        with transaction.atomic():
            return DigestDelivery.objects.get_or_create(user=user, week=week, defaults=defaults)[0]
    except IntegrityError:
        # Another process created it between our SELECT and INSERT.
        return DigestDelivery.objects.get(user=user, week=week)


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    token: str
    interrupted: bool


def claim(delivery_id: int, *, now: datetime) -> Claim | None:
    """Compare-and-set: take the right to send, or None when someone else has it or it is done."""
    token = uuid.uuid4().hex
    taken = DigestDelivery.objects.filter(id=delivery_id, state__in=CLAIMABLE).update(
        state=State.SENDING, claimed_at=now, claim_token=token, attempts=F("attempts") + 1,
        updated_at=now,
    )
    if taken:
        return Claim(delivery_id, token, False)
    # A claim nobody finished: its sender died, perhaps after the server accepted the mail.
    taken = DigestDelivery.objects.filter(
        id=delivery_id, state=State.SENDING, claimed_at__lt=now - stale_after()
    ).update(
        state=State.SENDING, claimed_at=now, claim_token=token, attempts=F("attempts") + 1,
        interrupted=True, updated_at=now,
    )
    return Claim(delivery_id, token, True) if taken else None


def _finish(claim_: Claim, **fields) -> bool:
    return bool(
        DigestDelivery.objects.filter(
            id=claim_.delivery_id, state=State.SENDING, claim_token=claim_.token
        ).update(**fields)
    )


# ---------------------------------------------------------------- the message

def preferences_url() -> str:
    return absolute_url("digest_preferences")


def render_message(digest: Digest, *, to: str, msg_id: str, connection=None) -> EmailMultiAlternatives:
    """The digest as an email: subject, plain text and HTML alternative, in Chinese."""
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "digest": digest,
            "site_url": settings.SITE_URL,
            "preview_url": absolute_url("digest_preview"),
            "preferences_url": preferences_url(),
        }
        subject = " ".join(render_to_string("emails/digest/subject.txt", context).split())
        text = render_to_string("emails/digest/body.txt", context)
        html = render_to_string("emails/digest/body.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={
            "Message-ID": msg_id,
            "List-Unsubscribe": f"<{preferences_url()}>",
            "List-Id": "预警周报 <digest.qiantang.local>",
            "Auto-Submitted": "auto-generated",
        },
        connection=connection,
    )
    message.attach_alternative(html, "text/html")
    return message


# ---------------------------------------------------------------- sending one

SENT = "sent"
ALREADY = "already"  # sent, or being sent by someone else
SKIPPED_EMPTY = "skipped_empty"


def send_one(recipient: Recipient, digest: Digest, *, now: datetime, connection=None) -> str:
    """Send one recipient's digest for digest.week at most once; raise DigestSendError on SMTP failure."""
    user = recipient.user
    delivery = ensure_delivery(user, digest.week)
    if delivery.state in (State.SENT, State.SKIPPED):
        return ALREADY
    if digest.is_empty and not recipient.send_empty:
        DigestDelivery.objects.filter(id=delivery.id, state=State.PENDING).update(
            state=State.SKIPPED, empty=True, updated_at=now
        )
        return SKIPPED_EMPTY
    # Rendered before the claim: a template error must not leave a claim behind that
    # would later look like an interrupted send.
    message = render_message(digest, to=delivery.email or user.email, msg_id=delivery.message_id, connection=connection)
    taken = claim(delivery.id, now=now)
    if taken is None:
        return ALREADY
    if taken.interrupted:
        logger.warning("digest %s to %s: resending an interrupted send as %s", digest.week, user, delivery.message_id)
    try:
        message.send(fail_silently=False)
    except TRANSIENT_ERRORS as error:
        if connection is not None:
            connection.close()  # the next recipient opens a fresh one
        _finish(taken, state=State.FAILED, last_error=f"{type(error).__name__}: {error}"[:2000], updated_at=timezone.now())
        logger.warning(
            "digest %s to user %s: failed (%s), will be retried", digest.week, user.pk, type(error).__name__,
            extra={"event": "digest", "week": digest.week, "user_id": user.pk, "state": "failed",
                   "error": type(error).__name__},
        )
        raise DigestSendError(str(error)) from error
    _finish(
        taken, state=State.SENT, sent_at=timezone.now(), subject=message.subject[:200],
        empty=digest.is_empty, last_error="", updated_at=timezone.now(),
    )
    logger.info(
        "digest %s to user %s: sent as %s", digest.week, user.pk, delivery.message_id,
        extra={"event": "digest", "week": digest.week, "user_id": user.pk, "state": "sent",
               "message_id": delivery.message_id},
    )
    return SENT


def send_to_user(user_id: int, *, week: str, today: date, now: datetime | None = None) -> str:
    """The Celery task's body: build and send one user's digest (no-op when already done)."""

    done = DigestDelivery.objects.filter(user_id=user_id, week=week, state__in=[State.SENT, State.SKIPPED]).exists()
    if done:
        return ALREADY
    found = recipients(user_ids=[user_id])
    if not found:
        return "not_a_recipient"
    recipient = found[0]
    digest = digest_for_user(recipient.user, week=week, today=today)
    return send_one(recipient, digest, now=now or timezone.now())


@dataclass
class RunSummary:
    week: str
    sent: int = 0
    already: int = 0
    skipped_empty: int = 0
    failed: int = 0


def send_week(*, week: str, today: date, usernames: list[str] | None = None, now: datetime | None = None) -> RunSummary:
    """Send every recipient's digest for the week in this process (the command's path).

    One snapshot for all recipients; one SMTP connection for the run.
    """
    summary = RunSummary(week)
    snapshot = district_snapshot(week=week, today=today)
    connection = get_connection()
    try:
        for recipient in recipients(usernames=usernames):
            digest = build_digest(snapshot, user=recipient.user, kinds=recipient.kinds)
            try:
                outcome = send_one(recipient, digest, now=now or timezone.now(), connection=connection)
            except DigestSendError:
                summary.failed += 1
                continue
            if outcome == SENT:
                summary.sent += 1
            elif outcome == SKIPPED_EMPTY:
                summary.skipped_empty += 1
            else:
                summary.already += 1
    finally:
        connection.close()
    return summary


def pending_user_ids(*, week: str, now: datetime) -> list[int]:
    """Whom the weekly job must (still) hand to a worker: recipients with no finished row."""
    user_ids = [r.user.pk for r in recipients()]
    finished = set(
        DigestDelivery.objects.filter(week=week, user_id__in=user_ids)
        .filter(
            Q(state__in=[State.SENT, State.SKIPPED])
            | Q(state=State.SENDING, claimed_at__gte=now - stale_after())
        )
        .values_list("user_id", flat=True)
    )
    return [pk for pk in user_ids if pk not in finished]
