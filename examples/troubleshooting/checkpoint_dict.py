"""Fix "Unexpected key(s) in state_dict: "epoch", "model_state_dict"": a checkpoint.

A training checkpoint is a dictionary that holds the model's state_dict under one of
its keys, beside the optimizer's state and the epoch. Pass that entry, not the whole
checkpoint, to `load_state_dict`.
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
    inputs = torch.randn(3, 10, device=device)
    model = MyModel().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    # ... train the model ...

    path = out_dir / "checkpoint.pt"
    checkpoint = {
        "epoch": 5,
        "model_state_dict": model.state_dict(),
        "optimizer_state_dict": optimizer.state_dict(),
        "loss": 0.25,
    }
    torch.save(checkpoint, path)

    new_model = MyModel().to(device)
    checkpoint = torch.load(path, map_location=device, weights_only=True)
    try:
        new_model.load_state_dict(checkpoint)
    except RuntimeError as err:
        error = err
    else:
        raise AssertionError("load_state_dict accepted the whole checkpoint")
    print(f"{type(error).__name__}: {error}")
    assert 'Unexpected key(s) in state_dict: "epoch", "model_state_dict"' in str(error)

    # --8<-- [start:fix]
    checkpoint = torch.load(path, map_location=device, weights_only=True)
    print("checkpoint keys:", list(checkpoint))
    new_model.load_state_dict(checkpoint["model_state_dict"])
    # --8<-- [end:fix]
    with torch.no_grad():
        assert torch.equal(new_model(inputs), model(inputs))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
