"""Fix "Weights only load failed ... Unsupported global: GLOBAL numpy...": numpy values.

`torch.load(..., weights_only=True)`, the default, only rebuilds tensors, plain Python
values and containers. A numpy value saved in a checkpoint (here a metric computed
with numpy) is refused. Save Python numbers or tensors instead; for a file you trust,
allow the numpy types it needs with `torch.serialization.safe_globals`.
"""

import argparse
import pickle
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    model = MyModel().to(device)
    predictions = np.array([0.9, 0.8, 1.0])
    best_accuracy = predictions.mean()  # a numpy.float64, not a Python float

    numpy_path = out_dir / "checkpoint_with_numpy.pt"
    checkpoint = {"model_state_dict": model.state_dict(), "accuracy": best_accuracy}
    torch.save(checkpoint, numpy_path)
    try:
        torch.load(numpy_path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as err:
        error = err
    else:
        raise AssertionError("weights_only=True loaded a numpy value")
    print(f"{type(error).__name__}: {error}")
    assert "Unsupported global: GLOBAL numpy._core.multiarray.scalar" in str(error)

    # --8<-- [start:convert]
    # Fix 1, when saving: store Python numbers (float(), .item()) or tensors.
    checkpoint = {
        "model_state_dict": model.state_dict(),
        "accuracy": float(best_accuracy),
    }
    path = out_dir / "checkpoint.pt"
    torch.save(checkpoint, path)
    checkpoint = torch.load(path, map_location=device, weights_only=True)
    # --8<-- [end:convert]
    assert checkpoint["accuracy"] == best_accuracy
    assert type(checkpoint["accuracy"]) is float

    # Listing the types a file needs misses one here: the error names it only once
    # the other two are allowed.
    needed = torch.serialization.get_unsafe_globals_in_checkpoint(numpy_path)
    assert sorted(needed) == ["numpy._core.multiarray.scalar", "numpy.dtype"]
    try:
        with torch.serialization.safe_globals([np._core.multiarray.scalar, np.dtype]):
            torch.load(numpy_path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as err:
        assert "numpy.dtypes.Float64DType" in str(err)
    else:
        raise AssertionError("two numpy types were enough")

    # --8<-- [start:allow]
    # Fix 2, for an existing file you trust: allow the numpy types it holds.
    numpy_float = [np._core.multiarray.scalar, np.dtype, np.dtypes.Float64DType]
    with torch.serialization.safe_globals(numpy_float):
        checkpoint = torch.load(numpy_path, map_location=device, weights_only=True)
    # --8<-- [end:allow]
    assert checkpoint["accuracy"] == best_accuracy
    assert all(
        torch.equal(checkpoint["model_state_dict"][name], tensor)
        for name, tensor in model.state_dict().items()
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
