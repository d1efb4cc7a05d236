/**
 * Reads the routes out of the markdown tables of ../shared/legacy-contract.md, so a test can
 * hold the catalogue to the contract. A table counts when its header has Method and Path
 * columns; its service is the `## n.` section it sits in, and the `###` heading above it
 * names the prefix of its paths either as `prefix \`/x\`` (section 1) or as a path in
 * parentheses, `(\`/x\`)` (section 1b). A `###` heading that is itself one route,
 * `\`GET /x\``, counts as that route.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const legacyContractFile = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/legacy-contract.md');

export interface ContractRoute {
  service: 'gateway' | 'sync' | 'narrator';
  /** Upper-case method, or `*` when the contract says any. */
  method: string;
  /** Path with `{name}` placeholders; ends with `/...` when the contract names a family of sub-routes. */
  path: string;
  line: number;
}

function cells(row: string): string[] {
  // Escaped pipes (\|) inside cells are part of the text, not separators.
  return row.trim().replace(/^\|/, '').replace(/\|$/, '').split(/(?<!\\)\|/).map((cell) => cell.trim());
}

/** `{a,b/<id>}` alternatives become separate paths; `<id>` becomes `{id}`. */
function expand(path: string): string[] {
  const group = /\{([^{}]*,[^{}]*)\}/.exec(path);
  if (!group) return [path.replace(/<([^>]+)>/g, '{$1}')];
  return group[1]!.split(',').flatMap((alternative) => expand(path.slice(0, group.index) + alternative + path.slice(group.index + group[0].length)));
}

export function contractRoutes(text = readFileSync(legacyContractFile, 'utf8')): ContractRoute[] {
  const lines = text.split('\n');
  const found: ContractRoute[] = [];
  let service: ContractRoute['service'] | undefined;
  let prefix = '';
  let columns: { method: number; path: number } | undefined;
  lines.forEach((line, index) => {
    if (line.startsWith('## ')) {
      service = /sync/i.test(line) ? 'sync' : /gateway/i.test(line) ? 'gateway' : /narrator/i.test(line) ? 'narrator' : undefined;
      prefix = '';
    }
    if (line.startsWith('### ')) {
      prefix = (/prefix `([^`]+)`/.exec(line) ?? /\(`(\/[^`\s]+)`\)/.exec(line))?.[1] ?? '';
      const named = /`(GET|POST|PUT|PATCH|DELETE) (\/[^`\s]*)`/.exec(line);
      if (named && service) found.push({ service, method: named[1]!, path: named[2]!.split('?')[0]!, line: index + 1 });
    }
    if (!line.startsWith('|')) {
      columns = undefined;
      return;
    }
    const row = cells(line);
    if (!columns) {
      const method = row.indexOf('Method');
      const path = row.indexOf('Path');
      if (method !== -1 && path !== -1) columns = { method, path };
      return;
    }
    if (/^-+$/.test(row[0] ?? '') || !service) return;
    const method = row[columns.method]!;
    for (const [, raw] of row[columns.path]!.matchAll(/`([^`]+)`/g)) {
      const bare = raw!.split('?')[0]!;
      for (const path of expand(prefix + bare)) found.push({ service, method, path, line: index + 1 });
    }
  });
  return found;
}
