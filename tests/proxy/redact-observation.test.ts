import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parsePath, renderPath } from '../../parity/compare/json-path.js';
import { createRedactor, createStorageRedactor } from '../../parity/compare/redact.js';
import type { Difference } from '../../proxy/shadow/compare.js';
import type { Observation } from '../../proxy/observe/observation.js';
import { redactDifference, redactObservation } from '../../proxy/observe/redact-observation.js';

const pii = ['full_name', 'owner_name', 'phone', 'ssn', 'email'];
const jwt = `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from('{"username":"admin","type":"access"}').toString('base64url')}.c2lnbmF0dXJl`;
const marker = /^"\[REDACTED\]:pii#[0-9a-f]{8}"$/;

function observation(differences: Difference[], bodies: [string, string]): Observation {
  const side = (which: 'legacy' | 'reimpl', body: string) => ({ side: which, status: 200, latencyMs: 1, error: null, body });
  return {
    observedAt: new Date(),
    routeId: 'sync.owner',
    service: 'sync',
    method: 'GET',
    path: `/owners/7?token=${jwt}&email=ada@county.example&county_id=benton_wa`,
    mode: 'shadow',
    serving: side('legacy', bodies[0]),
    shadow: side('reimpl', bodies[1]),
    verdict: 'mismatched',
    ignoredBy: [],
    erroredSide: null,
    differences,
  };
}

describe('redacting an observation after its comparison', () => {
  const redactor = createRedactor(pii, { fingerprintKey: randomBytes(32) });

  it('keeps a PII difference visibly different without keeping either value', () => {
    const out = redactDifference({ path: '$.user.full_name', serving: '"Ada Lovelace"', shadow: '"Ada L."', kind: 'value', disposition: { as: 'mismatch' } }, redactor);
    expect(out.serving).toMatch(marker);
    expect(out.shadow).toMatch(marker);
    expect(out.serving).not.toBe(out.shadow);
    expect(JSON.stringify(out)).not.toMatch(/Ada/);
    expect(out).toMatchObject({ path: '$.user.full_name', kind: 'value', disposition: { as: 'mismatch' } });
  });

  it('gives equal values equal markers and different values different ones', () => {
    const [a, b] = ['"Grace Hopper"', '"Grace Hopper"'].map((text) => redactor.jsonText(text, ['owner_name']));
    expect(a).toBe(b);
    expect(redactor.jsonText('"Grace M. Hopper"', ['owner_name'])).not.toBe(a);
  });

  it('says the values differ when markers without fingerprints would read alike', () => {
    const plain = createRedactor(pii);
    const out = redactDifference({ path: '$.ssn', serving: '"123-45-6789"', shadow: '"123-45-6780"', kind: 'value' }, plain);
    expect(out.serving).toBe(out.shadow);
    expect(out.detail).toBe('the values differ (both redacted)');
    expect(JSON.stringify(out)).not.toMatch(/123-45/);
  });

  it('redacts a PII field inside an object a difference holds, and a secret header value', () => {
    const nested = redactDifference({ path: '$.user', serving: '{"full_name":"Ada Lovelace","role":"Staff"}', shadow: '{"full_name":"Ada Lovelace","role":"Assessor"}', kind: 'value' }, redactor);
    expect(JSON.parse(nested.serving!)).toMatchObject({ role: 'Staff' });
    expect(nested.serving).not.toMatch(/Ada/);
    const header = redactDifference({ path: 'headers.set-cookie', serving: JSON.stringify('session=abc.def.legacy; HttpOnly; Path=/'), shadow: JSON.stringify('session=xyz.reimpl; HttpOnly; Path=/'), kind: 'header' }, redactor);
    expect(JSON.parse(header.serving!)).toMatch(/^session=\[REDACTED\]#[0-9a-f]{8}; HttpOnly; Path=\/$/);
    expect(header.serving).not.toBe(header.shadow);
    expect(JSON.stringify(header)).not.toMatch(/abc\.def|xyz\.reimpl/);
  });

  it('takes a hidden value out of the detail that quotes it', () => {
    const out = redactDifference({ path: '$.owner_name', serving: '"Grace Hopper"', shadow: '"Grace"', kind: 'value', detail: 'legacy Grace Hopper is correlated with X, not Grace' }, redactor);
    expect(out.detail).not.toMatch(/Grace/);
  });

  it('reads a difference path back into its steps, quoted keys included', () => {
    const steps = ['owners', 0, 'full name "x"', 'phone'];
    expect(parsePath(renderPath(steps))).toEqual(steps);
    expect(parsePath('$!layer parcels')).toBeUndefined();
    expect(redactDifference({ path: renderPath(['owners', 0, 'phone']), serving: '"509-555-0142"', shadow: '"509-555-0199"', kind: 'value' }, redactor).serving).toMatch(marker);
  });

  it('walks a body whose PII field holds an object, and redacts a formatted body in place', () => {
    expect(redactor.document('{"owner_name":{"first":"Grace","last":"Hopper"},"n":1}')).toBe('{"owner_name":"[REDACTED]:pii","n":1}');
    expect(redactor.document('{\n  "email": "ada@county.example",\n  "n": 1.0\n}')).toBe('{\n  "email": "[REDACTED]:pii",\n  "n": 1.0\n}');
  });

  it('redacts a body cut at its bound by field, and a JWT cut with it', () => {
    const cut = `{"access_token":"${jwt}","user":{"full_name":"Ada Lovelace","phone":"509-555-0142"},"note":"${jwt.slice(0, 40)}`;
    const out = redactor.jsonText(cut);
    expect(out).not.toMatch(/Ada|509-555|eyJ/);
    expect(out).toContain('"full_name":"[REDACTED]:pii#');
  });

  it('redacts path, bodies and differences, keeping verdict, statuses and latencies', () => {
    const original = observation(
      [{ path: '$.owner_name', serving: '"Grace Hopper"', shadow: '"Grace M. Hopper"', kind: 'value', disposition: { as: 'mismatch' } }],
      ['{"owner_name":"Grace Hopper","v":1.0}', '{"owner_name":"Grace M. Hopper","v":1.0}'],
    );
    const out = redactObservation(original, redactor);
    expect(JSON.stringify(out)).not.toMatch(/Grace|ada@county|eyJ/);
    expect(out.path).toContain('county_id=benton_wa');
    // A body keeps its layout and gets plain markers; the differences carry the fingerprints.
    expect(out.serving.body).toBe('{"owner_name":"[REDACTED]:pii","v":1.0}');
    expect(out.differences[0]!.serving).toMatch(marker);
    expect(out).toMatchObject({ verdict: 'mismatched', serving: { status: 200, latencyMs: 1 }, routeId: 'sync.owner' });
    expect(redactObservation(out, createStorageRedactor(pii))).toEqual(out);
    expect(redactObservation(original, redactor, { bodies: false }).serving.body).toBeNull();
  });
});
