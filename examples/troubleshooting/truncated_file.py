"""Fix "PytorchStreamReader failed reading zip archive": a truncated file.

A file written by torch.save is a zip archive whose index (the central directory)
comes last. A download or a save that stopped half-way leaves a file without it.
Check the file (its size, its checksum, `zipfile.is_zipfile`) and get a whole copy.
"""

import argparse
import hashlib
import shutil
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


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    model = MyModel().to(device)
    original = out_dir / "mymodel.pt"
    torch.save(model.state_dict(), original)
    published_sha256 = sha256(original)  # what a model page lists beside the file

    # A download that stopped half-way.
    downloaded = out_dir / "mymodel_download.pt"
    data = original.read_bytes()
    downloaded.write_bytes(data[: len(data) // 2])

    try:
        torch.load(downloaded, map_location=device, weights_only=True)
    except RuntimeError as err:
        error = err
    else:
        raise AssertionError("a truncated file loaded")
    print(f"{type(error).__name__}: {error}")
    assert "failed finding central directory" in str(error)

    # --8<-- [start:check]
    print("is a zip archive:", zipfile.is_zipfile(downloaded))
    print("checksum matches:", sha256(downloaded) == published_sha256)
    # --8<-- [end:check]
    assert not zipfile.is_zipfile(downloaded)
    assert sha256(downloaded) != published_sha256

    shutil.copyfile(original, downloaded)  # download it again, whole this time
    assert zipfile.is_zipfile(downloaded)
    assert sha256(downloaded) == published_sha256
    new_model = MyModel().to(device)
    new_model.load_state_dict(
        torch.load(downloaded, map_location=device, weights_only=True)
    )
    inputs = torch.randn(3, 10, device=device)
    with torch.no_grad():
        assert torch.equal(new_model(inputs), model(inputs))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
