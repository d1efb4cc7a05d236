// Contract: the exact Content-Type of JSON answers. FastAPI and Flask both send a bare
// `application/json` (no charset); a strict client, or the proxy's header comparison, sees
// any other spelling. The shadow report of the main job caught the reimplementation sending
// `application/json; charset=utf-8`, which this suite did not check before.
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';

const platform = inject('platform');

async function contentType(url: string, init?: RequestInit): Promise<{ status: number; type: string | null }> {
  const response = await fetch(url, init);
  await response.arrayBuffer();
  return { status: response.status, type: response.headers.get('content-type') };
}

const json = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('JSON answers carry a bare application/json content type', () => {
  it.each([
    ['sync /health', () => contentType(`${platform.syncUrl}/health`)],
    ['sync /counties', () => contentType(`${platform.syncUrl}/counties`)],
    ['sync /counties/{id}', () => contentType(`${platform.syncUrl}/counties/benton_wa`)],
    ['sync /properties', () => contentType(`${platform.syncUrl}/properties?county_id=benton_wa&limit=2`)],
    ['sync 404 detail', () => contentType(`${platform.syncUrl}/properties/no-such-property`)],
    ['sync gis-export list', () => contentType(`${platform.syncUrl}/plugins/v1/gis-export/list?limit=1`)],
    ['sync gis-export 422', () => contentType(`${platform.syncUrl}/plugins/v1/gis-export/run`, json({}))],
    ['narrator summarize', () => contentType(`${platform.narratorUrl}/api/v1/summarize`, json({ text: 'A parcel on Main St.' }))],
    ['narrator health', () => contentType(`${platform.narratorUrl}/api/v1/health`)],
    ['gateway /health/live', () => contentType(`${platform.gatewayUrl}/health/live`)],
    ['gateway 401', () => contentType(`${platform.gatewayUrl}/auth/login`, json({ username: 'admin', password: 'wrong' }))],
  ])('%s', async (_name, call) => {
    const answer = await call();
    expect(answer.status).toBeLessThan(500);
    expect(answer.type).toBe('application/json');
  });
});
