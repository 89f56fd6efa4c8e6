/**
 * The listening entry point: load config from the environment, build the app, listen, and shut
 * down gracefully on SIGINT/SIGTERM (in-flight requests and running jobs are given time to finish).
 */
import { buildApp } from './app.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { DataDirBusy, lockDataDir } from './data-dir-lock.ts';
import { explainStartupError } from './startup-errors.ts';
import { makeDirs } from './storage/make-dirs.ts';

/** Exit 1 with one clear line for a known start-up failure (else the error as it is). */
function failStart(e: unknown, config: Config): never {
  const known = explainStartupError(e, config);
  console.error(known ?? e);
  process.exit(1);
}

let dataDirLock: { release(): void } | null = null;

async function main() {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  // One server per data dir (before anything is swept or resumed in it): see data-dir-lock.ts. Held
  // in a module variable: a lock object left to the garbage collector would close, and release, it.
  try {
    await makeDirs(config.dataDir);
    dataDirLock = lockDataDir(config.dataDir);
  } catch (e) {
    if (e instanceof DataDirBusy) {
      console.error(e.message);
      process.exit(1);
    }
    failStart(e, config);
  }
  const app = await buildApp(config).catch((e: unknown) => failStart(e, config));
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight uploads and jobs');
    const force = setTimeout(() => {
      app.log.error('shutdown took too long, exiting');
      process.exit(1);
    }, 60_000);
    force.unref();
    try {
      await app.close();
      dataDirLock?.release();
      process.exit(0);
    } catch (e) {
      app.log.error({ err: e }, 'error while shutting down');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (e) {
    // Started but cannot serve: stop the job workers and store the index before saying why.
    const known = explainStartupError(e, config);
    await Promise.race([app.close().catch(() => {}), new Promise((r) => setTimeout(r, 10_000).unref())]);
    console.error(known ?? e);
    process.exit(1);
  }
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
