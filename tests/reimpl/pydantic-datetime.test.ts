// parsePyDatetime against pydantic v1 itself (Debian's, which legacy runs on): the same
// strings, the same verdicts (naive isoformat, zone-aware, or the error pydantic reports).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parsePyDatetime } from '../../reimpl/shared/pydantic-datetime.js';
import { FieldError } from '../../reimpl/shared/pydantic-v1.js';

const inputs = [
  '2025-01-01T00:00', '2025-01-01 12:34:56', '2025-1-2T3:4:5', '2025-01-01T00:00:00.5', '2025-01-01T00:00:00.1234567',
  '2025-01-01T00:00:00.000000', '2024-02-29T23:59:59', '2025-02-29T00:00', '2025-13-01T00:00', '2025-01-01T24:00',
  '2025-01-01T00:60', '2025-01-01T00:00:60', '0000-01-01T00:00', '0001-01-01T00:00', '9999-12-31T23:59:59.999999',
  '2025-01-01', 'yesterday', '', ' 2025-01-01T00:00', '2025-01-01T00:00\n', '2025-01-01T00:00Z', '2025-01-01T00:00+02:00',
  '2025-01-01T00:00-0530', '2025-01-01T00:00+05', '2025-01-01T00:00+24:00', '2025-01-01T00:00+23:59',
  '0', '1700000000', '-12.5', ' 42 ', '1_000', '1e3', '.5', '5.', '1__0', '_1', '3e20', '3.1e20', '-3.1e20',
  'inf', '-Infinity', 'nan', '+NaN', '1e400', '0x10',
];

/** What pydantic v1 makes of each input: ['naive', isoformat] | ['aware'] | ['error', msg, type]. */
function pydanticVerdicts(values: string[]): unknown[] {
  const script = `
import json, sys
from datetime import datetime
from pydantic import BaseModel, ValidationError
class M(BaseModel):
    v: datetime
out = []
for value in json.load(sys.stdin):
    try:
        d = M(v=value).v
        out.append(['aware'] if d.tzinfo is not None else ['naive', d.isoformat()])
    except ValidationError as e:
        err = e.errors()[0]
        out.append(['error', err['msg'], err['type']])
print(json.dumps(out))
`;
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(values) }).toString());
}

function verdict(value: string): unknown {
  try {
    const parsed = parsePyDatetime(value);
    return parsed.aware ? ['aware'] : ['naive', parsed.iso];
  } catch (error) {
    if (!(error instanceof FieldError)) throw error;
    return ['error', error.issue.msg, error.issue.type];
  }
}

describe('parsePyDatetime', () => {
  it('gives every input the verdict pydantic v1 gives it', () => {
    const expected = pydanticVerdicts(inputs);
    expect(inputs.map((value) => [value, verdict(value)])).toEqual(inputs.map((value, i) => [value, expected[i]]));
  });
});
