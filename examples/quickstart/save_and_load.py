"""The short answer: save the state_dict, rebuild the class, load."""

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
    path = out_dir / "mymodel.pt"

    # 1. Save: only the weights, as a dict of tensors.
    model = MyModel().to(device)
    torch.save(model.state_dict(), path)

    # 2. Rebuild: a plain instance of the same class (its weights are random).
    loaded = MyModel().to(device)

    # 3. Load the weights into it, then switch to inference mode.
    print(loaded.load_state_dict(torch.load(path, weights_only=True)))
    loaded.eval()

    x = torch.randn(3, 10, device=device)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
    print("same outputs:", torch.equal(loaded(x), model(x)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
