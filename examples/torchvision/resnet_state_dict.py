"""Save and load a torchvision ResNet-18 as a state_dict, with nothing downloaded.

`resnet18(weights=None)` builds the architecture with random weights. Its state_dict,
BatchNorm buffers included, loads into a second `resnet18(weights=None)` with
`weights_only=True`, and in eval mode the two give the same outputs. The pretrained
file that `weights=ResNet18_Weights.DEFAULT` downloads is a state_dict of the same
names and shapes: this script shows where torchvision keeps it, and loads it with
`weights_only=True` if it is there (it downloads nothing).
"""

import argparse
import inspect
import tempfile
from pathlib import Path

import torch
import torchvision
from torchvision.models import ResNet18_Weights, resnet18


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    versions = [v.split("+")[0] for v in (torch.__version__, torchvision.__version__)]
    print("torch {} | torchvision {}".format(*versions))  # 2.14.1+cu130 -> 2.14.1

    # --8<-- [start:save]
    torch.manual_seed(0)
    model = resnet18(weights=None).to(device)  # random weights: nothing downloaded
    # ... train the model ...
    path = out_dir / "resnet18.pt"
    torch.save(model.state_dict(), path)
    # --8<-- [end:save]

    # --8<-- [start:load]
    loaded = resnet18(weights=None).to(device)  # the same builder, the same arguments
    loaded.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    model.eval()
    loaded.eval()  # BatchNorm uses the saved running statistics
    x = torch.randn(1, 3, 64, 64, device=device)
    with torch.no_grad():
        print("same outputs:", torch.equal(loaded(x), model(x)))
    # --8<-- [end:load]
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))

    # --8<-- [start:buffers]
    state_dict = torch.load(path, weights_only=True)
    stats = ("running_mean", "running_var", "num_batches_tracked")
    buffers = [name for name in state_dict if name.endswith(stats)]
    params = dict(model.named_parameters())
    print(f"{len(state_dict)} entries: {len(params)} parameters,", end=" ")
    print(f"{len(buffers)} BatchNorm buffers")
    print([name for name in state_dict if name.startswith("bn1.")])
    # --8<-- [end:buffers]
    assert len(state_dict) == 122 and len(params) == 62 and len(buffers) == 60
    assert set(state_dict) == set(params) | set(buffers)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(bns) == 20 and len(buffers) == 3 * len(bns)
    assert state_dict["bn1.num_batches_tracked"].dtype == torch.int64
    for name, tensor in loaded.state_dict().items():
        assert torch.equal(tensor.cpu(), state_dict[name]), name

    # Where resnet18(weights=ResNet18_Weights.DEFAULT) keeps its download.
    # --8<-- [start:pretrained]
    weights = ResNet18_Weights.DEFAULT
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
    print(weights, weights.url)
    print("cached as <hub dir>/checkpoints/" + cached.name)
    if cached.exists():  # resnet18(weights=weights) downloaded it before
        pretrained = resnet18(weights=None).to(device)
        pretrained.load_state_dict(
            torch.load(cached, map_location=device, weights_only=True)
        )
    # --8<-- [end:pretrained]
    assert weights is ResNet18_Weights.IMAGENET1K_V1
    assert len(weights.meta["categories"]) == 1000  # the 1000 ImageNet classes
    # torchvision loads it with torch.hub.load_state_dict_from_url, whose
    # weights_only argument defaults to False.
    hub_load = inspect.signature(torch.hub.load_state_dict_from_url)
    assert hub_load.parameters["weights_only"].default is False


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
