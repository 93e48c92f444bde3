"""Outputs differ after loading: call model.eval() before predicting.

A new model starts in training mode, and loading weights does not change that. In
training mode Dropout zeroes random activations and BatchNorm normalizes with the
batch's own statistics (and updates its saved ones), so predictions change from run
to run. `model.eval()` switches both to their inference behaviour.
"""

import argparse
import tempfile
from pathlib import Path

import torch
from torch import nn


class MyModelWithDropout(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.norm = nn.BatchNorm1d(5)
        self.dropout = nn.Dropout(0.5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.dropout(self.norm(self.fc1(x))))


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    model = MyModelWithDropout().to(device)
    model.train()
    with torch.no_grad():
        for _ in range(10):  # stands in for training: BatchNorm's statistics move
            model(torch.randn(16, 10, device=device) * 3 + 1)
    model.eval()
    inputs = torch.randn(4, 10, device=device)
    with torch.no_grad():
        expected = model(inputs)
    path = out_dir / "mymodel.pt"
    torch.save(model.state_dict(), path)

    # --8<-- [start:forgot]
    new_model = MyModelWithDropout().to(device)
    new_model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    print("training mode after loading:", new_model.training)
    with torch.no_grad():
        outputs = new_model(inputs)  # no new_model.eval(): training mode
    print("same outputs without eval():", torch.equal(outputs, expected))
    # --8<-- [end:forgot]
    assert new_model.training
    assert not torch.equal(outputs, expected)
    # That call in training mode also updated BatchNorm's running statistics.
    saved = torch.load(path, map_location=device, weights_only=True)
    assert not torch.equal(new_model.norm.running_mean, saved["norm.running_mean"])

    # --8<-- [start:fix]
    new_model = MyModelWithDropout().to(device)
    new_model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    new_model.eval()
    with torch.no_grad():
        outputs = new_model(inputs)
    print("same outputs with eval():", torch.equal(outputs, expected))
    # --8<-- [end:fix]
    assert torch.equal(outputs, expected)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
