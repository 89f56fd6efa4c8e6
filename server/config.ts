/**
 * Configuration comes only from the environment, read here once, validated, with defaults.
 * Every bad variable is reported at once. Tests build a Config object directly (see `defaultConfig`).
 */
import { accessSync, constants, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';

export interface Config {
  host: string;
  port: number;
  /** Root of runtime data: SQLite file, blobs, temp uploads, index. */
  dataDir: string;
  /** When set, `Authorization: Bearer <adminToken>` has the admin role. */
  adminToken: string | null;
  logLevel: string;
  /** Behind a TLS-terminating proxy: session cookies get `Secure`, `trustProxy` is on. */
  trustProxy: boolean;
  upload: {
    /** Largest single file, bytes. */
    maxFileBytes: number;
    /** Most files in one upload. */
    maxFiles: number;
    /** Largest metadata field value, bytes. */
    maxFieldBytes: number;
    /** An upload whose client sends nothing for this long is dropped (ms). */
    idleTimeoutMs: number;
    /** An upload that brings fewer bytes a second than this over a window of idleTimeoutMs is dropped (0: no floor). */
    minBytesPerSecond: number;
  };
  jobs: {
    /** Worker processes running extraction jobs (0 disables the runner, e.g. in some tests). */
    workers: number;
    /** Wall-clock limit of one job, ms. */
    timeoutMs: number;
    /** Resident memory limit of a worker process, MB; the worker is killed past it. */
    memoryLimitMb: number;
    maxAttempts: number;
  };
  media: {
    /** Largest image (width × height) decoded; more is refused as a pixel bomb. */
    maxImagePixels: number;
    ffmpegPath: string | null;
    ffprobePath: string | null;
  };
  /** Free disk space below which /readyz reports not ready, bytes. */
  minFreeDiskBytes: number;
  /** Hours between scheduled fixity runs in the server (0 = no schedule). */
  fixityIntervalHours: number;
  /** Contact address announced by OAI-PMH Identify. */
  oaiAdminEmail: string;
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const MiB = 1024 * 1024;

/** Defaults for every setting, relative to `dataDir`. */
export function defaultConfig(overrides: Partial<Config> = {}): Config {
  const base: Config = {
    host: '127.0.0.1',
    port: 3000,
    dataDir: resolve('storage'),
    adminToken: null,
    logLevel: 'info',
    trustProxy: false,
    upload: { maxFileBytes: 4096 * MiB, maxFiles: 20, maxFieldBytes: 64 * 1024, idleTimeoutMs: 120_000, minBytesPerSecond: 1024 },
    jobs: { workers: Math.max(1, availableParallelism()), timeoutMs: 120_000, memoryLimitMb: 1024, maxAttempts: 3 },
    media: { maxImagePixels: 268_402_689, ffmpegPath: null, ffprobePath: null },
    minFreeDiskBytes: 512 * MiB,
    fixityIntervalHours: 0,
    oaiAdminEmail: 'kho-tu-lieu@localhost.localdomain',
  };
  return {
    ...base,
    ...overrides,
    upload: { ...base.upload, ...overrides.upload },
    jobs: { ...base.jobs, ...overrides.jobs },
    media: { ...base.media, ...overrides.media },
  };
}

/** The documented environment variables, for the README table and for `--help` output. */
export const ENV_DOC: Array<[name: string, defaultValue: string, meaning: string]> = [
  ['PORT', '3000', 'TCP port to listen on'],
  ['HOST', '127.0.0.1', 'Address to bind (0.0.0.0 to serve the network)'],
  ['DATA_DIR', './storage', 'Where the SQLite file, blobs and temp uploads live (no `..`)'],
  ['ADMIN_TOKEN', '(unset)', 'Bearer token with the admin role, for scripts and tests (≥ 16 characters)'],
  ['LOG_LEVEL', 'info', 'pino level: fatal, error, warn, info, debug, trace, silent'],
  ['TRUST_PROXY', 'false', 'Set to true behind a TLS-terminating reverse proxy (Secure cookies)'],
  ['MAX_FILE_MB', '4096', 'Largest single uploaded file, MiB'],
  ['MAX_FILES', '20', 'Most files in one upload'],
  ['UPLOAD_MIN_RATE', '1024', 'Bytes a second an upload must bring over each 2-minute window after the first (0 = no floor)'],
  ['JOB_WORKERS', 'number of CPUs', 'Extraction worker processes (0 = do not run jobs)'],
  ['JOB_TIMEOUT_S', '120', 'Time limit of one extraction job, seconds'],
  ['JOB_MEMORY_MB', '1024', 'Memory limit of one worker process (RSS), MiB'],
  ['JOB_MAX_ATTEMPTS', '3', 'Attempts for a job that fails transiently'],
  ['SEARCH_WORKERS', 'CPUs − 1, at most 3', 'Search query worker threads, 0..16 (0 = search on the main thread only)'],
  ['MAX_IMAGE_PIXELS', '268402689', 'Largest image decoded (width × height); larger is refused as a pixel bomb'],
  ['FFMPEG_PATH', '(bundled)', 'ffmpeg binary to use instead of the one installed by npm'],
  ['FFPROBE_PATH', '(bundled)', 'ffprobe binary to use instead of the one installed by npm'],
  ['MIN_FREE_DISK_MB', '512', 'Free space under DATA_DIR below which /readyz fails'],
  ['FIXITY_INTERVAL_HOURS', '0', 'Hours between scheduled fixity (integrity) runs in the server; 0 = off'],
  ['OAI_ADMIN_EMAIL', 'kho-tu-lieu@localhost.localdomain', 'Contact e-mail announced to harvesters by OAI-PMH Identify'],
];

/** Read and validate the configuration from an environment object (usually `process.env`). */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const problems: string[] = [];
  const d = defaultConfig();

  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    if (!/^\d+$/.test(raw.trim())) {
      problems.push(`${name} must be a whole number, got "${raw}"`);
      return fallback;
    }
    const n = Number(raw);
    if (n < min || n > max) {
      problems.push(`${name} must be between ${min} and ${max}, got ${n}`);
      return fallback;
    }
    return n;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = env[name]?.trim().toLowerCase();
    if (raw === undefined || raw === '') return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    problems.push(`${name} must be true or false, got "${env[name]}"`);
    return fallback;
  };
  const path = (name: string, fallback: string): string => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    if (raw.split(/[\\/]/).includes('..')) {
      problems.push(`${name} must not contain "..", got "${raw}"`);
      return fallback;
    }
    return isAbsolute(raw) ? raw : resolve(raw);
  };

  /** A program the server runs (FFMPEG_PATH, FFPROBE_PATH): unset, or a file this user may execute. */
  const program = (name: string): string | null => {
    const raw = env[name]?.trim();
    if (!raw) return null;
    try {
      if (!statSync(raw).isFile()) throw Object.assign(new Error(), { code: 'EISDIR' });
      accessSync(raw, constants.X_OK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' || code === 'ENOTDIR' ? 'there is no such file' : code === 'EISDIR' ? 'it is not a file' : 'this user may not run it';
      problems.push(`${name} must be a program this user can run, got "${raw}" (${why})`);
    }
    return raw;
  };

  const host = env.HOST?.trim() || d.host;
  const port = int('PORT', d.port, 0, 65535);
  const dataDir = path('DATA_DIR', d.dataDir);
  let adminToken: string | null = env.ADMIN_TOKEN?.trim() || null;
  if (adminToken !== null && adminToken.length < 16) {
    problems.push('ADMIN_TOKEN must be at least 16 characters long');
    adminToken = null;
  }
  const logLevel = env.LOG_LEVEL?.trim() || d.logLevel;
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "${logLevel}"`);
  }
  const config: Config = {
    host,
    port,
    dataDir,
    adminToken,
    logLevel,
    trustProxy: bool('TRUST_PROXY', d.trustProxy),
    upload: {
      maxFileBytes: int('MAX_FILE_MB', d.upload.maxFileBytes / MiB, 1, 1024 * 1024) * MiB,
      maxFiles: int('MAX_FILES', d.upload.maxFiles, 1, 1000),
      maxFieldBytes: d.upload.maxFieldBytes,
      idleTimeoutMs: d.upload.idleTimeoutMs,
      minBytesPerSecond: int('UPLOAD_MIN_RATE', d.upload.minBytesPerSecond, 0, 100 * MiB),
    },
    jobs: {
      workers: int('JOB_WORKERS', d.jobs.workers, 0, 64),
      timeoutMs: int('JOB_TIMEOUT_S', d.jobs.timeoutMs / 1000, 1, 24 * 3600) * 1000,
      memoryLimitMb: int('JOB_MEMORY_MB', d.jobs.memoryLimitMb, 64, 64 * 1024),
      maxAttempts: int('JOB_MAX_ATTEMPTS', d.jobs.maxAttempts, 1, 20),
    },
    media: {
      maxImagePixels: int('MAX_IMAGE_PIXELS', d.media.maxImagePixels, 1, Number.MAX_SAFE_INTEGER),
      ffmpegPath: program('FFMPEG_PATH'),
      ffprobePath: program('FFPROBE_PATH'),
    },
    minFreeDiskBytes: int('MIN_FREE_DISK_MB', d.minFreeDiskBytes / MiB, 0, 1024 * 1024) * MiB,
    fixityIntervalHours: int('FIXITY_INTERVAL_HOURS', d.fixityIntervalHours, 0, 24 * 366),
    oaiAdminEmail: env.OAI_ADMIN_EMAIL?.trim() || d.oaiAdminEmail,
  };
  // Read by the search plugin (defaultSearchWorkers); checked here with the others so a typo is not
  // taken silently as 0 (or a large number as 16).
  int('SEARCH_WORKERS', 0, 0, 16);
  if (!/^\S+@(\S+\.)+\S+$/.test(config.oaiAdminEmail)) problems.push(`OAI_ADMIN_EMAIL must be an e-mail address, got "${config.oaiAdminEmail}"`);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
