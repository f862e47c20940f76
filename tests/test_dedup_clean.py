"""Cleaning rules applied before comparison (newsdesk.dedup.clean)."""

from pathlib import Path

import pytest

from newsdesk.dedup.clean import clean, paragraph_hash, parse_attribution

SEED = Path(__file__).parent / "data" / "dedup" / "seed_spun_aljazeera_buffer_zones.txt"


@pytest.fixture
def seed_text():
    title, body = SEED.read_text().split("\n\n", 1)
    return title, body

BODY = "First paragraph of the story about the port.\n\nSecond paragraph with more detail."


def test_headline_repeated_as_first_paragraph_is_removed():
    c = clean("Port strike ends\n\n" + BODY, title="Port Strike Ends")
    assert c.text.startswith("First paragraph")
    assert c.removed["headline"] == 1


def test_headline_kept_when_no_title_or_different():
    assert clean("Port strike ends\n\n" + BODY, title="Other").text.startswith("Port strike ends")


def test_read_more_continue_reading_click_here_lines_removed():
    text = BODY + "\n\nRead more: Port workers vote\n\nContinue reading at example.com\n\nClick here to subscribe"
    c = clean(text)
    assert c.text == BODY
    assert c.removed["read_more"] == 3


def test_long_paragraph_starting_like_read_more_is_kept():
    long_para = "Click here is what the campaign was called, and " + "it ran for many weeks " * 5
    assert "campaign" in clean(BODY + "\n\n" + long_para).text


def test_attribution_lines_parsed_into_attribution():
    cases = {
        "Source: Aljazeera": "Aljazeera",
        "Source - Reuters": "Reuters",
        "Originally published by The Conversation.": "The Conversation",
        "This article first appeared on Premium Times": "Premium Times",
        "Courtesy: BBC News": "BBC News",
        "Republished with permission from Kyiv Independent": "Kyiv Independent",
        "（来源：新华社）": "新华社",
        "本文转载自：人民网 责任编辑：王明": "人民网",
        "【来源：央视新闻】": "央视新闻",
        "来源：新华网。": "新华网",
        "出典：共同通信": "共同通信",
    }
    for line, name in cases.items():
        assert parse_attribution(line) == name, line
        c = clean(BODY + "\n\n" + line)
        assert c.text == BODY and c.attribution == name
    assert parse_attribution("来源于群众的智慧是无穷的") is None  # a sentence, not a source line


def test_agency_dateline_moves_to_attribution():
    c = clean("KYIV (Reuters) - Russian drones hit the city overnight.\n\nMore text here.")
    assert c.attribution == "Reuters"
    assert c.text.startswith("Russian drones hit")


def test_short_promo_tail_after_closing_attribution_is_removed():
    text = (
        BODY + "\n\nThird paragraph.\n\nSource: Aljazeera\n\n234Radio\n\n234Radio is Africa's Premium Internet Radio."
    )
    c = clean(text)
    assert c.attribution == "Aljazeera"
    assert "234Radio" not in c.text and c.text.endswith("Third paragraph.")


def test_learned_boilerplate_paragraphs_stripped():
    footer = "Follow us on social media for breaking news alerts."
    c = clean(BODY + "\n\n" + footer, boilerplate={paragraph_hash(footer)})
    assert c.text == BODY and c.removed["boilerplate"] == 1


def test_paragraph_hash_ignores_case_quotes_and_spacing():
    assert paragraph_hash("He said \u201cno\u201d.") == paragraph_hash("he  said \"NO\"")


def test_seed_is_cleaned_of_headline_attribution_and_promo(seed_text):
    title, body = seed_text
    c = clean(body, title)
    assert c.attribution == "Aljazeera"
    assert not c.text.startswith("Russia seeking")
    assert "234Radio" not in c.text


def test_normalise_shortcuts_change_nothing():
    """normalise skips a substitution when its pattern cannot match: same output as always running it."""
    import re
    import unicodedata

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from newsdesk.dedup import text as dtext

    def reference(value: str) -> str:
        if not value.isascii():
            value = unicodedata.normalize("NFKC", value).translate(dtext._QUOTES)
        value = re.sub(r"(?<=\d)[,\s]\s?(?=\d{3}\b)", "", value)
        return re.sub(r"[ \t\r\f\v]+", " ", value).strip()

    @settings(max_examples=500, deadline=None)
    @given(st.text(alphabet=st.sampled_from(list("0123456789 ,.\t\n\r\f\vab\u00a0\u2009\u2019\u3000")), max_size=40))
    def check(value):
        assert dtext.normalise(value) == reference(value)

    check()


def test_doc_numbers_are_the_number_pattern_over_the_tokens():
    """Doc.numbers picks digit-only tokens: the same set as the regex over the joined tokens."""
    import re

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from newsdesk.dedup.verify import Doc

    pattern = re.compile(r"\b\d+(?:\.\d+)?\b")

    @settings(max_examples=500, deadline=None)
    @given(st.text(alphabet=st.sampled_from(list("0123456789 ,.'-_abZ\u0663\u00b2\u00bd\u2019\n")), max_size=50))
    def check(value):
        doc = Doc(value)
        assert doc.numbers == {n for n in pattern.findall(" ".join(doc.tokens)) if n not in {"1", "2", "3"}}

    check()


def test_content_words_cache_gives_the_uncached_words(monkeypatch):
    """content_words remembers each token's content word; the same list as computing it, also
    across a cache that fills up and is cleared."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from newsdesk.dedup import text as dtext

    monkeypatch.setattr(dtext, "_CONTENT_CACHE_MAX", 20)

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.sampled_from(["the", "drones", "strikes", "ss", "a1", "12", "bodies", "cities", "said",
                                     "port", "ports", "x", "ab", "abc", "7", "press", "studies", "new"])
                    | st.text(alphabet="abcdes19", min_size=1, max_size=7), max_size=30))
    def check(tokens):
        assert dtext.content_words(tokens) == [dtext.stem(t) for t in tokens
                                               if t.isdigit() or (len(t) > 2 and t not in dtext.STOPWORDS)]

    check()


def test_fast_word_and_name_patterns_match_the_plain_ones():
    """The word splitting for ASCII text (a byte table and a split, the regex where apostrophes
    are not single and inside a word) and the capital-first name pattern find exactly what the
    plain patterns find."""
    import re

    from hypothesis import example, given, settings
    from hypothesis import strategies as st

    from newsdesk.dedup import text as dtext
    from newsdesk.dedup import verify

    plain_word = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)
    plain_name = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:[- ][A-Z][a-z]+)*")

    @settings(max_examples=800, deadline=None)
    @given(st.text(alphabet=st.sampled_from(list("aBcZ09_' -.!?\n\t\"(\u00e9\u00c9\u0130\u2019\u0663")), max_size=60))
    @example("Hello World. Mr Smith met Anne-Marie Le Pen!  Then Paris\nBerlin _Abc 1Abc \u00e9Abc \u00c9cole")
    @example("Russia's drones, don't  it's")  # single apostrophes inside words: deleted
    @example("'Quoted' rock'n'roll a''b x' 'y o'9 9'_")  # the others: the regex's rules
    def check(value):
        assert verify._NAME.findall(value) == plain_name.findall(value)
        if value.isascii():
            assert dtext.words_normalised(value) == [w.lower().replace("'", "") for w in plain_word.findall(value)]

    check()
