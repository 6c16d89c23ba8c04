"""The lacgeo error hierarchy.

Every error a user can cause is a :class:`LacgeoError`; the CLI prints its message
as one line and exits non-zero. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class LacgeoError(Exception):
    """Base class for errors caused by inputs, configuration or data."""

    exit_code = 1


class ConfigError(LacgeoError):
    """The configuration file or options are invalid."""

    exit_code = 2


class UnknownAreaError(ConfigError):
    """A local authority name or code is not in the shipped data."""


class ValidationError(LacgeoError):
    """Input data failed validation. The message lists every problem found."""

    exit_code = 3

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        n = len(self.problems)
        head = "" if n == 1 else f"{n} problems: "
        super().__init__(head + "; ".join(self.problems))


class JoinError(ValidationError):
    """Codes in two inputs do not match."""


class PatchingError(LacgeoError):
    """Patches could not be built, or failed the feasibility check."""

    exit_code = 4


class OutputError(LacgeoError):
    """The output folder could not be written."""

    exit_code = 5
