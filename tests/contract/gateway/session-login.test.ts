// Contract: legacy gateway POST /login, the form login with Flask's signed session cookie.
import { describe, expect, it } from 'vitest';
import { call } from './gateway-client.js';

function form(fields: Record<string, string>): URLSearchParams {
  return new URLSearchParams(fields);
}

/** The `name=value` part of the session cookie, ready for a Cookie header. */
function sessionCookie(setCookie: string | null): string {
  const pair = setCookie?.split(';')[0];
  if (!pair?.startsWith('session=')) throw new Error(`no session cookie in ${setCookie}`);
  return pair;
}

describe('gateway form login', () => {
  it('redirects to next with an HttpOnly session cookie for good credentials', async () => {
    const reply = await call('/login', { body: form({ username: 'staff', password: 'staff123', next: '/dashboard' }) });
    expect(reply.status).toBe(302);
    expect(reply.headers.get('location')).toBe('/dashboard');
    const setCookie = reply.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^session=[^;]+; HttpOnly; Path=\/$/);
  });

  it('redirects to / when next is missing or points off-site', async () => {
    const plain = await call('/login', { body: form({ username: 'staff', password: 'staff123' }) });
    expect(plain.headers.get('location')).toBe('/');
    const offsite = await call('/login', { body: form({ username: 'staff', password: 'staff123', next: 'https://evil.example/' }) });
    expect(offsite.headers.get('location')).toBe('/');
  });

  it('lets the session cookie authenticate API calls', async () => {
    const login = await call('/login', { body: form({ username: 'admin', password: 'admin123', next: '/' }) });
    const cookie = sessionCookie(login.headers.get('set-cookie'));
    const viaCookie = await call('/api/counties', { cookie });
    expect(viaCookie.status).toBe(200);
    expect(Array.isArray(viaCookie.json)).toBe(true);
    const withoutCookie = await call('/api/counties');
    expect(withoutCookie.status).toBe(401);
    expect(withoutCookie.json).toEqual({ error: 'Authentication required' });
  });

  it('sends bad credentials back to the login form, keeping next, without a usable session', async () => {
    const reply = await call('/login', { body: form({ username: 'staff', password: 'wrong', next: '/dashboard' }) });
    expect(reply.status).toBe(302);
    expect(reply.headers.get('location')).toBe('/login?next=%2Fdashboard');
    const cookie = sessionCookie(reply.headers.get('set-cookie'));
    const attempt = await call('/api/counties', { cookie });
    expect(attempt.status).toBe(401);
  });

  it('shows the flashed error once on the login form after a failed attempt', async () => {
    const failed = await call('/login', { body: form({ username: 'staff', password: 'wrong', next: '/dashboard' }) });
    const cookie = sessionCookie(failed.headers.get('set-cookie'));
    const page = await call(failed.headers.get('location')!, { cookie });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.text).toContain('Invalid username or password');
    expect(page.text).toContain('<input type=hidden name=next value="/dashboard">');
    const again = await call('/login', { cookie: sessionCookie(page.headers.get('set-cookie')) });
    expect(again.text).not.toContain('Invalid username or password');
  });

  it('refuses a session cookie signed with another key', async () => {
    const login = await call('/login', { body: form({ username: 'admin', password: 'admin123' }) });
    const cookie = sessionCookie(login.headers.get('set-cookie'));
    const forged = cookie.slice(0, -2) + (cookie.endsWith('AA') ? 'BB' : 'AA');
    const reply = await call('/api/counties', { cookie: forged });
    expect(reply.status).toBe(401);
    expect(reply.json).toEqual({ error: 'Authentication required' });
  });
});
