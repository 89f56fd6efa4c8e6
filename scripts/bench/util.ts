/** Small helpers shared by the benchmark parts: timing, medians, child servers, free ports. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
    srv.on('error', rej);
  });
}

/** Peak and current resident memory of a process, MB (from /proc). */
export function memoryOf(pid: number): { peakMb: number; rssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { peakMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
}

/** CPU time a process has used so far (user + system, all its threads), in milliseconds (from /proc). */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // clock ticks (USER_HZ = 100 on Linux)
}

/** Start `node --import tsx <script>` with env; resolves when `GET <url>/healthz`-like probe answers. */
/**
 * Start a Node process and wait until `probeUrl` answers. `script` is a TypeScript file run under
 * tsx, or `{ args }` for a ready command line (the built server, as `npm start` runs it).
 */
export async function startNode(script: string | { args: string[] }, env: Record<string, string>, probeUrl: string): Promise<ChildProcess> {
  const args = typeof script === 'string' ? ['--import', 'tsx', script] : script.args;
  const name = typeof script === 'string' ? script : args.join(' ');
  const proc = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  const until = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${name} exited with ${proc.exitCode}`);
    try {
      const r = await fetch(probeUrl);
      if (r.ok) return proc;
    } catch {
      /* not up yet */
    }
    if (Date.now() > until) throw new Error(`${name} did not start`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(t);
}

export const fmt = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : String(n));
