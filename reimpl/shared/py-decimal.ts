/**
 * The two Decimal operations legacy's market studies perform on numeric values (exact
 * subtraction, and division in the default 28-digit context, ROUND_HALF_EVEN), on
 * PostgreSQL numeric text, so results match Python's decimal module digit for digit.
 */

interface Scaled {
  digits: bigint;
  exponent: number;
}

function parse(text: string): Scaled {
  const negative = text.startsWith('-');
  const body = negative ? text.slice(1) : text;
  const [whole = '0', fraction = ''] = body.split('.');
  const digits = BigInt(whole + fraction);
  return { digits: negative ? -digits : digits, exponent: -fraction.length };
}

function format(value: Scaled): string {
  const negative = value.digits < 0n;
  let text = (negative ? -value.digits : value.digits).toString();
  if (value.exponent >= 0) return (negative ? '-' : '') + text + '0'.repeat(value.exponent);
  const places = -value.exponent;
  text = text.padStart(places + 1, '0');
  return `${negative ? '-' : ''}${text.slice(0, text.length - places)}.${text.slice(text.length - places)}`;
}

/** a - b, exact. */
export function subtractDecimal(a: string, b: string): string {
  const x = parse(a);
  const y = parse(b);
  const exponent = Math.min(x.exponent, y.exponent);
  const scale = (v: Scaled) => v.digits * 10n ** BigInt(v.exponent - exponent);
  return format({ digits: scale(x) - scale(y), exponent });
}

/** a / b rounded half-even to `precision` significant digits (Python's default context: 28). */
export function divideDecimal(a: string, b: string, precision = 28): string {
  const x = parse(a);
  const y = parse(b);
  if (y.digits === 0n) throw new RangeError('decimal division by zero');
  if (x.digits === 0n) return '0';
  const negative = (x.digits < 0n) !== (y.digits < 0n);
  const n = x.digits < 0n ? -x.digits : x.digits;
  const d = y.digits < 0n ? -y.digits : y.digits;
  // Enough extra digits that the integer quotient has more than `precision` digits.
  const shift = precision + d.toString().length - n.toString().length + 2;
  const scaledN = shift >= 0 ? n * 10n ** BigInt(shift) : n;
  const scaledD = shift >= 0 ? d : d * 10n ** BigInt(-shift);
  let quotient = scaledN / scaledD;
  const remainder = scaledN % scaledD;
  let exponent = x.exponent - y.exponent - shift;
  const excess = quotient.toString().length - precision;
  if (excess > 0) {
    const unit = 10n ** BigInt(excess);
    const kept = quotient / unit;
    const dropped = quotient % unit;
    const half = unit / 2n;
    const above = dropped > half || (dropped === half && remainder > 0n);
    const tie = dropped === half && remainder === 0n;
    quotient = above || (tie && kept % 2n === 1n) ? kept + 1n : kept;
    exponent += excess;
  } else if (remainder * 2n > scaledD || (remainder * 2n === scaledD && quotient % 2n === 1n)) {
    quotient += 1n;
  }
  return format({ digits: negative ? -quotient : quotient, exponent });
}
