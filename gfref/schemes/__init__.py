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

Each factory shares its name with its module; the imports below bind the package attributes
to the factories, so ``gfref.schemes.sgd`` is the function (the module stays reachable as
``sys.modules["gfref.schemes.sgd"]`` and through ``from gfref.schemes.sgd import ...``).
"""

from __future__ import annotations

from .base import NonFiniteStepError, Scheme, SchemeError, StepInfo
from .sgd import sgd  # noqa: I001  (each import rebinds the submodule's name to its factory)
from .adam import adam
from .sav import sav
from .expsav import expsav
from .ieq import ieq, ieq_adaptive

FACTORIES = {
    "sgd": sgd,
    "adam": adam,
    "sav": sav,
    "expsav": expsav,
    "ieq": ieq,
    "ieq_adaptive": ieq_adaptive,
}

__all__ = ["FACTORIES", "NonFiniteStepError", "Scheme", "SchemeError", "StepInfo", "get_scheme", *FACTORIES]


def get_scheme(name: str, **hyperparams) -> Scheme:
    """The scheme ``name`` (a key of :data:`FACTORIES`) built with ``hyperparams``."""
    if name not in FACTORIES:
        raise SchemeError(f"scheme must be one of {', '.join(FACTORIES)}; got {name!r}")
    return FACTORIES[name](**hyperparams)
