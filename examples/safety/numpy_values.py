"""NumPy values in a checkpoint: the globals weights_only=True needs, or save floats."""

import argparse
import pickle
import tempfile
from pathlib import Path

import numpy as np
import torch


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    weights = torch.randn(5, 10, device=device)

    # --8<-- [start:save]
    path = out_dir / "checkpoint.pt"
    best_loss = np.float64(0.25)  # e.g. from np.mean(...)
    losses = np.array([0.5, 0.3, 0.25])
    torch.save({"weights": weights, "best_loss": best_loss, "losses": losses}, path)
    # --8<-- [end:save]

    # --8<-- [start:listed]
    listed = sorted(torch.serialization.get_unsafe_globals_in_checkpoint(path))
    print(listed)
    # --8<-- [end:listed]
    assert listed == [
        "numpy._core.multiarray._reconstruct",
        "numpy._core.multiarray.scalar",
        "numpy.dtype",
        "numpy.ndarray",
    ]

    # --8<-- [start:not_enough]
    listed_only = [
        np._core.multiarray._reconstruct,
        np._core.multiarray.scalar,
        np.dtype,
        np.ndarray,
    ]
    try:
        with torch.serialization.safe_globals(listed_only):
            torch.load(path, weights_only=True)
    except pickle.UnpicklingError as err:
        print(f"{type(err).__name__}: {err}")
        assert "but got <class 'numpy.dtypes.Float64DType'>" in str(err)
    else:
        raise AssertionError("loaded without the dtype's class")
    # --8<-- [end:not_enough]

    # --8<-- [start:allow]
    numpy_globals = [
        np._core.multiarray._reconstruct,  # rebuilds an ndarray
        np._core.multiarray.scalar,  # rebuilds a NumPy scalar such as np.float64
        np.dtype,
        np.ndarray,
        np.dtypes.Float64DType,  # the class of np.dtype("float64"): one per dtype
    ]
    with torch.serialization.safe_globals(numpy_globals):
        checkpoint = torch.load(path, weights_only=True, map_location=device)
    # --8<-- [end:allow]
    print(repr(checkpoint["best_loss"]), repr(checkpoint["losses"]))
    assert checkpoint["best_loss"] == best_loss
    assert np.array_equal(checkpoint["losses"], losses)
    assert torch.equal(checkpoint["weights"], weights)

    # --8<-- [start:plain]
    # Better: convert before saving. Python floats, lists and tensors need no allowlist.
    plain_path = out_dir / "checkpoint_plain.pt"
    torch.save(
        {
            "weights": weights,
            "best_loss": float(best_loss),  # or best_loss.item()
            "losses": torch.from_numpy(losses),  # or losses.tolist()
        },
        plain_path,
    )
    plain = torch.load(plain_path, weights_only=True, map_location=device)
    # --8<-- [end:plain]
    print(repr(plain["best_loss"]), plain["losses"].tolist())
    assert torch.serialization.get_unsafe_globals_in_checkpoint(plain_path) == []
    assert plain["best_loss"] == 0.25
    assert torch.equal(plain["losses"], torch.from_numpy(losses).to(device))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
