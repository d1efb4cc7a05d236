/**
 * GEOS 3.11's TopologyPreservingSimplifier (what legacy's SimplifyPreserveTopology runs) for
 * one ring or one line, in TypeScript: the same Douglas-Peucker recursion, furthest-point
 * choice, distance arithmetic and minimum-size rule. GEOS also rejects a flattening whose new
 * segment would cross another one; here every candidate segment must be provably clear of
 * all others, and when that cannot be proved the caller hands the feature to GDAL, so the
 * output is either GEOS's or not produced.
 */
export type Point = [number, number];

/** GEOS Distance::pointToSegment. */
function pointToSegment(p: Point, a: Point, b: Point): number {
  if (a[0] === b[0] && a[1] === b[1]) return Math.sqrt((p[0] - a[0]) ** 2 + (p[1] - a[1]) ** 2);
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  const r = ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2;
  if (r <= 0) return Math.sqrt((p[0] - a[0]) ** 2 + (p[1] - a[1]) ** 2);
  if (r >= 1) return Math.sqrt((p[0] - b[0]) ** 2 + (p[1] - b[1]) ** 2);
  const s = ((a[1] - p[1]) * dx - (a[0] - p[0]) * dy) / len2;
  return Math.abs(s) * Math.sqrt(len2);
}

/** Sign of the turn a->b->p, or 0 when too close to call in floating point. */
function side(a: Point, b: Point, p: Point): number {
  const ux = b[0] - a[0];
  const uy = b[1] - a[1];
  const vx = p[0] - a[0];
  const vy = p[1] - a[1];
  const det = ux * vy - uy * vx;
  const bound = 1e-9 * (Math.abs(ux * vy) + Math.abs(uy * vx));
  if (det > bound) return 1;
  if (det < -bound) return -1;
  return 0;
}

/** True when segments (a,b) and (c,d) provably share no point other than an endpoint they share exactly. */
function provablyClear(a: Point, b: Point, c: Point, d: Point): boolean {
  const same = (p: Point, q: Point) => p[0] === q[0] && p[1] === q[1];
  const sharedA = same(a, c) || same(a, d);
  const sharedB = same(b, c) || same(b, d);
  if (sharedA && sharedB) return false;
  if (sharedA || sharedB) {
    // Touching at a common vertex is fine unless the other end runs back along the candidate.
    const other = sharedA ? (same(a, c) ? d : c) : same(b, c) ? d : c;
    return side(a, b, other) !== 0;
  }
  if (Math.max(c[0], d[0]) < Math.min(a[0], b[0]) || Math.min(c[0], d[0]) > Math.max(a[0], b[0])) return true;
  if (Math.max(c[1], d[1]) < Math.min(a[1], b[1]) || Math.min(c[1], d[1]) > Math.max(a[1], b[1])) return true;
  const c1 = side(a, b, c);
  const d1 = side(a, b, d);
  if (c1 !== 0 && c1 === d1) return true;
  const a1 = side(c, d, a);
  const b1 = side(c, d, b);
  return a1 !== 0 && a1 === b1;
}

/**
 * The simplified points of one ring (`ring` true, minimum 4 points) or line, or undefined when
 * GEOS's topology check cannot be reproduced with certainty. `others`: the other rings of the
 * same geometry (input and already simplified), which a new segment must stay clear of too.
 */
export function simplifyLine(points: readonly Point[], tolerance: number, ring: boolean, others: readonly (readonly Point[])[] = []): Point[] | undefined {
  const minimumSize = ring ? 4 : 2;
  const kept: number[] = []; // start index of each result segment, in order
  const ends: number[] = [];
  let uncertain = false;
  const resultSize = () => (kept.length === 0 ? 0 : kept.length + 1);

  const clearOfOthers = (i: number, j: number): boolean => {
    const a = points[i]!;
    const b = points[j]!;
    for (let k = 0; k + 1 < points.length; k++) {
      if (k >= i && k < j) continue; // the section being flattened
      if (!provablyClear(a, b, points[k]!, points[k + 1]!)) return false;
    }
    // Other rings of the same geometry: their input segments, and any already simplified.
    for (const other of others) {
      for (let k = 0; k + 1 < other.length; k++) if (!provablyClear(a, b, other[k]!, other[k + 1]!)) return false;
    }
    for (let r = 0; r < kept.length; r++) {
      if (!provablyClear(a, b, points[kept[r]!]!, points[ends[r]!]!)) return false;
    }
    return true;
  };

  const section = (i: number, j: number, depth: number): void => {
    depth += 1;
    if (i + 1 === j) {
      kept.push(i);
      ends.push(j);
      return;
    }
    let valid = true;
    if (resultSize() < minimumSize && depth + 1 < minimumSize) valid = false;
    let furthest = i;
    let max = -1;
    const a = points[i]!;
    const b = points[j]!;
    for (let k = i + 1; k < j; k++) {
      const d = pointToSegment(points[k]!, a, b);
      if (d > max) {
        max = d;
        furthest = k;
      }
    }
    if (max > tolerance) valid = false;
    if (valid && !clearOfOthers(i, j)) {
      uncertain = true;
      return;
    }
    if (valid) {
      kept.push(i);
      ends.push(j);
      return;
    }
    section(i, furthest, depth);
    if (uncertain) return;
    section(furthest, j, depth);
  };

  if (points.length < 2) return undefined;
  section(0, points.length - 1, 0);
  if (uncertain) return undefined;
  if (kept.length === ends.length && kept.length === points.length - 1) return points as Point[];
  const out: Point[] = kept.map((k) => points[k]!);
  out.push(points[ends[ends.length - 1]!]!);
  return out;
}
