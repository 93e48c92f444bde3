"""Where Keras' promise ends: a custom layer's code is not in the .keras file.

A Lambda layer's Python lambda is, and load_model refuses to run it by default.
"""

import os

os.environ["KERAS_BACKEND"] = "torch"  # before importing keras; no TensorFlow needed

import argparse
import json
import tempfile
import zipfile
from pathlib import Path

import keras
import numpy as np


# --8<-- [start:layer]
class Scale(keras.layers.Layer):
    """Multiplies its input by one learned number: your code, not Keras'."""

    def build(self, input_shape):
        self.factor = self.add_weight(shape=(), initializer="ones")

    def call(self, x):
        return x * self.factor


# --8<-- [end:layer]


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    with keras.device(device):
        # --8<-- [start:save]
        model = keras.Sequential(
            [
                keras.Input(shape=(10,)),
                keras.layers.Dense(5),
                Scale(),
                keras.layers.Dense(1),
            ]
        )
        path = out_dir / "custom.keras"
        model.save(path)
        # --8<-- [end:save]

        # --8<-- [start:config]
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
        scale = config["config"]["layers"][2]  # InputLayer, Dense, Scale, Dense
        print(f"class_name={scale['class_name']!r} module={scale['module']!r}")
        # --8<-- [end:config]
        # Its name, its settings (name, dtype, ...) and its input shape: no code.
        # The module is None for a class of the script that runs (__main__).
        assert scale["module"] == (None if __name__ == "__main__" else __name__)
        assert sorted(scale) == [
            "build_config",
            "class_name",
            "config",
            "module",
            "registered_name",
        ]

        # --8<-- [start:load]
        try:
            keras.models.load_model(path)
        except TypeError as err:
            # The message repeats the whole config: print its first and last parts.
            first_line, *_, last_line = str(err).splitlines()
            print(f"{type(err).__name__}: {first_line}")
            print(last_line.split(" Full object config")[0])
            assert "Could not locate class 'Scale'" in last_line
        else:
            raise AssertionError("Keras cannot rebuild a layer it has no code for")

        loaded = keras.models.load_model(path, custom_objects={"Scale": Scale})
        # --8<-- [end:load]
        x = np.random.rand(3, 10).astype("float32")
        expected = keras.ops.convert_to_numpy(model(x))
        predicted = keras.ops.convert_to_numpy(loaded(x))
    assert type(loaded.layers[1]) is Scale
    assert np.array_equal(predicted, expected)
    print("same predictions:", np.array_equal(predicted, expected))

    with keras.device(device):
        # --8<-- [start:lambda]
        doubler = keras.Sequential(
            [keras.Input(shape=(10,)), keras.layers.Lambda(lambda x: x * 2)]
        )
        doubler.save(out_dir / "lambda.keras")  # the lambda's bytecode goes in
        try:
            keras.models.load_model(out_dir / "lambda.keras")
        except ValueError as err:
            print(f"{type(err).__name__}: {err}")
            assert "safe_mode=False" in str(err)
        else:
            raise AssertionError("Keras refuses a Python lambda by default")

        # Only for a file you trust: loading it runs the code stored in it.
        doubler = keras.models.load_model(out_dir / "lambda.keras", safe_mode=False)
        # --8<-- [end:lambda]
        doubled = keras.ops.convert_to_numpy(doubler(x))
    assert np.array_equal(doubled, x * 2)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
