"""Free-text address -> compound (小区).

Public interface used by ingestion (keep these signatures):

- `lookup_compounds(con, values)`: an explicit compound column (id, exact name or alias).
- `match_addresses(con, addresses)`: each distinct address matched once against the registry
  (cached in `address_matches`, so a re-upload does not recompute). An upload uses its parts:
  `prepare_matches` (read-only, beside the parsing), then `remember_matches` and
  `public_matches` for the addresses it keeps.

How an address is matched:

1. `normalise.parse_address` normalises it (full-width -> half-width, Chinese numerals ->
   digits), notes the subdistrict / community it names, strips province / city / district /
   subdistrict / community prefixes, cuts building / unit / room / gate suffixes and phase words
   (一期 -> phase 1), and splits what is left into a stem and a generic word (阳光|花园).
   Registry names and aliases (table compound_aliases) go through the same function.
2. Candidates (`index`): character 1-2-gram TF-IDF nearest neighbours of the address core among
   all names and aliases (one sparse matrix product per chunk of addresses).
3. Re-ranking (`score`) with rapidfuzz on the stems (element-wise `cpdist`), plus agreement of the
   generic word (花园 vs 家园 is a different place; a dropped 小区/花园 is not), of the phase, and
   of the subdistrict / community when the address names one.
4. The score is the best compound's similarity, lowered when a second compound is nearly as good.
   At or above ACCEPT_THRESHOLD the match is taken (status auto); otherwise the address waits in
   the review queue (`review`) with its top three candidates, where an analyst confirms or
   rejects it.

Work is shared: a batch of addresses is first cut to name parts (`name_part`: the registry's
subdistrict / community names taken out, building / unit / room numbers cut), each distinct name
part is parsed once and each distinct parse is scored once, which gives exactly what parsing every
address would (tests/unit/ingest/test_matching.py checks it on generated addresses).
"""

from analytics.ingest.matching.bulk import (
    lookup_compounds,
    match_addresses,
    prepare_matches,
    public_matches,
    remember_matches,
)

__all__ = ["lookup_compounds", "match_addresses", "prepare_matches", "public_matches", "remember_matches"]
