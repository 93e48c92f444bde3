"""The optimizer's state: Adam triples a checkpoint, SGD with momentum doubles it.

Adam (and AdamW) keep two running averages per parameter, `exp_avg` and
`exp_avg_sq`, each the parameter's size, plus a one-number `step`; with
`amsgrad=True` a third, `max_exp_avg_sq`, makes the checkpoint 4 times the
weights. SGD keeps a `momentum_buffer` per parameter when `momentum` is set, and
nothing without it. The state appears at the first `step()`.
"""

import argparse
import tempfile
from pathlib import Path

import torch
from torch import nn


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(1000, 500)
        self.fc2 = nn.Linear(500, 1000)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def checkpoint_ratio(model, optimizer, out_dir, name):
    """Size of a checkpoint with the optimizer's state / size of the weights alone."""
    torch.save(model.state_dict(), out_dir / "weights.pt")
    checkpoint = {"model": model.state_dict(), "optimizer": optimizer.state_dict()}
    torch.save(checkpoint, out_dir / f"{name}.pt")
    weights_size = (out_dir / "weights.pt").stat().st_size
    return (out_dir / f"{name}.pt").stat().st_size / weights_size


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    model = MyModel().to(device)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"parameters: {n_params:,}")
    inputs = torch.randn(8, 1000, device=device)

    # --8<-- [start:adam]
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = checkpoint_ratio(model, optimizer, out_dir, "adam_before_step")
    model(inputs).square().mean().backward()
    optimizer.step()
    after = checkpoint_ratio(model, optimizer, out_dir, "adam")
    print(f"Adam: before the first step {before:.2f}x the weights, after {after:.2f}x")
    print("state of one parameter:", list(optimizer.state_dict()["state"][0]))
    # --8<-- [end:adam]
    # The file's own overhead (names, a header per tensor) is about 1.5 kB plus
    # about 0.2 kB per tensor: under 0.1 % of these 4 MB of weights.
    assert abs(before - 1) < 0.001
    assert abs(after - 3) < 0.005
    assert list(optimizer.state_dict()["state"][0]) == ["step", "exp_avg", "exp_avg_sq"]

    ratios = {}
    for name, momentum in [("sgd", 0.0), ("sgd_momentum", 0.9)]:
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=momentum)
        model(inputs).square().mean().backward()
        optimizer.step()
        ratios[name] = checkpoint_ratio(model, optimizer, out_dir, name)
    print(f"SGD: {ratios['sgd']:.2f}x, with momentum: {ratios['sgd_momentum']:.2f}x")
    assert abs(ratios["sgd"] - 1) < 0.001
    assert abs(ratios["sgd_momentum"] - 2) < 0.005

    # --8<-- [start:amsgrad]
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, amsgrad=True)
    model(inputs).square().mean().backward()
    optimizer.step()
    ratio = checkpoint_ratio(model, optimizer, out_dir, "amsgrad")
    print(f"Adam(amsgrad=True): {ratio:.2f}x the weights")
    print("state of one parameter:", list(optimizer.state_dict()["state"][0]))
    # --8<-- [end:amsgrad]
    four = ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
    assert abs(ratio - 4) < 0.005
    assert list(optimizer.state_dict()["state"][0]) == four
    adamw = torch.optim.AdamW(model.parameters(), lr=1e-3, amsgrad=True)
    model(inputs).square().mean().backward()
    adamw.step()
    assert list(adamw.state_dict()["state"][0]) == four  # AdamW keeps the same


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
