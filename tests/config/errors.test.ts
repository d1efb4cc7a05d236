import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CutoverError, errorCodes, type ErrorCode } from '../../src/errors.js';
import { repoRoot } from '../../src/platform/paths.js';

describe('the error registry', () => {
  const documented = readFileSync(join(repoRoot, 'docs/errors.md'), 'utf8');

  it.each(Object.keys(errorCodes))('documents %s in docs/errors.md', (code) => {
    expect(documented).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|`));
  });

  it('documents no code that the registry does not have', () => {
    const listed = [...documented.matchAll(/`(CUTOVER_ERR_[A-Z_]+)`/g)].map((match) => match[1]);
    expect(listed.filter((code) => !(code! in errorCodes))).toEqual([]);
  });

  it('gives every error its code, HTTP status and a hint on what to do', () => {
    for (const code of Object.keys(errorCodes) as ErrorCode[]) {
      const error = new CutoverError(code, 'example');
      expect(error.code).toBe(code);
      expect(error.status).toBeGreaterThanOrEqual(400);
      expect(error.hint.length).toBeGreaterThan(10);
    }
  });
});
