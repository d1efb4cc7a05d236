/**
 * The web console's page script (bundled by console/assets.ts; runs in the browser). A client of
 * the admin API and nothing else: it signs in with an admin token (the server answers with an
 * httpOnly session cookie and a CSRF token this script keeps in memory), reads /routes,
 * /routes/<id>, /rollouts and /history, changes flags through PUT /flags/<route> (the promotion
 * guard's own path), the kill switch through PUT /kill-switch, rollouts through
 * /rollouts/<route>/<action>, and listens to /events for changes made anywhere else.
 */

import type { MismatchView, RouteRow, RoutesOverview } from '../route-views.js';

interface Session {
  actor: string;
  csrf: string | null;
  expiresAt: string | null;
}

// The shapes the server sends; type-only, so the bundle carries none of the server's code.
type Overview = RoutesOverview;
type Mismatch = MismatchView;

interface Criterion {
  id: string;
  title: string;
  value: number | null;
  comparison: string;
  threshold: number;
  status: string;
  gating: boolean;
  detail: string;
}

interface LearnedPath {
  path: string;
  samples: number;
  rate: number;
  varies: string;
  kind: string;
  pinned?: boolean;
}

interface Rollout {
  id: number;
  routeId: string;
  steps: number[];
  stepIndex: number;
  state: string;
  breaches: number;
  checks: number;
  actor: string;
  reason: string;
  updatedAt: string;
  lastAnalysis: { at: string; result: string; why: string } | null;
}

interface RouteDetail {
  row: RouteRow;
  since: string;
  verdict: { verdict: string; failed: string[]; criteria: Criterion[] };
  report: { mismatchPaths: Array<{ path: string; count: number }>; ignoredBy: Record<string, number> };
  charts: { latencyLegacy: string; latencyReimpl: string; parityOverTime: string; p50OverTime: { legacy: string; reimpl: string }; p99OverTime: { legacy: string; reimpl: string } };
  mismatches: Mismatch[];
  accepted: Array<{ id: string; rule: string; reason: string; acceptedBy: string; absorbedObservations: number; absorbedPaths: Record<string, number> }>;
  noise: { learned: { learnedAt: string; samples: number; paths: LearnedPath[] } | null; pinned: Record<string, unknown> };
  rules: Record<string, unknown>;
  rollouts: Rollout[];
}

interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  routeId: string;
  from: string;
  to: string;
  reason: string;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const modes = ['legacy', 'shadow', 'canary', 'reimpl', 'retired'];
let session: Session | null = null;
let killSwitch = false;
let refreshView: (() => Promise<void>) | null = null;
let events: EventSource | null = null;

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

type Child = Node | string | number | null | undefined | false;

/** An element with attributes and children; text goes in as text, never as markup. */
function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string | boolean | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && session?.csrf) headers['x-cutover-csrf'] = session.csrf;
  const response = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  const parsed: unknown = text ? JSON.parse(text) : {};
  if (!response.ok) {
    const failure = parsed as { error?: string; message?: string };
    // Sign-in and the first session check answer 401 as a matter of course; elsewhere it means the session ended.
    if (response.status === 401 && !path.startsWith('/console/')) {
      session = null;
      showSignIn('Your session ended; sign in again.');
    }
    throw new ApiError(response.status, failure.error ?? `HTTP ${response.status}`, failure.message ?? text);
  }
  return parsed as T;
}

const percent = (value: number | null, digits = 1) => (value === null ? '–' : `${(value * 100).toFixed(digits)}%`);
const ms = (value: number | null) => (value === null ? '–' : value < 10 ? value.toFixed(2) : value.toFixed(0));
// Four significant digits: 1 - 0.95 reads 0.05, not 0.050000000000000044.
const figure = (value: number) => String(Number(value.toPrecision(4)));
const when = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
const routeHref = (routeId: string) => `#/route/${encodeURIComponent(routeId)}`;
const failureText = (error: unknown) => (error instanceof ApiError ? `${error.code}: ${error.message}` : String(error));

/** Server-drawn SVG (the report's chart code, every label escaped there) into a figure. */
function chart(svg: string, caption: string): HTMLElement {
  const holder = h('div');
  holder.innerHTML = svg;
  return h('figure', {}, ...Array.from(holder.childNodes), h('figcaption', {}, caption));
}

function table(caption: string, header: string[], rows: Node[][], attributes: Record<string, string> = {}): HTMLTableElement {
  return h(
    'table',
    attributes,
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ...header.map((title) => h('th', { scope: 'col' }, title)))),
    h('tbody', {}, ...(rows.length ? rows.map((cells) => h('tr', {}, ...cells)) : [h('tr', {}, h('td', { colspan: String(header.length), class: 'muted' }, 'none'))])),
  );
}

const cell = (content: Child, attributes: Record<string, string> = {}) => h('td', attributes, content);

// ---- the frame: sign-in, header, live events -------------------------------------------------

function showSignIn(message = ''): void {
  events?.close();
  events = null;
  refreshView = null;
  byId('nav').hidden = true;
  byId('status').hidden = true;
  const main = byId('main');
  const error = h('p', { id: 'sign-in-error', class: 'error', role: 'alert' }, message);
  const token = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true, 'aria-describedby': 'token-help' });
  const form = h(
    'form',
    { class: 'signin', id: 'sign-in' },
    h('h1', {}, 'Sign in to the cutover console'),
    h('div', { class: 'field' }, h('label', { for: 'token' }, 'Admin token'), token, h('small', { id: 'token-help', class: 'muted' }, 'One of proxy.adminTokens (CUTOVER_ADMIN_TOKENS); your changes are recorded as its name.')),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    error,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    error.textContent = '';
    api<Session>('POST', '/console/sign-in', { token: token.value })
      .then((signedIn) => {
        token.value = '';
        session = signedIn;
        start();
      })
      .catch((failure: unknown) => {
        error.textContent = failure instanceof ApiError && failure.code === 'CUTOVER_ERR_CONSOLE_SIGN_IN_FAILED' ? 'Wrong token: that is not an admin token of this proxy.' : failureText(failure);
        token.focus();
      });
  });
  main.replaceChildren(form);
  token.focus();
}

function showKillSwitch(engaged: boolean): void {
  killSwitch = engaged;
  const state = byId('kill-state');
  state.textContent = engaged ? 'KILL SWITCH ENGAGED: everything served by legacy' : 'kill switch off';
  state.classList.toggle('engaged', engaged);
  byId('kill-button').textContent = engaged ? 'Release kill switch…' : 'Engage kill switch…';
}

/** The confirmation dialog; resolves with the reason given, or null when cancelled. */
function confirmWithReason(title: string, text: string, confirmLabel: string, act: (reason: string) => Promise<void>): void {
  const dialog = byId<HTMLDialogElement>('confirm');
  const reason = byId<HTMLTextAreaElement>('confirm-reason');
  const error = byId('confirm-error');
  byId('confirm-title').textContent = title;
  byId('confirm-text').textContent = text;
  byId('confirm-ok').textContent = confirmLabel;
  reason.value = '';
  error.textContent = '';
  const form = byId<HTMLFormElement>('confirm-form');
  const cancel = byId<HTMLButtonElement>('confirm-cancel');
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const close = () => {
    form.onsubmit = null;
    cancel.onclick = null;
    dialog.close();
    opener?.focus();
  };
  form.onsubmit = (event) => {
    event.preventDefault();
    if (!reason.value.trim()) {
      error.textContent = 'A reason is required.';
      reason.focus();
      return;
    }
    act(reason.value.trim())
      .then(close)
      .catch((failure: unknown) => (error.textContent = failureText(failure)));
  };
  cancel.onclick = close;
  dialog.showModal();
  reason.focus();
}

function listen(): void {
  events?.close();
  const live = byId('live');
  const source = new EventSource('/events');
  events = source;
  source.addEventListener('open', () => (live.textContent = 'live'));
  source.addEventListener('error', () => (live.textContent = 'reconnecting…'));
  let pending: number | undefined;
  source.addEventListener('rollouts', () => {
    window.clearTimeout(pending);
    pending = window.setTimeout(() => void refreshView?.().catch(() => undefined), 200);
  });
  source.addEventListener('flags', (event) => {
    const data = JSON.parse((event as MessageEvent<string>).data) as { killSwitch: boolean; loadedAt: string };
    showKillSwitch(data.killSwitch);
    live.textContent = `live (flags as of ${when(data.loadedAt)})`;
    window.clearTimeout(pending);
    pending = window.setTimeout(() => void refreshView?.().catch(() => undefined), 200);
  });
}

function start(): void {
  byId('nav').hidden = false;
  byId('status').hidden = false;
  byId('actor').textContent = session ? `signed in as ${session.actor}` : '';
  listen();
  route();
}

// ---- the routes -------------------------------------------------------------------------------

const filters = { service: '', owner: '', mode: '' };

function select(id: string, label: string, values: string[], current: string, onChange: (value: string) => void): HTMLElement {
  const element = h('select', { id, name: id }, h('option', { value: '' }, 'all'), ...values.map((value) => h('option', { value, selected: value === current }, value)));
  element.addEventListener('change', () => onChange(element.value));
  return h('div', { class: 'field' }, h('label', { for: id }, label), element);
}

function routeRowCells(row: RouteRow): Node[] {
  const mode = row.mode === 'canary' ? `canary ${row.percent}%` : row.mode;
  return [
    cell(h('a', { href: routeHref(row.routeId) }, row.routeId)),
    cell(row.service),
    cell(row.owner),
    cell(mode, { 'data-col': 'mode' }),
    cell(h('span', { class: `verdict-${row.verdict}`, title: row.failed.join(', ') }, row.verdict), { 'data-col': 'verdict' }),
    cell(`${percent(row.parity.estimate)} (≥ ${percent(row.parity.lowerBound)})`, { class: 'num', title: `${row.parity.matched}/${row.parity.compared} matched; ${row.parity.confidence * 100}% Wilson lower bound, needs ${percent(row.parity.threshold, 2)}` }),
    cell(`${row.samples.compared} / ${row.samples.needed}`, { class: 'num' }),
    cell(`${ms(row.latencyMs.legacy.p50)} / ${ms(row.latencyMs.legacy.p99)}`, { class: 'num' }),
    cell(`${ms(row.latencyMs.reimpl.p50)} / ${ms(row.latencyMs.reimpl.p99)}`, { class: 'num' }),
    cell(`${row.errors.legacy.errors} / ${row.errors.reimpl.errors}`, { class: 'num', title: `of ${row.errors.legacy.trials} legacy and ${row.errors.reimpl.trials} reimpl answers` }),
    cell(row.shadowDrops, { class: 'num' }),
  ];
}

async function routesView(main: HTMLElement): Promise<void> {
  const holder = h('div', { id: 'routes-table' });
  const controls = h('div', { class: 'row', role: 'search', 'aria-label': 'Filter routes' });
  main.replaceChildren(h('h1', {}, 'Routes'), controls, holder);
  let overview: Overview | null = null;
  const draw = () => {
    if (!overview) return;
    const shown = overview.routes.filter((row) => (!filters.service || row.service === filters.service) && (!filters.owner || row.owner === filters.owner) && (!filters.mode || row.mode === filters.mode));
    const header = ['Route', 'Service', 'Owner', 'Mode', 'Readiness', 'Parity (lower bound)', 'Compared / needed', 'Legacy p50 / p99 ms', 'Reimpl p50 / p99 ms', 'Errors legacy / reimpl', 'Shadow drops'];
    const rows = shown.map((row) => {
      const cells = routeRowCells(row);
      return cells;
    });
    const rendered = table(`${shown.length} of ${overview.routes.length} routes, over the gate's window of ${overview.windowHours} h (since ${when(overview.since)})`, header, rows, { id: 'routes' });
    rendered.querySelectorAll('tbody tr').forEach((tr, index) => {
      const row = shown[index];
      if (row) tr.setAttribute('data-route', row.routeId);
    });
    holder.replaceChildren(rendered, h('p', { class: 'muted' }, 'Shadow drops are this proxy instance\'s since it started.'));
  };
  const distinct = (key: 'service' | 'owner') => [...new Set((overview?.routes ?? []).map((row) => row[key]))].sort();
  const drawControls = () => {
    controls.replaceChildren(
      select('filter-service', 'Service', distinct('service'), filters.service, (value) => ((filters.service = value), draw())),
      select('filter-owner', 'Owner', distinct('owner'), filters.owner, (value) => ((filters.owner = value), draw())),
      select('filter-mode', 'Mode', modes, filters.mode, (value) => ((filters.mode = value), draw())),
    );
  };
  const load = async () => {
    overview = await api<Overview>('GET', '/routes');
    showKillSwitch(overview.killSwitch);
    if (!controls.childElementCount) drawControls();
    draw();
  };
  refreshView = load;
  holder.append(h('p', { class: 'muted' }, 'loading…'));
  await load();
}

// ---- a route's page -------------------------------------------------------------------------

type GateRefusals = Array<{ routeId: string; verdict: string; failed: string[] }>;
const forcedText = (forced: GateRefusals) => forced.map((refusal) => ` Forced past the gate (${refusal.verdict}: ${refusal.failed.join(', ')}).`).join('');

/**
 * A form whose change goes through the promotion guard: on submit it clears its messages, makes
 * the change, says what happened (the reason and the force box cleared for the next one), or
 * shows why not, the gate's refusal with what to do about it.
 */
function onGuardedSubmit(
  form: HTMLFormElement,
  parts: { error: HTMLElement; notice: HTMLElement; reason: HTMLTextAreaElement; force: HTMLInputElement },
  onChanged: () => Promise<void>,
  change: () => Promise<string>,
): void {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    parts.error.textContent = '';
    parts.notice.textContent = '';
    change()
      .then(async (done) => {
        parts.reason.value = '';
        parts.force.checked = false;
        parts.notice.textContent = done;
        await onChanged();
      })
      .catch((failure: unknown) => {
        parts.error.textContent = failure instanceof ApiError && failure.code === 'CUTOVER_ERR_GATE_NOT_PASSED' ? `Refused by the readiness gate (${failure.code}): ${failure.message}. Gather the evidence, or force it with a reason.` : failureText(failure);
      });
  });
}

function flagForm(routeId: string, onChanged: () => Promise<void>): HTMLElement {
  const mode = h('select', { id: 'flag-mode', name: 'mode' }, ...modes.map((value) => h('option', { value }, value)));
  const share = h('input', { id: 'flag-percent', name: 'percent', type: 'number', min: '0', max: '100', step: '1', value: '5' });
  const reason = h('textarea', { id: 'flag-reason', name: 'reason', rows: '2', required: true });
  const force = h('input', { id: 'flag-force', name: 'force', type: 'checkbox' });
  const error = h('p', { id: 'flag-error', class: 'error', role: 'alert' });
  const notice = h('p', { id: 'flag-notice', class: 'notice', role: 'status' });
  const shareField = h('div', { class: 'field' }, h('label', { for: 'flag-percent' }, 'Canary percent'), share);
  const showShare = () => (shareField.hidden = mode.value !== 'canary');
  mode.addEventListener('change', showShare);
  showShare();
  const form = h(
    'form',
    { id: 'flag-form', 'aria-labelledby': 'flag-form-title' },
    h('h2', { id: 'flag-form-title' }, 'Change the flag'),
    h('div', { class: 'row' }, h('div', { class: 'field' }, h('label', { for: 'flag-mode' }, 'Mode'), mode), shareField),
    h('div', { class: 'field' }, h('label', { for: 'flag-reason' }, 'Reason (recorded in the audit log)'), reason),
    h('div', { class: 'field' }, h('label', {}, force, ' Force past the readiness gate (recorded as forced)')),
    h('button', { type: 'submit', class: 'primary' }, 'Apply'),
    error,
    notice,
  );
  onGuardedSubmit(form, { error, notice, reason, force }, onChanged, async () => {
    const body: Record<string, unknown> = { mode: mode.value, reason: reason.value, force: force.checked };
    if (mode.value === 'canary') body.percent = Number(share.value);
    const result = await api<{ changed: Array<{ routeId: string }>; forced: GateRefusals }>('PUT', `/flags/${encodeURIComponent(routeId)}`, body);
    return result.changed.length ? `Set to ${mode.value}${mode.value === 'canary' ? ` ${share.value}%` : ''}.${forcedText(result.forced)}` : 'Nothing changed: the route was already in that state.';
  });
  return form;
}

/** Starts a rollout of this route (POST /rollouts/<route>/start, as `cutover rollout start`); empty fields take the config's defaults. */
function rolloutForm(routeId: string, onChanged: () => Promise<void>): HTMLElement {
  const steps = h('input', { id: 'rollout-steps', name: 'steps', type: 'text', inputmode: 'numeric', placeholder: 'config default', 'aria-describedby': 'rollout-steps-help' });
  const minutes = h('input', { id: 'rollout-minutes', name: 'minutes', type: 'number', min: '1', step: '1', placeholder: 'config default' });
  const checks = h('input', { id: 'rollout-checks', name: 'checks', type: 'number', min: '1', step: '1', placeholder: 'config default' });
  const reason = h('textarea', { id: 'rollout-reason', name: 'reason', rows: '2', required: true });
  const force = h('input', { id: 'rollout-force', name: 'force', type: 'checkbox' });
  const error = h('p', { id: 'rollout-error', class: 'error', role: 'alert' });
  const notice = h('p', { id: 'rollout-notice', class: 'notice', role: 'status' });
  void api<{ defaults: { steps: number[]; stepDurationMs: number; checks: number } }>('GET', `/rollouts?route=${encodeURIComponent(routeId)}`)
    .then(({ defaults }) => {
      steps.placeholder = defaults.steps.join(', ');
      minutes.placeholder = String(Math.round(defaults.stepDurationMs / 60_000));
      checks.placeholder = String(defaults.checks);
    })
    .catch(() => undefined);
  const form = h(
    'form',
    { id: 'rollout-form', 'aria-labelledby': 'rollout-form-title' },
    h('h2', { id: 'rollout-form-title' }, 'Start a rollout'),
    h(
      'div',
      { class: 'row' },
      h('div', { class: 'field' }, h('label', { for: 'rollout-steps' }, 'Canary steps (%)'), steps, h('small', { id: 'rollout-steps-help', class: 'muted' }, 'rising, comma-separated')),
      h('div', { class: 'field' }, h('label', { for: 'rollout-minutes' }, 'Minutes per step'), minutes),
      h('div', { class: 'field' }, h('label', { for: 'rollout-checks' }, 'Breaching checks to roll back'), checks),
    ),
    h('div', { class: 'field' }, h('label', { for: 'rollout-reason' }, 'Reason for the rollout (recorded in the audit log)'), reason),
    h('div', { class: 'field' }, h('label', {}, force, ' Force the first step past the readiness gate (recorded as forced)')),
    h('button', { type: 'submit', class: 'primary' }, 'Start rollout'),
    error,
    notice,
  );
  onGuardedSubmit(form, { error, notice, reason, force }, onChanged, async () => {
    const body: Record<string, unknown> = { reason: reason.value, force: force.checked };
    if (steps.value.trim()) body.steps = steps.value.split(',').map((step) => Number(step.trim()));
    if (minutes.value) body.stepDurationMs = Number(minutes.value) * 60_000;
    if (checks.value) body.checks = Number(checks.value);
    const result = await api<{ started: Rollout[]; forced: GateRefusals }>('POST', `/rollouts/${encodeURIComponent(routeId)}/start`, body);
    return `Rollout started at canary ${result.started[0]?.steps[0]}% (steps ${result.started[0]?.steps.join(', ')}).${forcedText(result.forced)}`;
  });
  return form;
}

function historyTable(caption: string, entries: AuditEntry[]): HTMLTableElement {
  return table(
    caption,
    ['When', 'Actor', 'Route', 'From', 'To', 'Reason'],
    entries.map((entry) => [cell(when(entry.at)), cell(entry.actor), cell(entry.routeId === '*' ? '* (kill switch)' : entry.routeId), cell(entry.from), cell(entry.to), cell(entry.reason)]),
    { class: 'history' },
  );
}

function rolloutsTable(caption: string, rollouts: Rollout[], onChanged: () => Promise<void>): HTMLElement {
  const error = h('p', { class: 'error', role: 'alert' });
  const act = (rollout: Rollout, action: 'pause' | 'resume', label: string) => {
    const button = h('button', { type: 'button' }, label);
    button.addEventListener('click', () => {
      error.textContent = '';
      api('POST', `/rollouts/${encodeURIComponent(rollout.routeId)}/${action}`, {})
        .then(onChanged)
        .catch((failure: unknown) => (error.textContent = failureText(failure)));
    });
    return button;
  };
  const abort = (rollout: Rollout) => {
    const button = h('button', { type: 'button', class: 'danger' }, 'Abort…');
    button.addEventListener('click', () =>
      confirmWithReason(`Abort the rollout of ${rollout.routeId}?`, 'The route goes back to shadow; the controller stops.', 'Abort rollout', async (reason) => {
        await api('POST', `/rollouts/${encodeURIComponent(rollout.routeId)}/abort`, { reason });
        await onChanged();
      }),
    );
    return button;
  };
  const active = (rollout: Rollout) => rollout.state === 'running' || rollout.state === 'paused';
  return h(
    'div',
    {},
    table(
      caption,
      ['Route', 'State', 'Step', 'Breaches', 'Last check', 'Started by', 'Actions'],
      rollouts.map((rollout) => [
        cell(h('a', { href: routeHref(rollout.routeId) }, rollout.routeId)),
        cell(rollout.state),
        cell(`${rollout.stepIndex + 1}/${rollout.steps.length} (canary ${rollout.steps[rollout.stepIndex]}%; steps ${rollout.steps.join(', ')})`),
        cell(`${rollout.breaches}/${rollout.checks}`, { class: 'num' }),
        cell(rollout.lastAnalysis ? `${when(rollout.lastAnalysis.at)}: ${rollout.lastAnalysis.result}, ${rollout.lastAnalysis.why}` : 'not checked yet'),
        cell(`${rollout.actor}: ${rollout.reason}`),
        cell(h('span', { class: 'row' }, rollout.state === 'running' && act(rollout, 'pause', 'Pause'), rollout.state === 'paused' && act(rollout, 'resume', 'Resume'), active(rollout) && abort(rollout))),
      ]),
      { class: 'rollouts' },
    ),
    error,
  );
}

function mismatchDetails(mismatch: Mismatch): HTMLElement {
  const differences = table(
    'What the parity engine found, legacy beside the reimplementation',
    ['Path', 'Kind', 'Disposition', 'Legacy', 'Reimpl'],
    mismatch.differences.map((difference) => [
      cell(h('code', {}, difference.path)),
      cell(difference.kind ?? '–'),
      cell(difference.disposition + (difference.detail ? ` — ${difference.detail}` : '')),
      cell(h('code', {}, difference.legacy ?? '(absent)'), { class: 'legacy' }),
      cell(h('code', {}, difference.reimpl ?? '(absent)'), { class: 'reimpl' }),
    ]),
    { class: 'diff' },
  );
  const bodies = mismatch.bodies
    ? h('div', { class: 'side-by-side' }, h('div', {}, h('h3', {}, `Legacy body (${mismatch.status.legacy ?? 'no answer'})`), h('pre', { tabindex: '0' }, pretty(mismatch.bodies.legacy))), h('div', {}, h('h3', {}, `Reimpl body (${mismatch.status.reimpl ?? 'no answer'})`), h('pre', { tabindex: '0' }, pretty(mismatch.bodies.reimpl))))
    : h('p', { class: 'muted' }, 'Bodies were not sampled for this mismatch (proxy.shadow.mismatchBodySampleRate).');
  return h('details', { class: 'mismatch', 'data-observation': mismatch.id === null ? undefined : String(mismatch.id) }, h('summary', {}, `${when(mismatch.observedAt)} ${mismatch.method} ${mismatch.path} (${mismatch.mode}; legacy ${mismatch.status.legacy ?? '–'}, reimpl ${mismatch.status.reimpl ?? '–'})`), differences, bodies);
}

function pretty(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

async function routeView(main: HTMLElement, routeId: string): Promise<void> {
  const data = h('div', { id: 'route-data' }, h('p', { class: 'muted' }, 'loading…'));
  const facts = h('div', { id: 'route-facts' });
  let reloading: () => Promise<void> = async () => undefined;
  main.replaceChildren(h('p', {}, h('a', { href: '#/routes' }, '← all routes')), h('h1', {}, routeId), facts, flagForm(routeId, () => reloading()), rolloutForm(routeId, () => reloading()), data);
  const load = async () => {
    const [detail, history] = await Promise.all([api<RouteDetail>('GET', `/routes/${encodeURIComponent(routeId)}`), api<{ entries: AuditEntry[] }>('GET', `/history?route=${encodeURIComponent(routeId)}&limit=50`)]);
    const row = detail.row;
    facts.replaceChildren(
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'Route'), h('dd', {}, `${row.method} ${row.path} (${row.service}${row.writes ? ', writes' : ''})`),
        h('dt', {}, 'Owner'), h('dd', {}, row.owner),
        h('dt', {}, 'Mode'), h('dd', { id: 'route-mode' }, row.mode === 'canary' ? `canary ${row.percent}%` : row.mode),
        h('dt', {}, 'Readiness'), h('dd', { id: 'route-verdict' }, h('span', { class: `verdict-${row.verdict}` }, row.verdict), row.failed.length ? ` (${row.failed.join(', ')})` : ''),
        h('dt', {}, 'Parity'), h('dd', {}, `${percent(row.parity.estimate, 2)} of ${row.parity.compared} compared; ${row.parity.confidence * 100}% Wilson lower bound ${percent(row.parity.lowerBound, 2)} (needs ${percent(row.parity.threshold, 2)})`),
        h('dt', {}, 'Evidence'), h('dd', {}, `${row.samples.compared} of ${row.samples.needed} compared observations needed; ${row.observations} observations since ${when(detail.since)}`),
        h('dt', {}, 'Latency p50 / p99'), h('dd', {}, `legacy ${ms(row.latencyMs.legacy.p50)} / ${ms(row.latencyMs.legacy.p99)} ms, reimpl ${ms(row.latencyMs.reimpl.p50)} / ${ms(row.latencyMs.reimpl.p99)} ms`),
        h('dt', {}, 'Errors'), h('dd', {}, `legacy ${row.errors.legacy.errors} of ${row.errors.legacy.trials}, reimpl ${row.errors.reimpl.errors} of ${row.errors.reimpl.trials}; ${row.errors.errored} errored observations; ${row.shadowDrops} shadow drops here`),
      ),
    );
    const learned = detail.noise.learned;
    const openMismatches = new Set(Array.from(data.querySelectorAll('details.mismatch[open]')).map((element) => element.getAttribute('data-observation')));
    data.replaceChildren(
      h('h2', {}, 'Readiness criteria'),
      table('The readiness gate\'s criteria (cutover gate)', ['Criterion', 'Status', 'Value', 'Threshold', 'Detail'], detail.verdict.criteria.map((criterion) => [
        cell(`${criterion.id}${criterion.gating ? '' : ' (advisory)'}`, { title: criterion.title }),
        cell(h('span', { class: `status-${criterion.status}` }, criterion.status)),
        cell(criterion.value === null ? '–' : figure(criterion.value), { class: 'num' }),
        cell(`${criterion.comparison} ${figure(criterion.threshold)}`, { class: 'num' }),
        cell(criterion.detail),
      ]), { class: 'criteria' }),
      h('h2', {}, 'Latency and parity'),
      h('div', { class: 'charts' },
        chart(detail.charts.latencyLegacy, 'Legacy: answers per latency bucket'),
        chart(detail.charts.latencyReimpl, 'Reimpl: answers per latency bucket'),
        chart(detail.charts.parityOverTime, 'Parity per hour'),
        chart(detail.charts.p50OverTime.legacy, 'Legacy p50 per hour'),
        chart(detail.charts.p50OverTime.reimpl, 'Reimpl p50 per hour'),
        chart(detail.charts.p99OverTime.legacy, 'Legacy p99 per hour'),
        chart(detail.charts.p99OverTime.reimpl, 'Reimpl p99 per hour'),
      ),
      h('h2', {}, `Mismatches (${detail.mismatches.length} newest)`),
      table('Where they differed (paths, indices folded)', ['Path', 'Mismatched observations'], detail.report.mismatchPaths.map((entry) => [cell(h('code', {}, entry.path)), cell(entry.count, { class: 'num' })])),
      h('div', { id: 'mismatches' }, ...(detail.mismatches.length ? detail.mismatches.map(mismatchDetails) : [h('p', { class: 'muted' }, 'No mismatch in the window.')])),
      h('h2', {}, 'Accepted differences'),
      table('parity/accepted-differences.yaml entries for this route and what they absorbed', ['Id', 'Rule', 'Reason', 'Accepted by', 'Absorbed in'], detail.accepted.map((entry) => [
        cell(h('code', {}, entry.id)), cell(entry.rule), cell(entry.reason), cell(entry.acceptedBy),
        cell(`${entry.absorbedObservations} observations${Object.keys(entry.absorbedPaths).length ? ` (${Object.entries(entry.absorbedPaths).map(([path, count]) => `${path}: ${count}`).join(', ')})` : ''}`),
      ])),
      h('h2', {}, 'Noise'),
      table(learned ? `Learned by cutover calibrate at ${when(learned.learnedAt)} over ${learned.samples} samples` : 'Nothing learned (cutover calibrate has not run for this route)', ['Path', 'Varies', 'Rate', 'Kind', 'Pinned'], (learned?.paths ?? []).filter((path) => path.varies !== 'never' || path.pinned).map((path) => [
        cell(h('code', {}, path.path)), cell(path.varies), cell(percent(path.rate), { class: 'num' }), cell(path.kind), cell(path.pinned ? 'pinned' : ''),
      ]), { class: 'noise' }),
      h('h3', {}, 'Pinned or turned off in flags/routes.yaml'),
      h('pre', { tabindex: '0' }, Object.keys(detail.noise.pinned).length ? JSON.stringify(detail.noise.pinned, null, 2) : 'none'),
      h('h2', {}, 'Rules'),
      h('pre', { tabindex: '0', id: 'route-rules' }, JSON.stringify(detail.rules, null, 2)),
      h('h2', {}, 'Rollouts'),
      rolloutsTable('Rollouts of this route', detail.rollouts, load),
      h('h2', {}, 'History'),
      historyTable('Flag changes of this route, newest first', history.entries),
    );
    data.querySelectorAll<HTMLDetailsElement>('details.mismatch').forEach((element) => {
      if (openMismatches.has(element.getAttribute('data-observation'))) element.open = true;
    });
  };
  reloading = load;
  refreshView = load;
  await load();
}

async function rolloutsView(main: HTMLElement): Promise<void> {
  const holder = h('div');
  main.replaceChildren(h('h1', {}, 'Rollouts'), holder);
  const load = async () => {
    const { rollouts } = await api<{ rollouts: Rollout[] }>('GET', '/rollouts');
    holder.replaceChildren(rolloutsTable('Every rollout, newest first (cutover rollout status)', rollouts, load));
  };
  refreshView = load;
  await load();
}

async function historyView(main: HTMLElement): Promise<void> {
  const holder = h('div');
  main.replaceChildren(h('h1', {}, 'History'), holder);
  const load = async () => {
    const { entries } = await api<{ entries: AuditEntry[] }>('GET', '/history?limit=200');
    holder.replaceChildren(historyTable('The audit log, newest first', entries));
  };
  refreshView = load;
  await load();
}

function route(): void {
  if (!session) return;
  const hash = location.hash || '#/routes';
  const main = byId('main');
  for (const link of Array.from(document.querySelectorAll('nav a'))) {
    if (link.getAttribute('href') === hash.split('/').slice(0, 2).join('/')) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const match = /^#\/route\/(.+)$/.exec(hash);
  const view = match ? routeView(main, decodeURIComponent(match[1]!)) : hash === '#/rollouts' ? rolloutsView(main) : hash === '#/history' ? historyView(main) : routesView(main);
  view.catch((failure: unknown) => {
    if (failure instanceof ApiError && failure.status === 401) return;
    main.append(h('p', { class: 'error', role: 'alert' }, failureText(failure)));
  });
  // Moving to another view moves the focus to its content, as a page load would.
  main.focus();
}

function boot(): void {
  window.addEventListener('hashchange', route);
  byId('kill-button').addEventListener('click', () => {
    const engage = !killSwitch;
    confirmWithReason(
      engage ? 'Engage the kill switch?' : 'Release the kill switch?',
      engage ? 'Every route of every proxy instance will be served by legacy, whatever its flag says, until it is released.' : 'Route flags apply again on every proxy instance.',
      engage ? 'Engage kill switch' : 'Release kill switch',
      async (reason) => {
        const result = await api<{ engaged: boolean }>('PUT', '/kill-switch', { engaged: engage, reason });
        showKillSwitch(result.engaged);
        await refreshView?.();
      },
    );
  });
  byId('sign-out').addEventListener('click', () => {
    void api('DELETE', '/console/session')
      .catch(() => undefined)
      .then(() => {
        session = null;
        showSignIn('Signed out.');
      });
  });
  api<Session>('GET', '/console/session')
    .then((current) => {
      session = current;
      start();
    })
    .catch(() => showSignIn());
}

boot();
