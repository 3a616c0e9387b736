"""The one exception type for problems a user can fix.

The CLI turns it into a one-line message and exit code 2.
"""


class RepatriateError(ValueError):
    """A user-facing error: bad input, a bad option value, a broken data file."""


class DataError(RepatriateError):
    """The rule base failed validation; ``problems`` lists every error with file and field."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        first = problems[0] if problems else "unknown problem"
        more = f" (and {len(problems) - 1} more; run `repatriate data validate`)" if len(problems) > 1 else ""
        super().__init__(f"rule base is invalid: {first}{more}")


def short(value: object, limit: int = 80) -> str:
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
    message = re.sub(r"'[^']{%d,}'" % (limit - 1), lambda m: m.group(0)[: limit - 2] + "…'", message)
    return re.sub(r"\S{%d,}" % (2 * limit + 1), lambda m: m.group(0)[: 2 * limit] + "…", message)
