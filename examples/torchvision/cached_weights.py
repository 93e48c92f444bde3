"""Where torchvision's pretrained files are cached, and loading them yourself.

The torch hub cache is $TORCH_HOME/hub, and TORCH_HOME defaults to
$XDG_CACHE_HOME/torch, then ~/.cache/torch (torch.hub.get_dir reads them each
time it is called). A cached file is a state_dict, which load_state_dict takes as
it is, except for DenseNet: its old files name a dense layer's modules norm.1,
relu.1, conv.1, norm.2, ..., and torchvision's DenseNet loader renames them to
norm1, relu1, conv1, norm2, ... before load_state_dict. This script downloads
nothing: it makes a file with those old names from densenet121(weights=None),
loads it with the renaming, and puts it in a hub cache of its own under the
pretrained file's name, where densenet121(weights=...) finds it and loads it the
same way.
"""

import argparse
import os
import re
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlparse

import torch
from torchvision.models import DenseNet121_Weights, densenet121


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)

    # Where the cache is: each variable is read when get_dir() is called.
    saved_environ = dict(os.environ)
    # --8<-- [start:hub_dir]
    os.environ.pop("TORCH_HOME", None)
    os.environ["XDG_CACHE_HOME"] = "/data/cache"
    print(torch.hub.get_dir())  # $XDG_CACHE_HOME/torch/hub
    os.environ["TORCH_HOME"] = "/data/torch"
    print(torch.hub.get_dir())  # $TORCH_HOME/hub: TORCH_HOME comes first
    # --8<-- [end:hub_dir]
    assert Path(torch.hub.get_dir()) == Path("/data/torch/hub")
    os.environ.pop("TORCH_HOME")
    assert Path(torch.hub.get_dir()) == Path("/data/cache/torch/hub")
    os.environ.pop("XDG_CACHE_HOME")
    default = Path("~/.cache/torch/hub").expanduser()
    assert Path(torch.hub.get_dir()) == default
    os.environ.clear()
    os.environ.update(saved_environ)

    # A DenseNet file with the old names, as the pretrained DenseNet files have.
    torch.manual_seed(0)
    trained = densenet121(weights=None).eval()
    new_name = re.compile(
        r"^(.*denselayer\d+\.(?:norm|relu|conv))"
        r"([12])\.(weight|bias|running_mean|running_var)$"
    )
    old_file = {  # norm1.weight -> norm.1.weight
        new_name.sub(r"\1.\2.\3", key): value
        for key, value in trained.state_dict().items()
    }
    path = out_dir / "densenet121-old-names.pth"
    torch.save(old_file, path)

    # --8<-- [start:densenet_fails]
    state_dict = torch.load(path, map_location=device, weights_only=True)
    model = densenet121(weights=None).to(device)
    try:
        model.load_state_dict(state_dict)
    except RuntimeError as err:
        first, *key_lists = str(err).splitlines()
        print(f"{type(err).__name__}: {first}")
        for keys in key_lists:  # hundreds of names: print the first of each list
            print(keys.split(", ")[0] + ", ...")
    # --8<-- [end:densenet_fails]
    else:
        raise AssertionError("old DenseNet names loaded as they are")
    result = model.load_state_dict(state_dict, strict=False)
    assert "features.denseblock1.denselayer1.norm.1.weight" in result.unexpected_keys
    assert "features.denseblock1.denselayer1.norm1.weight" in result.missing_keys

    # --8<-- [start:densenet_rename]
    # The pattern of torchvision's DenseNet loader (torchvision/models/densenet.py)
    pattern = re.compile(
        r"^(.*denselayer\d+\.(?:norm|relu|conv))\."
        r"((?:[12])\.(?:weight|bias|running_mean|running_var))$"
    )
    state_dict = {pattern.sub(r"\1\2", key): value for key, value in state_dict.items()}
    model = densenet121(weights=None).to(device)
    print(model.load_state_dict(state_dict))
    # --8<-- [end:densenet_rename]
    loaded = model.state_dict()
    for key, value in trained.state_dict().items():
        assert torch.equal(loaded[key].cpu(), value), key

    # torchvision's own loader, public: put the file in a hub cache of our own,
    # under the name of DenseNet-121's pretrained file. load_state_dict_from_url
    # finds it there, so it downloads nothing (and checks no hash), and
    # TORCH_FORCE_WEIGHTS_ONLY_LOAD makes its torch.load use weights_only=True.
    weights = DenseNet121_Weights.IMAGENET1K_V1
    torch_home = out_dir / "torch_home"
    file_name = os.path.basename(urlparse(weights.url).path)  # densenet121-a639ec97.pth
    cached = torch_home / "hub" / "checkpoints" / file_name
    cached.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, cached)
    saved_environ = dict(os.environ)
    os.environ["TORCH_HOME"] = str(torch_home)
    os.environ["TORCH_FORCE_WEIGHTS_ONLY_LOAD"] = "1"
    try:
        assert Path(torch.hub.get_dir()) == torch_home / "hub"  # never a download
        by_torchvision = densenet121(weights=weights)  # renames, then load_state_dict
    finally:
        os.environ.clear()
        os.environ.update(saved_environ)
    for key, value in by_torchvision.state_dict().items():
        assert torch.equal(loaded[key].cpu(), value), key


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
