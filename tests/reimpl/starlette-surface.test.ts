import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { installFastApiSurface, MAX_PATH_PARAM, starletteRoutedUrl } from '../../reimpl/shared/fastapi.js';
import { parsePythonInt } from '../../reimpl/shared/pydantic-v1.js';

/** A small app with FastAPI's surface and routes shaped like sync's. */
async function app() {
  const server = Fastify({ maxParamLength: MAX_PATH_PARAM, rewriteUrl: (request) => starletteRoutedUrl(request.url ?? '/') });
  installFastApiSurface(server);
  server.get('/properties', async () => 'list');
  server.get('/properties/:property_id', async (request) => `one ${(request.params as { property_id: string }).property_id}`);
  server.post('/plugins/v1/gis-export/run', async () => 'run');
  await server.ready();
  return server;
}

describe('the FastAPI surface the reimplemented services answer with, as fuzzing found legacy answers', () => {
  it('redirects a path that only a trailing slash keeps from a route, as Starlette does, with an empty 307', async () => {
    const server = await app();
    for (const [url, location] of [['/properties/', '/properties'], ['/properties//?limit=2', '/properties?limit=2'], ['/properties%2F', '/properties'], ['/plugins/v1/gis-export/run/', '/plugins/v1/gis-export/run']]) {
      const answer = await server.inject({ url: url!, headers: { host: 'sync.test:8080' } });
      expect([answer.statusCode, answer.headers.location, answer.body], url).toEqual([307, `http://sync.test:8080${location}`, '']);
    }
    expect((await server.inject({ url: '/nowhere/' })).statusCode).toBe(404);
    await server.close();
  });

  it('answers 405 Method Not Allowed where a route has the path under another method', async () => {
    const server = await app();
    const answer = await server.inject({ method: 'DELETE', url: '/properties' });
    expect([answer.statusCode, answer.headers.allow, answer.body]).toEqual([405, 'GET', '{"detail":"Method Not Allowed"}']);
    expect((await server.inject({ method: 'GET', url: '/plugins/v1/gis-export/run' })).statusCode).toBe(405);
    await server.close();
  });

  it('keeps a percent sign that starts no escape, as urllib unquotes it, instead of refusing the URL', async () => {
    const server = await app();
    const answer = await server.inject({ url: '/properties/%ZZ' });
    expect([answer.statusCode, answer.body]).toEqual([200, 'one %ZZ']);
    await server.close();
  });

  it("reads an int as Python's int() reads a str (values measured with CPython 3.11)", () => {
    const python: Array<[string, number | undefined]> = [
      ['１', 1], ['١٢', 12], ['  7 ', 7], ['+5', 5], ['-0', 0], ['1_000', 1000], ['1__0', undefined], ['\u00a07', 7],
      ['\ufeff7', undefined], ['𝟗', 9], ['0x10', undefined], ['1e3', undefined], ['', undefined], ['٠', 0],
    ];
    for (const [text, value] of python) expect(parsePythonInt(text), JSON.stringify(text)).toBe(value);
    expect(Object.is(parsePythonInt('-0'), -0)).toBe(false);
  });
});
