/** WCAG AA: the text/background colour pairs of app.css have a contrast ratio of at least 4.5:1. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STATIC_DIR } from '../../server/web/routes.ts';

const css = readFileSync(join(STATIC_DIR, 'app.css'), 'utf8');
const vars = new Map([...css.matchAll(/--([\w-]+):\s*(#[0-9a-fA-F]{6})/g)].map((m) => [m[1], m[2]]));

function luminance(hex: string): number {
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}
function contrast(a: string, b: string): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

const color = (v: string) => (v.startsWith('#') ? v : vars.get(v) ?? (() => { throw new Error(`no --${v} in app.css`); })());

describe('colour contrast', () => {
  const pairs: Array<[string, string]> = [
    ['fg', 'bg'], ['muted', 'bg'], ['muted', 'bg-soft'], ['primary', 'bg'], ['primary', 'bg-soft'], ['primary-fg', 'primary'], ['accent', 'bg'],
    ['ok-fg', 'ok-bg'], ['warn-fg', 'warn-bg'], ['bad-fg', 'bad-bg'], ['info-fg', 'info-bg'], ['primary', 'info-bg'], ['fg', 'info-bg'],
    ['#ffffff', '#06345c'], ['#000000', '#ffe066'], ['fg', 'bg-soft'],
  ];
  it.each(pairs)('%s on %s is at least 4.5:1', (fg, bg) => {
    expect(contrast(color(fg), color(bg))).toBeGreaterThanOrEqual(4.5);
  });
  it('computes known ratios', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrast('#777777', '#ffffff')).toBeLessThan(4.5);
  });
});
