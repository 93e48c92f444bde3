"""Load only the backbone of a ResNet-18: its 512 features, without the fc head.

Three ways, from the same saved state_dict: `model.fc = nn.Identity()`,
torchvision's `create_feature_extractor`, and `nn.Sequential` of the children but
the last. The first two keep the state_dict's names; the Sequential renumbers them.
Each gives the same features as the full model's penultimate layer (the input of fc).
"""

import argparse
import tempfile
from pathlib import Path

import torch
from torch import nn
from torchvision.models import resnet18
from torchvision.models.feature_extraction import create_feature_extractor


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    trained = resnet18(weights=None, num_classes=10).to(device)
    # ... train the model ...
    path = out_dir / "resnet18.pt"
    torch.save(trained.state_dict(), path)

    # The full model's penultimate layer: what goes into fc.
    full = resnet18(weights=None, num_classes=10).to(device)
    full.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    full.eval()
    x = torch.randn(2, 3, 64, 64, device=device)
    seen = {}
    full.fc.register_forward_hook(lambda m, inputs, out: seen.update(fc_in=inputs[0]))
    with torch.no_grad():
        full(x)
    expected = seen["fc_in"]
    assert expected.shape == (2, 512)

    # --8<-- [start:identity]
    model = resnet18(weights=None, num_classes=10)
    model.fc = nn.Identity()  # no parameters: the model now ends at the 512 features
    state_dict = torch.load(path, map_location=device, weights_only=True)
    backbone = {k: v for k, v in state_dict.items() if not k.startswith("fc.")}
    model.load_state_dict(backbone)  # strict: every name matches
    model = model.to(device).eval()
    with torch.no_grad():
        features = model(x)
    print("fc = Identity:", tuple(features.shape), len(model.state_dict()), "entries")
    # --8<-- [end:identity]
    assert torch.equal(features, expected)
    assert list(model.state_dict()) == list(backbone)
    torch.save(model.state_dict(), out_dir / "backbone.pt")  # a backbone-only file
    backbone_only = torch.load(out_dir / "backbone.pt", weights_only=True)
    assert list(backbone_only) == list(backbone) and len(backbone_only) == 120

    # --8<-- [start:extractor]
    model = resnet18(weights=None, num_classes=10).to(device)
    model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    extractor = create_feature_extractor(model, return_nodes={"flatten": "features"})
    extractor.eval()
    with torch.no_grad():
        features = extractor(x)["features"]
    names = list(extractor.state_dict())
    print("create_feature_extractor:", tuple(features.shape), len(names), "entries")
    print("the names of the model without fc:", names == list(backbone))
    # --8<-- [end:extractor]
    assert torch.equal(features, expected)
    assert list(extractor.state_dict()) == list(backbone)
    # The extractor loads a backbone-only file strictly, as it is.
    fresh = create_feature_extractor(
        resnet18(weights=None, num_classes=10), return_nodes={"flatten": "features"}
    )
    fresh.load_state_dict(backbone_only)
    fresh = fresh.to(device).eval()
    with torch.no_grad():
        assert torch.equal(fresh(x)["features"], expected)

    # --8<-- [start:sequential]
    model = resnet18(weights=None, num_classes=10).to(device)
    model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    body = nn.Sequential(*list(model.children())[:-1])  # all but fc; shares weights
    body.eval()
    with torch.no_grad():
        features = torch.flatten(body(x), 1)  # avgpool gives (N, 512, 1, 1)
    print("nn.Sequential:", tuple(features.shape), len(body.state_dict()), "entries")
    print(list(body.state_dict())[:2], "...")
    # --8<-- [end:sequential]
    assert torch.equal(features, expected)

    # --8<-- [start:rename]
    children = [name for name, _ in model.named_children()]  # conv1, bn1, ..., fc

    def sequential_name(name):  # "layer1.0.conv1.weight" -> "4.0.conv1.weight"
        child, rest = name.split(".", 1)
        return f"{children.index(child)}.{rest}"

    body = nn.Sequential(*list(resnet18(weights=None).children())[:-1]).to(device)
    body.load_state_dict({sequential_name(k): v for k, v in backbone.items()})
    for name in ("conv1.weight", "bn1.running_mean", "layer4.1.bn2.weight"):
        print(f"{name} -> {sequential_name(name)}")
    # --8<-- [end:rename]
    assert children == [
        "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4",
        "avgpool", "fc",
    ]  # fmt: skip
    assert len(body.state_dict()) == 120
    with torch.no_grad():
        assert torch.equal(torch.flatten(body.eval()(x), 1), expected)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
