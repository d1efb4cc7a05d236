/**
 * The console's page and assets, all served from the admin server itself (county networks are
 * offline): the page's script is console/web/app.ts bundled by esbuild (already a dependency)
 * once, in memory, at the first request; the stylesheet and the page are served as written.
 * No CDN, no framework, nothing fetched from anywhere else; the Content-Security-Policy says so.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const webDir = join(dirname(fileURLToPath(import.meta.url)), 'web');

/** Only this server's own script, style and connections; no framing, no inline script. */
export const consoleContentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export interface ConsoleAssets {
  page(): string;
  script(): Promise<string>;
  stylesheet(): string;
}

export function consoleAssets(): ConsoleAssets {
  let script: Promise<string> | undefined;
  // The built image keeps the compiled app.js beside the module; a checkout has app.ts.
  const entry = ['app.ts', 'app.js'].map((name) => join(webDir, name)).find((path) => existsSync(path)) ?? join(webDir, 'app.ts');
  return {
    page: () => readFileSync(join(webDir, 'index.html'), 'utf8'),
    stylesheet: () => readFileSync(join(webDir, 'console.css'), 'utf8'),
    script() {
      script ??= build({ entryPoints: [entry], bundle: true, write: false, format: 'iife', target: 'es2020', minify: false, legalComments: 'none', logLevel: 'silent' }).then((result) => result.outputFiles[0]!.text);
      // A failed build is not cached: the next request tries again.
      script.catch(() => (script = undefined));
      return script;
    },
  };
}
