"""Fix "Weights only load failed ... GLOBAL argparse.Namespace": saved training args.

A training script that saves its parsed command-line arguments, an
`argparse.Namespace`, in the checkpoint makes a file that `torch.load` refuses by
default (`weights_only=True`). Save `vars(args)`, a plain dict, instead; for a file
you already have and trust, allow `argparse.Namespace` for the load.
"""

import argparse
import pickle
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
    train_parser = argparse.ArgumentParser()
    train_parser.add_argument("--lr", type=float, default=0.1)
    train_parser.add_argument("--epochs", type=int, default=10)
    args = train_parser.parse_args(["--lr", "0.01"])  # what the training run got
    model = MyModel().to(device)

    namespace_path = out_dir / "checkpoint_with_namespace.pt"
    torch.save({"model": model.state_dict(), "args": args}, namespace_path)
    try:
        torch.load(namespace_path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as err:
        error = err
    else:
        raise AssertionError("weights_only=True loaded an argparse.Namespace")
    print(f"{type(error).__name__}: {error}")
    assert "Unsupported global: GLOBAL argparse.Namespace" in str(error)

    # --8<-- [start:convert]
    # Fix 1, when saving: store the arguments as a dict.
    path = out_dir / "checkpoint.pt"
    torch.save({"model": model.state_dict(), "args": vars(args)}, path)
    checkpoint = torch.load(path, map_location=device, weights_only=True)
    args_again = argparse.Namespace(**checkpoint["args"])  # if you need a Namespace
    # --8<-- [end:convert]
    assert args_again == args and args_again.lr == 0.01
    assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == []

    # --8<-- [start:allow]
    # Fix 2, for an existing file you trust: allow argparse.Namespace, for this
    # load only.
    with torch.serialization.safe_globals([argparse.Namespace]):
        checkpoint = torch.load(namespace_path, map_location=device, weights_only=True)
    # --8<-- [end:allow]
    assert checkpoint["args"] == args
    assert argparse.Namespace not in torch.serialization.get_safe_globals()
    for loaded in (
        checkpoint,
        torch.load(path, map_location=device, weights_only=True),
    ):
        for name, tensor in model.state_dict().items():
            assert torch.equal(loaded["model"][name], tensor)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
