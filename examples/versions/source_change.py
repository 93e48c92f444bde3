"""SourceChangeWarning: a whole model in the legacy format whose class has changed.

torch.save(model) in the format of PyTorch 1.5 and older stores the source code of
each module's class beside the pickle; torch.load compares it with the class it
imports now and warns when they differ. The model it returns runs the code of the
class as it is now.

The class lives in a module file (mymodels.py, in a folder under out_dir), as it
would in a project: the script saves a model, edits the class, then loads the file.
"""

import argparse
import importlib
import sys
import tempfile
import warnings
import zipfile
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
# The same class, a year later: forward has changed.
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

    model = mymodels.MyModel()
    legacy = out_dir / "mymodel_entire_legacy.pt"
    torch.save(model, legacy, _use_new_zipfile_serialization=False)
    zip_format = out_dir / "mymodel_entire.pt"
    torch.save(model, zip_format)
    assert not zipfile.is_zipfile(legacy) and zipfile.is_zipfile(zip_format)

    (project / "mymodels.py").write_text(MODELS_V2)  # the class changes
    importlib.reload(mymodels)

    # --8<-- [start:load]
    # weights_only=False runs code from the file: only for files you trust.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = torch.load(legacy, map_location=device, weights_only=False)
    for warning in caught:
        print(f"{warning.category.__name__}: {warning.message}")
    # --8<-- [end:load]
    assert [w.category for w in caught] == [torch.serialization.SourceChangeWarning]
    assert "source code of class 'mymodels.MyModel' has changed" in str(
        caught[0].message
    )

    # The loaded model is an instance of the class as it is now: it runs the new
    # forward (with relu), with the saved weights.
    assert type(loaded) is mymodels.MyModel
    inputs = torch.randn(3, 10)
    with torch.no_grad():
        hidden = model.fc1(inputs)
        old_outputs, new_outputs = model.fc2(hidden), model.fc2(hidden.relu())
        outputs = loaded(inputs.to(device)).cpu()
    assert torch.allclose(outputs, new_outputs, atol=1e-6)
    assert not torch.allclose(outputs, old_outputs, atol=1e-6)

    # A zip-format file (PyTorch 1.6 and later) stores no source: no warning.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.load(zip_format, map_location=device, weights_only=False)
    assert not any(
        w.category is torch.serialization.SourceChangeWarning for w in caught
    )

    # --8<-- [start:fix]
    weights = out_dir / "mymodel.pt"
    torch.save(loaded.state_dict(), weights)  # once, from the trusted file
    model = mymodels.MyModel().to(device)
    model.load_state_dict(torch.load(weights, map_location=device, weights_only=True))
    # --8<-- [end:fix]
    assert all(
        torch.equal(t.cpu(), loaded.state_dict()[k].cpu())
        for k, t in model.state_dict().items()
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, mps, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
