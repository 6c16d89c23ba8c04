"""The lacgeo version, in one place (read by ``pyproject.toml`` and ``run.json``)."""

__version__ = "0.1.0"
