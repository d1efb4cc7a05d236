/**
 * What of a prompt chooses the stand-in's answer: the prompt with the values no two runs share
 * — uuids and ISO-8601 date-times — written as their shapes. The narrator's GIS analysis puts
 * its job's id and stamps in the prompt (legacy/terrafusion_narrator/prompts.py), and under
 * shadowing legacy narrates the serving job while the reimplementation narrates its shadow twin
 * (a correlated id, its own created_at/completed_at): the same content, other per-run values.
 * A model would at most echo those values; the stand-in, picking every sentence from a hash of
 * the prompt, answered the two with unrelated prose. Kept, so a real difference still changes
 * the answer: every other character, a uuid's letter case, dashes and version digit, a
 * date-time's separators, precision and zone, and the order of the prompt's date-times.
 */

const UUID = /\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b/g;
const DATE_TIME = /\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?/g;

/** `8fb2fda2-c1b4-464e-93d4-53955c907565` → `xxxxxxxx-xxxx-4xxx-xxxx-xxxxxxxxxxxx` (upper-case letters as `X`). */
function uuidShape(uuid: string): string {
  return [...uuid].map((ch, index) => (index === 14 || ch === '-' ? ch : /[A-F]/.test(ch) ? 'X' : 'x')).join('');
}

/**
 * The prompt as the stand-in reads it: each uuid as its shape; each date-time as its shape
 * (digits as 0) and its rank among the prompt's date-times (equal ones share a rank), so a
 * created/completed pair swapped still reads differently. Ranks compare the text: exact for
 * date-times written alike, which is all a prompt of one writer holds.
 */
export function promptContent(prompt: string): string {
  const dateTimes = [...new Set(prompt.match(DATE_TIME) ?? [])].sort();
  return prompt.replace(UUID, uuidShape).replace(DATE_TIME, (value) => `${value.replace(/\d/g, '0')}#${dateTimes.indexOf(value)}`);
}
