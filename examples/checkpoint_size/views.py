"""A saved view takes its whole storage along: clone it before torch.save.

A slice such as `big[:10]` is a view: it shares the memory (the storage) of
`big`. `torch.save` writes storages, so saving the slice writes all of `big`,
and loading it gives back a view of all of it. `.clone()` copies the slice into
a storage of its own size. safetensors writes only the bytes of a contiguous
view, and refuses a view that is not contiguous.
"""

import argparse
import tempfile
from pathlib import Path

import torch
from safetensors.torch import save_file


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    big = torch.randn(1000, 1000, device=device)  # 4 MB of float32

    # --8<-- [start:view]
    first_rows = big[:10]  # a view of big: 10 rows, 40 kB
    print("bytes of the view:", first_rows.nbytes)
    print("bytes of its storage:", first_rows.untyped_storage().nbytes())
    torch.save(first_rows, out_dir / "view.pt")
    torch.save(first_rows.clone(), out_dir / "clone.pt")
    view_size = (out_dir / "view.pt").stat().st_size
    clone_size = (out_dir / "clone.pt").stat().st_size
    print(f"view.pt: {view_size / 1e6:.2f} MB, clone.pt: {clone_size / 1e6:.2f} MB")
    # --8<-- [end:view]
    assert first_rows.nbytes == 40_000
    assert first_rows.untyped_storage().nbytes() == 4_000_000
    assert 4_000_000 < view_size < 4_010_000  # all of big, plus about 1.5 kB
    assert 40_000 < clone_size < 50_000
    assert view_size / clone_size > 50

    # --8<-- [start:load]
    loaded = torch.load(out_dir / "view.pt", map_location=device, weights_only=True)
    print("loaded storage:", loaded.untyped_storage().nbytes(), "bytes")
    # --8<-- [end:load]
    assert torch.equal(loaded, first_rows)
    assert loaded.untyped_storage().nbytes() == 4_000_000

    # --8<-- [start:contiguous]
    print("big[:10].contiguous() is big[:10]:", first_rows.contiguous() is first_rows)
    columns = big[:, :10]  # not contiguous: .contiguous() copies this one
    print("big[:, :10].contiguous() is a copy:", columns.contiguous() is not columns)
    # --8<-- [end:contiguous]
    assert first_rows.contiguous().untyped_storage().nbytes() == 4_000_000
    assert columns.contiguous().untyped_storage().nbytes() == 40_000
    assert columns.clone().untyped_storage().nbytes() == 40_000

    # Two views of one storage in one file: the storage is written once.
    torch.save({"big": big, "first_rows": first_rows}, out_dir / "both.pt")
    both_size = (out_dir / "both.pt").stat().st_size
    assert 4_000_000 < both_size < 4_010_000

    # --8<-- [start:safetensors]
    save_file({"first_rows": first_rows}, out_dir / "view.safetensors")
    st_size = (out_dir / "view.safetensors").stat().st_size
    print(f"view.safetensors: {st_size / 1e6:.2f} MB")
    try:
        save_file({"columns": columns}, out_dir / "columns.safetensors")
    except ValueError as err:
        message = str(err)
        print(f"{type(err).__name__}: {message}")
    # --8<-- [end:safetensors]
    assert 40_000 < st_size < 41_000  # the view's own bytes and a short header
    assert "You are trying to save a non contiguous tensor" in message


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
