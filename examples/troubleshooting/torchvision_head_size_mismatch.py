"""Fix "size mismatch for fc.weight" when a torchvision model gets a new head.

ImageNet weights for ResNet-18 end in a 1000-class `fc` layer, and
`resnet18(num_classes=10)` in a 10-class one, so `load_state_dict` refuses the file,
with or without `strict=False`. Leave the `fc.*` entries out and load the rest with
`strict=False`: every other weight and BatchNorm buffer loads, and the new head keeps
its fresh initialization.
"""

import argparse
import tempfile
from pathlib import Path

import torch
from torchvision.models import resnet18


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    # resnet18(weights=None) stands for the 1000-class ImageNet weights: no download.
    path = out_dir / "resnet18-1000-classes.pt"
    torch.save(resnet18(weights=None).state_dict(), path)

    model = resnet18(weights=None, num_classes=10).to(device)
    state_dict = torch.load(path, map_location=device, weights_only=True)
    for strict in (True, False):
        try:
            model.load_state_dict(state_dict, strict=strict)
        except RuntimeError as err:
            error = err
        else:
            raise AssertionError(f"strict={strict} loaded a 1000-class fc")
        print(f"strict={strict}: {type(error).__name__}: {error}")
        assert (
            "size mismatch for fc.weight: copying a param with shape "
            "torch.Size([1000, 512]) from checkpoint, the shape in current model is "
            "torch.Size([10, 512])."
        ) in str(error)
        assert str(error).count("size mismatch") == 2  # fc.weight and fc.bias

    new_head = model.fc.weight.clone()
    # --8<-- [start:fix]
    state_dict = torch.load(path, map_location=device, weights_only=True)
    backbone = {k: v for k, v in state_dict.items() if not k.startswith("fc.")}
    result = model.load_state_dict(backbone, strict=False)
    print(result)
    assert result.missing_keys == ["fc.weight", "fc.bias"]  # the new head, only
    assert result.unexpected_keys == []
    # --8<-- [end:fix]
    for name, tensor in backbone.items():  # 120 weights and BatchNorm buffers
        assert torch.equal(model.state_dict()[name], tensor), name
    assert torch.equal(model.fc.weight, new_head)  # left as it was
    x = torch.randn(1, 3, 64, 64, device=device)
    assert model.eval()(x).shape == (1, 10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
