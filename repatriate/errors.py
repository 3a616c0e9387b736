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
