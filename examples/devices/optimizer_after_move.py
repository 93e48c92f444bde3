"""Moving a model keeps its Parameters; load the optimizer's state after the move.

model.to() changes each parameter in place, so an optimizer built before the move
still holds the model's parameters. optimizer.load_state_dict() is different: it
copies the saved state to the device and dtype that the parameters have when it
runs, and a later model.to() does not move that state.
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
    inputs = torch.randn(4, 10, device=device, dtype=dtype)
    targets = torch.randn(4, 1, device=device, dtype=dtype)
    loss = nn.functional.mse_loss(model(inputs), targets)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    device = torch.device(device)

    # A training checkpoint saved on the CPU, in float32, after one Adam step.
    model = MyModel()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train_step(model, optimizer, "cpu")
    path = out_dir / "checkpoint.pt"
    torch.save(
        {
            "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(),
        },
        path,
    )

    # --8<-- [start:same]
    model = MyModel()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = list(model.parameters())
    model.to(device)
    after = list(model.parameters())
    same = all(p is q for p, q in zip(before, after, strict=True))
    held = optimizer.param_groups[0]["params"]
    print("same Parameter objects after .to():", same)
    print(
        "the optimizer holds them:",
        all(p is q for p, q in zip(held, after, strict=True)),
    )
    # --8<-- [end:same]
    assert len(before) == len(after) == len(held) == 4
    assert same
    assert all(p is q for p, q in zip(held, after, strict=True))
    assert all(p.device.type == device.type for p in held)
    assert not torch.__future__.get_overwrite_module_params_on_conversion()
    train_step(model, optimizer, device)  # the optimizer built before the move works
    assert all(len(optimizer.state[p]) == 3 for p in after)  # step, exp_avg, exp_avg_sq

    # Two global switches change this. With the first, .to() puts new Parameter
    # objects in the model, and an optimizer built before keeps the old ones. The
    # second swaps each parameter's contents (torch.utils.swap_tensors): the
    # objects stay the same.
    flags = torch.__future__
    for switch, keeps_objects in [
        (flags.set_overwrite_module_params_on_conversion, False),
        (flags.set_swap_module_params_on_conversion, True),
    ]:
        model = MyModel()
        before = list(model.parameters())
        switch(True)
        try:
            model.to(device, torch.float16)
        finally:
            switch(False)
        after = list(model.parameters())
        assert all(p.dtype == torch.float16 for p in after)
        same = [p is q for p, q in zip(before, after, strict=True)]
        assert all(same) if keeps_objects else not any(same)
    assert not flags.get_overwrite_module_params_on_conversion()
    assert not flags.get_swap_module_params_on_conversion()
    # Buffers are another matter: .to() puts new tensors in the module.
    norm = nn.BatchNorm1d(5)
    running_mean = norm.running_mean
    norm.to(device, torch.float16)
    assert norm.running_mean is not running_mean
    # Moving to the meta device (tensors with no data) makes new objects too.
    model = MyModel()
    before = list(model.parameters())
    model.to("meta")
    assert not any(p is q for p, q in zip(before, model.parameters(), strict=True))

    # --8<-- [start:too_early]
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model = MyModel()
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])  # too early
    model.to(device, torch.float16)  # moves the parameters, not the optimizer's state
    exp_avg = optimizer.state[model.fc1.weight]["exp_avg"]
    print("fc1.weight:", model.fc1.weight.dtype, "| exp_avg:", exp_avg.dtype)
    # --8<-- [end:too_early]
    assert model.fc1.weight.dtype == torch.float16
    assert model.fc1.weight.device.type == device.type
    for param in model.parameters():  # all the state stayed float32 on the CPU
        for key in ("exp_avg", "exp_avg_sq"):
            assert optimizer.state[param][key].dtype == torch.float32
            assert optimizer.state[param][key].device.type == "cpu"
    try:
        train_step(model, optimizer, device, torch.float16)
    except RuntimeError as err:
        print(f"optimizer.step(): {type(err).__name__}: {err}")
    else:
        raise AssertionError("a step with state left behind worked")

    # --8<-- [start:right]
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model = MyModel()
    model.load_state_dict(checkpoint["model_state_dict"])
    model.to(device, torch.float16)  # 1. move the model
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)  # 2. then the optimizer
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])  # 3. then its state
    exp_avg = optimizer.state[model.fc1.weight]["exp_avg"]
    print("fc1.weight:", model.fc1.weight.dtype, "| exp_avg:", exp_avg.dtype)
    # --8<-- [end:right]
    saved_state = checkpoint["optimizer_state_dict"]["state"]
    for index, param in enumerate(model.parameters()):
        state = optimizer.state[param]
        for key in ("exp_avg", "exp_avg_sq"):
            assert state[key].dtype == param.dtype == torch.float16
            assert state[key].device == param.device
            assert torch.equal(state[key].cpu(), saved_state[index][key].half())
        # Adam keeps `step` as a float32 CPU tensor (unless fused or capturable).
        assert state["step"].device.type == "cpu"
        assert state["step"].dtype == torch.float32
    train_step(model, optimizer, device, torch.float16)
    assert int(optimizer.state[model.fc1.weight]["step"]) == 2
    print("step after one more batch:", int(optimizer.state[model.fc1.weight]["step"]))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, mps, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
