"""TorchScript: the older way to save the architecture with the weights (deprecated)."""

import argparse
import tempfile
import warnings
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
    model = MyModel().to(device).eval()
    # ... train the model ...

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # show them: Python hides them by default
        # --8<-- [start:script]
        scripted = torch.jit.script(model)
        path = out_dir / "mymodel_scripted.pt"
        torch.jit.save(scripted, path)

        loaded = torch.jit.load(path, map_location=device)  # no MyModel needed
        # --8<-- [end:script]
    for warning in caught:
        print(f"{warning.category.__name__}: {warning.message}")

    deprecations = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert len(deprecations) == 3, [str(w.message) for w in caught]
    assert all("`torch.export`" in str(w.message) for w in deprecations)
    x = torch.randn(4, 10, device=device)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
