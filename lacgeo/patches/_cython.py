"""Stand-in for the ``cython`` module when Cython is not installed.

:mod:`._search` is written in Cython's pure-Python mode: its types and decorators
come from ``import cython``. Built with a C compiler, Cython compiles it and never
reads this file. Installed without Cython (a wheel, or a source install on a machine
without a compiler), the same file runs as plain Python, and this module gives the
names it uses their plain-Python meaning: decorators leave functions as they are,
types leave values as they are.
"""

compiled = False


class _Type:
    """A C type name: ``double[::1]`` (an array annotation) is the same name."""

    def __init__(self, name: str):
        self.name = name

    def __getitem__(self, _):
        return self

    def __repr__(self) -> str:
        return f"cython.{self.name}"


Py_ssize_t = _Type("Py_ssize_t")
bint = _Type("bint")
char = _Type("char")
double = _Type("double")
longlong = _Type("longlong")
ulonglong = _Type("ulonglong")
void = _Type("void")


def _unchanged(obj):
    return obj


cclass = cfunc = inline = final = _unchanged


def exceptval(value=None, *, check=True):
    """``@cython.exceptval(...)``: how compiled code reports errors; nothing to do in Python."""
    return _unchanged


def typedef(_type, name=None):
    """``T = cython.typedef(type)``: another name for the type."""
    return _type


def declare(_type, value=None):
    """``x = cython.declare(type, value)``: the value."""
    return value


def cast(_type, value):
    """``cython.cast(type, value)``: the value (the code casts only where Python agrees)."""
    return value
