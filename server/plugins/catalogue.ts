/**
 * Catalogue start-up: loads the plan seed (agencies, plan tasks, store deadlines) on first start,
 * creates the first admin when there is no admin account, and keeps the table of registered routes
 * (`app.routeTable`, collected by an onRoute hook) that the authorisation matrix test checks.
 *
 * First admin: username `admin`, a random password printed once to the log (warn level) and written
 * to `<DATA_DIR>/initial-admin-password.txt` (mode 0600). Change it, then delete the file.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashPassword, randomPassword } from '../auth/passwords.ts';
import { DEFAULT_PLAN_FILE, loadPlanSeed, readPlanSeed } from '../catalogue/seed.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered after this plugin: method + URL pattern. */
    routeTable: Array<{ method: string; url: string }>;
  }
}

export const INITIAL_ADMIN_FILE = 'initial-admin-password.txt';

export interface CataloguePluginOptions {
  /** Plan seed file to load on first start (default data/plan-199-KH-TU-2023.json); false to skip. */
  seedFile?: string | false;
}

export default fp(
  async function cataloguePlugin(app: FastifyInstance, opts: CataloguePluginOptions) {
    const routeTable: Array<{ method: string; url: string }> = [];
    app.decorate('routeTable', routeTable);
    app.addHook('onRoute', (route) => {
      for (const m of [route.method].flat()) routeTable.push({ method: m, url: route.url });
    });

    const { sqlite } = app.db;
    if (opts.seedFile !== false) {
      const result = loadPlanSeed(sqlite, readPlanSeed(opts.seedFile ?? DEFAULT_PLAN_FILE));
      if (result.loaded) app.log.info(result, 'loaded the plan seed');
    }

    const admins = (sqlite.prepare(`SELECT count(*) AS n FROM users WHERE role = 'admin'`).get() as { n: number }).n;
    const nameTaken = sqlite.prepare(`SELECT 1 FROM users WHERE username = 'admin'`).get() !== undefined;
    if (admins === 0 && nameTaken) app.log.warn('there is no admin account and the username "admin" is taken: create one with `npm run user -- create --role admin`');
    if (admins === 0 && !nameTaken) {
      const password = randomPassword();
      const hash = await hashPassword(password);
      sqlite
        .prepare(`INSERT INTO users (username, display_name, password_hash, role) VALUES ('admin', 'Quản trị viên', ?, 'admin')`)
        .run(hash);
      const file = join(app.paths.dataDir, INITIAL_ADMIN_FILE);
      writeFileSync(file, `username: admin\npassword: ${password}\n`, { mode: 0o600 });
      app.log.warn({ username: 'admin', password, file }, 'created the first admin account: change this password after logging in and delete the file');
    }
  },
  { name: 'catalogue', dependencies: ['services'] },
);
