"""Fix "Cannot use ``weights_only=True`` with TorchScript archives": use torch.jit.load.

A file made with `torch.jit.save` (or `scripted_model.save`) is a TorchScript
archive: the model's code and weights, not a pickle for torch.load. Load it with
`torch.jit.load`, which needs no class and no weights_only.
"""

import argparse
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
    model = MyModel().to(device).eval()
    path = out_dir / "mymodel_scripted.pt"
    torch.jit.script(model).save(path)  # TorchScript (deprecated, still common)

    try:
        torch.load(path, map_location=device, weights_only=True)
    except RuntimeError as err:
        error = err
    else:
        raise AssertionError("torch.load read a TorchScript archive")
    print(f"{type(error).__name__}: {error}")
    assert "Cannot use ``weights_only=True`` with TorchScript archives" in str(error)

    # --8<-- [start:fix]
    scripted = torch.jit.load(path, map_location=device)
    # --8<-- [end:fix]
    inputs = torch.randn(3, 10, device=device)
    with torch.no_grad():
        assert torch.equal(scripted(inputs), model(inputs))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
