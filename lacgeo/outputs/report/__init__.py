"""``report.html``: the printable report for councillors (:func:`render_report`).

:mod:`.page` assembles the page and its sections; :mod:`.context` holds what the
sections share; :mod:`.prose` writes the paragraphs; :mod:`.words` formats numbers
and words; :mod:`.svg` draws the maps and charts; ``assets/report.css`` styles it.
"""

from .page import render_report
from .prose import read_aloud
from .words import england_reference, national_reference

__all__ = ["england_reference", "national_reference", "read_aloud", "render_report"]
