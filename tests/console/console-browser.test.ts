/**
 * The web console in a real browser: Debian's chromium (/usr/bin/chromium, scripts/setup.sh)
 * driven by playwright-core, which downloads no browser, with a fresh profile, at 1280×800,
 * against the admin server on a real PostgreSQL. Signs in by keyboard, flips a flag with a
 * reason and finds it in the history, opens a mismatch's side-by-side diff, sees a change made
 * in the store appear without a reload, and engages the kill switch through its confirmation.
 * Screenshots go to reports/artifacts/console/ (git-ignored). No timed assertion: every wait is
 * for a state, with generous deadlines.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGate } from '../../gate/gate.js';
import { loadConfig } from '../../src/config/load.js';
import { repoRoot } from '../../src/platform/paths.js';
import { anaToken, shadowObservation, startConsoleServer, type ConsoleServer } from './console-server.js';

const chromiumPath = '/usr/bin/chromium';
const artifacts = join(repoRoot, 'reports', 'artifacts', 'console');
const deadlineMs = 60_000;
const route = 'sync.counties.list';

let server: ConsoleServer;
let context: BrowserContext;
let page: Page;
let profile: string;

const shot = (name: string) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

beforeAll(async () => {
  if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is missing: scripts/setup.sh installs Debian's chromium (apt-get install chromium)`);
  mkdirSync(artifacts, { recursive: true });
  server = await startConsoleServer('console_browser');
  await server.observations.append([
    ...Array.from({ length: 6 }, (_, index) => shadowObservation(route, { legacyMs: 20 + index, reimplMs: 9 + index, at: new Date(Date.now() - (index + 1) * 60_000) })),
    shadowObservation(route, { mismatch: true }),
  ]);
  await server.noise.save({
    routeId: route,
    samples: 40,
    learnedAt: new Date().toISOString(),
    paths: [
      { path: '$[*].updated_at', samples: 40, differed: 40, rate: 1, varies: 'always', kind: 'timestamp', format: 'iso' },
      { path: '$[*].county_id', samples: 40, differed: 0, rate: 0, varies: 'never', kind: 'string' },
    ],
  });
  await server.noise.pin(route, '$[*].updated_at', true);
  profile = mkdtempSync(join(tmpdir(), 'cutover-console-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 800 },
    timeout: 120_000,
  });
  context.setDefaultTimeout(deadlineMs);
  page = context.pages()[0] ?? (await context.newPage());
}, 180_000);

afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await server?.close();
});

// Each step waits for states with its own deadlines; the test's bound only catches a hang.
describe('the web console in chromium', { timeout: 180_000 }, () => {
  it('refuses a wrong token with a clear error, then signs in by keyboard alone', async () => {
    await page.goto(server.url);
    const token = page.getByLabel('Admin token');
    await expect.poll(() => token.evaluate((element) => element === document.activeElement), { timeout: deadlineMs }).toBe(true);
    await page.keyboard.type('not-a-token-of-this-proxy');
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'Wrong token' }).waitFor();
    await shot('01-sign-in-refused');
    await token.fill('');
    await page.keyboard.type(anaToken);
    await page.keyboard.press('Enter');
    await page.locator(`#routes tr[data-route="${route}"]`).waitFor();
    await expect.poll(() => page.locator('#actor').textContent(), { timeout: deadlineMs }).toBe('signed in as ana');
    // The token is kept nowhere the page's script can read: the session cookie is httpOnly and holds no token.
    const cookies = await context.cookies(server.url);
    expect(cookies).toMatchObject([{ name: 'cutover_console', httpOnly: true, sameSite: 'Strict' }]);
    expect(cookies[0]!.value).not.toContain(anaToken);
    expect(await page.evaluate(() => document.cookie)).toBe('');
    expect(await page.content()).not.toContain(anaToken);
    await shot('02-routes');
  });

  it('moves the focus through the header, the filters and the table in reading order, each with a visible ring', async () => {
    const focused = () =>
      page.evaluate(() => {
        const element = document.activeElement as HTMLElement | null;
        const style = element ? getComputedStyle(element) : null;
        const label = element?.id ? document.querySelector(`label[for="${element.id}"]`)?.textContent : null;
        return { text: (label ?? element?.textContent ?? '').trim(), ring: style ? style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2 : false };
      });
    await page.locator('#main').focus();
    await page.keyboard.press('Tab');
    const order: string[] = [];
    for (let step = 0; step < 4; step++) {
      const now = await focused();
      expect(now.ring, `a visible focus ring on ${now.text}`).toBe(true);
      order.push(now.text);
      await page.keyboard.press('Tab');
    }
    // After the view's own content starts: the three filters, then the first route's link.
    expect(order.slice(0, 4)).toEqual(['Service', 'Owner', 'Mode', 'sync.health']);
  });

  it('filters the routes by service, owner and mode', async () => {
    await page.getByLabel('Mode').selectOption('shadow');
    await page.getByText(/^0 of \d+ routes/).waitFor();
    await page.getByLabel('Mode').selectOption('');
    await page.getByLabel('Service').selectOption('narrator');
    const rows = page.locator('#routes tbody tr');
    await expect.poll(async () => (await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-route') ?? ''))).every((id) => id.startsWith('narrator.')), { timeout: deadlineMs }).toBe(true);
    expect(await rows.count()).toBeGreaterThan(0);
    await page.getByLabel('Service').selectOption('');
    await page.getByLabel('Owner').selectOption('team-sync');
    await page.locator(`#routes tr[data-route="${route}"]`).waitFor();
    await page.getByLabel('Owner').selectOption('');
  });

  it('flips a flag with a reason and finds it in the route\'s history', async () => {
    await page.locator(`#routes tr[data-route="${route}"] a`).click();
    await page.locator('#route-mode').filter({ hasText: 'legacy' }).waitFor();
    await page.locator('#flag-form').getByLabel('Mode', { exact: true }).selectOption('shadow');
    await page.locator('#flag-form').getByLabel('Reason (recorded in the audit log)').fill('shadow the county list from the console');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator('#flag-notice').filter({ hasText: 'Set to shadow' }).waitFor();
    await page.locator('#route-mode').filter({ hasText: 'shadow' }).waitFor();
    await page.locator('table.history tbody tr').filter({ hasText: 'shadow the county list from the console' }).filter({ hasText: 'ana' }).waitFor();
    const [entry] = await server.flagStore.history({ routeId: route, limit: 1 });
    expect(entry).toMatchObject({ actor: 'ana', from: 'legacy', to: 'shadow', reason: 'shadow the county list from the console' });
  });

  it('shows the readiness gate\'s refusal of a promotion, with the failed criteria', async () => {
    await page.locator('#flag-form').getByLabel('Mode', { exact: true }).selectOption('canary');
    await page.getByLabel('Canary percent').fill('10');
    await page.locator('#flag-form').getByLabel('Reason (recorded in the audit log)').fill('try a canary');
    await page.getByRole('button', { name: 'Apply' }).click();
    // What the gate itself says of the route is what the page must show.
    const config = loadConfig();
    const gate = await runGate({ observations: server.observations, catalogue: server.catalogue, thresholds: config.gate.thresholds }, { route, since: new Date(Date.now() - config.gate.windowHours * 3_600_000) });
    const { verdict, failed } = gate.routes[0]!;
    expect(verdict).not.toBe('READY');
    let error = page.locator('#flag-error').filter({ hasText: 'CUTOVER_ERR_GATE_NOT_PASSED' }).filter({ hasText: `${route} is ${verdict}` });
    for (const criterion of failed) error = error.filter({ hasText: criterion });
    await error.waitFor();
    expect((await server.flagStore.snapshot()).flags.get(route)?.mode).toBe('shadow');
  });

  it('opens a mismatch and shows legacy\'s value beside the reimplementation\'s, with both bodies', async () => {
    const mismatch = page.locator('details.mismatch').first();
    await mismatch.locator('summary').click();
    const row = mismatch.locator('table.diff tbody tr').filter({ hasText: '$.count' });
    await expect.poll(async () => [await row.locator('td.legacy').textContent(), await row.locator('td.reimpl').textContent()], { timeout: deadlineMs }).toEqual(['41', '42']);
    await mismatch.locator('pre').filter({ hasText: '"count": 41' }).waitFor();
    await mismatch.locator('pre').filter({ hasText: '"count": 42' }).waitFor();
    expect(await page.locator('.charts svg[role="img"]').count()).toBeGreaterThanOrEqual(7);
    await shot('03-route-with-mismatch');
  });

  it('shows the noise calibrate learned for the route, pinned paths marked', async () => {
    const row = page.locator('table.noise tbody tr').filter({ hasText: '$[*].updated_at' });
    await expect.poll(async () => (await row.locator('td').allTextContents()).map((text) => text.trim()), { timeout: deadlineMs }).toEqual(['$[*].updated_at', 'always', '100.0%', 'timestamp', 'pinned']);
    // A path that never varied is not noise, and is not listed as such.
    expect(await page.locator('table.noise tbody tr').filter({ hasText: '$[*].county_id' }).count()).toBe(0);
  });

  it('shows a change made in the store (as the CLI or another instance would) without a reload', async () => {
    const marker = await page.evaluate(() => ((window as unknown as { consoleTestMarker: number }).consoleTestMarker = Math.random()));
    await server.flagStore.set({ pattern: route, mode: 'legacy', actor: 'cli-user@ops', reason: 'rolled back from the CLI' });
    await page.locator('#route-mode').filter({ hasText: 'legacy' }).waitFor();
    await page.locator('table.history tbody tr').filter({ hasText: 'rolled back from the CLI' }).filter({ hasText: 'cli-user@ops' }).waitFor();
    // The same document, so the page was updated by its event stream, not reloaded.
    expect(await page.evaluate(() => (window as unknown as { consoleTestMarker: number }).consoleTestMarker)).toBe(marker);
    await shot('04-live-change');
  });

  it('pauses, resumes and aborts a rollout, the abort behind a confirmation with a reason', async () => {
    const rolled = 'sync.counties.get';
    await server.flagStore.set({ pattern: rolled, mode: 'canary', percent: 5, actor: 'cli-user@ops', reason: 'rollout start' });
    await server.rollouts.create({ routeId: rolled, steps: [5, 25, 100], stepDurationMs: 600_000, checks: 3, reason: 'roll the county read out', actor: 'cli-user@ops', startedAt: new Date() });
    await page.getByRole('link', { name: 'Rollouts' }).click();
    const row = page.locator('table.rollouts tbody tr').filter({ hasText: rolled });
    await row.filter({ hasText: 'running' }).waitFor();
    await row.getByRole('button', { name: 'Pause' }).click();
    await row.filter({ hasText: 'paused' }).waitFor();
    await row.getByRole('button', { name: 'Resume' }).click();
    await row.filter({ hasText: 'running' }).waitFor();
    await row.getByRole('button', { name: 'Abort…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    await dialog.getByLabel('Reason (recorded in the audit log)').fill('mismatch rate looks wrong');
    await dialog.getByRole('button', { name: 'Abort rollout' }).click();
    await row.filter({ hasText: 'aborted' }).waitFor();
    await shot('05-rollouts');
    expect((await server.flagStore.snapshot()).flags.get(rolled)?.mode).toBe('shadow');
    const [entry] = await server.flagStore.history({ routeId: rolled, limit: 1 });
    expect(entry).toMatchObject({ actor: 'ana', to: 'shadow', reason: 'rollout aborted: mismatch rate looks wrong' });
  });

  it('starts a rollout from a route\'s page, refused by the gate until forced with a reason', async () => {
    const rolled = 'sync.counties.get';
    // From the rollouts page, where the aborted rollout left it, to the route's own page.
    await page.locator('table.rollouts tbody tr').filter({ hasText: 'aborted' }).getByRole('link', { name: rolled }).first().click();
    const form = page.locator('#rollout-form');
    await form.getByLabel('Canary steps (%)').fill('5, 50, 100');
    await form.getByLabel('Minutes per step').fill('15');
    await form.getByLabel('Reason for the rollout (recorded in the audit log)').fill('roll the county read out again');
    await form.getByRole('button', { name: 'Start rollout' }).click();
    await page.locator('#rollout-error').filter({ hasText: 'CUTOVER_ERR_GATE_NOT_PASSED' }).waitFor();
    expect((await server.rollouts.active()).filter((rollout) => rollout.routeId === rolled)).toEqual([]);
    await form.getByLabel('Force the first step past the readiness gate').check();
    await form.getByRole('button', { name: 'Start rollout' }).click();
    await page.locator('#rollout-notice').filter({ hasText: 'Rollout started at canary 5% (steps 5, 50, 100).' }).filter({ hasText: 'Forced past the gate' }).waitFor();
    await page.locator('table.rollouts tbody tr').filter({ hasText: 'running' }).filter({ hasText: 'ana: roll the county read out again' }).waitFor();
    await page.locator('#route-mode').filter({ hasText: 'canary 5%' }).waitFor();
    const [rollout] = (await server.rollouts.active()).filter((candidate) => candidate.routeId === rolled);
    expect(rollout).toMatchObject({ state: 'running', steps: [5, 50, 100], stepDurationMs: 15 * 60_000, actor: 'ana' });
    await shot('05b-rollout-started');
  });

  it('engages the kill switch only after its confirmation, by keyboard', async () => {
    await page.getByRole('button', { name: 'Engage kill switch…' }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    // Cancelled: nothing changes.
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await server.flagStore.snapshot()).killSwitch).toBe(false);
    await page.getByRole('button', { name: 'Engage kill switch…' }).click();
    await dialog.waitFor();
    // Confirming without a reason is refused in the dialog.
    await dialog.getByRole('button', { name: 'Engage kill switch' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'A reason is required' }).waitFor();
    await page.keyboard.type('upstream incident drill');
    await shot('06-kill-switch-confirmation');
    await dialog.getByRole('button', { name: 'Engage kill switch' }).click();
    await page.locator('#kill-state').filter({ hasText: 'KILL SWITCH ENGAGED' }).waitFor();
    expect((await server.flagStore.snapshot()).killSwitch).toBe(true);
    const [entry] = await server.flagStore.history({ routeId: '*', limit: 1 });
    expect(entry).toMatchObject({ actor: 'ana', to: 'on', reason: 'upstream incident drill' });
    await page.getByRole('link', { name: 'History' }).click();
    await page.locator('table.history tbody tr').filter({ hasText: 'upstream incident drill' }).waitFor();
    await shot('07-history');
  });

  it('signs out, after which the API refuses the page', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token').waitFor();
    expect(await context.cookies(server.url)).toEqual([]);
  });
});
