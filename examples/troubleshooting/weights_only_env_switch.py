"""Fix "Environment variable TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD detected".

With `TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1` in the environment (set in a shell
profile, a launcher script or a container image), every `torch.load` call that does
not pass `weights_only` loads with `weights_only=False` and warns: a file loaded
that way can run any code. Unset the variable, and allow the classes a trusted
file needs instead.
"""

import argparse
import os
import pickle
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn

SWITCH = "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"


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
    args = argparse.Namespace(lr=0.01, epochs=10)
    path = out_dir / "checkpoint.pt"
    torch.save({"model": model.state_dict(), "args": args}, path)

    switch_before = os.environ.get(SWITCH)
    try:
        os.environ[SWITCH] = "1"  # as a shell profile or a Dockerfile would set it
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            torch.load(path, map_location=device)  # no weights_only: loads anything
        warning = caught[0]
        print(f"{warning.category.__name__}: {warning.message}")
        assert warning.category is UserWarning
        assert "forcing weights_only=False" in str(warning.message)

        # --8<-- [start:unset]
        # In the shell: unset TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD
        # or in Python, before the first torch.load (torch reads it on each call):
        os.environ.pop("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", None)
        # Then allow only what the file needs, if you trust it:
        print(torch.serialization.get_unsafe_globals_in_checkpoint(path))
        with torch.serialization.safe_globals([argparse.Namespace]):
            checkpoint = torch.load(path, map_location=device, weights_only=True)
        # --8<-- [end:unset]
        assert SWITCH not in os.environ
        assert checkpoint["args"] == args
        for name, tensor in model.state_dict().items():
            assert torch.equal(checkpoint["model"][name], tensor)
        # With the switch unset, the default refuses the file again.
        try:
            torch.load(path, map_location=device)
        except pickle.UnpicklingError as err:
            assert "GLOBAL argparse.Namespace" in str(err)
        else:
            raise AssertionError("the default loaded an argparse.Namespace")
    finally:
        if switch_before is None:
            os.environ.pop(SWITCH, None)
        else:
            os.environ[SWITCH] = switch_before


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
