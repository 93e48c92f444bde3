"""A plain instance: MyModel() with the random weights nn.Linear starts with."""

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


def same_weights(model_a, model_b):
    state_a, state_b = model_a.state_dict(), model_b.state_dict()
    return all(torch.equal(state_a[name], state_b[name]) for name in state_a)


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)

    # --8<-- [start:random]
    model_a = MyModel().to(device)
    model_b = MyModel().to(device)
    print("two plain instances, same weights:", same_weights(model_a, model_b))
    # --8<-- [end:random]
    assert not same_weights(model_a, model_b)

    # --8<-- [start:seed]
    torch.manual_seed(0)
    model_a = MyModel().to(device)
    torch.manual_seed(0)
    model_b = MyModel().to(device)
    print("after torch.manual_seed(0), same weights:", same_weights(model_a, model_b))
    # --8<-- [end:seed]
    assert same_weights(model_a, model_b)

    trained_model = MyModel().to(device)
    # ... train the model ...
    path = out_dir / "mymodel.pt"
    torch.save(trained_model.state_dict(), path)

    # --8<-- [start:load]
    model = MyModel().to(device)
    before = same_weights(model, trained_model)
    model.load_state_dict(torch.load(path, weights_only=True))
    after = same_weights(model, trained_model)
    print("same weights as the checkpoint, before loading:", before, "after:", after)
    # --8<-- [end:load]
    assert not before and after
    checkpoint = torch.load(path, weights_only=True)
    state = model.state_dict()
    assert all(torch.equal(state[name], checkpoint[name]) for name in checkpoint)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
