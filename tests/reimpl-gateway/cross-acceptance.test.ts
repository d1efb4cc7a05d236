/**
 * Tokens and session cookies minted by either gateway are honoured by the other, refused tokens
 * get the same answers, and the answers the contract suite cannot compare (Flask's bytes,
 * cookie attributes, filtered job lists with floats, OPTIONS, HTML pages) are equal.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayPair, type GatewayPair } from './gateway-pair.js';

let sync: Server;
let pair: GatewayPair;
const seen: string[] = [];

// Jobs of three counties, with floats Python writes as `412.0` and `1e-05`.
const jobsBody = '[{"job_id":"a","county_id":"benton_wa","file_size_kb":412.0,"tolerance":1e-05,"name":"Kennewick \\u00e9"},{"job_id":"b","county_id":"franklin_wa","file_size_kb":3.5},{"job_id":"c","county_id":"test_county","z":[1,2.0]}]';

function startFakeSync(): Promise<Server> {
  const server = createServer((request, response) => {
    const url = request.url ?? '';
    seen.push(`${request.method} ${url}`);
    const send = (status: number, text: string, type = 'application/json') => {
      response.writeHead(status, { 'content-type': type });
      response.end(text);
    };
    if (url === '/health') return send(200, '{"status":"ok"}');
    if (url.startsWith('/plugins/v1/gis-export/list')) return send(200, jobsBody);
    if (url.startsWith('/plugins/v1/reporting/status/')) return send(200, `{"report_id":"${url.split('/').pop()}","county_id":"benton_wa","status":"COMPLETED"}`);
    if (url.startsWith('/counties')) return send(200, '[]');
    send(404, '{"detail":"Not Found"}');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

interface Reply {
  status: number;
  headers: Headers;
  text: string;
}

async function call(base: string, path: string, init: RequestInit & { token?: string; cookie?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string>) };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.cookie) headers.cookie = init.cookie;
  const response = await fetch(base + path, { ...init, headers, redirect: 'manual' });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

const login = async (base: string, username: string, password: string) =>
  JSON.parse((await call(base, '/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) })).text);

async function formLogin(base: string, username: string, password: string): Promise<string> {
  const reply = await call(base, '/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username, password }).toString() });
  return (reply.headers.get('set-cookie') ?? '').split(';')[0]!;
}

/** The same request to both gateways. */
const both = (path: string, init: Parameters<typeof call>[2] = {}) => Promise.all([call(pair.legacyUrl, path, init), call(pair.reimplUrl, path, init)]);

beforeAll(async () => {
  sync = await startFakeSync();
  const syncUrl = `http://127.0.0.1:${(sync.address() as AddressInfo).port}`;
  pair = await startGatewayPair({ syncServiceUrl: syncUrl, narratorUrl: syncUrl, databaseUrl: 'postgresql://postgres@127.0.0.1:5432/postgres' });
}, 60_000);
afterAll(async () => {
  await pair?.stop();
  await new Promise((resolve) => sync?.close(resolve));
});

describe('tokens across the two gateways', () => {
  for (const [from, to] of [['legacy', 'reimpl'], ['reimpl', 'legacy']] as const) {
    it(`accepts on ${to} the access and refresh tokens ${from} minted`, async () => {
      const urls = { legacy: () => pair.legacyUrl, reimpl: () => pair.reimplUrl };
      const tokens = await login(urls[from](), 'assessor', 'assessor123');
      const use = await call(urls[to](), '/api/v1/reporting/status/r1', { token: tokens.access_token });
      expect(use.status).toBe(200);
      expect(JSON.parse(use.text)).toMatchObject({ report_id: 'r1' });
      const refreshed = await call(urls[to](), '/auth/refresh', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: tokens.refresh_token }) });
      expect(refreshed.status).toBe(200);
      const again = await call(urls[from](), '/api/counties', { token: JSON.parse(refreshed.text).access_token });
      expect(again.status).toBe(200);
    });
  }

  it('mints byte-identical tokens within the same second', async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const [a, b] = await Promise.all([login(pair.legacyUrl, 'staff', 'staff123'), login(pair.reimplUrl, 'staff', 'staff123')]);
      const iat = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).iat;
      if (iat(a.access_token) !== iat(b.access_token)) continue;
      expect(b.access_token).toBe(a.access_token);
      expect(b.refresh_token).toBe(a.refresh_token);
      return;
    }
    throw new Error('never logged in within one second on both gateways');
  });

  it('refuses bad tokens with the same bytes', async () => {
    const now = Math.floor(Date.now() / 1000);
    const sign = (claims: Record<string, unknown>, secret = pair.jwtSecretKey) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secret));
    const base = { sub: '1', username: 'admin', role: 'ITAdmin', county_ids: ['benton'], type: 'access', iat: now, exp: now + 60 };
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(base)).toString('base64url')}.`;
    const tokens = [
      none,
      'not-a-jwt',
      await sign(base, 'another-secret-of-some-length'),
      await sign({ ...base, exp: now - 1, iat: now - 100 }),
      await sign({ ...base, exp: now }),
      await sign({ ...base, iat: now + 60 }),
      await sign({ ...base, nbf: now + 60 }),
      await sign({ ...base, aud: 'x' }),
      await sign({ ...base, type: 'refresh' }),
      await sign({ ...base, sub: null }),
      await sign({ ...base, iat: 'soon' }),
      await sign({ ...base, exp: String(now + 60) }),
      await sign({ ...base, exp: 'later' }),
    ];
    for (const token of tokens) {
      for (const path of ['/api/v1/reporting/status/r1', '/api/counties']) {
        const [legacy, reimpl] = await both(path, { token });
        expect.soft(`${reimpl.status} ${reimpl.text}`, `${path} ${token}`).toBe(`${legacy.status} ${legacy.text}`);
      }
    }
    const [legacy, reimpl] = await both('/auth/refresh', { method: 'POST', token: await sign(base) });
    expect(`${reimpl.status} ${reimpl.text}`).toBe(`${legacy.status} ${legacy.text}`);
  });
});

describe('session cookies across the two gateways', () => {
  it('lets a cookie set by either gateway sign in on the other, with the same attributes', async () => {
    const fromLegacy = await formLogin(pair.legacyUrl, 'admin', 'admin123');
    const fromReimpl = await formLogin(pair.reimplUrl, 'admin', 'admin123');
    expect((await call(pair.reimplUrl, '/api/counties', { cookie: fromLegacy })).status).toBe(200);
    expect((await call(pair.legacyUrl, '/api/counties', { cookie: fromReimpl })).status).toBe(200);
    const [legacy, reimpl] = await both('/', { cookie: fromLegacy });
    expect(reimpl.text).toBe(legacy.text);
    expect(reimpl.text).toContain('Signed in as admin.');
  });

  it('redirects, flashes and clears the flash exactly as Flask does', async () => {
    const body = new URLSearchParams({ username: 'staff', password: 'wrong', next: '/a b?c=d' }).toString();
    const init = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body };
    const [legacy, reimpl] = await both('/login', init);
    expect(reimpl.status).toBe(302);
    expect(reimpl.headers.get('location')).toBe(legacy.headers.get('location'));
    expect(reimpl.text).toBe(legacy.text);
    expect(reimpl.headers.get('vary')).toBe(legacy.headers.get('vary'));
    const cookie = (reimpl.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect(reimpl.headers.get('set-cookie')!.replace(/=[^;]+/, '')).toBe(legacy.headers.get('set-cookie')!.replace(/=[^;]+/, ''));
    // The reimplementation's flash is read (and cleared) by legacy's login form.
    const form = await call(pair.legacyUrl, '/login?next=/x', { cookie });
    const formReimpl = await call(pair.reimplUrl, '/login?next=/x', { cookie });
    expect(formReimpl.text).toBe(form.text);
    expect(form.text).toContain('Invalid username or password');
    expect(formReimpl.headers.get('set-cookie')).toBe(form.headers.get('set-cookie'));
  });
});

describe('Flask’s answers, byte for byte', () => {
  it('filters another county’s jobs out of a list and writes the rest as jsonify does', async () => {
    const token = (await login(pair.legacyUrl, 'benton_assessor', 'benton123')).access_token;
    const [legacy, reimpl] = await both('/api/v1/gis-export/list?status=FAILED&status=X&limit=5&junk=1', { token });
    expect(reimpl.status).toBe(200);
    expect(reimpl.text).toBe(legacy.text);
    expect(reimpl.headers.get('content-type')).toBe(legacy.headers.get('content-type'));
    expect(seen.filter((line) => line.startsWith('GET /plugins/v1/gis-export/list')).slice(-2)).toEqual([
      'GET /plugins/v1/gis-export/list?status=FAILED&limit=5',
      'GET /plugins/v1/gis-export/list?status=FAILED&limit=5',
    ]);
  });

  it('answers 404, 405, OPTIONS, bad logins and the login form the same way', async () => {
    const cases: Array<[string, RequestInit]> = [
      ['/no/such', {}],
      ['/auth/login', {}],
      ['/health/live', { method: 'POST' }],
      ['/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":"x"}' }],
      ['/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":"x","password":[]}' }],
      ['/auth/login', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"username":"admin","password":"admin123"}' }],
      ['/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":"admin","password":"nope"}' }],
      ['/auth/refresh', { method: 'POST' }],
      ['/login?next=%22%3E%3Cscript%3E', {}],
      ['/', {}],
      ['/api/v1/gis-export/status/x', { method: 'OPTIONS' }],
      ['/api/plugins/v1/x', { method: 'GET' }],
      ['/api/v1/ai/summarize', { method: 'GET' }],
    ];
    for (const [path, init] of cases) {
      const [legacy, reimpl] = await both(path, init);
      expect.soft(`${reimpl.status} ${reimpl.headers.get('content-type')} ${reimpl.text}`, `${init.method ?? 'GET'} ${path}`).toBe(
        `${legacy.status} ${legacy.headers.get('content-type')} ${legacy.text}`,
      );
    }
  });

  it('counts requests under the same rules', async () => {
    const token = (await login(pair.legacyUrl, 'admin', 'admin123')).access_token;
    await both('/api/v1/ai/summarize', { method: 'GET', token });
    await both('/api/v1/valuation/', { token });
    const [legacy, reimpl] = await both('/gateway-metrics');
    const series = (text: string) =>
      text
        .split('\n')
        .filter((line) => line.startsWith('gateway_http_requests_total{'))
        .map((line) => line.replace(/ [^ ]+$/, ''))
        .sort();
    expect(series(reimpl.text)).toEqual(series(legacy.text));
  });
});
