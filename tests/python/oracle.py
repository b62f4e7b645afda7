"""Ask real Keras which backend it picked; print one marked JSON line.

Run in a fresh interpreter with the scenario's environment.  Mode ``keras``
does ``import keras``; mode ``tf.keras`` resolves the attribute ``tf.keras``;
mode ``tensorflow.keras`` imports the module ``tensorflow.keras``.
Any exception is caught and reported as ``"ClassName: message"``, the
format kbackend predicts.  Must run on every Python from 3.6 on.
"""

import os
import sys

MARKER = "KBACKEND-ORACLE:"


def ask(mode):
    if mode == "keras":
        import keras

        return {"backend": keras.backend.backend(), "version": getattr(keras, "__version__", None)}
    if mode == "tensorflow.keras":  # through the import system, as `from tensorflow.keras import ...`
        import importlib

        backend_function = importlib.import_module("tensorflow.keras").backend.backend
    else:
        import tensorflow as tf

        backend_function = tf.keras.backend.backend
    # Where the function lives says where tf.keras routed: keras, tf_keras,
    # or tensorflow's bundled copy.
    package = backend_function.__module__.split(".")[0]
    version = getattr(sys.modules.get(package), "__version__", None) if package != "tensorflow" else None
    return {"backend": backend_function(), "version": version, "package": package}


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "keras"
    try:
        answer = ask(mode)
        answer.update(status="ok", error=None)
    except BaseException as exc:  # noqa: BLE001 - the failure is the answer
        message = str(exc)
        name = type(exc).__name__
        answer = {"status": "error", "backend": None, "version": None,
                  "error": "{}: {}".format(name, message) if message else name}
    # Imported only now: a scenario may put a json.py of its own in the
    # working directory, which Keras must meet, and the oracle must not.
    sys.modules.pop("json", None)
    here = os.getcwd()
    sys.path[:] = [entry for entry in sys.path if entry not in ("", here)]
    import json

    sys.stdout.write("\n" + MARKER + json.dumps(answer) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
