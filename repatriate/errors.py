"""The one exception family for problems a user can fix.

Errors carry data (the field, the bad value, the accepted values) beside a one-line
message, so a front end can word them its own way; the CLI turns them into exit 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class RepatriateError(ValueError):
    """A user-facing error: bad input, a bad option value, a broken data file.

    Parameters
    ----------
    message : str
        One line, in the library's terms (never a command-line flag).
    field : str, optional
        The input field at fault, as the library names it (``net_assets``, ``top``...).
    value : optional
        The bad value.
    accepted : sequence of str, optional
        What would have been accepted.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        value: Any = None,
        accepted: Sequence[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.field = field
        self.value = value
        self.accepted = tuple(accepted) if accepted is not None else None

    @classmethod
    def choice(
        cls, name: str, value: Any, accepted: Sequence[str], field: str | None = None
    ) -> RepatriateError:
        """``unknown <name> 'x' (accepted: a, b, c)``: a value outside a closed list."""
        return cls(
            f"unknown {name} {value!r} (accepted: {', '.join(accepted)})",
            field=field or name.replace(" ", "_"),
            value=value,
            accepted=accepted,
        )


class DataError(RepatriateError):
    """The rule base failed validation; ``problems`` lists every error with file and field."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        first = problems[0] if problems else "unknown problem"
        more = (
            f" (and {len(problems) - 1} more; validate the rule base for the list)"
            if len(problems) > 1
            else ""
        )
        super().__init__(f"rule base is invalid: {first}{more}", field="data")
