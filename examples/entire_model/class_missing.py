"""A model saved whole loads only where its class can be found by name."""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

TRAIN_PY = """
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

PREDICT_PY = """
import sys
import torch

try:
    torch.load(sys.argv[1], weights_only=False)  # a file we made: trusted
except AttributeError as err:
    print(f"{type(err).__name__}: {err}")
"""


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)

    (out_dir / "train.py").write_text(TRAIN_PY)
    (out_dir / "predict.py").write_text(PREDICT_PY)
    train = [sys.executable, "train.py", "entire_model.pt", device]
    subprocess.run(train, cwd=out_dir, check=True)
    predict = [sys.executable, "predict.py", "entire_model.pt"]
    result = subprocess.run(predict, cwd=out_dir, capture_output=True, text=True)
    # The message names predict.py by its full path: print it without the temp dir.
    print(result.stdout.replace(str(out_dir.resolve()), "<out_dir>"))
    assert result.returncode == 0, result.stderr
    assert "AttributeError: Can't get attribute 'MyModel'" in result.stdout
    assert "on <module '__main__' from" in result.stdout
    assert (out_dir / "entire_model.pt").exists()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
