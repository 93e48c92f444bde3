"""Fix "PytorchStreamReader failed reading file data/1: invalid header ...".

Bytes in the middle of the file are wrong: a bad disk, a bad copy, a download
that left zeros where a part of it never arrived. torch.load finds a record's
header damaged and stops; damage inside a tensor's bytes would load silently.
zipfile's testzip() checks every record's CRC-32 and names the first bad one.
Compare the file's checksum with the published one, and get a whole copy.
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
    torch.manual_seed(0)
    model = MyModel().to(device)
    original = out_dir / "mymodel.pt"
    torch.save(model.state_dict(), original)
    published_sha256 = sha256(original)  # what a model page lists beside the file

    # A copy with zeros over one 512-byte block (a disk sector) in the middle:
    # the block that holds the header of the record data/1.
    with zipfile.ZipFile(original) as archive:
        header = archive.getinfo("mymodel/data/1").header_offset
    start = header // 512 * 512
    copy = out_dir / "mymodel_copy.pt"
    data = bytearray(original.read_bytes())
    data[start : start + 512] = bytes(512)
    copy.write_bytes(data)

    try:
        torch.load(copy, map_location=device, weights_only=True)
    except RuntimeError as err:
        error = err
    else:
        raise AssertionError("a damaged file loaded")
    print(f"{type(error).__name__}: {error}")
    assert "invalid header or archive is corrupted" in str(error)

    # --8<-- [start:check]
    print("has its zip index:", zipfile.is_zipfile(copy))
    with zipfile.ZipFile(copy) as archive:
        print("first damaged record:", archive.testzip())
    print("checksum matches:", sha256(copy) == published_sha256)
    # --8<-- [end:check]
    assert zipfile.is_zipfile(copy)  # the end of the file is whole
    with zipfile.ZipFile(copy) as archive:
        # On the CPU: data/0, whose end was zeroed (in a file from PyTorch 2.6,
        # which writes two records fewer: data.pkl).
        assert archive.testzip() is not None
    assert sha256(copy) != published_sha256

    shutil.copyfile(original, copy)  # copy it again, whole this time
    assert sha256(copy) == published_sha256
    with zipfile.ZipFile(copy) as archive:
        assert archive.testzip() is None
    new_model = MyModel().to(device)
    new_model.load_state_dict(torch.load(copy, map_location=device, weights_only=True))
    inputs = torch.randn(3, 10, device=device)
    with torch.no_grad():
        assert torch.equal(new_model(inputs), model(inputs))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
