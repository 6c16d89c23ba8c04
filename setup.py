"""Build the compiled core of the patch builder (``lacgeo/patches/_*.pyx``).

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
                f"lacgeo.patches.{name}",
                [f"lacgeo/patches/{name}.pyx"],
                extra_compile_args=["-O3", *openmp],
                extra_link_args=openmp,
            )
            for name in ("_arrays", "_state", "_search")
        ],
        compiler_directives={"language_level": "3"},
    )
)
