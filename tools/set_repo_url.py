"""Writes the repository address (`colab_setup.REPO_URL`, the one place it is kept) into its copies: the setup cell of
every notebook and the README's Colab badges. `python tools/set_repo_url.py https://github.com/me/my-fork` first sets
the address in colab_setup.py; with no argument it only rewrites the copies. tests/test_colab_setup.py checks them."""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(REPO.glob("[0-9][0-9]-*.ipynb"))
URL_LINE = re.compile(r'(REPO_URL = )"[^"]*"')
BADGE = re.compile(r"(colab\.research\.google\.com/github/)[^/\s]+/[^/\s]+(/blob/)")


def github_path(url: str) -> str:
    # GitHub owner and repository names hold only letters, digits, '-', '_' and '.': nothing that could end the Python
    # string or the JSON the address is written into (a quote once left colab_setup.py with a SyntaxError).
    match = re.fullmatch(r"https://github\.com/([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?)(?:\.git)?/?", url)
    if not match:
        raise ValueError(f"{url!r} is not a GitHub repository address like https://github.com/OWNER/NAME "
                         "(letters, digits, '-', '_' and '.' only)")
    return match.group(1)


def repo_url(setup: Path) -> str:
    """colab_setup.REPO_URL, read from the file (not imported: this tool needs nothing installed)."""
    match = URL_LINE.search(setup.read_text(encoding="utf-8"))
    if not match:
        raise ValueError(f"{setup} has no line `REPO_URL = \"...\"`")
    return ast.literal_eval(match.group(0).split("=", 1)[1].strip())


def rewrite(url: str) -> list[Path]:
    """Puts `url` into every copy; returns the files that changed."""
    path = github_path(url)
    changed = []
    for file in [REPO / "README.md", *NOTEBOOKS]:
        text = file.read_text(encoding="utf-8")
        new = BADGE.sub(rf"\g<1>{path}\g<2>", text)
        if file.suffix == ".ipynb":  # the JSON string of the setup cell's line: REPO_URL = \"...\"
            new = re.sub(r'(REPO_URL = )\\"[^"\\]*\\"', rf'\g<1>\\"{url}\\"', new)
        if new != text:
            file.write_text(new, encoding="utf-8")
            changed.append(file)
    return changed


def main(argv: list[str]) -> None:
    setup = REPO / "colab_setup.py"
    if argv:
        try:
            github_path(argv[0])
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            raise SystemExit(2) from None
        setup.write_text(URL_LINE.sub(f'REPO_URL = "{argv[0]}"', setup.read_text(encoding="utf-8"), count=1),
                         encoding="utf-8")
    for file in rewrite(repo_url(setup)):
        print(f"updated {file.relative_to(REPO)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url", nargs="?", help="the repository's GitHub address (https://github.com/OWNER/NAME); "
                                               "without it, only the copies are rewritten from colab_setup.REPO_URL")
    main([parser.parse_args().url] if parser.parse_args().url else [])
