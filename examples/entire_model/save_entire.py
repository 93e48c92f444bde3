"""Save the entire model with torch.save(model): what loading it takes today."""

import argparse
import pickle
import tempfile
from pathlib import Path

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
    x = torch.randn(3, 10, device=device)

    # --8<-- [start:save]
    path = out_dir / "entire_model.pt"
    torch.save(model, path)  # the whole object, pickled
    # --8<-- [end:save]

    # --8<-- [start:refused]
    try:
        torch.load(path, weights_only=True)  # the default since PyTorch 2.6
    except pickle.UnpicklingError as err:
        print(f"{type(err).__name__}: {err}")
        assert "Weights only load failed" in str(err)
        assert f"Unsupported global: GLOBAL {MyModel.__module__}.MyModel" in str(err)
    else:
        raise AssertionError("weights_only=True must refuse a pickled nn.Module")
    # --8<-- [end:refused]

    # --8<-- [start:unsafe_globals]
    print(sorted(torch.serialization.get_unsafe_globals_in_checkpoint(path)))
    # --8<-- [end:unsafe_globals]
    assert sorted(torch.serialization.get_unsafe_globals_in_checkpoint(path)) == [
        f"{MyModel.__module__}.MyModel",
        "torch.nn.modules.linear.Linear",
    ]
    try:  # allowing MyModel alone is not enough: nn.Linear is refused next
        with torch.serialization.safe_globals([MyModel]):
            torch.load(path, weights_only=True)
    except pickle.UnpicklingError as err:
        assert "GLOBAL torch.nn.modules.linear.Linear was not an allowed" in str(err)
    else:
        raise AssertionError("nn.Linear is not allowed by default")

    # --8<-- [start:safe_globals]
    with torch.serialization.safe_globals([MyModel, nn.Linear]):
        loaded = torch.load(path, weights_only=True)
    # --8<-- [end:safe_globals]
    assert type(loaded) is MyModel
    assert torch.equal(loaded(x), model(x))

    # --8<-- [start:trusted]
    # Only for a file you trust: unpickling can run any code the file names.
    loaded = torch.load(path, weights_only=False)
    # --8<-- [end:trusted]
    assert type(loaded) is MyModel
    assert torch.equal(loaded(x), model(x))
    print("same predictions:", torch.equal(loaded(x), model(x)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
