"""Fix "The source state dict is empty": a GradScaler state saved from a disabled one.

A disabled GradScaler returns {} from state_dict(). A scaler is disabled when made
with enabled=False, and also when made for "cuda" (the default) on a machine without
CUDA: it then warns "torch.cuda.amp.GradScaler is enabled, but CUDA is not
available.  Disabling.". Loading that {} into an enabled scaler raises. Make the
scaler for the device you train on, and load its state only when there is one.
"""

import argparse
import tempfile
import warnings
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
    device_type = torch.device(device).type
    model = MyModel().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    # A run without mixed precision; on a machine without CUDA,
    # torch.amp.GradScaler("cuda") gives the same: a disabled scaler.
    scaler = torch.amp.GradScaler(device_type, enabled=False)
    path = out_dir / "checkpoint.pt"
    checkpoint = {"model": model.state_dict(), "optimizer": optimizer.state_dict()}
    checkpoint["scaler"] = scaler.state_dict()
    torch.save(checkpoint, path)
    print("the saved scaler state:", checkpoint["scaler"])
    assert checkpoint["scaler"] == {}

    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    scaler = torch.amp.GradScaler(device_type)  # enabled, as by default
    try:
        scaler.load_state_dict(checkpoint["scaler"])
    except RuntimeError as err:
        error = err
    else:
        raise AssertionError("an enabled GradScaler loaded an empty state")
    print(f"{type(error).__name__}: {error}")
    assert "The source state dict is empty" in str(error)

    # --8<-- [start:fix]
    scaler = torch.amp.GradScaler(device_type)  # "cuda" or "cpu": where you train
    if checkpoint["scaler"]:  # {} when the saving run's scaler was disabled
        scaler.load_state_dict(checkpoint["scaler"])
    # --8<-- [end:fix]
    assert scaler.is_enabled() and scaler.get_scale() == 2.0**16  # a fresh start

    if not torch.cuda.is_available():  # a "cuda" scaler without CUDA: disabled too
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cuda_scaler = torch.amp.GradScaler("cuda")
        assert not cuda_scaler.is_enabled() and cuda_scaler.state_dict() == {}
        assert "CUDA is not available.  Disabling." in str(caught[0].message)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
