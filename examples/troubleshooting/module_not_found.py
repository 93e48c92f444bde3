"""Fix "ModuleNotFoundError: No module named 'models'": a whole model, another project.

`torch.save(model)` pickles the model object, which records where its class lives.
When the training project defines the class in a package, say models/net.py, the file
records "models.net.MyModel", and loading it imports the package `models`: a program
that cannot import it fails (famous with YOLOv5 checkpoints). Load the file once, with
weights_only=True and your own class allowed under the recorded name (or, for a file
you trust, with weights_only=False where the package can be imported), and save its
state_dict: that file loads anywhere.

The training project and the other programs run in fresh Python processes here, as
they would on your machine.
"""

import argparse
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from torch import nn

# The training project: its model class lives in models/net.py, and train.py
# saves the entire model.
TRAINING_PROJECT = {
    "models/__init__.py": "",
    "models/net.py": """
from torch import nn


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))
""",
    "train.py": """
import sys
import torch
from models.net import MyModel

model = MyModel()
# ... train the model ...
torch.save(model, sys.argv[1])
""",
}

# Another program, outside the training project: it cannot import `models`.
# weights_only=False is needed for a whole model, and is safe here only because
# we made the file.
PREDICT_SCRIPT = """
import sys
import torch

try:
    model = torch.load(sys.argv[1], weights_only=False)
except ModuleNotFoundError as err:
    print(f"{type(err).__name__}: {err}")
"""

# --8<-- [start:fix]
# Run once, only on a file you trust: with the folder that holds the `models` package
# on sys.path (or from that folder, the training project's root), load the whole
# model and save its state_dict.
CONVERT_SCRIPT = """
import sys
import torch

project_root, whole_model_path, state_dict_path = sys.argv[1:]
sys.path.insert(0, project_root)
model = torch.load(whole_model_path, weights_only=False)
torch.save(model.state_dict(), state_dict_path)
"""
# --8<-- [end:fix]


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
    project_root = out_dir / "training_project"
    for name, text in TRAINING_PROJECT.items():
        (project_root / name).parent.mkdir(parents=True, exist_ok=True)
        (project_root / name).write_text(text)
    whole_model_path = out_dir / "mymodel_entire.pt"
    subprocess.run(
        [sys.executable, "train.py", whole_model_path], cwd=project_root, check=True
    )

    predict = subprocess.run(
        [sys.executable, "-c", PREDICT_SCRIPT, whole_model_path],
        cwd=out_dir,
        check=True,
        capture_output=True,
        text=True,
    )
    print(predict.stdout, end="")
    assert predict.stdout == "ModuleNotFoundError: No module named 'models'\n"

    # What weights_only=True, the default, says about the same file.
    try:
        torch.load(whole_model_path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as err:
        error = err
    else:
        raise AssertionError("weights_only=True rebuilt a pickled model")
    print(f"{type(error).__name__}: {error}")
    assert "Unsupported global: GLOBAL models.net.MyModel" in str(error)

    # --8<-- [start:allow]
    needed = torch.serialization.get_unsafe_globals_in_checkpoint(whole_model_path)
    print(sorted(needed))  # what the file needs allowed
    # Your own class under the name that the file records, for this load only:
    # no `models` package needed, and weights_only stays True.
    allowed = [(MyModel, "models.net.MyModel"), nn.Linear]
    with torch.serialization.safe_globals(allowed):
        whole_model = torch.load(
            whole_model_path, map_location=device, weights_only=True
        )
    torch.save(whole_model.state_dict(), out_dir / "mymodel.pt")  # once
    # --8<-- [end:allow]
    assert sorted(needed) == ["models.net.MyModel", "torch.nn.modules.linear.Linear"]
    assert "models" not in sys.modules
    assert type(whole_model) is MyModel

    # --8<-- [start:load]
    # From now on, anywhere: your own class, and weights_only=True.
    model = MyModel().to(device)
    state_dict = torch.load(
        out_dir / "mymodel.pt", map_location=device, weights_only=True
    )
    model.load_state_dict(state_dict)
    # --8<-- [end:load]
    inputs = torch.randn(3, 10, device=device)
    with torch.no_grad():
        assert torch.equal(model(inputs), whole_model(inputs))

    # The other way, for a file you trust: weights_only=False where `models` imports.
    converted_path = out_dir / "mymodel_converted.pt"
    args = [project_root, whole_model_path, converted_path]
    subprocess.run([sys.executable, "-c", CONVERT_SCRIPT, *args], check=True)
    converted = torch.load(converted_path, map_location=device, weights_only=True)
    assert list(converted) == list(state_dict)
    assert all(torch.equal(converted[name], state_dict[name]) for name in state_dict)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
