"""Fix "SafetensorError: Error while deserializing header: header too large".

A safetensors file starts with 8 bytes that give the length of its JSON header,
then the header itself, b'{"...'. safetensors.torch.load_file reads the first 8
bytes of any file as that length, so a file that is not safetensors (a torch.save
file, a Git LFS pointer, a web page) gives an absurd length: "header too large"
("HeaderTooLarge" in older versions of safetensors). Look at the first bytes, and
load a torch.save file with torch.load; convert it with save_file if you want
a safetensors file.
"""

import argparse
import tempfile
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
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
    model = MyModel().to(device)
    # A file written by torch.save, with the name Hugging Face gives such files.
    torch_file = out_dir / "pytorch_model.bin"
    torch.save(model.state_dict(), torch_file)
    # A repository cloned without Git LFS holds a small text file instead.
    lfs_pointer = out_dir / "model.safetensors"
    lfs_pointer.write_text(
        "version https://git-lfs.github.com/spec/v1\n"
        "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
        "size 1523\n"
    )

    for path in [torch_file, lfs_pointer]:
        try:
            load_file(path, device=device)
        except SafetensorError as err:
            error = err
        else:
            raise AssertionError("a file that is not safetensors loaded")
        print(f"{type(error).__name__}: {error}")
        assert str(error) == "Error while deserializing header: header too large"

    # --8<-- [start:check]
    # What is the file? Its first bytes tell.
    safetensors_file = out_dir / "mymodel.safetensors"
    save_file(model.state_dict(), safetensors_file)
    for path in [torch_file, lfs_pointer, safetensors_file]:
        with open(path, "rb") as f:
            print(path.name, f.read(10))
    # --8<-- [end:check]
    assert torch_file.read_bytes().startswith(b"PK")
    assert lfs_pointer.read_bytes().startswith(b"version https://git-lfs")
    assert safetensors_file.read_bytes()[8:10] == b'{"'

    # --8<-- [start:fix]
    # A torch.save file: load it with torch.load, and save it as safetensors if
    # you want one.
    state_dict = torch.load(torch_file, map_location=device, weights_only=True)
    converted_file = out_dir / "model_converted.safetensors"
    save_file(state_dict, converted_file)

    new_model = MyModel().to(device)
    new_model.load_state_dict(load_file(converted_file, device=device))
    # --8<-- [end:fix]
    inputs = torch.randn(3, 10, device=device)
    with torch.no_grad():
        assert torch.equal(new_model(inputs), model(inputs))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
