"""Fix two errors of `timm.models.load_checkpoint`: a head of another size, and numpy.

A checkpoint of a 1000-class model does not load into a model created with
`num_classes=10`: the sizes of `fc.weight` and `fc.bias` differ, and `strict=False`
does not forgive that. Leave the head out with `filter_fn`. And `load_checkpoint`
loads with `weights_only=True` (it allows `argparse.Namespace` only): a checkpoint
that holds a numpy value, such as a metric, is refused with timm's own message.
"""

import argparse
import re
import tempfile
from pathlib import Path

import numpy as np
import timm
import torch
from timm.models import load_checkpoint


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    pretrained = timm.create_model("test_resnet")  # 1000 classes
    path = out_dir / "test_resnet-1000-classes.pth"
    torch.save(pretrained.state_dict(), path)

    model = timm.create_model("test_resnet", num_classes=10).to(device)
    for strict in (True, False):
        try:
            load_checkpoint(model, path, device=device, strict=strict)
        except RuntimeError as err:
            error = str(err)
        else:
            raise AssertionError("a 1000-class head loaded into a 10-class one")
        if strict:
            print(f"RuntimeError: {error}")
        assert error.startswith("Error(s) in loading state_dict for ResNet:")
        assert (
            "size mismatch for fc.weight: copying a param with shape "
            "torch.Size([1000, 96]) from checkpoint, the shape in current model is "
            "torch.Size([10, 96])."
        ) in error

    # --8<-- [start:filter]
    def without_head(state_dict, model):
        head = model.pretrained_cfg["classifier"]  # "fc" here, "head" for a ViT
        return {k: v for k, v in state_dict.items() if not k.startswith(f"{head}.")}

    model = timm.create_model("test_resnet", num_classes=10)
    result = load_checkpoint(model, path, filter_fn=without_head, strict=False)
    print(result)
    # --8<-- [end:filter]
    assert result.missing_keys == ["fc.weight", "fc.bias"]
    assert result.unexpected_keys == []
    for name, tensor in model.state_dict().items():
        if not name.startswith("fc."):
            assert torch.equal(tensor, pretrained.state_dict()[name]), name

    # A checkpoint with a numpy value in it.
    numpy_path = out_dir / "checkpoint-numpy.pth"
    state = {"state_dict": pretrained.state_dict(), "metric": np.float64(71.5)}
    torch.save(state, numpy_path)
    model = timm.create_model("test_resnet")
    try:
        load_checkpoint(model, numpy_path)
    except RuntimeError as err:
        error = str(err)
    else:
        raise AssertionError("a numpy value loaded with weights_only=True")
    # The globals come in another order from run to run: printed sorted.
    names = re.search(r"Unsupported globals: (.*?)\. No automatic", error)[1]
    in_order = ", ".join(sorted(names.split(", ")))
    print(f"RuntimeError: {error.replace(names, in_order)}")
    assert error.startswith(
        "weights_only=True blocked loading this checkpoint because it requires"
        " non-allowlisted pickle globals."
    )
    assert "numpy" in error

    listed_only = [np._core.multiarray.scalar, np.dtype]
    try:
        with torch.serialization.safe_globals(listed_only):
            load_checkpoint(model, numpy_path)
    except RuntimeError as err:
        assert "Unsupported globals" not in str(err)  # timm names none this time
        assert "numpy.dtypes.Float64DType" in str(err.__cause__)  # PyTorch does
    else:
        raise AssertionError("loaded without numpy.dtypes.Float64DType")
    # --8<-- [start:numpy]
    unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(numpy_path)
    print(sorted(unsafe))  # what the file needs, read without running it
    numpy_scalar = [np._core.multiarray.scalar, np.dtype, np.dtypes.Float64DType]
    with torch.serialization.safe_globals(numpy_scalar):  # for this load only
        load_checkpoint(model, numpy_path)
    # --8<-- [end:numpy]
    assert all(
        torch.equal(v, pretrained.state_dict()[k])
        for k, v in model.state_dict().items()
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
