"""Build the compiled core of the patch builder (``lacgeo/patches/_search.pyx``).

Everything else about the package is declared in ``pyproject.toml``. The two search
chains run on two threads through OpenMP where the compiler has it (GCC on Linux);
elsewhere they run one after the other, with the same result.
"""

import sys

from Cython.Build import cythonize
from setuptools import Extension, setup

openmp = [] if sys.platform in ("darwin", "win32") else ["-fopenmp"]

setup(
    ext_modules=cythonize(
        [
            Extension(
                "lacgeo.patches._search",
                ["lacgeo/patches/_search.pyx"],
                extra_compile_args=["-O3", *openmp],
                extra_link_args=openmp,
            )
        ],
        compiler_directives={"language_level": "3"},
    )
)
