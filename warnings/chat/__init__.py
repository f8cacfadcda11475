"""Instant push to the team's chat group (群机器人): DingTalk (钉钉, 浙政钉) and WeCom (企业微信).

protocols.py is the two robots' wire format, pure: the credential in a webhook URL,
DingTalk's signature, the JSON bodies and what an answer means (success is decided by
the body's errcode, never by the HTTP status). messages.py writes each event as markdown.
outbox.py turns what happened (a project turned red, an item handed to a department or
overdue, Monday's summary) into one ChatNotice per (robot, event), idempotently, from the
rows that record those events. delivery.py sends a robot's notices: one sender per robot
at a time (a lease), notices claimed by compare-and-set, a burst merged into one message,
at most CHAT_RATE_PER_MINUTE messages a minute, throttling answered by a pause instead of
a sleep, refusals held for the office to fix, network failures retried with backoff.
"""
