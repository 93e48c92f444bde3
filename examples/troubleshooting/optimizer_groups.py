"""Fix "loaded state dict contains a parameter group that doesn't match the size of
optimizer's group": build the optimizer as it was when it was saved.

An optimizer's state_dict refers to parameters by position, not by name. Loading it
checks that each group holds as many parameters as the saved one. Build the
optimizer over the same parameters, in the same groups, then load its state; if the
model itself changed, start a new optimizer instead.
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


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    model = MyModel().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)  # 4 parameters
    loss = model(torch.randn(8, 10, device=device)).pow(2).mean()
    loss.backward()
    optimizer.step()
    path = out_dir / "checkpoint.pt"
    torch.save(
        {
            "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(),
        },
        path,
    )

    checkpoint = torch.load(path, map_location=device, weights_only=True)
    new_model = MyModel().to(device)
    new_model.load_state_dict(checkpoint["model_state_dict"])
    # Two ways to build it differently: over fc2 alone (fc1 frozen), in two groups.
    only_fc2 = torch.optim.Adam(new_model.fc2.parameters(), lr=1e-3)
    two_groups = torch.optim.Adam(
        [
            {"params": new_model.fc1.parameters()},
            {"params": new_model.fc2.parameters()},
        ],
        lr=1e-3,
    )
    expected_errors = [
        (
            only_fc2,
            "loaded state dict contains a parameter group that doesn't match "
            "the size of optimizer's group",
        ),
        (two_groups, "loaded state dict has a different number of parameter groups"),
    ]
    for wrong_optimizer, expected in expected_errors:
        try:
            wrong_optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
        except ValueError as err:
            error = err
        else:
            raise AssertionError("an optimizer built differently loaded the state")
        print(f"{type(error).__name__}: {error}")
        assert str(error) == expected

    # --8<-- [start:fix]
    # Build the optimizer exactly as the training script did, then load its state.
    new_optimizer = torch.optim.Adam(new_model.parameters(), lr=1e-3)
    new_optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    # --8<-- [end:fix]
    saved_state = optimizer.state_dict()["state"]
    loaded_state = new_optimizer.state_dict()["state"]
    assert all(
        torch.equal(loaded_state[i]["exp_avg"], saved_state[i]["exp_avg"])
        for i in saved_state
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
