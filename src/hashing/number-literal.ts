// Does a JSON number literal survive canonicalisation? (docs/architecture.md §5, ADR 0010)
//
// RFC 8785 serialises a number as ECMAScript prints the nearest IEEE-754 double. That is injective on
// doubles but not on literals: `12345678901234567890` and `12345678901234567891` are read as the same
// double, so two different inputs would share one inputs hash (and one cached result). The inputs hash is
// only injective if every literal it accepts denotes exactly the decimal value its canonical form denotes;
// `1e30`, `4.50` and `1E-7` do, `333333333.33333329` does not. Comparing decimal values (not spellings) is
// what lets `4.50` and `4.5` — one number written twice — keep sharing a hash.
//
// Pure (strings and BigInt exponents, no I/O), so the processor kit's bundle uses the very same rule.

/** A finite decimal value as sign, significant digits (no leading or trailing zeros) and exponent. */
interface Decimal {
  readonly negative: boolean;
  /** '' for zero. */
  readonly digits: string;
  /** value = 0.digits × 10^exponent; a BigInt, so no literal's exponent can overflow it. */
  readonly exponent: bigint;
}

const LITERAL = /^(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/;

function decimalOf(text: string): Decimal | undefined {
  const m = LITERAL.exec(text);
  if (!m) return undefined;
  const [, sign = '', int = '', frac = '', exp = '0'] = m;
  const all = int + frac;
  const lead = all.length - all.replace(/^0+/, '').length;
  const digits = all.slice(lead).replace(/0+$/, '');
  if (digits === '') return { negative: false, digits: '', exponent: 0n };
  // 0.digits × 10^e: the point sits after `int`, and every leading zero we dropped moves it one left.
  return { negative: sign === '-', digits, exponent: BigInt(exp) + BigInt(int.length - lead) };
}

const sameDecimal = (a: Decimal, b: Decimal): boolean =>
  a.negative === b.negative && a.digits === b.digits && a.exponent === b.exponent;

/**
 * The RFC 8785 text of `literal`'s double when that text denotes exactly the literal's decimal value;
 * otherwise why not, for the error message. `literal` must match the JSON number grammar.
 */
export function exactNumberForm(literal: string): { ok: true; canonical: string } | { ok: false; why: string } {
  const value = Number(literal);
  if (!Number.isFinite(value)) return { ok: false, why: `${literal} is too large for a double` };
  // String() is ECMAScript Number::toString, which RFC 8785 §3.2.2.3 adopts; −0 prints as "0".
  const canonical = String(value);
  const want = decimalOf(literal);
  const got = decimalOf(canonical.replace('e+', 'e'));
  if (want && got && sameDecimal(want, got)) return { ok: true, canonical };
  return {
    ok: false,
    why: `${literal} has more precision than a double holds (it would be read as ${canonical})`,
  };
}
