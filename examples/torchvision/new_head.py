"""Reuse a 1000-class ResNet-18's weights in a model for 10 classes.

A 1000-class state_dict does not load into `resnet18(num_classes=10)`: `fc.weight`
and `fc.bias` have other shapes, and `strict=False` does not forgive that. Two fixes
keep every other weight: load into a 1000-class model and then replace `model.fc`,
or drop the `fc.*` entries and load the rest with `strict=False`.
"""

import argparse
import tempfile
from pathlib import Path

import torch
from torch import nn
from torchvision.models import resnet18


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    pretrained = resnet18(weights=None)  # stands for the 1000-class ImageNet weights
    path = out_dir / "resnet18-1000-classes.pt"
    torch.save(pretrained.state_dict(), path)
    saved = torch.load(path, weights_only=True)  # to compare with, on the CPU
    backbone_names = [name for name in saved if not name.startswith("fc.")]
    assert len(backbone_names) == len(saved) - 2 == 120

    try:
        # --8<-- [start:error]
        model = resnet18(weights=None, num_classes=10).to(device)  # 10 classes
        model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
        # --8<-- [end:error]
    except RuntimeError as err:
        error = str(err)
        print(f"{type(err).__name__}: {err}")
    else:
        raise AssertionError("a 1000-class fc loaded into a 10-class fc")
    assert error.startswith("Error(s) in loading state_dict for ResNet:")
    assert (
        "size mismatch for fc.weight: copying a param with shape "
        "torch.Size([1000, 512]) from checkpoint, the shape in current model is "
        "torch.Size([10, 512])."
    ) in error
    assert "size mismatch for fc.bias" in error and error.count("size mismatch") == 2
    try:
        model.load_state_dict(saved, strict=False)
    except RuntimeError as err:
        assert str(err) == error  # strict=False raises the same error
    else:
        raise AssertionError("strict=False loaded tensors of another shape")

    # Fix 1: load into the model the weights were saved from, then swap the head.
    # --8<-- [start:replace_fc]
    model = resnet18(weights=None)  # 1000 classes, as saved
    model.load_state_dict(torch.load(path, weights_only=True))
    model.fc = nn.Linear(model.fc.in_features, 10)  # a new head: 512 -> 10
    model = model.to(device)
    # --8<-- [end:replace_fc]
    replaced = model

    # Fix 2: leave the fc.* entries out and load the rest with strict=False.
    torch.manual_seed(1)
    # --8<-- [start:strict_false]
    model = resnet18(weights=None, num_classes=10).to(device)
    state_dict = torch.load(path, map_location=device, weights_only=True)
    backbone = {k: v for k, v in state_dict.items() if not k.startswith("fc.")}
    result = model.load_state_dict(backbone, strict=False)
    print(result)
    assert result.missing_keys == ["fc.weight", "fc.bias"]  # the new head, only
    assert result.unexpected_keys == []
    # --8<-- [end:strict_false]
    torch.manual_seed(1)
    fresh_head = resnet18(weights=None, num_classes=10).fc  # the same random init
    assert torch.equal(model.fc.weight.cpu(), fresh_head.weight)  # not loaded

    for new_model in (replaced, model):
        new_state = new_model.state_dict()
        assert list(new_state) == list(saved)  # same names, same order
        for name in backbone_names:  # every weight and BatchNorm buffer but fc
            assert torch.equal(new_state[name].cpu(), saved[name]), name
        assert new_model.fc.weight.shape == (10, 512)
        x = torch.randn(2, 3, 64, 64, device=device)
        assert new_model.eval()(x).shape == (2, 10)
    print("backbone tensors equal to the saved ones:", len(backbone_names))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
