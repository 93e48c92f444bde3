"""PyTorch: save the weights, bring the class to load them."""

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

    path = out_dir / "mymodel.pt"
    torch.save(model.state_dict(), path)  # tensors only

    loaded = MyModel().to(device)  # the code comes from you
    loaded.load_state_dict(torch.load(path, weights_only=True))

    x = torch.randn(3, 10, device=device)
    assert torch.equal(loaded(x), model(x))
    print("same predictions:", torch.equal(loaded(x), model(x)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
