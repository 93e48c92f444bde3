"""Fix "Cannot use weights_only=True with files saved in the legacy .tar format".

A file of zeros is not a tar archive, but Python's tarfile reads 512 zero bytes
as the end of an empty one, so torch.load takes it for its oldest format (a tar
archive) and says weights_only=False would work. It would not: the file holds
nothing. Such files are what a save whose data never reached the disk can leave
after a power cut. Look at the first bytes, and use another copy.
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
    previous = out_dir / "checkpoint_epoch4.pt"
    torch.save(model.state_dict(), previous)
    path = out_dir / "checkpoint.pt"  # the right size, but only zeros
    path.write_bytes(bytes(previous.stat().st_size))

    try:
        torch.load(path, map_location=device, weights_only=True)
    except RuntimeError as err:
        error = err
    else:
        raise AssertionError("a file of zeros loaded")
    print(f"{type(error).__name__}: {error}")
    assert "legacy .tar format" in str(error)

    # What the message suggests, weights_only=False, does not load it either.
    # (Safe here only because this script wrote the file itself: never do this
    # with a file from someone else, it can run any code.)
    try:
        torch.load(path, map_location=device, weights_only=False)
    except KeyError as err:
        error = err
    else:
        raise AssertionError("a file of zeros loaded")
    print(f"{type(error).__name__}: {error}")
    assert str(error) == "\"filename 'storages' not found\""

    # --8<-- [start:check]
    with open(path, "rb") as f:
        start = f.read(512)
    print("starts with:", start[:8])
    print("first 512 bytes all zero:", start == bytes(512))
    # --8<-- [end:check]
    assert start == bytes(512)

    # --8<-- [start:fix]
    state_dict = torch.load(previous, map_location=device, weights_only=True)
    new_model = MyModel().to(device)
    new_model.load_state_dict(state_dict)  # the last good checkpoint
    # --8<-- [end:fix]
    inputs = torch.randn(3, 10, device=device)
    with torch.no_grad():
        assert torch.equal(new_model(inputs), model(inputs))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
