// Contract: legacy gateway POST /auth/login and /auth/refresh, and which tokens it refuses.
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { call, mintToken, tokensOf, unsignedToken } from './gateway-client.js';

const rbacRoute = '/api/v1/reporting/status/00000000-0000-0000-0000-000000000000';

describe('gateway JWT login', () => {
  it('answers access and refresh tokens and the user for good credentials', async () => {
    const reply = await call('/auth/login', { body: { username: 'assessor', password: 'assessor123' } });
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({
      access_token: expect.any(String),
      refresh_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 3600,
      user: { id: 2, username: 'assessor', role: 'Assessor', county_access: ['benton', 'franklin', 'test'] },
    });
  });

  it('signs HS256 tokens with the documented claims and lifetimes', async () => {
    const { access_token, refresh_token } = await tokensOf('assessor');
    expect(decodeProtectedHeader(access_token).alg).toBe('HS256');
    const access = decodeJwt(access_token);
    expect(access).toEqual({
      sub: '2',
      username: 'assessor',
      role: 'Assessor',
      county_ids: ['benton', 'franklin', 'test'],
      type: 'access',
      iat: expect.any(Number),
      exp: expect.any(Number),
    });
    expect(access.exp! - access.iat!).toBe(3600);
    const refresh = decodeJwt(refresh_token);
    expect(refresh.type).toBe('refresh');
    expect(refresh.exp! - refresh.iat!).toBe(30 * 24 * 3600);
  });

  it('refuses a wrong password and an unknown user with the same 401', async () => {
    const wrong = await call('/auth/login', { body: { username: 'assessor', password: 'nope' } });
    const unknown = await call('/auth/login', { body: { username: 'nobody', password: 'nope' } });
    for (const reply of [wrong, unknown]) {
      expect(reply.status).toBe(401);
      expect(reply.json).toEqual({ error: 'Authentication failed', message: 'Invalid username or password.' });
    }
  });

  it('rejects a login without username or password as a bad request', async () => {
    const reply = await call('/auth/login', { body: { username: 'assessor' } });
    expect(reply.status).toBe(400);
    expect(reply.json).toEqual({ error: 'Bad request', message: 'Username and password are required.' });
  });
});

describe('gateway token refresh', () => {
  it('trades a refresh token in the JSON body for a new access token', async () => {
    const { refresh_token } = await tokensOf('staff');
    const reply = await call('/auth/refresh', { body: { refresh_token } });
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 3600 });
    expect(decodeJwt(reply.json.access_token)).toMatchObject({ sub: '3', username: 'staff', role: 'Staff', type: 'access' });
    const use = await call(rbacRoute, { token: reply.json.access_token });
    expect(use.status).toBe(404);
  });

  it('trades a refresh token sent as Bearer too', async () => {
    const { refresh_token } = await tokensOf('staff');
    const reply = await call('/auth/refresh', { method: 'POST', token: refresh_token });
    expect(reply.status).toBe(200);
    expect(decodeJwt(reply.json.access_token).type).toBe('access');
  });

  it('refuses an access token where a refresh token is required', async () => {
    const { access_token } = await tokensOf('staff');
    const reply = await call('/auth/refresh', { body: { refresh_token: access_token } });
    expect(reply.status).toBe(401);
    expect(reply.json).toEqual({ error: 'Invalid token type', message: 'A refresh token is required.' });
  });

  it('asks for authentication when no refresh token is given', async () => {
    const reply = await call('/auth/refresh', { body: {} });
    expect(reply.status).toBe(401);
    expect(reply.json).toEqual({ error: 'Authentication required' });
  });
});

describe('gateway token checks', () => {
  const invalid = { error: 'Invalid token', message: 'The token is invalid.' };

  it('accepts a token it did not issue itself when it is signed with the shared key', async () => {
    const reply = await call(rbacRoute, { token: await mintToken() });
    expect(reply.status).toBe(404);
    expect(reply.json).toEqual({ detail: expect.stringContaining('not found') });
  });

  it('refuses a token whose signature was tampered with', async () => {
    const token = await mintToken();
    const [header, payload, signature] = token.split('.');
    const flipped = (signature![0] === 'A' ? 'B' : 'A') + signature!.slice(1);
    const reply = await call(rbacRoute, { token: `${header}.${payload}.${flipped}` });
    expect(reply.status).toBe(401);
    expect(reply.json).toEqual(invalid);
  });

  it('refuses a token whose claims were edited after signing', async () => {
    const [header, , signature] = (await tokensOf('auditor')).access_token.split('.');
    const claims = { ...decodeJwt((await tokensOf('auditor')).access_token), role: 'ITAdmin' };
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    const reply = await call(rbacRoute, { token: `${header}.${payload}.${signature}` });
    expect(reply.status).toBe(401);
    expect(reply.json).toEqual(invalid);
  });

  it('refuses a token signed with another key', async () => {
    const reply = await call(rbacRoute, { token: await mintToken({ secret: 'not-the-gateway-key-at-all' }) });
    expect(reply.status).toBe(401);
    expect(reply.json).toEqual(invalid);
  });

  it('refuses an unsigned alg:none token', async () => {
    const reply = await call(rbacRoute, { token: unsignedToken() });
    expect(reply.status).toBe(401);
    expect(reply.json).toEqual(invalid);
  });

  it('refuses a token that is not a JWT at all', async () => {
    const reply = await call(rbacRoute, { token: 'not-a-jwt' });
    expect(reply.status).toBe(401);
    expect(reply.json).toEqual(invalid);
  });

  it('refuses an expired token', async () => {
    const reply = await call(rbacRoute, { token: await mintToken({ expiresIn: -60 }) });
    expect(reply.status).toBe(401);
    expect(reply.json).toEqual({ error: 'Token expired', message: 'The token has expired. Please log in again.' });
  });

  it('refuses a token issued in the future, as PyJWT 2.6 does (no leeway)', async () => {
    const reply = await call(rbacRoute, { token: await mintToken({ issuedIn: 120 }) });
    expect(reply.status).toBe(401);
    expect(reply.json).toEqual(invalid);
  });

  it('refuses a token carrying an audience, since the gateway expects none', async () => {
    const reply = await call(rbacRoute, { token: await mintToken({ extraClaims: { aud: 'terrafusion' } }) });
    expect(reply.status).toBe(401);
    expect(reply.json).toEqual(invalid);
  });

  it('refuses a token without a type claim', async () => {
    const reply = await call(rbacRoute, { token: await mintToken({ extraClaims: { type: undefined } }) });
    expect(reply.status).toBe(401);
    expect(reply.json).toEqual(invalid);
  });

  it('refuses a refresh token used as an access token', async () => {
    const { refresh_token } = await tokensOf('admin');
    for (const path of [rbacRoute, '/api/counties']) {
      const reply = await call(path, { token: refresh_token });
      expect(reply.status).toBe(401);
      expect(reply.json).toEqual({
        error: 'Invalid token type',
        message: 'An access token is required; refresh tokens are only accepted by /auth/refresh.',
      });
    }
  });

  it('judges a bad Bearer token even when a valid session cookie comes along', async () => {
    const login = await call('/login', { body: new URLSearchParams({ username: 'admin', password: 'admin123' }) });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const reply = await call('/api/counties', { cookie, token: unsignedToken() });
    expect(reply.status).toBe(401);
    expect(reply.json).toEqual(invalid);
  });
});
