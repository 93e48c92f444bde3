"""A file from a newer PyTorch: the format version that each zip file records.

By default, torch.save has written a zip archive since PyTorch 1.6, with a
`version` record. torch.load refuses a file whose version is above the highest one
it knows. The script rewrites a torch.save file with a higher version, as a newer
PyTorch would write it, to show the message.
"""

import argparse
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


# --8<-- [start:read_version]
def format_version(path):
    """The format version recorded in a file written by torch.save or torch.jit.save."""
    with zipfile.ZipFile(path) as archive:
        # Records sit in one top-level folder, named after the file when it was saved.
        records = {name.split("/", 1)[1]: name for name in archive.namelist()}
        record = records.get(".data/version") or records["version"]
        return int(archive.read(record))


# --8<-- [end:read_version]


def rewrite_with_version(path, new_path, version):
    """Copy a torch.save file, recording a higher format version."""
    reader = torch._C.PyTorchFileReader(str(path))
    writer = torch._C.PyTorchFileWriter(str(new_path))
    for name in reader.get_all_records():
        if name not in ("version", ".data/version", ".data/serialization_id"):
            data = reader.get_record(name)
            writer.write_record(name, data, len(data))
    writer.set_min_version(version)  # the writer records max(3, version)
    writer.write_end_of_file()


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    model = MyModel().to(device)
    path = out_dir / "mymodel.pt"
    torch.save(model.state_dict(), path)

    # --8<-- [start:versions]
    print("torch.save wrote format version", format_version(path))
    # --8<-- [end:versions]
    assert format_version(path) == 3

    # torch.jit.save records a higher version when the model uses an operator
    # whose meaning changed: nn.GELU (aten::gelu) took version 10.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TorchScript is deprecated
        scripted = torch.jit.script(nn.Sequential(nn.Linear(10, 5), nn.GELU()))
        torch.jit.save(scripted, out_dir / "gelu_scripted.pt")
        torch.jit.save(torch.jit.script(MyModel()), out_dir / "scripted.pt")
    print("torch.jit.save, with nn.GELU:", format_version(out_dir / "gelu_scripted.pt"))
    assert format_version(out_dir / "gelu_scripted.pt") == 10
    assert format_version(out_dir / "scripted.pt") == 3

    newer = out_dir / "from_a_newer_pytorch.pt"
    rewrite_with_version(path, newer, 11)
    assert format_version(newer) == 11
    with zipfile.ZipFile(newer) as archive:  # a valid zip: every CRC checks out
        assert archive.testzip() is None

    # --8<-- [start:error]
    try:
        torch.load(newer, map_location=device, weights_only=True)
    except RuntimeError as err:
        print(f"{type(err).__name__}: {err}")
        # --8<-- [end:error]
        message = str(err)
    else:
        raise AssertionError("a file with a version above the maximum loaded")
    assert "Attempted to read a PyTorch file with version 11" in message
    assert "the maximum supported version for reading is 10" in message
    assert "may be too old" in message

    # 3 is the lowest version a writer records (kMinProducedFileFormatVersion):
    # asked for 1, it still records 3.
    rewrite_with_version(path, out_dir / "asked_for_1.pt", 1)
    assert format_version(out_dir / "asked_for_1.pt") == 3

    # The same file with the version this PyTorch writes loads: the version record
    # is the only difference.
    rewrite_with_version(path, out_dir / "same_records.pt", 3)
    state_dict = torch.load(out_dir / "same_records.pt", weights_only=True)
    assert all(torch.equal(state_dict[k], v) for k, v in model.state_dict().items())

    # --8<-- [start:old_reader]
    state_dict = torch.load(path, map_location="cpu", weights_only=True)
    for_old_pytorch = out_dir / "mymodel_for_pytorch_1.5.pt"
    torch.save(state_dict, for_old_pytorch, _use_new_zipfile_serialization=False)
    print("a zip archive:", zipfile.is_zipfile(for_old_pytorch))
    # --8<-- [end:old_reader]
    assert not zipfile.is_zipfile(for_old_pytorch)
    loaded = torch.load(for_old_pytorch, weights_only=True)
    assert all(torch.equal(loaded[k], v) for k, v in state_dict.items())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, mps, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
