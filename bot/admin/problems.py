"""What is wrong with a request, said next to the field that is wrong: `{"error", "errors": [{field, message}]}`."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    field: str
    message: str

    def to_json(self) -> dict:
        return {"field": self.field, "message": self.message}


class Invalid(Exception):
    """Bad input from staff: answered 422 (or `status`) with the problems, and nothing was changed."""

    def __init__(self, message: str, problems: list[Problem] | tuple = (), status: int = 422):
        super().__init__(message)
        self.message, self.problems, self.status = message, list(problems), status

    @classmethod
    def on(cls, field: str, message: str, status: int = 422) -> Invalid:
        return cls(message, [Problem(field, message)], status)
