"""Query stage: the one search API the CLI and the web front end both call (``engine``).

The package re-exports every name ``search/query.py`` had, so callers import from ``search.query``
as before; each module does one job (see ``engine``'s docstring).
"""

from search.query.engine import (  # noqa: F401
    MAX_PAGE,
    MAX_PER_PAGE,
    SORTS,
    SearchEngine,
    _locked,
    search,
)
from search.query.execute import (  # noqa: F401
    _any_word,
    _completed,
    _matches,
    _ranked_by_tiers,
    _top_scored,
)
from search.query.facets import (  # noqa: F401
    _REGION_FACETS,
    FACET_LIMIT,
    _date_key,
    _iso_date,
    _ranked,
    as_date,
)
from search.query.limits import (  # noqa: F401
    _FIELD_SYNTAX,
    _QUOTE_MARKS,
    MAX_EXPANDED_WORDS,
    MAX_EXPANDING_TERMS,
    MAX_NESTING,
    MAX_PHRASE_WORDS,
    MAX_QUERY_CHARS,
    MAX_QUERY_COST,
    MAX_QUERY_WORDS,
    POSITIONAL_COST,
    QUERY_FIELDS,
    _bounded,
    _cheaper,
    _check_expansions,
    _check_query_text,
)
from search.query.nodes import (  # noqa: F401
    DocSet,
    GramRun,
    Near,
    QuotedPhrase,
    WordPhrase,
    _MarkedPhrase,
    _positional,
    _walk,
    gram_query,
)
from search.query.parse import (  # noqa: F401
    _REGION_FIELDS,
    GRAM_BOOST,
    SYNONYM_BOOST,
    ChineseQueryParser,
    _highlight_terms,
    _or_bigrams,
    _phrase_by_words,
    _sequence_query,
    _word_query,
)
from search.query.plan import (  # noqa: F401
    LOOSEN_ABOVE,
    LOOSENED,
    _terms_only,
    resolve_gram_runs,
)
from search.query.proximity import (  # noqa: F401
    PROXIMITY_BOOST,
    PROXIMITY_WINDOW,
    RESCORE_WINDOW,
    _by_score_then_date,
    _closeness,
    _positions_in,
    _proximity_words,
    _with_proximity,
)
from search.query.results import (  # noqa: F401
    Document,
    FacetValue,
    Hit,
    QueryError,
    SearchResult,
    _described,
    region_name,
)
from search.query.scoring import (  # noqa: F401
    SavedLengthsBM25F,
    _tally,
    _tally_scores,
    _tally_term,
    _tallyable,
)
