"""Issue 43: the code's license (LICENSE, Apache-2.0) and the models' (CC0 1.0) are stated the same way everywhere."""

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CARDS = sorted(REPO.glob("assets/*/README.md"))


def test_the_code_carries_the_apache_license():
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.lstrip().startswith("Apache License") and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_the_readme_names_both_licenses():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "[Apache License 2.0](LICENSE)" in readme
    assert "license: cc0-1.0" in readme and "**CC0 1.0**" in readme


@pytest.mark.parametrize("card", CARDS, ids=[c.parent.name for c in CARDS])
def test_every_model_card_says_cc0(card):
    front_matter = card.read_text(encoding="utf-8").split("---")[1]
    assert re.search(r"^license: cc0-1.0$", front_matter, re.MULTILINE), card
