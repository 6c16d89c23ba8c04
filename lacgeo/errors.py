"""Every error and warning lacgeo raises, in one place.

Every error a user can cause is a :class:`LacgeoError`; the CLI prints its message
as one line and exits with the class's ``exit_code``. Each error also subclasses the
matching builtin (a :class:`ConfigError` is a :class:`ValueError`, a
:class:`PatchingError` a :class:`RuntimeError`, an :class:`OutputError` an
:class:`OSError`), so code that already catches those keeps working. Anything else
is a bug and keeps its traceback.

Every warning is a :class:`LacgeoWarning`: recoverable oddities (an island linked,
codes repaired, values filled by the missing policy) that a run records in
``run.json`` and that ``--strict`` turns into one error.

>>> issubclass(ConfigError, ValueError), ConfigError.exit_code
(True, 2)
>>> str(ValidationError(["a.csv: 2 codes unknown", "b.csv: empty"]))
'2 problems: a.csv: 2 codes unknown; b.csv: empty'
"""

from __future__ import annotations

from collections.abc import Iterable


def first_few(items: Iterable[object], n: int = 5) -> str:
    """The first ``n`` items for an error message, with "..." when there are more.

    >>> first_few(["E01000001", "E01000002"], n=1)
    'E01000001, ...'
    """
    items = list(items)
    return ", ".join(map(str, items[:n])) + (", ..." if len(items) > n else "")


# --- errors ---------------------------------------------------------------------------------


class LacgeoError(Exception):
    """Base class for errors caused by inputs, configuration or data."""

    exit_code = 1


class ConfigError(LacgeoError, ValueError):
    """The configuration file or options are invalid."""

    exit_code = 2


class UnknownAreaError(ConfigError):
    """A local authority name or code is not in the shipped data."""


class ValidationError(LacgeoError, ValueError):
    """Input data failed validation. The message lists every problem found."""

    exit_code = 3

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        n = len(self.problems)
        head = "" if n == 1 else f"{n} problems: "
        super().__init__(head + "; ".join(self.problems))


class JoinError(ValidationError):
    """Codes in two inputs do not match."""


class PatchingError(LacgeoError, RuntimeError):
    """Patches could not be built, or failed the feasibility check."""

    exit_code = 4


class OutputError(LacgeoError, OSError):
    """The output folder could not be written (or a recorded run could not be read)."""

    exit_code = 5


# --- warnings -------------------------------------------------------------------------------


class LacgeoWarning(UserWarning):
    """Base class for every warning lacgeo gives; ``--strict`` turns them into an error."""


class TextEncodingWarning(LacgeoWarning):
    """A text file was not UTF-8 and was read as Windows-1252."""


class TotalRowWarning(LacgeoWarning):
    """A summary row ('Total') at the end of a counts file was left out."""


class RowWarning(LacgeoWarning):
    """Rows of a user file the user may not mean: blank lines in a one-column file, rows hidden in Excel."""


class CodeRepairWarning(LacgeoWarning):
    """Area codes with spaces or lower case were repaired."""


class GeometryRepairWarning(LacgeoWarning):
    """Invalid geometries in a user file were repaired."""


class OverlappingUnitsWarning(LacgeoWarning):
    """Polygons of a boundary file (patches.nest_within) overlap."""


class ImplausibleValueWarning(LacgeoWarning):
    """Values that are possible but unlikely (e.g. more events than residents)."""


class OutsideAreaWarning(LacgeoWarning):
    """Rows of a source file belong to other local authorities and were ignored."""


class PointsOutsideWarning(LacgeoWarning):
    """Some point records fall outside the local authority."""


class MissingValueWarning(LacgeoWarning):
    """An indicator had no value for some areas and the configured policy filled the gap."""


class IndicatorOverlapWarning(LacgeoWarning):
    """Two indicators of the need index are near-duplicates in the area, so they count one need twice."""


class NoVariationWarning(LacgeoWarning):
    """An indicator has the same value in every area of the run, so it adds nothing to the need index."""


class UnusedSourceWarning(LacgeoWarning):
    """A council source is read but no need indicator uses it."""


class IslandWarning(LacgeoWarning):
    """A detached area was linked to its nearest neighbour."""


class WardUnitWarning(LacgeoWarning):
    """Patches from whole wards (``area.units = "ward"``) left the rule somewhere: a ward in pieces,
    too big to be one patch but too small to cut, or split into LSOAs to keep every patch in the band."""


class SelectionWarning(LacgeoWarning):
    """Fewer phase-1 picks than asked for could be placed."""


class RobustnessWarning(LacgeoWarning):
    """A phase-1 pick stays in the top n in too few Monte Carlo draws."""


__all__ = [
    "CodeRepairWarning",
    "ConfigError",
    "GeometryRepairWarning",
    "ImplausibleValueWarning",
    "IndicatorOverlapWarning",
    "IslandWarning",
    "JoinError",
    "LacgeoError",
    "LacgeoWarning",
    "MissingValueWarning",
    "NoVariationWarning",
    "OutputError",
    "OverlappingUnitsWarning",
    "OutsideAreaWarning",
    "PatchingError",
    "PointsOutsideWarning",
    "RobustnessWarning",
    "SelectionWarning",
    "TextEncodingWarning",
    "RowWarning",
    "TotalRowWarning",
    "UnusedSourceWarning",
    "UnknownAreaError",
    "ValidationError",
    "first_few",
]
