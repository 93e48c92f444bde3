"""Save a model's state_dict: the recommended way to save a PyTorch model."""

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
    model = MyModel().to(device)
    # ... train the model ...

    # --8<-- [start:save]
    path = out_dir / "mymodel.pt"
    torch.save(model.state_dict(), path)
    # --8<-- [end:save]

    # --8<-- [start:inspect]
    state_dict = torch.load(path, weights_only=True)
    for name, tensor in state_dict.items():
        print(name, tuple(tensor.shape))
    # --8<-- [end:inspect]
    assert list(state_dict) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert all(torch.equal(state_dict[k], v) for k, v in model.state_dict().items())

    # --8<-- [start:metadata]
    print(dict(state_dict._metadata))  # each module's version, saved with the dict
    # --8<-- [end:metadata]
    assert state_dict._metadata == model.state_dict()._metadata
    assert dict(state_dict._metadata) == {
        "": {"version": 1},
        "fc1": {"version": 1},
        "fc2": {"version": 1},
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
