"""Start a new page: the Markdown page, its example script, and its nav entry.

    python scripts/new_page.py "Load a model onto a TPU" --topic tpu --name load_on_tpu

writes docs/<slug>.md (from the title), examples/<topic>/<name>.py, and adds the
page to `nav` in mkdocs.yml under --section (default "Beyond the basics"). The
example runs as it is and the tests pick it up with no test code to write: edit
the script, then the page, then run `pytest -k <name>` (see CONTRIBUTING.md).
"""

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = '''"""{title}."""

import argparse
import tempfile
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


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    model = MyModel().to(device)
    x = torch.randn(3, 10, device=device)

    # --8<-- [start:answer]
    path = out_dir / "model.pt"
    torch.save(model.state_dict(), path)

    loaded = MyModel().to(device)
    loaded.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    # --8<-- [end:answer]

    same = torch.equal(model(x), loaded(x))
    print("same outputs after loading:", same)
    assert same  # assert everything the page claims


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, mps, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
'''

PAGE = """# {title}

**Short answer:** one or two sentences that answer the question, then the shortest
block that does it and runs when pasted alone (the tests run it, `#>` lines checked):

```python
import torch
from torch import nn

model = nn.Linear(10, 1)
torch.save(model.state_dict(), "model.pt")

loaded = nn.Linear(10, 1)
loaded.load_state_dict(torch.load("model.pt", weights_only=True))
print(torch.equal(model.weight, loaded.weight))
#> True
```

## The tested script

The part that answers the question:

```python title="Fragment of {script}"
--8<-- "{script}:answer"
```

The whole script runs as it is: [download it]({script}) or paste it into a file, then
`python {script_name}` (add `--device cuda` to use a GPU). It prints:

```text title="Output of {script}"
same outputs after loading: True
```

??? example "The whole script: {script}"

    ```python title="{script}"
    --8<-- "{script}"
    ```

## Why it works

Explain here, one point per section. Every claim is asserted in the script, or
linked to its source.
"""


def slugify(title):
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def add_to_nav(mkdocs_yml, section, title, page):
    """Append `- title: page` to the nav section named `section` (made if missing)."""
    lines = mkdocs_yml.read_text().splitlines()
    entry = f"{title.replace(':', ' -')}: {page}"
    header = next(
        (
            i
            for i, line in enumerate(lines)
            if re.fullmatch(rf"  - {re.escape(section)}:\s*", line)
        ),
        None,
    )
    if header is None:  # a new section, before Troubleshooting
        at = next(
            i for i, line in enumerate(lines) if line.startswith("  - Troubleshooting")
        )
        lines[at:at] = [f"  - {section}:", f"      - {entry}"]
    else:
        at = header + 1
        while at < len(lines) and lines[at].startswith("      - "):
            at += 1
        lines.insert(at, f"      - {entry}")
    mkdocs_yml.write_text("\n".join(lines) + "\n")


def main(argv=None, root=ROOT):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "title", help='the question the page answers, e.g. "Load a model onto a TPU"'
    )
    parser.add_argument(
        "--topic", required=True, help="folder under examples/, e.g. tpu"
    )
    parser.add_argument(
        "--name", required=True, help="the script's name, e.g. load_on_tpu"
    )
    parser.add_argument("--section", default="Beyond the basics", help="nav section")
    args = parser.parse_args(argv)

    slug = slugify(args.title)
    script = f"examples/{args.topic}/{args.name}.py"
    page = root / "docs" / f"{slug}.md"
    for path in (page, root / script):
        if path.exists():
            sys.exit(
                f"{path.relative_to(root)} exists already: choose another title or name"
            )
    (root / script).parent.mkdir(parents=True, exist_ok=True)
    (root / script).write_text(SCRIPT.format(title=args.title))
    page.write_text(
        PAGE.format(title=args.title, script=script, script_name=Path(script).name)
    )
    add_to_nav(root / "mkdocs.yml", args.section, args.title, page.name)
    print(f"wrote {page.relative_to(root)} and {script}, in the nav: {args.section}")
    print(f"next: edit both, then run  .venv/bin/pytest -n0 -k {args.name}")
    return page, root / script


if __name__ == "__main__":
    main()
