"""Fix "PytorchStreamReader failed locating file data.pkl": a torch.export file.

`torch.export.save` writes a .pt2 archive: a zip file like torch.save's, but with no
data.pkl inside, so torch.load cannot read it (and, since PyTorch 2.11, calls it
likely corrupted). It is not: load it with `torch.export.load`. (PyTorch 2.6 writes the
archive's files at the top of the zip, not in a folder, and torch.load says so instead.)
"""

import argparse
import tempfile
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
    inputs = torch.randn(3, 10, device=device)
    path = out_dir / "mymodel.pt2"
    torch.export.save(torch.export.export(model, (inputs,)), path)

    try:
        torch.load(path, map_location=device, weights_only=True)
    except RuntimeError as err:
        error = err
    else:
        raise AssertionError("torch.load read a .pt2 archive")
    print(f"{type(error).__name__}: {error}")
    # Since 2.8 torch.export.save puts the files in a folder, as torch.save does
    # (pytorch/pytorch#152495, #153795), so torch.load looks for data.pkl
    if torch.__version__ >= "2.8":
        assert "PytorchStreamReader failed locating file data.pkl" in str(error)
        # Since 2.11 the message adds a guess: "likely corrupted". It is not.
        corrupted = "there is a high likelihood that your checkpoint file is corrupted"
        assert (corrupted in str(error)) == (torch.__version__ >= "2.11")
    else:  # PyTorch 2.6 and 2.7: no folder in the archive, so the reader stops sooner
        assert "file in archive is not in a subdirectory" in str(error)
    names = zipfile.ZipFile(path).namelist()
    assert not any(name.endswith("/data.pkl") for name in names)

    # --8<-- [start:fix]
    exported = torch.export.load(path)
    loaded_model = exported.module()
    # --8<-- [end:fix]
    with torch.no_grad():
        assert torch.equal(loaded_model(inputs), model(inputs))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
