"""What is in this checkpoint? Run inspect_checkpoint.py on it: it never loads the file.

The script saves a training checkpoint as a DistributedDataParallel run would
(its keys start with `module.`), then runs the inspector on it twice: alone, and
with `--model` to compare it with the class that should load it. It then runs the
load code that the inspector printed, and checks that the weights arrived.
Download inspect_checkpoint.py into the same folder as this script.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from torch import nn

TOOL = Path(__file__).resolve().parent / "inspect_checkpoint.py"


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


def inspector(*args, cwd):
    """Run the inspector as you would in a shell; return what it prints."""
    result = subprocess.run(
        [sys.executable, str(TOOL), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        # --model imports the module you name: this script, from its folder
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent)},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    wrapped = nn.DataParallel(MyModel().to(device))  # keys start with "module."
    optimizer = torch.optim.SGD(wrapped.parameters(), lr=0.1, momentum=0.9)
    wrapped(torch.randn(4, 10, device=device)).sum().backward()
    optimizer.step()
    checkpoint = {
        "epoch": 5,
        "model": wrapped.state_dict(),
        "optimizer": optimizer.state_dict(),
    }
    torch.save(checkpoint, out_dir / "checkpoint.pt")

    # python inspect_checkpoint.py checkpoint.pt
    printed = inspector("checkpoint.pt", cwd=out_dir)
    print(printed)
    assert "torch.save (zip" in printed
    assert "optimizer at optimizer: SGD" in printed
    assert "every key of model starts with 'module.'" in printed

    report = json.loads(inspector("checkpoint.pt", "--json", cwd=out_dir))
    assert report["tensors"]["count"] == 4 + 4  # weights and momentum buffers
    assert report["structure"]["epoch"] == "5"

    # python inspect_checkpoint.py checkpoint.pt --model inspect_a_checkpoint:MyModel
    printed = inspector(
        "checkpoint.pt", "--model", "inspect_a_checkpoint:MyModel", cwd=out_dir
    )
    print(printed)
    assert "missing keys: none" in printed
    assert 'k.removeprefix("module.")' in printed

    # The load code it printed works: run it.
    code = printed.split("load it with:\n")[1].split("findings:")[0]
    code = "\n".join(line.removeprefix("    ") for line in code.splitlines())
    namespace = {}
    here = os.getcwd()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    os.chdir(out_dir)
    try:
        exec(code, namespace)
    finally:
        os.chdir(here)
        sys.path.pop(0)
    loaded = namespace["model"].state_dict()
    for key, value in wrapped.module.state_dict().items():
        assert torch.equal(loaded[key], value.cpu()), key


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out-dir", default=None)
    args = parser.parse_args()
    main(args.device, args.out_dir)
