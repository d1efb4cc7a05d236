/**
 * The generator's only source of randomness: xoshiro128** seeded through splitmix32, plus
 * stateless integer hashing to derive independent streams (per county, per block, per
 * parcel). Independent streams are what let a later pass regenerate one parcel's sales
 * without replaying everything before it. Math.random is never used: same seed, same bytes.
 */

/** A 32-bit avalanche hash (murmur3's finaliser) of an integer. */
export function mix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hashes a list of integers into one 32-bit seed; order matters. */
export function hashInts(...values: number[]): number {
  let h = 0x9e3779b9;
  for (const value of values) h = mix32(h ^ Math.imul(value | 0, 0x27d4eb2f) ^ (h >>> 7));
  return h;
}

/** FNV-1a of a string: turns a county id into an integer stream key. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A uniform float in [0, 1) from hashed integers, for one-off decisions without a stream. */
export function hashFloat(...values: number[]): number {
  return hashInts(...values) / 4294967296;
}

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    // splitmix32 expands the 32-bit seed into the 128-bit state, never all zero.
    this.a = splitmix32(seed, 1);
    this.b = splitmix32(seed, 2);
    this.c = splitmix32(seed, 3);
    this.d = splitmix32(seed, 4) | 1;
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A uniform float in [min, max). */
  range(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** A uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** An approximately standard-normal value (Irwin-Hall of three uniforms, rescaled): cheap, bounded at ±3. */
  normal(): number {
    return (this.next() + this.next() + this.next() - 1.5) * 2;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
}

/** The k-th output of splitmix32 started at `seed` (no closure: one Prng is built per parcel). */
function splitmix32(seed: number, k: number): number {
  let z = (seed + Math.imul(k, 0x9e3779b9)) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
