"""Build the compiled core of the patch builder (``lacgeo/patches/_search.pyx``).

Everything else about the package is declared in ``pyproject.toml``.
"""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [Extension("lacgeo.patches._search", ["lacgeo/patches/_search.pyx"], extra_compile_args=["-O3"])],
        compiler_directives={"language_level": "3"},
    )
)
