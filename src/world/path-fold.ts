// Case-insensitive comparison for WorldPaths (docs/architecture.md §4: reserved segments and duplicate-after-canon).
//
// JavaScript has no Unicode case folding, so the key is built from the full (SpecialCasing) mappings it has:
// NFD → toLowerCase → toUpperCase → toLowerCase → NFD, the shape of Unicode's canonical caseless match
// (D145: NFD(fold(NFD(x)))). Why each step:
// - toUpperCase uses the full mappings, so ß → SS, ﬁ → FI, ŉ → ʼN, ᾳ → ΑΙ and so on, like full folding (F).
// - the first toLowerCase catches capitals whose upper-case is themselves: ẞ (U+1E9E) → ß → SS → ss.
// - the final toLowerCase lands every member of a class on one string, whatever context rule it applies
//   (Final_Sigma: σ and ς both come out of the same Σ, so they compare equal, as their folds do).
// - the outer NFDs make composed and decomposed spellings agree after the case maps (İ → i + U+0307).
// Measured against Perl 5.36's `fc` (full case folding, Unicode 14) over every code point: no code point
// whose fold differs from its key-class (nothing under-folded). The one extra merge among Unicode 14
// characters is dotless ı (U+0131) with I/i, which Unicode keeps apart but NTFS's upcase table merges — so
// over-folding there matches a real case-insensitive disk and errs on the side of reporting a collision.
// (The other extra merges are letters added after Unicode 14 whose folds Perl 5.36 does not know.)

/** A string that is equal for two inputs whenever their Unicode full case folds are canonically equal. */
export function foldKey(s: string): string {
  return s.normalize('NFD').toLowerCase().toUpperCase().toLowerCase().normalize('NFD');
}
