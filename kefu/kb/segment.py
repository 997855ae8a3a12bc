"""Chinese (and English) text into search terms. Imports no Django.

jieba's dictionary is loaded once, lazily, by the first call that needs it (about a second;
it comes with the package, nothing is fetched). kefu keeps its own ``jieba.Tokenizer`` so
words added elsewhere do not change how articles are indexed. The HMM guesser for unknown
words is off: a word it invents in one sentence may be cut differently in another, and an
index must cut a query the way it cut the article.

Articles are indexed with :func:`index_terms` (words and the shorter words inside long
ones, as jieba's search mode gives them); a query becomes groups of alternatives with
:func:`query_groups`, one group per query word, each holding the word itself and its
synonyms. A synonym of several words (光猫 cut as 光 / 猫) is a phrase: a tuple of terms."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Sequence

import jieba

jieba.setLogLevel(logging.WARNING)

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None

# Words that say nothing about what an article is about; they would only make a query
# match every article.
_STOPWORDS = """
    的 了 是 在 我 你 他 她 它 们 我们 你们 他们 吗 呢 吧 啊 呀 哦 嗯 和 与 及 或 也 都 就 还 又
    把 被 给 让 对 从 向 到 为 为了 以 之 其 这 那 这个 那个 这些 那些 什么 怎么 怎样 怎么办 如何
    为什么 哪 哪里 哪儿 哪个 吗 么 得 地 着 过 一个 一下 有 没有 没 不 能 能不能 可以 可否 是否
    请问 请 您好 你好 谢谢 一直 已经 现在 今天 时候 要 想 需要 会 该 应该 自己 这样 那样
    a an the of to in on for and or is are be it this that how what why do does can i my
"""
STOPWORDS = frozenset(_STOPWORDS.split())

_WORD = re.compile(r"[\w]", re.UNICODE)
Phrase = tuple[str, ...]


def tokenizer() -> jieba.Tokenizer:
    """The shared tokenizer, its dictionary loaded on first use (thread-safe)."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                tok = jieba.Tokenizer()
                tok.initialize()
                _tokenizer = tok
    return _tokenizer


def _keep(token: str) -> bool:
    return bool(_WORD.search(token)) and token not in STOPWORDS


def words(text: str) -> list[str]:
    """The words of ``text`` in order (jieba's precise mode), lower-cased, without
    punctuation or stop words."""
    cut = tokenizer().lcut(text.lower(), HMM=False)
    return [t.strip() for t in cut if t.strip() and _keep(t.strip())]


def index_terms(text: str) -> list[str]:
    """The terms an article is indexed under: each word and, for long words, the shorter
    dictionary words inside it (中华人民共和国 → 中华, 华人, 人民, 共和, 共和国, …),
    lower-cased, punctuation and stop words left out."""
    cut = tokenizer().lcut_for_search(text.lower(), HMM=False)
    return [t.strip() for t in cut if t.strip() and _keep(t.strip())]


def index_text(text: str) -> str:
    """:func:`index_terms` joined by spaces: what the full-text index stores."""
    return " ".join(index_terms(text))


def phrase(term: str) -> Phrase:
    """A synonym as the index sees it: the words it is cut into."""
    return tuple(words(term)) or (term.lower(),)


def query_groups(query: str, synonyms: Sequence[Sequence[str]] = ()) -> list[list[Phrase]]:
    """The query as groups of alternatives: one group per query word, holding the word and
    every synonym of it; a synonym that appears in the query as written (even where jieba
    cuts it into pieces, 光猫 → 光 / 猫) makes one group of its own in place of those
    pieces. Duplicates are dropped; order follows the query."""
    lowered = query.lower()
    groups: list[list[Phrase]] = []
    covered: set[str] = set()
    for group in synonyms:
        terms = [t.lower() for t in group if t.strip()]
        if any(t in lowered for t in terms):
            groups.append(_unique(phrase(t) for t in terms))
            for t in terms:
                if t in lowered:
                    covered.update(words(t))
    by_word = {w: g for g in synonyms for w in (t.lower() for t in g)}
    for word in words(query):
        if word in covered:
            continue
        covered.add(word)
        alternatives: list[Phrase] = [(word,)]
        if word in by_word:
            alternatives += [phrase(t) for t in by_word[word]]
        groups.append(_unique(alternatives))
    return groups


def _unique(phrases: Iterable[Phrase]) -> list[Phrase]:
    seen: dict[Phrase, None] = {}
    for p in phrases:
        if p and p not in seen:
            seen[p] = None
    return list(seen)
