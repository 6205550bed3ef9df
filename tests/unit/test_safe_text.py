"""Display-safe text: a hostile name shows literally in Markdown and in plotly, never as a link,
image, emphasis, colour, LaTeX, heading or table.

Markdown is rendered with markdown-it-py (CommonMark with GFM tables and strikethrough), the
parser family Streamlit's front end also follows; what it does not know (Streamlit's `:red[...]`
directives, `:material/...:`, `:streamlit:` and emoji shortcodes, `$` LaTeX, arrows) is checked
against the patterns Streamlit 1.67's front end applies."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from analytics.safe_text import markdown_literal, plotly_literal, safe_file_stem, strip_invisible

WORD_JOINER = "\u2060"

# payload -> what the reader must see
PAYLOADS: list[tuple[str, str]] = [
    ("[x](http://evil.example/a)", "[x](http://evil.example/a)"),
    ("![i](http://evil.example/i.png)", "![i](http://evil.example/i.png)"),
    ("**b**", "**b**"),
    ("$x$", "$x$"),
    ("$$x$$", "$$x$$"),
    (":red[x]", ":red[x]"),
    ('<a href="http://evil.example">y</a>', '<a href="http://evil.example">y</a>'),
    ("<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>"),
    ("\u202eevil", "evil"),
    ("a|b", "a|b"),
    ("# h", "# h"),
    ("a|b\n-|-\n1|2", "a|b -|- 1|2"),
    ("x\n\n    indented code", "x indented code"),
    (":material/home: :streamlit: :smile:", ":material/home: :streamlit: :smile:"),
    (":material_home:", ":material_home:"),
    ("a -> b <- c >= d", "a -> b <- c >= d"),
    ("&lt;b&gt; &amp;", "&lt;b&gt; &amp;"),
    ("`code` ~~gone~~ _i_", "`code` ~~gone~~ _i_"),
    ("<http://evil.example>", "<http://evil.example>"),
    ("锦绣花园(东区)·3号楼", "锦绣花园(东区)·3号楼"),
    ("1. first", "1. first"),
    ("\\*still\\*", "\\*still\\*"),
]

# Streamlit 1.67 front end (StreamlitMarkdown): replaced in the parsed text, after escapes
STREAMLIT_TEXT_PATTERNS = (
    re.compile(r":material_(\w+):"),
    re.compile(r":streamlit:"),
    re.compile(r":\+1:|:-1:|:[\w-]+:"),  # remark-emoji
    re.compile(r"(^|\s)(<->|->|<-|--|>=|<=|~=)(\s|$)"),  # typographic arrows
)
# ... and in the source: LaTeX is loaded when a `$` pair survives escapes and code spans
STREAMLIT_ESCAPES = re.compile(r"\\[\\$`]")
INLINE_MATH = re.compile(r"(?<!\$)\$(?![\s$])[^$\n]*?[^\s$]\$(?!\d)")
BLOCK_MATH = re.compile(r"(?<!\$)\$\$+(?!\$)[\s\S]*?\$\$")


class TextAndTags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def render(markdown: str) -> TextAndTags:
    parser = TextAndTags()
    parser.feed(MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown))
    return parser


@pytest.mark.parametrize(("payload", "shown"), PAYLOADS)
def test_markdown_literal_renders_as_the_plain_text(payload: str, shown: str) -> None:
    parsed = render(markdown_literal(payload))
    assert parsed.tags == ["p"]  # no a, img, strong, em, code, del, h1, table, li
    assert "".join(parsed.text).strip().replace(WORD_JOINER, "") == shown


@pytest.mark.parametrize(("payload", "shown"), PAYLOADS)
def test_markdown_literal_leaves_nothing_for_streamlit_to_replace(payload: str, shown: str) -> None:
    source = markdown_literal(payload)
    text = "".join(render(source).text)
    assert not any(p.search(text) for p in STREAMLIT_TEXT_PATTERNS)
    without_escapes = STREAMLIT_ESCAPES.sub("_", source)
    assert not INLINE_MATH.search(without_escapes) and not BLOCK_MATH.search(without_escapes)
    assert not re.search(r"(?<!\\):", source)  # no :red[...] / :help[...] directive can start


@pytest.mark.parametrize(("payload", "shown"), PAYLOADS)
def test_plotly_literal_shows_the_text_and_no_tag(payload: str, shown: str) -> None:
    text = plotly_literal(payload)
    assert "<" not in text and ">" not in text and "$" not in text
    assert html.unescape(text) == shown


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("\u202eexe.txt", "exe.txt"),
        ("a\u202ab\u202bc\u202cd\u202de", "abcde"),
        ("\u2066isolate\u2069\u2067r\u2068f", "isolaterf"),
        ("\u200ezero\u200fmarks\u061c", "zeromarks"),
        ("zero\u200bwidth\u2060joiner\ufeff", "zerowidthjoiner"),
        ("soft\u00adhyphen", "softhyphen"),
        ("bell\x07null\x00", "bellnull"),
        ("tab\tand\nline", "tab\tand\nline"),
        (
            "family \U0001f468\u200d\U0001f469\u200d\U0001f467",
            "family \U0001f468\u200d\U0001f469\u200d\U0001f467",
        ),
        ("锦绣花园", "锦绣花园"),
        (None, ""),
        (12, "12"),
    ],
)
def test_strip_invisible(text, clean: str) -> None:
    assert strip_invisible(text) == clean


@pytest.mark.parametrize(
    ("value", "stem"),
    [
        ("C001", "C001"),
        ("锦绣花园", "锦绣花园"),
        ("../../etc/passwd", "etc_passwd"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ('a"b\r\nc', "a_b_c"),
        ("", "download"),
        ("...", "download"),
    ],
)
def test_safe_file_stem(value: str, stem: str) -> None:
    assert safe_file_stem(value) == stem
