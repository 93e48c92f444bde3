"""Keras 3 (on the torch backend): save the whole model, load it with no class."""

import os

os.environ["KERAS_BACKEND"] = "torch"  # before importing keras; no TensorFlow needed

import argparse
import json
import tempfile
import zipfile
from pathlib import Path

import keras
import numpy as np


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    with keras.device(device):
        model = keras.Sequential(
            [
                keras.Input(shape=(10,)),
                keras.layers.Dense(5),  # fc1: 10 -> 5
                keras.layers.Dense(1),  # fc2: 5 -> 1
            ]
        )
        # ... train the model ...

        path = out_dir / "model.keras"
        model.save(path)  # architecture + weights

        loaded = keras.models.load_model(path)  # no class, no code of yours

        x = np.random.rand(3, 10).astype("float32")
        expected = keras.ops.convert_to_numpy(model(x))
        predicted = keras.ops.convert_to_numpy(loaded(x))
    assert np.array_equal(predicted, expected)
    print("same predictions:", np.array_equal(predicted, expected))

    # --8<-- [start:config]
    with zipfile.ZipFile(path) as archive:
        print(archive.namelist())
        config = json.loads(archive.read("config.json"))
    print(config["module"], config["class_name"])
    for layer in config["config"]["layers"]:
        settings = {
            key: layer["config"][key]
            for key in ("batch_shape", "units", "activation")
            if key in layer["config"]
        }
        print(" ", layer["module"], layer["class_name"], settings)
    # --8<-- [end:config]
    assert [layer["class_name"] for layer in config["config"]["layers"]] == [
        "InputLayer",
        "Dense",
        "Dense",
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
