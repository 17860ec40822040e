"""The data package's error type and its argument checks.

Two kinds of failure are kept apart on purpose:

* a *bad argument* (``n_train=0``, ``seed=-1``) is the caller's mistake and raises the built-in
  ``ValueError`` / ``TypeError`` naming the argument and the accepted range;
* a *bad file* (missing, truncated, wrong magic number, corrupt gzip stream, labels out of range)
  is a problem with data on disk and raises :class:`DataError`, whose message names the file and
  what was wrong with it.
"""

from __future__ import annotations

import operator

__all__ = ["DataError", "check_int"]


class DataError(ValueError):
    """A data file is missing, malformed or inconsistent.

    A subclass of ``ValueError`` so that code catching ``ValueError`` also catches it, while code
    that wants to tell "bad file" from "bad argument" can catch ``DataError`` alone.
    """


def check_int(name: str, value: object, low: int, high: int | None = None) -> int:
    """Return ``value`` as a Python int after checking ``low <= value <= high``.

    Parameters
    ----------
    name : str
        The argument's name, quoted in the error message.
    value : object
        The value to check. ``bool`` is refused even though it is an ``int`` subclass
        (``n_train=True`` is a bug, not a request for one sample); NumPy integers are accepted.
    low, high : int
        The inclusive range; ``high=None`` means no upper bound.

    Raises
    ------
    TypeError
        If ``value`` is not an integer.
    ValueError
        If ``value`` is outside ``[low, high]``.
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, got the bool {value!r}")
    try:
        ivalue = operator.index(value)  # accepts int and np.integer, refuses 1.5 and "10"
    except TypeError:
        raise TypeError(
            f"{name} must be an integer, got {value!r} of type {type(value).__name__}"
        ) from None
    if ivalue < low or (high is not None and ivalue > high):
        expected = f"{low} <= {name}" + (f" <= {high}" if high is not None else "")
        raise ValueError(f"{name} must satisfy {expected}, got {ivalue}")
    return ivalue
