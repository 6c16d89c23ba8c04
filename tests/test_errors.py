"""The error and warning hierarchy: one base each, builtins kept, nothing shadowed."""

from __future__ import annotations

import builtins
import inspect

import pytest

import lacgeo
from lacgeo import errors


def test_every_error_is_a_lacgeo_error_and_its_builtin():
    expected = {
        errors.ConfigError: ValueError,
        errors.UnknownAreaError: ValueError,
        errors.ValidationError: ValueError,
        errors.JoinError: ValueError,
        errors.PatchingError: RuntimeError,
        errors.OutputError: OSError,
    }
    for cls, builtin in expected.items():
        assert issubclass(cls, errors.LacgeoError) and issubclass(cls, builtin), cls
    assert str(errors.OutputError("out: cannot write")) == "out: cannot write"  # one line, no errno
    with pytest.raises(ValueError, match="unknown local authority 'Nowhereshire'"):
        lacgeo.resolve_la("Nowhereshire")


def test_every_warning_shares_one_base_and_no_name_shadows_a_builtin():
    warnings = [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, Warning)]
    assert len(warnings) >= 11
    assert all(issubclass(c, errors.LacgeoWarning) for c in warnings)
    assert not [c.__name__ for c in warnings if hasattr(builtins, c.__name__)]


def test_a_run_records_its_warnings_as_lacgeo_warnings(recwarn):
    config = lacgeo.config.replace(lacgeo.make_config(la="Rutland"), recommend={"n": 9, "robustness_draws": 0})
    result = lacgeo.run(config)  # Rutland's 41,053 people cannot fill 9 patches: a SelectionWarning
    assert result.warnings == [
        "only 4 of the 9 requested picks could be placed: the areas hold 41,053 people, too few for 9 patches "
        "of at least 8,000"
    ]
    assert not recwarn.list  # recorded in the result and run.json, not raised
    with pytest.raises(lacgeo.ValidationError, match="--strict: only 4 of the 9 requested picks"):
        lacgeo.run(config, strict=True)
