"""Fix "SourceChangeWarning: source code of class ... has changed": an old whole model.

torch.save(model) in the format of PyTorch 1.5 and older stores the source code of
each module's class; torch.load warns when the class it imports now differs. The
loaded model runs the class's current code. Save its state_dict once, and load that.

The class lives in a module file (mymodels.py, in a folder under out_dir): the
script saves a model, edits the class, then loads the file.
"""

import argparse
import importlib
import pickle
import sys
import tempfile
import warnings
from pathlib import Path

import torch

MODELS_V1 = """\
from torch import nn


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))
"""
MODELS_V2 = MODELS_V1.replace("self.fc2(self.fc1(x))", "self.fc2(self.fc1(x).relu())")


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    project = out_dir / "project"
    project.mkdir(exist_ok=True)
    (project / "mymodels.py").write_text(MODELS_V1)
    sys.path.insert(0, str(project))
    sys.modules.pop("mymodels", None)
    try:
        run(device, out_dir, project)
    finally:
        sys.path.remove(str(project))
        sys.modules.pop("mymodels", None)


def run(device, out_dir, project):
    import mymodels

    path = out_dir / "mymodel_entire_legacy.pt"
    torch.save(mymodels.MyModel(), path, _use_new_zipfile_serialization=False)
    (project / "mymodels.py").write_text(MODELS_V2)
    importlib.reload(mymodels)

    # weights_only=True refuses the old format's stored source code, even with the
    # classes allowed.
    allowed = [mymodels.MyModel, torch.nn.Linear]
    with torch.serialization.safe_globals(allowed), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.load(path, map_location=device, weights_only=True)
        except pickle.UnpicklingError as err:
            assert "Only persistent_load of storage is allowed" in str(err)
        else:
            raise AssertionError("weights_only=True loaded an old whole model")

    # weights_only=False runs code from the file: only for files you trust.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        whole_model = torch.load(path, map_location=device, weights_only=False)
    for warning in caught:
        print(f"{warning.category.__name__}: {warning.message}")
    assert [w.category for w in caught] == [torch.serialization.SourceChangeWarning]
    assert "source code of class 'mymodels.MyModel' has changed" in str(
        caught[0].message
    )

    # --8<-- [start:fix]
    torch.save(whole_model.state_dict(), out_dir / "mymodel.pt")  # once
    model = mymodels.MyModel().to(device)
    state_dict = torch.load(
        out_dir / "mymodel.pt", map_location=device, weights_only=True
    )
    model.load_state_dict(state_dict)
    # --8<-- [end:fix]
    inputs = torch.randn(3, 10, device=device)
    with torch.no_grad():
        assert torch.equal(model(inputs), whole_model(inputs))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, mps, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
