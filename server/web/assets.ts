/**
 * Static files of the UI (CSS, small JS modules), read once when the plugin starts, each with a
 * content hash: pages link `/static/<name>?v=<hash>`, served with a strong ETag and, when the
 * version matches, `immutable` for a year.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';

export interface StaticAsset {
  body: Buffer;
  hash: string;
  contentType: string;
}

export interface Assets {
  get(name: string): StaticAsset | undefined;
  url(name: string): string;
}

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export function loadAssets(dir: string): Assets {
  const map = new Map<string, StaticAsset>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(dir, name));
    map.set(name, { body, hash: createHash('sha256').update(body).digest('hex').slice(0, 12), contentType: type });
  }
  return {
    get: (name) => map.get(name),
    url: (name) => {
      const a = map.get(name);
      if (!a) throw new Error(`unknown static asset ${name}`);
      return `/static/${name}?v=${a.hash}`;
    },
  };
}
