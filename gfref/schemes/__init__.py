"""The optimisers of §2.2 and §2.4 as ``init``/``step`` pairs (see :mod:`gfref.schemes.base`).

=================  ==============================  ====================================
factory            paper                           module
=================  ==============================  ====================================
``sgd``            §2.2.1                          :mod:`gfref.schemes.sgd`
``adam``           §2.2.2                          :mod:`gfref.schemes.adam`
``sav``            §2.2.3, Thm 2.1, Thm 2.5        :mod:`gfref.schemes.sav`
``expsav``         §2.2.4, Thm 2.2–2.3, Thm 2.6    :mod:`gfref.schemes.expsav`
``ieq``            §2.2.5 Method A, Thm 2.4        :mod:`gfref.schemes.ieq`
``ieq_adaptive``   §2.2.5 Method B, Lemma 2.1      :mod:`gfref.schemes.ieq`
=================  ==============================  ====================================

Factories load on first use, so ``import gfref.schemes`` is cheap.
"""

from __future__ import annotations

import importlib

from .base import NonFiniteStepError, Scheme, SchemeError, StepInfo

_MODULE_OF = {
    "sgd": "sgd",
    "adam": "adam",
    "sav": "sav",
    "expsav": "expsav",
    "ieq": "ieq",
    "ieq_adaptive": "ieq",
}

__all__ = ["NonFiniteStepError", "Scheme", "SchemeError", "StepInfo", "get_scheme", *_MODULE_OF]


def __getattr__(name: str):
    if name in _MODULE_OF:
        factory = getattr(importlib.import_module(f".{_MODULE_OF[name]}", __name__), name)
        # Importing the submodule bound its module object to this name; the factory wins.
        globals()[name] = factory
        return factory
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_scheme(name: str, **hyperparams) -> Scheme:
    """The scheme ``name`` (one of :data:`_MODULE_OF`'s keys) built with ``hyperparams``."""
    if name not in _MODULE_OF:
        raise SchemeError(f"scheme must be one of {', '.join(_MODULE_OF)}; got {name!r}")
    factory = globals().get(name)
    if not callable(factory) or isinstance(factory, type(importlib)):
        factory = __getattr__(name)
    return factory(**hyperparams)
