from apps.help.article_text import parse_article


def test_bullets_become_lists_and_html_is_escaped():
    article = parse_article("T\nIntro <b>bold</b>\nStep 1. One\nPara.\n- a & b\n- c\nAfter.\n")

    html = article.steps[0].text.to_html()

    assert html == "<p>Para.</p><ul><li>a &amp; b</li><li>c</li></ul><p>After.</p>"
    assert article.intro.to_html() == "<p>Intro &lt;b&gt;bold&lt;/b&gt;</p>"


def test_still_missing_is_optional():
    article = parse_article("T\nStep 1. One\nPara.\n")

    assert article.still_missing is None
    assert len(article.steps) == 1
