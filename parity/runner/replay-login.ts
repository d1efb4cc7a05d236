/**
 * Replay's logins: fixtures never keep a token or a password, only the username of the caller,
 * so replay gets fresh credentials from the target's gateway — a Bearer token from
 * POST /auth/login, or a session cookie from the form POST /login — with the demo password
 * of that user (config fixtures.replayPasswords), once per user and target.
 */
import { CutoverError } from '../../src/errors.js';

export class ReplayLogins {
  private readonly issued = new Map<string, Promise<{ access: string; refresh: string }>>();
  private readonly cookies = new Map<string, Promise<string>>();

  constructor(
    private readonly gatewayUrl: string,
    private readonly passwords: Readonly<Record<string, string>>,
    private readonly timeoutMs: number,
  ) {}

  private password(user: string | undefined): { user: string; password: string } {
    if (!user) throw new CutoverError('CUTOVER_ERR_REPLAY_LOGIN_FAILED', 'the fixture sends redacted credentials but names no user to log in as');
    const password = this.passwords[user];
    if (password === undefined) throw new CutoverError('CUTOVER_ERR_REPLAY_LOGIN_FAILED', `no replay password for user '${user}' (config fixtures.replayPasswords)`);
    return { user, password };
  }

  /** A fresh access and refresh token for the user. */
  tokens(username: string | undefined): Promise<{ access: string; refresh: string }> {
    const { user, password } = this.password(username);
    let pending = this.issued.get(user);
    if (!pending) {
      pending = (async () => {
        const response = await fetch(`${this.gatewayUrl}/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: user, password }),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        const body = (await response.json().catch(() => ({}))) as { access_token?: unknown; refresh_token?: unknown };
        if (response.status !== 200 || typeof body.access_token !== 'string' || typeof body.refresh_token !== 'string') {
          throw new CutoverError('CUTOVER_ERR_REPLAY_LOGIN_FAILED', `login as '${user}' at ${this.gatewayUrl}/auth/login answered ${response.status}`);
        }
        return { access: body.access_token, refresh: body.refresh_token };
      })();
      this.issued.set(user, pending);
      pending.catch(() => this.issued.delete(user));
    }
    return pending;
  }

  /** A `session=...` cookie header value for the user, from the form login. */
  sessionCookie(username: string | undefined): Promise<string> {
    const { user, password } = this.password(username);
    let pending = this.cookies.get(user);
    if (!pending) {
      pending = (async () => {
        const response = await fetch(`${this.gatewayUrl}/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ username: user, password, next: '/' }).toString(),
          redirect: 'manual',
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        await response.arrayBuffer();
        const cookie = response.headers.getSetCookie().map((line) => line.split(';')[0]!).find((pair) => pair.startsWith('session='));
        if (!cookie) throw new CutoverError('CUTOVER_ERR_REPLAY_LOGIN_FAILED', `form login as '${user}' at ${this.gatewayUrl}/login set no session cookie (status ${response.status})`);
        return cookie;
      })();
      this.cookies.set(user, pending);
      pending.catch(() => this.cookies.delete(user));
    }
    return pending;
  }
}
