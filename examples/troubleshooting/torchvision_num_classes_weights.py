"""Fix "The parameter 'num_classes' expected value 1000 but got 10 instead".

A torchvision builder given pretrained weights builds the model with as many classes
as the weights have (1000 for ImageNet) and raises a ValueError for any other
`num_classes`, before it downloads anything. Build it with the weights alone, then
replace the last layer. This script downloads nothing: it checks the error, and
shows the fix on `resnet18(weights=None)`, the 1000-class model the weights load into.
"""

import argparse
import tempfile
from pathlib import Path
from unittest import mock

import torch
from torch import nn
from torchvision.models import ResNet18_Weights, resnet18


def no_download(url, *args, **kwargs):
    raise AssertionError(f"this script downloads nothing, but was asked for {url}")


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    # A guard: torch.hub fails instead of downloading, if it ever gets that far.
    guard = mock.patch.object(torch.hub, "download_url_to_file", no_download)
    try:
        with guard:
            resnet18(weights=ResNet18_Weights.DEFAULT, num_classes=10)
    except ValueError as err:
        error = err
    else:
        raise AssertionError("num_classes=10 accepted with 1000-class weights")
    print(f"{type(error).__name__}: {error}")
    assert str(error) == (
        "The parameter 'num_classes' expected value 1000 but got 10 instead."
    )
    assert len(ResNet18_Weights.DEFAULT.meta["categories"]) == 1000

    torch.manual_seed(0)
    # --8<-- [start:fix]
    model = resnet18(weights=None)  # resnet18(weights=ResNet18_Weights.DEFAULT)
    model.fc = nn.Linear(model.fc.in_features, 10)  # a new head: 512 -> 10
    # --8<-- [end:fix]
    model = model.to(device).eval()
    x = torch.randn(1, 3, 64, 64, device=device)
    with torch.no_grad():
        print("outputs:", tuple(model(x).shape))
        assert model(x).shape == (1, 10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
