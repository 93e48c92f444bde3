"""Keep the last few checkpoints, and resume from the newest one that loads."""

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


# --8<-- [start:keep_last]
def save_and_keep_last(checkpoint, directory, epoch, keep=3):
    """Save this epoch's checkpoint under its own name, then delete all but `keep`."""
    assert keep >= 1
    torch.save(checkpoint, directory / f"checkpoint-epoch{epoch:04d}.pt")
    checkpoints = sorted(directory.glob("checkpoint-epoch*.pt"))  # oldest first
    for old in checkpoints[:-keep]:
        old.unlink()


def load_newest(directory):
    """The newest checkpoint that loads, and its file name; damaged ones skipped."""
    for path in sorted(directory.glob("checkpoint-epoch*.pt"), reverse=True):
        try:
            return torch.load(path, map_location="cpu", weights_only=True), path.name
        except (RuntimeError, pickle.UnpicklingError, EOFError) as err:
            print(f"skipping {path.name}: {type(err).__name__}")
    return None, None


# --8<-- [end:keep_last]


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    model = MyModel().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    inputs, targets = torch.randn(8, 10).to(device), torch.randn(8, 1).to(device)

    # --8<-- [start:train]
    for epoch in range(1, 7):
        optimizer.zero_grad()  # one step per "epoch", to keep the example short
        nn.functional.mse_loss(model(inputs), targets).backward()
        optimizer.step()
        checkpoint = {
            "epoch": epoch,
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
        }
        save_and_keep_last(checkpoint, out_dir, epoch, keep=3)
    kept = sorted(path.name for path in out_dir.glob("checkpoint-epoch*.pt"))
    print(kept)
    # --8<-- [end:train]
    assert kept == [
        "checkpoint-epoch0004.pt",
        "checkpoint-epoch0005.pt",
        "checkpoint-epoch0006.pt",
    ]

    # A crash while epoch 7 was being saved leaves a half-written newest file.
    epoch6_bytes = (out_dir / "checkpoint-epoch0006.pt").read_bytes()
    (out_dir / "checkpoint-epoch0007.pt").write_bytes(epoch6_bytes[:1000])
    # --8<-- [start:resume]
    checkpoint, name = load_newest(out_dir)
    print(f"resuming from {name}, epoch {checkpoint['epoch']}")
    # --8<-- [end:resume]
    assert name == "checkpoint-epoch0006.pt" and checkpoint["epoch"] == 6
    state = model.state_dict()  # the model is as it was after epoch 6
    assert all(torch.equal(checkpoint["model"][k].to(device), state[k]) for k in state)

    for path in out_dir.glob("checkpoint-epoch*.pt"):
        path.unlink()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
