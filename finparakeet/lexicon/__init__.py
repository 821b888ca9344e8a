"""The finance lexicon: tickers, companies, indices/funds/ETFs and terms, each with written and spoken forms."""

from finparakeet.lexicon.loader import Lexicon, LexiconEntry, load_lexicon, spell_letters, spoken_problem

__all__ = ["Lexicon", "LexiconEntry", "load_lexicon", "spell_letters", "spoken_problem"]
