"""Files the pages inline: lacgeo's own CSS and JavaScript, and the vendored Leaflet.

They are package data, read through :mod:`importlib.resources`, so they travel inside
an installed package. Nothing is fetched from the network.
"""

from __future__ import annotations

from importlib import resources


def asset_text(package: str, name: str) -> str:
    """The text of ``assets/<name>`` in ``package`` (for example ``lacgeo.outputs.map``)."""
    return resources.files(package).joinpath("assets", name).read_text(encoding="utf-8")


def vendor_bytes(*parts: str) -> bytes:
    """A vendored file under ``lacgeo/vendor/`` (see its README for versions and licences)."""
    return resources.files("lacgeo").joinpath("vendor", *parts).read_bytes()
