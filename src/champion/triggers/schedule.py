"""Time-based triggers: a model's cron schedule and the monitor's interval.

Each timer keeps its anchor (the last slot fired, or when it was armed) in the state
database, so an agent that restarts neither misses a slot that fell while it was down (it
fires once, however many slots were missed) nor fires a slot twice. The clock is a
parameter, so tests can move time forward.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from champion.errors import ConfigError
from champion.state.jobs import JobStore, Timer

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware."""


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


def local_zone() -> tzinfo:
    """The machine's time zone with its daylight-saving rules (cron runs on local time)."""
    name = os.environ.get("TZ", "").lstrip(":")
    try:
        if name:
            return ZoneInfo(name)
        with open("/etc/localtime", "rb") as file:
            return ZoneInfo.from_file(file)
    except (OSError, ValueError, ZoneInfoNotFoundError):
        # No zone database: a fixed offset is the best we know (DST changes are not followed).
        return datetime.now().astimezone().tzinfo or UTC


class CronSchedule:
    """A 5-field cron expression evaluated in a time zone (Debian cron semantics, DST aware)."""

    def __init__(self, expression: str, where: str, zone: tzinfo | None = None) -> None:
        """`where` names the setting (e.g. `models.spam.triggers.schedule`) for error messages."""
        self.expression = " ".join(expression.split())
        self.zone = zone or local_zone()
        if len(self.expression.split()) != 5:
            raise ConfigError(f"{where}: {expression!r} is not a cron expression: write 5 fields "
                              "(minute hour day-of-month month day-of-week), e.g. '0 3 * * 1'")
        try:
            self.next_after(datetime(2000, 1, 1, tzinfo=UTC))
        except (CronSimError, ValueError, StopIteration) as exc:
            raise ConfigError(f"{where}: {expression!r} is not a valid cron expression ({exc})") from None

    def next_after(self, moment: datetime) -> datetime:
        """The first slot strictly after `moment` (UTC)."""
        return next(CronSim(self.expression, moment.astimezone(self.zone))).astimezone(UTC)

    def last_at_or_before(self, moment: datetime) -> datetime:
        """The latest slot at or before `moment` (UTC)."""
        # Reverse iteration starts strictly before its start; one second later includes `moment`.
        start = (moment + timedelta(seconds=1)).astimezone(self.zone)
        return next(CronSim(self.expression, start, reverse=True)).astimezone(UTC)


class CronTimer:
    """When a model's `triggers.schedule` is due, remembered across restarts."""

    KIND = "schedule"

    def __init__(self, model: str, schedule: CronSchedule, store: JobStore, clock: Clock = utc_now) -> None:
        self.model = model
        self.schedule = schedule
        self.store = store
        self.clock = clock

    def due(self) -> datetime | None:
        """The slot to fire now (the latest one if several were missed), or None. A timer
        seen for the first time, or whose expression changed, is armed now and fires at
        its next slot."""
        now = self.clock()
        timer = self.store.timer(self.model, self.KIND)
        if timer is None or timer.spec != self.schedule.expression:
            self.store.set_timer(Timer(self.model, self.KIND, self.schedule.expression, now, None))
            return None
        if self.schedule.next_after(timer.anchor_at) > now:
            return None
        return self.schedule.last_at_or_before(now)

    def fired(self, slot: datetime) -> None:
        """Remember that `slot` fired; the next firing is the first slot after it."""
        self.store.set_timer(Timer(self.model, self.KIND, self.schedule.expression, slot, slot))


class IntervalTimer:
    """Due every `minutes`, counted from when it last fired (or was armed)."""

    def __init__(self, model: str, kind: str, minutes: float, store: JobStore, clock: Clock = utc_now) -> None:
        self.model = model
        self.kind = kind
        self.interval = timedelta(minutes=minutes)
        self.spec = f"every {minutes:g} min"
        self.store = store
        self.clock = clock

    def due(self) -> datetime | None:
        now = self.clock()
        timer = self.store.timer(self.model, self.kind)
        if timer is None or timer.spec != self.spec:
            self.store.set_timer(Timer(self.model, self.kind, self.spec, now, None))
            return None
        return now if timer.anchor_at + self.interval <= now else None

    def fired(self, moment: datetime) -> None:
        self.store.set_timer(Timer(self.model, self.kind, self.spec, moment, moment))


def schedule_of(model: str, expression: str, zone: tzinfo | None = None) -> CronSchedule:
    """The parsed `models.MODEL.triggers.schedule`; `ConfigError` naming it when invalid."""
    return CronSchedule(expression, f"models.{model}.triggers.schedule", zone)

