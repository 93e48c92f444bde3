"""A model saved whole loads only where its class can be found by name."""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

# Two separate Python processes, like a train.py and a predict.py.
# --8<-- [start:scripts]
TRAIN = """
import sys
import torch
from torch import nn

class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))

model = MyModel().to(sys.argv[2])
torch.save(model, sys.argv[1])  # pickled as __main__.MyModel
"""

PREDICT = """
import sys
import torch

try:
    torch.load(sys.argv[1], weights_only=False)  # a file we made: trusted
except AttributeError as err:
    print(f"{type(err).__name__}: {err}")
"""
# --8<-- [end:scripts]


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    path = out_dir / "entire_model.pt"

    # --8<-- [start:run]
    subprocess.run([sys.executable, "-c", TRAIN, path, device], check=True)
    predict = subprocess.run(
        [sys.executable, "-c", PREDICT, path], capture_output=True, text=True
    )
    print(predict.stdout)
    # --8<-- [end:run]
    assert predict.returncode == 0, predict.stderr
    assert "AttributeError: Can't get attribute 'MyModel'" in predict.stdout
    assert "on <module '__main__'" in predict.stdout


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
