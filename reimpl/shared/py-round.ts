/**
 * Python's built-in round(), which legacy applies to floats and Decimals alike: half to even,
 * decided on the exact value (a float's binary value; a Decimal's digits).
 */
import { PyDecimal, PyFloat } from './py-json.js';

/** round(x, digits) for a Python float; the result is a float (`round(2.5, 0) == 2.0`). */
export function roundFloat(x: number, digits: number): number {
  if (!Number.isFinite(x)) return x;
  if (digits < 0) {
    const scale = 10 ** -digits;
    const q = x / scale;
    const r = roundHalfEvenInteger(q, x, digits);
    return r * scale;
  }
  // toFixed rounds the exact binary value but breaks ties away from zero; an exact tie shows
  // as a 5 followed only by zeros in a long exact expansion, and goes to the even neighbour.
  const fixed = x.toFixed(digits);
  const exact = x.toFixed(Math.min(100, digits + 60));
  const tail = exact.slice(exact.length - 60);
  if (tail[0] === '5' && /^50*$/.test(tail)) {
    const down = exact.slice(0, exact.length - 60).replace(/\.$/, '');
    const lastDigit = Number(down[down.length - 1]);
    if (lastDigit % 2 === 0) return Number(down);
  }
  return Number(fixed);
}

function roundHalfEvenInteger(q: number, x: number, digits: number): number {
  const floor = Math.floor(q);
  const diff = q - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  // q is an exact half only if x itself is (checked on x's exact expansion, not on q).
  const scale = 10 ** -digits;
  const exactHalf = Math.abs(x - (floor + 0.5) * scale) === 0;
  if (!exactHalf) return x > (floor + 0.5) * scale ? floor + 1 : floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** round(Decimal, digits) on numeric text: quantized half-even, keeping `digits` decimals. */
export function roundDecimalText(text: string, digits: number): string {
  const negative = text.startsWith('-');
  const body = negative ? text.slice(1) : text;
  const [intPart = '0', frac = ''] = body.split('.');
  if (frac.length <= digits) {
    const padded = frac.padEnd(digits, '0');
    return (negative ? '-' : '') + intPart + (digits > 0 ? `.${padded}` : '');
  }
  const kept = intPart + frac.slice(0, digits);
  const rest = frac.slice(digits);
  let increment = false;
  if (rest[0]! > '5') increment = true;
  else if (rest[0] === '5') increment = /[1-9]/.test(rest.slice(1)) || Number(kept[kept.length - 1]) % 2 === 1;
  let digitsOut = kept;
  if (increment) digitsOut = (BigInt(kept) + 1n).toString().padStart(kept.length, '0');
  const intLen = digitsOut.length - digits;
  const whole = digitsOut.slice(0, intLen) || '0';
  const fraction = digitsOut.slice(intLen);
  const out = digits > 0 ? `${whole}.${fraction}` : whole;
  return (negative && /[1-9]/.test(out) ? '-' : '') + out;
}

/** Python's round(value, digits) on what a query returned: Decimal stays Decimal, float stays float. */
export function pyRound(value: PyFloat | PyDecimal | number | null, digits: number): PyFloat | PyDecimal | number | null {
  if (value === null) return null;
  if (value instanceof PyDecimal) return new PyDecimal(roundDecimalText(value.text, digits));
  if (value instanceof PyFloat) return new PyFloat(roundFloat(value.value, digits));
  return value; // round(int, n) with n >= 0 is the int itself
}
