"""Why model.eval() matters after loading: dropout is random in training mode."""

import argparse
import tempfile
from pathlib import Path

import torch
from torch import nn


class MyModelWithDropout(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.dropout = nn.Dropout(p=0.5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.dropout(self.fc1(x)))


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "mymodel_dropout.pt"
    torch.manual_seed(0)

    trained_model = MyModelWithDropout().to(device)
    # ... train the model ...
    trained_model.eval()
    torch.save(trained_model.state_dict(), path)
    inputs = torch.randn(3, 10, device=device)
    with torch.no_grad():
        expected = trained_model(inputs)

    # --8<-- [start:train_mode]
    model = MyModelWithDropout().to(device)
    model.load_state_dict(torch.load(path, weights_only=True))
    print("training mode:", model.training)
    with torch.no_grad():
        first, second = model(inputs), model(inputs)
    print("same output twice:", torch.equal(first, second))
    print("same as the saved model:", torch.equal(first, expected))
    # --8<-- [end:train_mode]
    assert model.training
    assert not torch.equal(first, second)
    assert not torch.equal(first, expected) and not torch.equal(second, expected)

    # --8<-- [start:eval_mode]
    model.eval()
    print("training mode:", model.training)
    with torch.no_grad():
        first, second = model(inputs), model(inputs)
    print("same output twice:", torch.equal(first, second))
    print("same as the saved model:", torch.equal(first, expected))
    # --8<-- [end:eval_mode]
    assert not model.training
    assert torch.equal(first, second)
    assert torch.equal(first, expected)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
