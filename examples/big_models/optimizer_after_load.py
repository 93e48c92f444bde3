"""Make the optimizer after a load with assign=True: one made before holds the old."""

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
    path = out_dir / "mymodel.pt"
    torch.save(trained.state_dict(), path)
    inputs = torch.randn(8, 10, device=device)
    targets = torch.randn(8, 1, device=device)

    # --8<-- [start:too-early]
    with torch.device("meta"):
        model = MyModel()
    too_early = torch.optim.SGD(model.parameters(), lr=0.1)  # holds the meta tensors
    state_dict = torch.load(path, map_location=device, weights_only=True)
    model.load_state_dict(state_dict, assign=True)  # the model takes new tensors
    # --8<-- [end:too-early]
    held = too_early.param_groups[0]["params"]
    print("the optimizer holds the model's weights:", held[0] is model.fc1.weight)
    print("the optimizer holds meta tensors:", all(p.is_meta for p in held))
    assert held[0] is not model.fc1.weight and all(p.is_meta for p in held)

    before = model.fc1.weight.detach().clone()
    nn.functional.mse_loss(model(inputs), targets).backward()
    too_early.step()  # no error, and nothing happens
    changed = not torch.equal(model.fc1.weight, before)
    print("a step of that optimizer changed the weights:", changed)
    assert not changed

    # --8<-- [start:after]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)  # after the load
    # --8<-- [end:after]
    optimizer.zero_grad()
    nn.functional.mse_loss(model(inputs), targets).backward()
    optimizer.step()
    changed = not torch.equal(model.fc1.weight, before)
    print("a step of an optimizer made after the load changed them:", changed)
    assert changed


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
