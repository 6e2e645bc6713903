"""NorNE in the `TOKEN<TAB>TAG` files of `../shared/data/norne/bio`, shared by the scripts in this folder."""
import gzip


def read_bio(path):
    """The sentences of a gzipped BIO file as (tokens, tags) pairs; `#` lines are comments."""
    sents, toks, tags = [], [], []
    for line in gzip.open(path, "rt", encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("#"):
            continue
        if not line:
            if toks:
                sents.append((toks, tags))
            toks, tags = [], []
            continue
        t, g = line.split("\t")
        toks.append(t)
        tags.append(g)
    if toks:
        sents.append((toks, tags))
    return sents
