/** Small shared pieces of the operator scripts: config from env + `--data-dir`, usage errors, exit codes. */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadPlanSeed, readPlanSeed } from '../catalogue/seed.ts';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { DataDirBusy, lockDataDir } from '../data-dir-lock.ts';
import { openDatabase, type Database_ } from '../db/client.ts';
import { AppError } from '../errors.ts';
import { dataPaths } from '../plugins/services.ts';
import { explainDatabaseError } from '../startup-errors.ts';

/** Exit codes of every operator script. */
export const EXIT = { ok: 0, problems: 1, usage: 2 } as const;

export class UsageError extends Error {}

/**
 * The data dir's server lock (server/data-dir-lock.ts), for a script that must not run beside a
 * server: held until `release()` or the script ends, so no server starts meanwhile. Null, with one
 * line saying `why` printed, when a running server holds it.
 */
export function lockOutServer(dataDir: string, why: string): { release(): void } | null {
  try {
    return lockDataDir(dataDir);
  } catch (e) {
    if (!(e instanceof DataDirBusy)) throw e;
    console.error(`error: a server is running on ${dataDir}: ${why}`);
    return null;
  }
}

/** A `--concurrency` value: a whole number 1..64, else a usage error (exit 2). */
export function concurrencyArg(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 1 || n > 64) throw new UsageError('--concurrency must be a whole number 1..64');
  return n;
}

type Options = NonNullable<ParseArgsConfig['options']>;
type WithHelp<O extends Options> = O & { help: { type: 'boolean'; short: 'h'; default: false } };
type Values<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: WithHelp<O> }>>['values'];
const withHelp = <O extends Options>(options: O): WithHelp<O> => ({ ...options, help: { type: 'boolean', short: 'h', default: false } }) as WithHelp<O>;

/**
 * The options of a script with `--help` added: null when help was asked for (the usage is printed),
 * else the values and the one positional argument `positional` names (e.g. '<folder>'), or none
 * when it is not given. A wrong count is a UsageError.
 */
export function scriptArgs<const O extends Options>(options: O, usage: string, positional?: string, argv = process.argv.slice(2)): { values: Values<O>; positional: string } | null {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: withHelp(options) });
  if ((values as { help?: boolean }).help) {
    console.log(usage);
    return null;
  }
  if (positional === undefined && positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (positional !== undefined && positionals.length !== 1) throw new UsageError(`exactly one ${positional} is required`);
  return { values: values as Values<O>, positional: positionals[0] ?? '' };
}

/**
 * The arguments of a script with sub-commands (user, token): `{ cmd, values }`, or the exit code
 * after printing the usage (asked for, no or unknown command, a bad option).
 */
export function commandArgs<const O extends Options>(argv: string[], options: O, commands: readonly string[], usage: string, out: (s: string) => void): { cmd: string; values: Values<O> } | number {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: withHelp(options) });
  } catch (e) {
    // Unknown option, missing value: a usage error, not a stack trace.
    out(`error: ${(e as Error).message}\n${usage}`);
    return EXIT.usage;
  }
  const cmd = parsed.positionals[0];
  const help = (parsed.values as { help?: boolean }).help === true;
  if (!cmd || help) {
    out(usage);
    return help ? EXIT.ok : EXIT.usage;
  }
  if (!commands.includes(cmd)) {
    out(`error: unknown command "${cmd}"\n${usage}`);
    return EXIT.usage;
  }
  return { cmd, values: parsed.values as Values<O> };
}

/** `config.dataDir` set from `--data-dir` (no ".." allowed). */
function setDataDir(config: Config, dataDir: string | undefined): Config {
  if (dataDir) {
    if (dataDir.split(/[\\/]/).includes('..')) throw new UsageError('--data-dir must not contain ".."');
    config.dataDir = isAbsolute(dataDir) ? dataDir : resolve(dataDir);
  }
  return config;
}

/** Load the config from the environment; `dataDir` (from `--data-dir`) overrides DATA_DIR. */
export function scriptConfig(dataDir?: string): Config {
  return setDataDir(loadConfig(process.env), dataDir);
}

/** The database file of an existing store under `config.dataDir`; a usage error when there is none (never create one). */
export function existingDbFile(config: Config): string {
  const dbFile = dataPaths(config.dataDir).dbFile;
  if (!existsSync(dbFile)) throw new UsageError(`no database at ${dbFile}`);
  return dbFile;
}

/** What a script does when it is interrupted: remove what it half wrote, and say where things stand. */
interface InterruptHandler {
  cleanup: () => Promise<void> | void;
  /** The one line printed after "interrupted", e.g. what is kept and how to resume. */
  note: () => string;
}
let interruptHandler: InterruptHandler | null = null;
/** Set by Ctrl-C / SIGTERM: from then on the interrupt handler alone ends the process (not main's outcome). */
let interrupted = false;

/** Register what to clean up and say when the script is stopped with Ctrl-C (SIGINT) or SIGTERM. */
export function onInterrupt(handler: InterruptHandler): void {
  interruptHandler = handler;
}

/**
 * Ctrl-C or SIGTERM: one line on stderr (after the progress bar's line), the script's clean-up
 * (at most 10 s), exit 130 (SIGINT) or 143 (SIGTERM), as a shell reports a signal. A second
 * Ctrl-C during the clean-up exits at once.
 */
function handleInterrupts(): void {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      interrupted = true;
      process.once(signal, () => process.exit(code));
      const h = interruptHandler;
      let note = '';
      try {
        note = h?.note() ?? '';
      } catch {
        // the note is a courtesy
      }
      process.stderr.write(`\ninterrupted (${signal})${note ? `: ${note}` : ''}\n`);
      const timer = setTimeout(() => process.exit(code), 10_000);
      Promise.resolve()
        .then(() => h?.cleanup())
        .catch((e: unknown) => process.stderr.write(`clean-up after the interruption failed: ${(e as Error)?.message ?? String(e)}\n`))
        .finally(() => {
          clearTimeout(timer);
          process.exit(code);
        });
    });
  }
}

/** Run a script's main, mapping usage and config errors to exit code 2 and anything else to 1. */
export function runCli(main: () => Promise<number>, usage: string): void {
  handleInterrupts();
  main()
    .then((code) => {
      if (!interrupted) process.exit(code);
    })
    .catch((e: unknown) => {
      if (interrupted) return; // what fails once the clean-up has begun is its doing
      if (e instanceof UsageError || (e as { code?: string })?.code?.startsWith?.('ERR_PARSE_ARGS')) {
        console.error(`error: ${(e as Error).message}\n\n${usage}`);
        process.exit(EXIT.usage);
      }
      if (e instanceof ConfigError) {
        console.error(e.message);
        process.exit(EXIT.usage);
      }
      const damaged = explainDatabaseError(e, null);
      if (damaged !== null) {
        console.error(`error: ${damaged}`);
        process.exit(EXIT.problems);
      }
      // A failed system call (a file or folder missing, not writable, the disk full) says what and
      // where in its message (a folder that could not be made: which and why, see makeDirs); a
      // stack trace would only bury it.
      if (typeof (e as NodeJS.ErrnoException)?.syscall === 'string') {
        console.error(`error: ${(e as Error).message}`);
        process.exit(EXIT.problems);
      }
      console.error(`error: ${(e as Error)?.stack ?? String(e)}`);
      process.exit(EXIT.problems);
    });
}

/**
 * Open the catalogue of DATA_DIR (or `dataDir`, from `--data-dir`) for an account script (user,
 * token): the plan seed is loaded first so agencies exist even if the server never started; an
 * AppError is printed and gives exit code 1, or 2 with the usage when it is about a bad option value
 * (a 400: a role, a password, a number of days the account rules refuse; a 404: a --username,
 * --user or --id that names no account or token); a bad configuration exit code 2; the database is
 * always closed.
 */
export async function withCatalogueDb(
  env: Record<string, string | undefined>,
  out: (s: string) => void,
  dataDir: string | undefined,
  run: (db: Database_) => Promise<number>,
  usage?: string,
): Promise<number> {
  let dbFile: string;
  try {
    dbFile = dataPaths(setDataDir(loadConfig(env), dataDir).dataDir).dbFile;
  } catch (e) {
    if (e instanceof ConfigError || e instanceof UsageError) {
      out(e instanceof UsageError ? `error: ${e.message}` : e.message);
      return EXIT.usage;
    }
    throw e;
  }
  // Creating the store here is allowed (accounts before the first start), but say so: a mistyped
  // DATA_DIR would otherwise put accounts into a new, empty store without a word.
  if (!existsSync(dbFile)) out(`note: no database at ${dbFile} yet; creating it`);
  let db: Database_;
  try {
    db = openDatabase(dbFile);
  } catch (e) {
    // The data dir cannot be made or written (a file in the way, a read-only disk): say so, no stack trace.
    if (typeof (e as NodeJS.ErrnoException)?.syscall === 'string') {
      out(`error: ${(e as Error).message}`);
      return EXIT.problems;
    }
    const damaged = explainDatabaseError(e, dbFile);
    if (damaged === null) throw e;
    out(`error: ${damaged}`);
    return EXIT.problems;
  }
  loadPlanSeed(db.sqlite, readPlanSeed());
  try {
    return await run(db);
  } catch (e) {
    if (e instanceof AppError) {
      // A value the rules refuse (400), or one that names no user or token (404): bad usage.
      const badValue = e.code !== 'USAGE' && (e.statusCode === 400 || e.statusCode === 404);
      out(`error: ${e.message}${e.details.field ? ` (--${String(e.details.field)})` : ''}${badValue && usage ? `\n${usage}` : ''}`);
      return e.code === 'USAGE' || badValue ? EXIT.usage : EXIT.problems;
    }
    throw e;
  } finally {
    db.close();
  }
}
