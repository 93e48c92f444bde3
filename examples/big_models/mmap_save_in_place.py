"""With mmap=True, weights left on the CPU are the file: never save over that file."""

import argparse
import os
import signal
import subprocess
import sys
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


# Saving over the mapped file, in a child process: on Linux it kills the process.
# (A bigger layer than MyModel's, whose weights all fit in one 4 KiB page.)
SAVE_IN_PLACE = """
import sys
import torch
from torch import nn

path = sys.argv[1]
torch.save(nn.Linear(1000, 1000).state_dict(), path)
# --8<-- [start:in-place]
with torch.device("meta"):
    model = nn.Linear(1000, 1000)
state_dict = torch.load(path, mmap=True, map_location="cpu", weights_only=True)
model.load_state_dict(state_dict, assign=True)
torch.save(model.state_dict(), path)  # over the file that the weights are mapped from
# --8<-- [end:in-place]
"""


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    child = subprocess.run(
        [sys.executable, "-c", SAVE_IN_PLACE, str(out_dir / "big.pt")],
        capture_output=True,
    )
    killed_by = signal.Signals(-child.returncode).name if child.returncode < 0 else None
    print("saving over the mapped file killed the process:", killed_by)
    assert child.returncode == -signal.SIGBUS, child

    path = out_dir / "mymodel.pt"
    torch.save(MyModel().state_dict(), path)
    with torch.device("meta"):
        model = MyModel()
    state_dict = torch.load(path, mmap=True, map_location="cpu", weights_only=True)
    model.load_state_dict(state_dict, assign=True)
    model.to(device)
    with torch.no_grad():
        model.fc2.bias.zero_()  # a change to the weights (training, say)...
    on_disk = torch.load(path, weights_only=True)["fc2.bias"]
    assert not torch.equal(on_disk, torch.zeros_like(on_disk))  # ...is not in the file

    loaded = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    # --8<-- [start:replace]
    temp_path = path.with_name(path.name + ".tmp")
    torch.save(model.state_dict(), temp_path)
    os.replace(temp_path, path)  # a new file takes the name; the mapped one lives on
    # --8<-- [end:replace]
    unchanged = all(torch.equal(model.state_dict()[k], loaded[k]) for k in loaded)
    print("saving to a new file and renaming it left the model unchanged:", unchanged)
    assert unchanged
    saved = torch.load(path, map_location=device, weights_only=True)
    assert all(torch.equal(saved[k], loaded[k]) for k in loaded)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
