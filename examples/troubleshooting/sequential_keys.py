"""Fix "Error(s) in loading state_dict for Sequential: Missing key(s): "0.weight"".

The keys of a state_dict are attribute names: "fc1.weight" in a class that sets
self.fc1, but "0.weight" in an nn.Sequential, which names its layers by position.
A file saved from one does not load into the other, even when the layers are the
same. Rename the keys by position, checking that the shapes match pair by pair.
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
    model = MyModel().to(device)
    path = out_dir / "mymodel.pt"
    torch.save(model.state_dict(), path)

    # The same layers, rebuilt as an nn.Sequential: names "0." and "1.".
    sequential = nn.Sequential(nn.Linear(10, 5), nn.Linear(5, 1)).to(device)
    state_dict = torch.load(path, map_location=device, weights_only=True)
    try:
        sequential.load_state_dict(state_dict)
    except RuntimeError as err:
        error = err
    else:
        raise AssertionError("the names differ: loading must fail")
    print(f"{type(error).__name__}: {error}")
    assert 'Missing key(s) in state_dict: "0.weight", "0.bias"' in str(error)
    assert 'Unexpected key(s) in state_dict: "fc1.weight", "fc1.bias"' in str(error)

    # --8<-- [start:fix]
    # Pair the names by position, and check each pair's shapes.
    sequential_state_dict = sequential.state_dict()
    renamed = {}
    for (new_name, new_tensor), (old_name, tensor) in zip(
        sequential_state_dict.items(), state_dict.items(), strict=True
    ):
        assert new_tensor.shape == tensor.shape, (new_name, old_name)
        print(old_name, "->", new_name)
        renamed[new_name] = tensor
    sequential.load_state_dict(renamed)
    # --8<-- [end:fix]
    inputs = torch.randn(3, 10, device=device)
    with torch.no_grad():
        assert torch.equal(sequential(inputs), model(inputs))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
