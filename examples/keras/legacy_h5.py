"""The legacy form `model.save("my_model.h5")`: Keras 3 still writes it, and says so."""

import os

os.environ["KERAS_BACKEND"] = "torch"  # before importing keras; no TensorFlow needed

import argparse
import io
import logging
import tempfile
import warnings
from pathlib import Path

import keras
import numpy as np


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    with keras.device(device):
        model = keras.Sequential(
            [keras.Input(shape=(10,)), keras.layers.Dense(5), keras.layers.Dense(1)]
        )

        # Keras reports this through the "absl" logger, not the warnings module.
        log = io.StringIO()
        handler = logging.StreamHandler(log)
        logging.getLogger("absl").addHandler(handler)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                # --8<-- [start:save_h5]
                model.save(out_dir / "my_model.h5")  # the legacy form
                loaded = keras.models.load_model(out_dir / "my_model.h5")
                # --8<-- [end:save_h5]
        finally:
            logging.getLogger("absl").removeHandler(handler)
        print(log.getvalue())
        # The warnings module saw nothing about the legacy format:
        assert not any("legacy" in str(warning.message) for warning in caught)
        x = np.random.rand(3, 10).astype("float32")
        expected = keras.ops.convert_to_numpy(model(x))
        predicted = keras.ops.convert_to_numpy(loaded(x))
    assert "This file format is considered legacy." in log.getvalue()
    assert "model.save('my_model.keras')" in log.getvalue()
    assert (out_dir / "my_model.h5").exists()  # written all the same
    assert np.array_equal(predicted, expected)
    print("same predictions:", np.array_equal(predicted, expected))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
