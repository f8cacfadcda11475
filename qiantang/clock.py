"""The clock: "today" in Asia/Shanghai. Only outermost callers (views, tasks, commands)
ask it; everything below takes `today` as an argument."""
from datetime import date

from django.utils import timezone


def local_today() -> date:
    """Today in the site's time zone (Asia/Shanghai), not UTC's today."""
    return timezone.localdate()
