/**
 * The console as `cutover proxy` serves it: two real proxy processes on one PostgreSQL, as behind
 * a load balancer. A session signed in on one instance is accepted by the other (the cookie is
 * signed, not stored), and a change made through one instance's console reaches the other's
 * event stream over LISTEN/NOTIFY.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxyProcess, type ProxyProcess } from '../platform/proxy-process.js';
import { createIsolatedDatabase, type IsolatedDatabase } from '../setup/isolated-database.js';
import { openEventStream } from './console-server.js';

let database: IsolatedDatabase;
let first: ProxyProcess;
let second: ProxyProcess;

beforeAll(async () => {
  database = await createIsolatedDatabase('console_instances', { migrated: true });
  // No upstream is given: each is named missing at start and answered 502; the admin port is what is tested.
  [first, second] = await Promise.all([startProxyProcess({ DATABASE_URL: database.url }), startProxyProcess({ DATABASE_URL: database.url })]);
}, 180_000);

afterAll(async () => {
  for (const proxy of [first, second]) proxy?.signal('SIGKILL');
  await Promise.all([first?.exited, second?.exited]);
  await database?.drop();
}, 60_000);

describe('the console of cutover proxy instances', () => {
  it('serves its page at / on the admin port, and a session from one instance works on the other', { timeout: 90_000 }, async () => {
    const page = await fetch(`${first.adminUrl}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/console/assets/app.js');
    const signIn = await fetch(`${first.adminUrl}/console/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json', origin: first.adminUrl }, body: JSON.stringify({ token: first.adminToken }) });
    expect(signIn.status).toBe(200);
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    const { csrf } = (await signIn.json()) as { csrf: string };
    const routes = await fetch(`${second.adminUrl}/routes`, { headers: { cookie } });
    expect(routes.status).toBe(200);
    expect(((await routes.json()) as { routes: unknown[] }).routes.length).toBeGreaterThan(10);

    // A change through the second instance's console, with the first's session, reaches the first's event stream.
    const stream = await openEventStream(first.adminUrl, cookie);
    await stream.seen('event: flags');
    const change = await fetch(`${second.adminUrl}/flags/sync.health`, {
      method: 'PUT',
      headers: { cookie, origin: second.adminUrl, 'x-cutover-csrf': csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'shadow', reason: 'from the other instance' }),
    });
    expect(change.status).toBe(200);
    await stream.seen('"routeId":"sync.health","mode":"shadow"');
    await stream.close();
  });
});
