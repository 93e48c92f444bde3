"""Fix "Can't get attribute 'MyModel' on <module '__main__'": a whole model, no class.

`torch.save(model)` pickles the model object, which records where its class lives:
"__main__.MyModel" when the saving script defined it. Loading it needs that class at
that same place, so a script that lacks it fails. Save the state_dict instead: it
holds only tensors, and your code builds the model from its own class.

Both scripts run in fresh Python processes here, as they would on your machine.
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from torch import nn

# The training script: it defines MyModel, then saves the entire model.
TRAIN_SCRIPT = """
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

torch.save(MyModel(), sys.argv[1])
"""

# Another script: it loads the file but does not define MyModel. weights_only=False
# is needed for a whole model, and is safe here only because we made the file.
PREDICT_SCRIPT = """
import sys
import torch

try:
    model = torch.load(sys.argv[1], weights_only=False)
except AttributeError as err:
    print(f"{type(err).__name__}: {err}")
"""


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
    path = out_dir / "mymodel_entire.pt"
    subprocess.run([sys.executable, "-c", TRAIN_SCRIPT, path], check=True)
    predict = subprocess.run(
        [sys.executable, "-c", PREDICT_SCRIPT, path],
        check=True,
        capture_output=True,
        text=True,
    )
    print(predict.stdout, end="")
    # The end of the message names the __main__ that pickle searched: a script run
    # with `python -c` has no file, which Python 3.11 calls "(built-in)" and 3.12 and
    # later name by its loader.
    if sys.version_info < (3, 12):
        searched = "(built-in)"
    else:
        searched = "(<class '_frozen_importlib.BuiltinImporter'>)"
    expected = f"Can't get attribute 'MyModel' on <module '__main__' {searched}>"
    assert predict.stdout == f"AttributeError: {expected}\n"

    # --8<-- [start:fix]
    # The fix: save the state_dict, and build the model from your own class.
    model = MyModel().to(device)
    path = out_dir / "mymodel.pt"
    torch.save(model.state_dict(), path)

    new_model = MyModel().to(device)
    new_model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    # --8<-- [end:fix]
    inputs = torch.randn(3, 10, device=device)
    with torch.no_grad():
        assert torch.equal(new_model(inputs), model(inputs))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
