"""Fix "invalid load key, '<'" / "Unsupported operand 60": the file is not a checkpoint.

A link to a model file sometimes gives a web page (a login or preview page) and a
Git repository cloned without Git LFS gives a small text file that points to the
real one. torch.load then reads text: byte 60 is "<" (HTML), byte 118 is "v"
("version https://git-lfs..."). Look at the file's first bytes, then fetch the
real file. A file written by torch.save starts with b"PK" (a zip archive).
"""

import argparse
import pickle
import tempfile
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
    html_page = out_dir / "mymodel_from_link.pt"
    html_page.write_text("<!DOCTYPE html>\n<html><body>Sign in</body></html>\n")
    lfs_pointer = out_dir / "mymodel_from_git.pt"
    lfs_pointer.write_text(
        "version https://git-lfs.github.com/spec/v1\n"
        "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
        "size 1523\n"
    )

    for path, operand in [(html_page, "60"), (lfs_pointer, "118")]:
        try:
            torch.load(path, map_location=device, weights_only=True)
        except pickle.UnpicklingError as err:
            error = err
        else:
            raise AssertionError("a text file loaded as a checkpoint")
        print(f"{type(error).__name__}: {error}")
        assert f"Unsupported operand {operand}" in str(error)

    # What PyTorch before 2.6, or weights_only=False, says about the same file.
    # (Safe here only because this script wrote the file itself.)
    try:
        torch.load(html_page, map_location=device, weights_only=False)
    except pickle.UnpicklingError as err:
        error = err
    else:
        raise AssertionError("a text file loaded as a checkpoint")
    print(f"{type(error).__name__}: {error}")
    assert str(error) == "invalid load key, '<'."

    # --8<-- [start:check]
    real_file = out_dir / "mymodel.pt"
    torch.save(MyModel().state_dict(), real_file)
    for path in [html_page, lfs_pointer, real_file]:
        print(path.name, path.read_bytes()[:15])
    # --8<-- [end:check]
    assert html_page.read_bytes().startswith(b"<")
    assert lfs_pointer.read_bytes().startswith(b"version https://git-lfs")
    assert real_file.read_bytes().startswith(b"PK")
    state_dict = torch.load(real_file, map_location=device, weights_only=True)
    MyModel().to(device).load_state_dict(state_dict)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
