import pytest

from apps.help.article_text import ArticleFormatError, parse_article


def test_bullets_become_lists_and_html_is_escaped():
    article = parse_article("T\nIntro <b>bold</b>\nStep 1. One\nPara.\n- a & b\n- c\nAfter.\n")

    html = article.steps[0].text.to_html()

    assert html == "<p>Para.</p><ul><li>a &amp; b</li><li>c</li></ul><p>After.</p>"
    assert article.intro.to_html() == "<p>Intro &lt;b&gt;bold&lt;/b&gt;</p>"


def test_still_missing_is_optional():
    article = parse_article("T\nStep 1. One\nPara.\n")

    assert article.still_missing is None
    assert len(article.steps) == 1


MALFORMED_HEADINGS = {
    "no dot": ("Step 2 Title", "write it as “Step 2. Title”"),
    "a colon": ("Step 2: Title", "write it as “Step 2. Title”"),
    "a parenthesis": ("Step 2) Title", "write it as “Step 2. Title”"),
    "lower case": ("step 2. Title", "write it as “Step 2. Title”"),
    "no space": ("Step2. Title", "write it as “Step 2. Title”"),
    "number in words": ("Step two. Title", "write it as “Step N. Title” with the step's number in digits"),
    "roman numeral": ("Step II. Title", "write it as “Step N. Title” with the step's number in digits"),
}


@pytest.mark.parametrize("heading,expected", MALFORMED_HEADINGS.values(), ids=MALFORMED_HEADINGS.keys())
def test_malformed_step_heading_names_the_line_and_the_expected_form(heading, expected):
    with pytest.raises(ArticleFormatError) as excinfo:
        parse_article(f"T\nStep 1. One\nPara.\n{heading}\nMore text.\n")

    assert str(excinfo.value).startswith(f"line 4: {heading!r} looks like a step heading; {expected}")


def test_malformed_step_heading_is_not_a_title():
    with pytest.raises(ArticleFormatError, match="line 1: expected the article's title, found 'Step 1: One'"):
        parse_article("Step 1: One\nPara.\n")


PROSE = [
    "Step back and look at the plugin page once more.",
    "Step by step: open the plugin, then its channels.",
    "Steps 1 to 3 apply to every platform.",
    "Stepping through the order wizard takes a minute.",
    "Step carefully: a wrong channel hides orders.",
]


@pytest.mark.parametrize("line", PROSE)
def test_prose_that_begins_with_step_stays_a_paragraph(line):
    article = parse_article(f"T\nStep 1. One\nPara.\n{line}\n")

    assert len(article.steps) == 1
    assert article.steps[0].text.to_html() == f"<p>Para.</p><p>{line}</p>"
