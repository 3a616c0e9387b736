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
            f"unknown {name} {short(value)} (accepted: {', '.join(accepted)})",
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


ECHO_LIMIT = 80  # characters of a user's value echoed back in a message


def clip(text: str, limit: int = ECHO_LIMIT) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis: how a user's value is echoed in a message."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def short(value: object, limit: int = ECHO_LIMIT) -> str:
    """``repr(value)`` cut to about ``limit`` characters: an error message never echoes a whole file."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 2] + "…" + text[-1]


def short_message(message: str, limit: int = 80) -> str:
    """``message`` on one line with every quoted value, and any long unbroken run, cut to ``limit``.

    The CLI's last line of defence: a library message that echoes a 100 KB option value whole
    still reaches the terminal as one short line.
    """
    import re

    from .render.escape import clean_text

    message = clean_text(message, multiline=False)
    message = re.sub(rf"'[^']{{{limit - 1},}}'", lambda m: m.group(0)[: limit - 2] + "…'", message)
    return re.sub(rf"\S{{{2 * limit + 1},}}", lambda m: m.group(0)[: 2 * limit] + "…", message)
