/**
 * A tiny progress reporter for operator scripts: counts, bytes, rate and ETA on stderr.
 * On a TTY it redraws one line (at most ~10 times a second); otherwise it prints a plain line
 * every few seconds so logs of cron jobs stay readable.
 */
export interface ProgressOptions {
  label: string;
  total: number;
  /** Total bytes, when known: the bar then also shows MB/s. */
  totalBytes?: number;
  stream?: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean };
  /** Minimum interval between plain (non-TTY) lines, ms. */
  plainIntervalMs?: number;
  /** Disable output entirely (tests, --quiet). */
  silent?: boolean;
}

export interface Progress {
  /** Advance by `n` items and `bytes` bytes; `note` is shown as the current item. */
  tick(n?: number, bytes?: number, note?: string): void;
  /** Change the total (e.g. after a scan). */
  setTotal(total: number, totalBytes?: number): void;
  done(summary?: string): void;
  readonly count: number;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '--:--';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(sec).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export function formatRate(perSec: number, unit: string): string {
  if (!Number.isFinite(perSec)) return `- ${unit}/s`;
  return `${perSec >= 100 ? perSec.toFixed(0) : perSec.toFixed(1)} ${unit}/s`;
}

export function createProgress(opts: ProgressOptions): Progress {
  const out = opts.stream ?? process.stderr;
  const tty = Boolean((out as { isTTY?: boolean }).isTTY);
  const plainEvery = opts.plainIntervalMs ?? 5000;
  const started = Date.now();
  let total = opts.total;
  let totalBytes = opts.totalBytes;
  let count = 0;
  let bytes = 0;
  let lastDraw = 0;
  let note = '';

  const line = (): string => {
    const elapsed = Date.now() - started;
    const rate = count / Math.max(elapsed / 1000, 1e-3);
    const eta = rate > 0 && total > count ? ((total - count) / rate) * 1000 : total <= count ? 0 : NaN;
    const pct = total > 0 ? Math.min(100, (count / total) * 100) : 100;
    const width = 24;
    const filled = Math.round((pct / 100) * width);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
    const mb = totalBytes !== undefined || bytes > 0 ? ` ${formatRate(bytes / 1024 / 1024 / Math.max(elapsed / 1000, 1e-3), 'MB')}` : '';
    return `${opts.label} ${bar} ${count}/${total} ${pct.toFixed(0)}% ${formatRate(rate, 'it')}${mb} elapsed ${formatDuration(elapsed)} ETA ${formatDuration(eta)}${note ? ` ${note}` : ''}`;
  };

  const draw = (force = false) => {
    if (opts.silent) return;
    const now = Date.now();
    if (tty) {
      if (!force && now - lastDraw < 100) return;
      lastDraw = now;
      const cols = (out as NodeJS.WriteStream).columns ?? 120;
      out.write(`\r${line().slice(0, cols - 1)}\x1b[K`);
    } else {
      if (!force && now - lastDraw < plainEvery) return;
      lastDraw = now;
      out.write(`${line()}\n`);
    }
  };

  return {
    tick(n = 1, b = 0, currentNote) {
      count += n;
      bytes += b;
      if (currentNote !== undefined) note = currentNote.length > 40 ? `…${currentNote.slice(-39)}` : currentNote;
      draw();
    },
    setTotal(t, tb) {
      total = t;
      totalBytes = tb;
    },
    done(summary) {
      note = '';
      draw(true);
      if (opts.silent) return;
      if (tty) out.write('\n');
      if (summary) out.write(`${summary}\n`);
    },
    get count() {
      return count;
    },
  };
}
