"""Compile the patch search (``lacgeo/patches/_search.py``) when a C compiler is there.

``_search.py`` is Cython's pure-Python mode: Python with C types in its annotations.
With a compiler it becomes a C extension; without one the extension is skipped (it is
``optional``) and Python runs the same file, slower, with the same results.
Set ``LACGEO_DEBUG_BUILD=1`` to compile with bounds checks on (for the tests), and
``LACGEO_REQUIRE_COMPILED=1`` to fail rather than skip when it cannot compile (the
wheel builds set it, so no wheel ships without its compiled search).
Everything else about the package is declared in ``pyproject.toml``.
"""

import os
import sys

from Cython.Build import cythonize
from setuptools import Extension, setup


def _flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


DEBUG = _flag("LACGEO_DEBUG_BUILD")

if sys.platform == "win32":  # MSVC: optimise; /fp:precise (its default) never fuses multiply-adds
    compile_args = ["/Od"] if DEBUG else ["/O2"]
else:  # gcc and clang: no fused multiply-add, so every platform computes the same patches
    compile_args = ["-O0" if DEBUG else "-O3", "-ffp-contract=off"]

extensions = cythonize(
    [Extension("lacgeo.patches._search", ["lacgeo/patches/_search.py"], extra_compile_args=compile_args)],
    compiler_directives={"boundscheck": DEBUG, "wraparound": DEBUG},
)
for extension in extensions:  # set here: cythonize drops it from the Extension it is given
    extension.optional = not _flag("LACGEO_REQUIRE_COMPILED")  # no compiler: skip it; the .py runs as Python

setup(ext_modules=extensions)
