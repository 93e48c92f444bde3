"""Load a model: create an instance of its class, load the state_dict, call eval()."""

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
    PATH = out_dir / "mymodel.pt"

    # Save (see the "Save a model" page): the trained model's weights.
    trained_model = MyModel().to(device)
    # ... train the model ...
    torch.save(trained_model.state_dict(), PATH)

    # --8<-- [start:load]
    model = MyModel().to(device)
    result = model.load_state_dict(torch.load(PATH, weights_only=True))
    print(result)
    model.eval()
    # --8<-- [end:load]
    assert result.missing_keys == [] and result.unexpected_keys == []

    # --8<-- [start:check]
    inputs = torch.randn(3, 10, device=device)
    with torch.no_grad():
        same = torch.equal(model(inputs), trained_model(inputs))
    print("same outputs as the saved model:", same)
    # --8<-- [end:check]
    assert same


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
