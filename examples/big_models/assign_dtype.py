"""assign=True keeps the checkpoint's dtype and device, not the model's."""

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
    trained = MyModel().to(device)
    path = out_dir / "mymodel_float16.pt"
    torch.save(trained.to(torch.float16).state_dict(), path)  # a float16 checkpoint

    # --8<-- [start:dtype]
    with torch.device("meta"):
        model = MyModel()  # float32, as every new model
    state_dict = torch.load(path, map_location=device, weights_only=True)
    model.load_state_dict(state_dict, assign=True)
    print("assign=True:", model.fc1.weight.dtype)  # the checkpoint's dtype

    copied = MyModel().to(device)  # float32 weights, randomly initialised
    state_dict = torch.load(path, map_location=device, weights_only=True)
    copied.load_state_dict(state_dict)  # copies the values into them
    print("copied:", copied.fc1.weight.dtype)  # the model's dtype
    # --8<-- [end:dtype]
    assert all(p.dtype == torch.float16 for p in model.parameters())
    assert all(p.dtype == torch.float32 for p in copied.parameters())
    assert torch.equal(copied.fc1.weight, model.fc1.weight.float())

    # A state_dict once passed with assign=True goes on assigning in later loads
    # (pytorch/pytorch#188166), hence the second torch.load above.
    MyModel().to(device).load_state_dict(state_dict, assign=True)
    reused = MyModel().to(device)
    reused.load_state_dict(state_dict)  # no assign=True, and yet:
    assert reused.fc1.weight.dtype == torch.float16

    # --8<-- [start:to-float]
    model.float()  # back to float32, if that is what you want
    # --8<-- [end:to-float]
    assert all(p.dtype == torch.float32 for p in model.parameters())

    # --8<-- [start:device]
    model = MyModel().to(device)
    state_dict = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state_dict, assign=True)
    print("assign=True, tensors loaded on the CPU:", model.fc1.weight.device)
    # --8<-- [end:device]
    assert all(p.device.type == "cpu" for p in model.parameters())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
