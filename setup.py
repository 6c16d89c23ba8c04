"""Build the compiled core of the patch builder (``lacgeo/patches/_*.pyx``).

Everything else about the package is declared in ``pyproject.toml``.
"""

import sys

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

if sys.platform == "win32":  # MSVC: optimise; /fp:precise (its default) never fuses multiply-adds
    compile_args, link_args = ["/O2"], []
else:  # gcc and clang: no fused multiply-add, so every platform computes the same patches
    compile_args, link_args = ["-O3", "-ffp-contract=off"], []

setup(
    ext_modules=cythonize(
        [
            Extension(
                f"lacgeo.patches.{name}",
                [f"lacgeo/patches/{name}.pyx"],
                include_dirs=[np.get_include()],  # the numpy C API (array checks and allocation)
                define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
                extra_compile_args=compile_args,
                extra_link_args=link_args,
            )
            for name in ("_state", "_search")
        ],
        compiler_directives={"language_level": "3"},
    )
)
