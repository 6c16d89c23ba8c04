"""Stage 8, outputs: the folder a run writes, and every file in it.

:func:`write_outputs` writes the folder atomically (:mod:`.folder`): the tables
(:mod:`.tables`, with disclosure control from :mod:`.disclosure`), the GeoPackage,
``map.html`` (:mod:`.map`), ``report.html`` (:mod:`.report`), ``lacgeo.xlsx``
(:mod:`.workbook`) and ``run.json`` (:mod:`.manifest`); with an evaluation design also
``evaluation.csv``, ``evaluation_balance.csv``, ``evaluation_baseline.csv`` and the GeoPackage's
``comparators`` layer. Coordinators already in post keep ``phase`` 0 in the tables and are called
"in post" everywhere a person reads. Every text value that comes from data or config is escaped by
:mod:`.escape` before it reaches a page.
"""

from .folder import check_output_folder, default_output_folder, output_lock, write_outputs
from .manifest import TABLES, manifest, sha256
from .tables import area_table, assessment_table, patch_table, write_csv

__all__ = [
    "TABLES",
    "area_table",
    "assessment_table",
    "check_output_folder",
    "default_output_folder",
    "manifest",
    "output_lock",
    "patch_table",
    "sha256",
    "write_csv",
    "write_outputs",
]
