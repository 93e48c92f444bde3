"""TorchScript: the older way to save the architecture with the weights (deprecated)."""

import argparse
import inspect
import tempfile
import warnings
import zipfile
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
    model = MyModel().to(device).eval()
    # ... train the model ...

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # show them: Python hides them by default
        # --8<-- [start:script]
        scripted = torch.jit.script(model)
        path = out_dir / "mymodel_scripted.pt"
        torch.jit.save(scripted, path)

        loaded = torch.jit.load(path, map_location=device)  # no MyModel needed
        # --8<-- [end:script]
    print("warnings:", len(caught))
    for warning in caught:  # the category depends on the release: see below
        print(f"deprecated: {warning.message}")

    # PyTorch 2.14 and 2.15 warn with FutureWarning, which Python shows; 2.10 to 2.13
    # warn with DeprecationWarning, which Python hides from code outside __main__;
    # 2.6 does not warn.
    if torch.__version__ >= "2.10":
        category = FutureWarning if torch.__version__ >= "2.14" else DeprecationWarning
        deprecations = [w for w in caught if w.category is category]
        assert len(deprecations) == 3, [str(w.message) for w in caught]
        assert all("`torch.export`" in str(w.message) for w in deprecations)
    else:
        assert not caught, [str(w.message) for w in caught]
    x = torch.randn(4, 10, device=device)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))

    # --8<-- [start:code_in_file]
    with zipfile.ZipFile(path) as archive:
        code = archive.read("mymodel_scripted/code/__torch__.py").decode()
    print(code.splitlines()[-1].strip())  # the last line of forward, as the file has it
    # Edit that code in the file: the loaded model runs what the file says.
    edited = out_dir / "edited.pt"
    with zipfile.ZipFile(path) as archive, zipfile.ZipFile(edited, "w") as new:
        for info in archive.infolist():
            data = archive.read(info)
            if info.filename.endswith("/code/__torch__.py"):
                data = data.replace(
                    b"return (fc2).forward((fc1).forward(x, ), )",
                    b"return torch.neg((fc2).forward((fc1).forward(x, ), ))",
                )
            new.writestr(info, data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated
        edited_model = torch.jit.load(edited, map_location=device)
    with torch.no_grad():
        print("edited file, outputs negated:", torch.equal(edited_model(x), -model(x)))
    has_weights_only = "weights_only" in inspect.signature(torch.jit.load).parameters
    print("torch.jit.load has a weights_only argument:", has_weights_only)
    # --8<-- [end:code_in_file]
    assert code.splitlines()[-1].strip() == "return (fc2).forward((fc1).forward(x, ), )"
    with torch.no_grad():
        assert torch.equal(edited_model(x), -model(x))
    assert not has_weights_only


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
