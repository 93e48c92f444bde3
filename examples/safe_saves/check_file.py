"""Tell a damaged or wrong checkpoint file from a good one before trusting it."""

import argparse
import hashlib
import pickle
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


class WiderModel(nn.Module):
    """Another model: its fc1 has 8 outputs, not 5."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 8)
        self.fc2 = nn.Linear(8, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


# --8<-- [start:checksum]
def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def save_with_checksum(obj, path, **save_args):
    """torch.save, then a sidecar file `sha256sum -c` reads, written only after."""
    path = Path(path)
    torch.save(obj, path, **save_args)
    sidecar = path.with_name(path.name + ".sha256")
    sidecar.write_text(f"{sha256_of(path)}  {path.name}\n")


# --8<-- [end:checksum]


# --8<-- [start:format]
ZIP_START = b"PK\x03\x04"  # how a zip archive starts: torch.save since PyTorch 1.6
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C  # torch.serialization.MAGIC_NUMBER
# The legacy format starts with that number, pickled (protocol 2 unless changed).
LEGACY_STARTS = [pickle.dumps(LEGACY_MAGIC, protocol=p) for p in range(6)]


def torch_save_format(path):
    """ "zip" or "legacy" for a file that torch.save wrote, else None."""
    with open(path, "rb") as f:
        start = f.read(32)
    if start.startswith(ZIP_START):
        return "zip"
    if any(start.startswith(magic) for magic in LEGACY_STARTS):
        return "legacy"
    return None


# --8<-- [end:format]


# --8<-- [start:check]
def check_checkpoint(path, model):
    """Why the state_dict file at path is not to be trusted, or "ok"."""
    path = Path(path)
    file_format = torch_save_format(path)
    if file_format is None:
        with open(path, "rb") as f:
            return f"not a torch.save file: it starts with {f.read(16)!r}"
    if file_format == "zip":
        try:
            if not zipfile.is_zipfile(path):  # the zip index is written last
                return "cut short: a torch.save zip archive without its index"
            with zipfile.ZipFile(path) as archive:
                damaged = archive.testzip()  # reads every record, checks its CRC-32
        except Exception as err:  # damaged zip headers: zipfile raises many types
            return f"damaged: its zip headers do not read ({type(err).__name__})"
        if damaged is not None:
            return f"damaged: record {damaged} fails its CRC-32 check"
    sidecar = path.with_name(path.name + ".sha256")
    if not sidecar.exists():
        return "no .sha256 file: the save may not have finished"
    if sidecar.read_text().split()[0] != sha256_of(path):
        return "sha256 differs: not the file that was saved"
    try:
        state_dict = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, EOFError) as err:
        return f"torch.load failed: {type(err).__name__}"
    try:
        model.load_state_dict(state_dict)  # strict: the same keys and shapes
    except RuntimeError as err:
        return f"not this model's: {str(err).splitlines()[1].strip()}"
    return "ok"


# --8<-- [end:check]


def flip_bit(path, offset):
    """Flip the lowest bit of the byte at offset, as a bad disk or copy might."""
    data = bytearray(path.read_bytes())
    data[offset] ^= 1
    path.write_bytes(data)


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    model = MyModel().to(device)
    state = model.state_dict()
    weight_bytes = model.fc1.weight.detach().cpu().numpy().tobytes()
    good = out_dir / "good.pt"
    save_with_checksum(state, good)
    good_bytes = good.read_bytes()

    # Files as they turn up after crashes, bad copies and mix-ups.
    legacy = out_dir / "legacy.pt"  # the format of PyTorch 1.5 and older
    save_with_checksum(state, legacy, _use_new_zipfile_serialization=False)
    truncated = out_dir / "truncated.pt"  # a save killed halfway: no .sha256 yet
    truncated.write_bytes(good_bytes[: len(good_bytes) // 2])
    empty = out_dir / "empty.pt"  # a save killed at once
    empty.write_bytes(b"")
    web_page = out_dir / "web_page.pt"  # a download that got an error page
    web_page.write_text("<!DOCTYPE html><html><body>Not Found</body></html>\n")
    lfs_pointer = out_dir / "lfs_pointer.pt"  # a Git LFS file never pulled
    lfs_pointer.write_text(
        "version https://git-lfs.github.com/spec/v1\n"
        f"oid sha256:{sha256_of(good)}\nsize {len(good_bytes)}\n"
    )
    flipped = out_dir / "flipped.pt"  # one bit flipped in fc1.weight[0, 0]
    save_with_checksum(state, flipped)
    flip_bit(flipped, flipped.read_bytes().find(weight_bytes))
    bad_pickle = out_dir / "bad_pickle.pt"  # one bit flipped in data.pkl
    torch.save(state, bad_pickle)
    with zipfile.ZipFile(bad_pickle) as archive:
        pickle_bytes = archive.read(f"{bad_pickle.stem}/data.pkl")
    flip_bit(bad_pickle, bad_pickle.read_bytes().find(pickle_bytes))
    legacy_flipped = out_dir / "legacy_flipped.pt"  # a flipped bit, no CRC-32
    save_with_checksum(state, legacy_flipped, _use_new_zipfile_serialization=False)
    flip_bit(legacy_flipped, legacy_flipped.read_bytes().find(weight_bytes))
    unfinished = out_dir / "unfinished.pt"  # torch.save done, killed before .sha256
    torch.save(state, unfinished)
    swapped = out_dir / "swapped.pt"  # another whole file put in its place
    save_with_checksum(state, swapped)
    torch.save(MyModel().state_dict(), swapped)  # new weights, same keys and shapes
    wider = out_dir / "wider.pt"  # a good file, of another model
    save_with_checksum(WiderModel().state_dict(), wider)
    entire = out_dir / "entire_model.pt"  # torch.save(model): a pickle of the class
    save_with_checksum(model, entire)

    # --8<-- [start:load_errors]
    outcome = {}
    for path in [truncated, empty, web_page, flipped, bad_pickle, legacy]:
        try:
            state_dict = torch.load(path, weights_only=True)
        except Exception as err:  # to see every type; catch fewer in real code
            outcome[path.name] = f"{type(err).__name__}: {str(err).split('. ')[0]}"
        else:
            same = torch.equal(state_dict["fc1.weight"], model.fc1.weight)
            outcome[path.name] = f"loads without an error; weights as saved: {same}"
        print(f"{path.name}: {outcome[path.name]}")
    # --8<-- [end:load_errors]
    assert outcome["truncated.pt"] == (
        "RuntimeError: PytorchStreamReader failed reading zip archive: "
        "failed finding central directory"
    )
    assert outcome["empty.pt"] == "EOFError: "
    assert outcome["web_page.pt"] == "UnpicklingError: Weights only load failed"
    assert outcome["flipped.pt"] == "loads without an error; weights as saved: False"
    assert outcome["bad_pickle.pt"] == "IndexError: pop from empty list"
    assert outcome["legacy.pt"] == "loads without an error; weights as saved: True"

    # --8<-- [start:crc]
    with zipfile.ZipFile(flipped) as archive:
        print("testzip:", archive.testzip())  # the first record whose CRC-32 fails
    loaded = torch.load(flipped, weights_only=True)  # no error
    same = torch.equal(loaded["fc1.weight"], state["fc1.weight"])
    print("torch.load: no error; fc1.weight as saved:", same)
    # --8<-- [end:crc]
    with zipfile.ZipFile(flipped) as archive:
        assert archive.testzip() == "flipped/data/0"  # fc1.weight's storage
    with zipfile.ZipFile(good) as archive:
        assert archive.testzip() is None
    with zipfile.ZipFile(bad_pickle) as archive:
        assert archive.testzip() == "bad_pickle/data.pkl"
    differs = [k for k in state if not torch.equal(loaded[k], state[k])]
    assert differs == ["fc1.weight"], differs
    same_but_one = loaded["fc1.weight"].flatten()[1:]
    assert torch.equal(same_but_one, state["fc1.weight"].flatten()[1:])

    # Saved with CRC-32 turned off, every file fails testzip: its CRCs read 0.
    torch.serialization.set_crc32_options(False)
    try:
        no_crc = out_dir / "no_crc.pt"
        torch.save(state, no_crc)
    finally:
        torch.serialization.set_crc32_options(True)
    with zipfile.ZipFile(no_crc) as archive:
        assert archive.testzip() == "no_crc/data.pkl"
        assert {info.CRC for info in archive.infolist()} == {0}
    assert torch.equal(
        torch.load(no_crc, weights_only=True)["fc1.weight"], state["fc1.weight"]
    )

    formats = {path.name: torch_save_format(path) for path in [good, legacy, web_page]}
    assert formats == {"good.pt": "zip", "legacy.pt": "legacy", "web_page.pt": None}
    assert torch_save_format(truncated) == "zip" and not zipfile.is_zipfile(truncated)
    assert torch_save_format(empty) is None and torch_save_format(lfs_pointer) is None

    # --8<-- [start:verdicts]
    files = [good, legacy, truncated, empty, web_page, lfs_pointer, flipped]
    files += [legacy_flipped, unfinished, swapped, wider, entire]
    verdicts = {}
    for path in files:
        verdicts[path.name] = check_checkpoint(path, MyModel().to(device))
        print(f"{path.name}: {verdicts[path.name]}")
    # --8<-- [end:verdicts]
    assert verdicts["good.pt"] == "ok"
    assert verdicts["legacy.pt"] == "ok"
    assert verdicts["truncated.pt"].startswith("cut short")
    assert verdicts["empty.pt"] == "not a torch.save file: it starts with b''"
    assert verdicts["web_page.pt"].startswith(
        "not a torch.save file: it starts with b'<!DOC"
    )
    assert verdicts["lfs_pointer.pt"].startswith(
        "not a torch.save file: it starts with b'vers"
    )
    assert (
        verdicts["flipped.pt"]
        == "damaged: record flipped/data/0 fails its CRC-32 check"
    )
    assert verdicts["legacy_flipped.pt"].startswith("sha256 differs")
    assert verdicts["unfinished.pt"].startswith("no .sha256 file")
    assert verdicts["swapped.pt"].startswith("sha256 differs")
    assert verdicts["wider.pt"].startswith("not this model's: size mismatch")
    assert verdicts["entire_model.pt"] == "torch.load failed: UnpicklingError"
    # Without its checksum, the swapped file passes every other check.
    swapped.with_name("swapped.pt.sha256").write_text(
        f"{sha256_of(swapped)}  swapped.pt\n"
    )
    assert check_checkpoint(swapped, MyModel().to(device)) == "ok"

    for path in files + [bad_pickle, no_crc]:
        path.unlink()
        path.with_name(path.name + ".sha256").unlink(missing_ok=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
