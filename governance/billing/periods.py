"""A billing month (UTC): its bounds, its neighbours and its ``YYYY-MM`` name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from kernel.errors import InvalidRequest


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        try:
            year, month = (int(p) for p in text.strip().split("-"))
            if not 1 <= month <= 12 or year < 1970:
                raise ValueError
        except ValueError:
            raise InvalidRequest(f"not a month (YYYY-MM): {text!r}") from None
        return cls(year, month)

    @classmethod
    def of(cls, when: datetime | date) -> Month:
        if isinstance(when, datetime):
            when = when.astimezone(UTC)
        return cls(when.year, when.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    @property
    def start_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def start(self) -> datetime:
        """The first instant of the month (inclusive), UTC."""
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant of the next month (exclusive), UTC."""
        return self.next().start
