"""What a saved state_dict holds: parameter names and tensors, no code."""

import argparse
import pickletools
import tempfile
import zipfile
from collections import OrderedDict
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

    # --8<-- [start:open]
    state_dict = torch.load(path, weights_only=True)
    print(type(state_dict))
    for name, tensor in state_dict.items():
        print(name, type(tensor).__name__, tuple(tensor.shape))
    # --8<-- [end:open]
    assert type(state_dict) is OrderedDict
    assert list(state_dict) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert all(type(tensor) is torch.Tensor for tensor in state_dict.values())

    # --8<-- [start:call]
    x = torch.randn(3, 10, device=device)
    try:
        state_dict(x)
    except TypeError as err:
        print(f"{type(err).__name__}: {err}")
        assert "'collections.OrderedDict' object is not callable" in str(err)
    else:
        raise AssertionError("a state_dict cannot run")
    # --8<-- [end:call]

    # --8<-- [start:zip]
    with zipfile.ZipFile(path) as archive:
        for member in archive.infolist():
            print(member.filename, member.file_size)
        pickled = archive.read("mymodel/data.pkl")
    # --8<-- [end:zip]
    assert "mymodel/data/0" in archive.namelist()

    # --8<-- [start:globals]
    python_names = [
        arg for opcode, arg, _ in pickletools.genops(pickled) if opcode.name == "GLOBAL"
    ]
    print(python_names)
    # --8<-- [end:globals]
    assert "collections OrderedDict" in python_names
    assert b"MyModel" not in pickled and b"forward" not in pickled

    # --8<-- [start:instance]
    new_model = MyModel().to(device)  # the code: layers and forward()
    new_model.load_state_dict(state_dict)  # the data: the tensors from the file
    same = torch.equal(new_model(x), model(x))
    print("class + file, same outputs as the saved model:", same)
    # --8<-- [end:instance]
    assert same


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
