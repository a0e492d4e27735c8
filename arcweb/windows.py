"""Time windows, defined once: what "the last 7d" means on every page, in the API, the CLI and reports.

A window is named by an amount and a unit (`24h`, `7d`, `30d`; the API takes any from 1h to 400d). It starts
on the hour `span` before now — the hourly rollups are summed from that hour on, and the runs read for
pass^k start there too, so both see the same runs — and ends now. The previous window (for the trend) is the
same span just before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from rest_framework import exceptions

from .errors import error_body

PAGE_WINDOWS = ("24h", "7d", "30d")  # the choices of the dashboards, the sessions pages and compare
REPORT_WINDOWS = (*PAGE_WINDOWS, "90d")  # a report may look further back
DEFAULT_WINDOW = "7d"
_NAME = re.compile(r"^(\d{1,4})([hd])$")
_UNITS = {"h": ("hour", timedelta(hours=1)), "d": ("day", timedelta(days=1))}
SHORTEST, LONGEST = timedelta(hours=1), timedelta(days=400)


class BadWindow(ValueError):
    pass


def hour_of(moment: datetime) -> datetime:
    """The hour a moment is counted in by the rollups."""
    return moment.replace(minute=0, second=0, microsecond=0)


def span_of(name: str | None) -> timedelta:
    """The length of a named window; BadWindow (with a message for the user) when it is not one."""
    match = _NAME.match((name or DEFAULT_WINDOW).strip().lower())
    if not match:
        raise BadWindow(f"window must look like 24h, 7d or 30d, not {name!r}")
    span = int(match.group(1)) * _UNITS[match.group(2)][1]
    if not SHORTEST <= span <= LONGEST:
        raise BadWindow("window must be between 1h and 400d")
    return span


def is_window_name(value: str) -> bool:
    return bool(_NAME.match(value.strip().lower()))


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    name: str = ""  # "7d" for a named window; "" for a range such as a baseline's

    @property
    def span(self) -> timedelta:
        return self.end - self.start

    @property
    def previous(self) -> Window:
        return Window(self.start - self.span, self.start)


def window(name: str | None, *, now: datetime | None = None) -> Window:
    """The named window ending now (BadWindow when the name is not one)."""
    label = (name or DEFAULT_WINDOW).strip().lower()
    now = now or timezone.now()
    return Window(hour_of(now - span_of(label)), now, label)


def window_param(params, name: str = "window", *, now: datetime | None = None) -> Window:
    """The API's window from a query parameter (default 7d); a 400 naming the parameter when it is not one."""
    try:
        return window(params.get(name), now=now)
    except BadWindow as exc:
        raise exceptions.ValidationError(error_body("invalid", str(exc), field=name)) from None


def page_window(value: str | None) -> str:
    """The window a page shows: one of its choices; anything else is the default, never an error."""
    return value if value in PAGE_WINDOWS else DEFAULT_WINDOW


def window_title(name: str) -> str:
    """"7d" → "Last 7 days", "24h" → "Last 24 hours"."""
    amount, unit = int(name[:-1]), _UNITS[name[-1]][0]
    return f"Last {amount} {unit}{'' if amount == 1 else 's'}"
