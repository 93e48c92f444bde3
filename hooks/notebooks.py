"""MkDocs hooks: notebook pages, an .ipynb of every example, download links.

- Each `examples/notebooks/*.py` (jupytext percent format) is executed at build
  time in a Jupyter kernel and becomes the page `examples/notebooks/<name>/`:
  its Markdown cells as text, its code cells as Python blocks, their outputs as
  text blocks. A cell that raises fails the build.
- Every script under `examples/` is also served as a notebook beside it,
  `examples/<topic>/<name>.ipynb`: the docstring as a Markdown cell, the code as a
  cell, and a last cell that calls `main()` (a notebook has no command line).
  A notebook page's `.ipynb` holds the outputs of the build's run.
- The title bar of a block that shows a whole script links its `.py` and `.ipynb`,
  and folded whole scripts are left out of the search index.
"""

import ast
import base64
import sys
import tempfile
from pathlib import Path

import jupytext
import nbformat
from mkdocs.structure.files import File

# The page format lives in pageformat.py, at the repository's root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pageformat import (  # noqa: E402
    NOTEBOOK_FOLDER,
    SCRIPT_TITLE_HTML,
    main_guard,
    notebook_file,
    notebook_page,
)

TIMEOUT = 600  # seconds a notebook cell may run
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def script_to_notebook(source):
    """A plain example script as a notebook that runs it: docstring, code, main()."""
    tree = ast.parse(source)
    lines = source.splitlines()
    docstring = ast.get_docstring(tree) or ""
    body_start = tree.body[0].end_lineno if docstring else 0
    guard = main_guard(tree)
    body_end = guard.lineno - 1 if guard else len(lines)
    code = "\n".join(lines[body_start:body_end]).strip("\n")
    title, _, rest = docstring.partition("\n")
    cells = [
        nbformat.v4.new_markdown_cell(f"# {title.strip()}\n\n{rest.strip()}".strip()),
        nbformat.v4.new_code_cell(code),
    ]
    if guard:
        cells.append(
            nbformat.v4.new_code_cell(
                'main(device="cuda" if torch.cuda.is_available() else "cpu")'
            )
        )
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = KERNELSPEC
    return notebook


def execute(notebook, cwd):
    from nbclient import NotebookClient

    NotebookClient(
        notebook,
        timeout=TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": cwd}},
    ).execute()
    return notebook


def fence(lang, text, title=None):
    ticks = "````" if "```" in text else "```"
    info = f'{lang} title="{title}"' if title else lang
    return f"{ticks}{info}\n{text.rstrip()}\n{ticks}"


def notebook_to_markdown(notebook, name):
    """An executed notebook as a Markdown page."""
    parts = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source)
            continue
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        parts.append(fence("python", cell.source))
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                parts.append(fence("text", output.text, title="Output"))
            elif output.output_type == "error":
                raise RuntimeError(
                    f"{name}: a cell raised {output.ename}: {output.evalue}"
                )
            else:
                data = output.get("data", {})
                if "image/png" in data:
                    png = data["image/png"]
                    png = (
                        png if isinstance(png, str) else base64.b64encode(png).decode()
                    )
                    parts.append(f"![Output](data:image/png;base64,{png.strip()})")
                elif "text/plain" in data:
                    parts.append(fence("text", data["text/plain"], title="Output"))
    return "\n\n".join(parts) + "\n"


def on_files(files, config):
    """Add the notebook pages and an .ipynb beside every example script."""
    for file in list(files):
        path = file.src_uri
        if not (path.startswith("examples/") and path.endswith(".py")):
            continue
        if "__pycache__" in path:
            continue
        source = Path(file.abs_src_path).read_text()
        if path.startswith(NOTEBOOK_FOLDER):
            notebook = jupytext.reads(source, fmt="py:percent")
            notebook.metadata["kernelspec"] = KERNELSPEC
            with tempfile.TemporaryDirectory() as cwd:
                execute(notebook, cwd)
            page, _ = notebook_page(path)
            files.append(
                File.generated(
                    config, page, content=notebook_to_markdown(notebook, path)
                )
            )
        else:
            notebook = script_to_notebook(source)
        files.append(
            File.generated(
                config,
                notebook_file(path),
                content=nbformat.writes(notebook),
            )
        )
    return files


def download_links(script, up):
    """The title of a block showing `script` (without .py), with its downloads: the
    .py, and the .ipynb made beside every example (tools have none)."""
    links = f'<a class="download" href="{up}{script}.py" download>.py</a>'
    if script.startswith("examples/"):
        ipynb = notebook_file(f"{script}.py")
        links += f' <a class="download" href="{up}{ipynb}" download>.ipynb</a>'
    return f'<span class="filename">{script}.py {links}</span>'


def on_page_content(html, page, config, files):
    """Link the .py and .ipynb from the title of each block showing a whole script."""
    up = "../" * page.url.count("/")
    # The folded whole scripts ("??? example") stay out of the search index: their
    # code is on the page already, in the fragments, and they would triple its size.
    html = html.replace(
        '<details class="example">', '<details class="example" data-search-exclude>'
    )
    return SCRIPT_TITLE_HTML.sub(lambda m: download_links(m[1], up), html)
