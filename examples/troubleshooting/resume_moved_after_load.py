"""Fix "expected dtype float for `end` but got dtype double": a model changed too late.

`optimizer.load_state_dict` casts each saved state tensor (Adam's running averages)
to the device and dtype that its parameter has at the time of the call. Move or
convert the model after that, and the optimizer's state stays as it was: on the CPU
and in float32 here. A later dtype change makes the next `optimizer.step()` fail; the
script shows it on the CPU. Move or convert the model first, then create the
optimizer and load its state.
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


def train_step(model, optimizer, device, dtype=torch.float32):
    inputs = torch.randn(8, 10, device=device, dtype=dtype)
    targets = torch.randn(8, 1, device=device, dtype=dtype)
    optimizer.zero_grad()
    nn.functional.mse_loss(model(inputs), targets).backward()
    optimizer.step()


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    model = MyModel().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train_step(model, optimizer, device)  # Adam now has state to save
    path = out_dir / "checkpoint.pt"
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, path)
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)

    # --8<-- [start:too_late]
    model = MyModel()  # on the CPU, in float32
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])  # state cast: CPU, float32
    model.to(device)  # too late: the optimizer's state does not follow
    # --8<-- [end:too_late]
    exp_avg = optimizer.state[model.fc1.weight]["exp_avg"]
    print(f"exp_avg stays on the CPU: {exp_avg.device.type == 'cpu'}")
    assert exp_avg.device.type == "cpu"
    assert model.fc1.weight.device.type == torch.device(device).type
    if torch.device(device).type == "cpu":
        train_step(model, optimizer, device)  # nothing moved: the step runs

    # A dtype change after the load shows what goes wrong, on the CPU.
    model = MyModel()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])  # state cast: float32
    model.double()  # too late: the parameters become float64, the state does not
    try:
        train_step(model, optimizer, "cpu", torch.float64)
    except RuntimeError as err:
        error = err
    else:
        raise AssertionError("the step accepted float32 state for float64 weights")
    print(f"{type(error).__name__}: {error}")
    assert "expected dtype float for `end` but got dtype double" in str(error)

    # --8<-- [start:fix]
    model = MyModel()
    model.load_state_dict(checkpoint["model"])
    model.to(device, torch.float64)  # 1. move and convert the model first,
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)  # 2. then the optimizer
    optimizer.load_state_dict(checkpoint["optimizer"])  # 3. state cast to the params
    # --8<-- [end:fix]
    for param in model.parameters():
        for key, value in optimizer.state[param].items():
            if key != "step":  # Adam keeps its step counter on the CPU, in float32
                assert value.device == param.device and value.dtype == torch.float64
    exp_avg = optimizer.state[model.fc1.weight]["exp_avg"]
    print(f"after the fix, exp_avg is {exp_avg.dtype}, on the weights' device")
    train_step(model, optimizer, device, torch.float64)  # no error


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
