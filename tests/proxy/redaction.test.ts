import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRouteCatalogue } from '../../flags/route-catalogue.js';
import { PgObservationStore } from '../../proxy/observe/pg-observation-store.js';
import { startProxy, type RunningProxy } from '../../proxy/start.js';
import { createStorageRedactor } from '../../parity/compare/redact.js';
import { migrateHarness } from '../../src/db/migrate.js';
import { PgUnknownTrafficStore } from '../../src/report/unknown-traffic.js';
import { collectReport, writeReport } from '../../src/report/write-report.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../setup/isolated-database.js';
import { call, configFor, eventually, ManualFlags, startUpstreams, type Behaviour, type Upstreams } from './harness.js';

const catalogue = parseRouteCatalogue({
  version: 1,
  routes: [
    { id: 'sync.login', service: 'sync', method: 'POST', path: '/auth/login', owner: 'tests', writes: false, compare: { ignore: [], headers: ['set-cookie'] } },
    { id: 'sync.owner', service: 'sync', method: 'GET', path: '/owners/{owner_id}', owner: 'tests', writes: false },
  ],
});

const jwt = (who: string) => `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: who, username: 'assessor', type: 'access' })).toString('base64url')}.sig${who}`;
const secrets = {
  password: 'correct-horse-battery-staple',
  requestToken: jwt('request'),
  queryToken: 'query-token-0c6f1e2d',
  legacyAccess: jwt('legacy-access'),
  reimplAccess: jwt('reimpl-access'),
  legacyRefresh: 'refresh-legacy-5b1f0a77',
  reimplRefresh: 'refresh-reimpl-9d2c4e11',
  legacyCookie: 'cookie-legacy-3e8a9b0c',
  reimplCookie: 'cookie-reimpl-7f4d2a1e',
  resetLink: jwt('reset-link'),
};
const personal = {
  legacyName: 'Ada Lovelace',
  reimplName: 'Augusta Ada King',
  legacyEmail: 'ada@benton.example',
  reimplEmail: 'ada.king@benton.example',
  legacyOwner: 'Grace Hopper',
  reimplOwner: 'Grace Brewster Hopper',
  legacyPhone: '509-555-0142',
  reimplPhone: '509-555-0199',
  legacySsn: '123-45-6789',
  reimplSsn: '123-45-6780',
  queryEmail: 'owner-lookup@benton.example',
};
const everything = [...Object.values(secrets), ...Object.values(personal)];

/** What a side answers: a login with tokens, a cookie and the user's name and email, or an owner record with PII. */
function side(which: 'legacy' | 'reimpl'): Behaviour {
  const is = which === 'legacy';
  return (req, res) => {
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/auth/login') {
      json(200, {
        access_token: is ? secrets.legacyAccess : secrets.reimplAccess,
        refresh_token: is ? secrets.legacyRefresh : secrets.reimplRefresh,
        token_type: 'Bearer',
        user: { id: 2, username: 'assessor', role: 'Assessor', full_name: is ? personal.legacyName : personal.reimplName, email: is ? personal.legacyEmail : personal.reimplEmail },
      }, { 'set-cookie': `session=${is ? secrets.legacyCookie : secrets.reimplCookie}; HttpOnly; Path=/` });
    } else {
      // Only PII differs: the comparison must still call it a mismatch.
      json(200, { owner_id: 7, owner_name: is ? personal.legacyOwner : personal.reimplOwner, phone: is ? personal.legacyPhone : personal.reimplPhone, ssn: is ? personal.legacySsn : personal.reimplSsn, assessed_value: 412000 });
    }
  };
}

describe('what the proxy stores and the report shows is redacted', () => {
  let database: IsolatedDatabase;
  let upstreams: Upstreams;
  let proxy: RunningProxy;
  let observations: PgObservationStore;
  let unknownTraffic: PgUnknownTrafficStore;

  beforeAll(async () => {
    database = await createIsolatedDatabase('redaction');
    await migrateHarness(database.url);
    observations = new PgObservationStore(database.url);
    unknownTraffic = new PgUnknownTrafficStore(database.url);
    upstreams = await startUpstreams();
    upstreams.legacy.behave(side('legacy'));
    upstreams.reimpl.behave(side('reimpl'));
    const flags = new ManualFlags();
    flags.set('sync.login', 'shadow');
    flags.set('sync.owner', 'shadow');
    proxy = await startProxy({
      config: configFor(upstreams),
      catalogue,
      flagSource: flags,
      observationStore: observations,
      unknownTrafficStore: unknownTraffic,
      services: ['sync'],
      random: () => 0,
    });
    const url = proxy.urls.sync!;
    const login = await call(`${url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secrets.requestToken}`, cookie: `session=${secrets.legacyCookie}` },
      body: JSON.stringify({ username: 'assessor', password: secrets.password }),
    });
    // The client gets the serving answer as it is: redaction is for what is kept, never for what is served.
    expect(login.body.toString()).toContain(personal.legacyName);
    const owner = await call(`${url}/owners/7?token=${secrets.queryToken}&email=${encodeURIComponent(personal.queryEmail)}`);
    expect(owner.body.toString()).toContain(personal.legacySsn);
    expect((await call(`${url}/password-reset/${secrets.resetLink}`)).status).toBe(200);
    // The shadow copies finish after the serving answers: wait until both observations are written.
    await eventually(async () => {
      await proxy.flushObservations();
      return (await observations.list()).length >= 2 ? true : undefined;
    }, 10_000);
  });

  afterAll(async () => {
    await proxy?.close();
    await Promise.all(Object.values(upstreams ?? {}).map((upstream) => upstream.close()));
    await observations?.close();
    await unknownTraffic?.close();
    await database?.drop();
  });

  it('stores both observations as mismatches, with their bodies, and no secret or PII in any column', async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const rows = await client.query<{ route_id: string; verdict: string; row: string }>('SELECT route_id, verdict, row_to_json(o)::text AS row FROM cutover.observations o ORDER BY route_id');
      expect(rows.rows.map(({ route_id, verdict }) => [route_id, verdict])).toEqual([['sync.login', 'mismatched'], ['sync.owner', 'mismatched']]);
      const unknown = await client.query<{ row: string }>('SELECT row_to_json(u)::text AS row FROM cutover.unknown_traffic u');
      expect(unknown.rows.length).toBeGreaterThan(0);
      const stored = [...rows.rows.map((row) => row.row), ...unknown.rows.map((row) => row.row)].join('\n');
      expect(everything.filter((value) => stored.includes(value))).toEqual([]);
      expect(stored).toContain('assessed_value');
      expect(stored).toContain('[REDACTED]:pii#');
    } finally {
      await client.end();
    }
  });

  it('keeps each redacted difference a mismatch that reads as two different values', async () => {
    const stored = await observations.list();
    const byPath = new Map(stored.flatMap((observation) => observation.differences.map((difference) => [difference.path, difference] as const)));
    for (const path of ['$.access_token', '$.refresh_token', '$.user.full_name', '$.user.email', 'headers.set-cookie', '$.owner_name', '$.phone', '$.ssn']) {
      const difference = byPath.get(path);
      expect({ path, disposition: difference?.disposition }).toEqual({ path, disposition: { as: 'mismatch' } });
      expect(difference!.serving).toMatch(/\[REDACTED\]/);
      expect(difference!.serving).not.toBe(difference!.shadow);
    }
    expect(byPath.has('$.assessed_value')).toBe(false);
  });

  it('writes a report whose HTML, Markdown and JSON hold no secret or PII and still show where the sides differed', async () => {
    const report = await collectReport({ observations, unknownTraffic, catalogue, redactor: createStorageRedactor(['full_name', 'owner_name', 'email', 'phone', 'ssn']) });
    const paths = writeReport(report, mkdtempSync(join(tmpdir(), 'redaction-report-')));
    const html = readFileSync(paths.html, 'utf8');
    for (const file of [html, readFileSync(paths.markdown, 'utf8'), readFileSync(paths.json, 'utf8')]) {
      expect(everything.filter((value) => file.includes(value))).toEqual([]);
    }
    expect(html).toContain('$.user.full_name');
    expect(html).toContain('$.ssn');
    const owner = report.routes.find((route) => route.routeId === 'sync.owner')!;
    expect(owner.mismatched).toBe(1);
    const ssn = owner.mismatchPaths.find((entry) => entry.path === '$.ssn')!;
    expect(ssn.example.serving).toMatch(/\[REDACTED\]:pii#/);
    expect(ssn.example.serving).not.toBe(ssn.example.shadow);
    expect(ssn.example.requestPath).toContain('token=%5BREDACTED%5D');
  });
});
