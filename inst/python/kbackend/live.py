"""What the running process has already loaded, read from ``sys.modules``.

Once Keras's config module has run, the backend is fixed for the life of the
process: later changes to ``KERAS_BACKEND`` do nothing.  This module reads the
live choice from the already-loaded module objects, never importing anything.
"""

import sys

MYPY = False
if MYPY:  # typing costs milliseconds of start-up; annotations are strings
    from typing import Any, Dict, Mapping, Optional

#: Modules holding Keras's chosen backend in ``_BACKEND``, newest layout first.
_BACKEND_HOLDERS = (
    "keras.src.backend.config",  # Keras 3.1+
    "keras.backend.config",  # Keras 3.0
    "keras.backend.load_backend",  # Keras 2.2–2.3
)
#: Top-level packages that import Keras (and so fix its backend) when loaded.
KERAS_IMPORTERS = ("keras", "tf_keras", "keras_hub", "keras_cv", "keras_nlp", "keras_tuner", "keras_rs", "kagglehub")
#: TensorFlow's own Keras (TF < 2.16) under the names its loaded modules use:
#: TF 1.15 keeps its code in tensorflow_core.
TF_INTERNAL_KERAS = ("tensorflow.python.keras", "tensorflow_core.python.keras", "tensorflow_core.keras")


def _holder(modules: "Mapping[str, Any]") -> "Optional[str]":
    for name in _BACKEND_HOLDERS:
        module = modules.get(name)
        if module is not None and isinstance(getattr(module, "_BACKEND", None), str):
            return name
    return None


def live_keras(modules: "Optional[Mapping[str, Any]]" = None, target: str = "keras") -> "Dict[str, Any]":
    """Whether the Keras that will be used is already loaded here, and its backend.

    ``target`` is what the import resolves to: ``keras`` (the keras package,
    also what tf.keras is from TensorFlow 2.16 with Keras 3), ``tf_keras``, or
    ``tensorflow.python.keras`` (TensorFlow's own Keras before 2.16).  A
    loaded Keras of another kind does not fix this one: TensorFlow 1.15's
    tf.keras does not stop standalone Keras 2 from choosing Theano.

    Keras 3 and multi-backend Keras 2 keep the choice in a module-level
    ``_BACKEND``; the TensorFlow-only lines are always "tensorflow".
    The config module counts even if a later step of ``import keras`` failed:
    it stays cached, so a retry reuses the old choice.
    """
    modules = sys.modules if modules is None else modules
    importers = [name for name in KERAS_IMPORTERS if modules.get(name) is not None]
    if target != "keras":
        names = ("tf_keras",) if target == "tf_keras" else TF_INTERNAL_KERAS
        loaded = [name for name in names if modules.get(name) is not None]
        if loaded:
            by = importers + [name for name in loaded if name not in importers]
            return {"locked": True, "backend": "tensorflow", "module": loaded[0], "locked_by": by,
                    "failed_import": False}
        return {"locked": False, "backend": None, "module": None, "locked_by": importers, "failed_import": False}
    holder = _holder(modules)
    if holder is not None:
        return {
            "locked": True,
            "backend": modules[holder]._BACKEND,
            "module": holder,
            "locked_by": importers,
            # `import keras` failed after the config module ran: Python drops
            # the failed modules, keeps the config one, and a retry re-runs
            # the rest with the cached choice
            "failed_import": modules.get("keras") is None,
        }
    keras = modules.get("keras")
    if keras is not None and getattr(keras, "__file__", None):
        # TensorFlow-only Keras 2 (2.4–2.15) has no backend switch at all.
        return {"locked": True, "backend": "tensorflow", "module": "keras", "locked_by": importers,
                "failed_import": False}
    return {"locked": False, "backend": None, "module": None, "locked_by": importers, "failed_import": False}

