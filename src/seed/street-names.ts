/**
 * Street names of the grid: east-west avenues and north-south streets each draw from a
 * county-shuffled pool, so two counties name their grids differently. The avenue through
 * the centre carries the city's name ("W Kennewick Ave"), the street through it is Main.
 */
import { Prng } from './prng.js';

const words = [
  'Oak', 'Cedar', 'Pine', 'Maple', 'Willow', 'Aspen', 'Birch', 'Alder', 'Juniper', 'Sage',
  'Columbia', 'Yakima', 'Snake', 'Canal', 'Clearwater', 'Cascade', 'Olympia', 'Rainier', 'Badger', 'Horse Heaven',
  'Garfield', 'Lincoln', 'Grant', 'Jefferson', 'Adams', 'Madison', 'Monroe', 'Jackson', 'Harrison', 'Kellogg',
  'Union', 'Vista', 'Sunset', 'Meadow', 'Orchard', 'Vineyard', 'Quail', 'Heron', 'Falcon', 'Hawk',
  'Ridge', 'Desert', 'Bluff', 'Prairie', 'Harvest', 'Summit', 'Canyon', 'Lakeview', 'Riverview', 'Highland',
  'Ely', 'Gum', 'Dayton', 'Fruitland', 'Irving', 'Quincy', 'Rainbow', 'Tweedt', 'Vancouver', 'Washington',
  'Edison', 'Fir', 'Hood', 'Kent', 'Morain', 'Nelson', 'Perkins', 'Reed', 'Sherman', 'Tacoma',
];
const qualifiers = ['', 'Park', 'Hills', 'Creek', 'Valley', 'Crest', 'Glen', 'Point', 'Heights', 'Springs'];

/** `count` distinct base names (no suffix), shuffled by `rng`, never equal to `avoid`. */
export function streetNamePool(rng: Prng, count: number, avoid: string): string[] {
  const pool: string[] = [];
  for (const qualifier of qualifiers) for (const word of words) if (word !== avoid) pool.push(qualifier ? `${word} ${qualifier}` : word);
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  const names: string[] = [];
  // Beyond the pool (grids of more than ~700 streets), a repeat gets a number: still unique.
  for (let i = 0; i < count; i++) names.push(i < pool.length ? pool[i]! : `${pool[i % pool.length]!} ${Math.floor(i / pool.length) + 1}`);
  return names;
}

/** Names of the east-west avenues 0..rows (suffix "Ave"), the centre one named after the city. */
export function avenueNames(rng: Prng, streets: number, centre: number, city: string): string[] {
  const pool = streetNamePool(rng, streets, city);
  return pool.map((name, k) => (k === centre ? `${city} Ave` : `${name} Ave`));
}

/** Names of the north-south streets 0..columns (suffix "St"), the centre one Main St. */
export function streetNames(rng: Prng, streets: number, centre: number): string[] {
  const pool = streetNamePool(rng, streets, 'Main');
  return pool.map((name, k) => (k === centre ? 'Main St' : `${name} St`));
}
