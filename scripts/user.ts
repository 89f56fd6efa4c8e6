/**
 * Accounts from the command line (opens DATA_DIR/kho.sqlite directly; the server may be running).
 *
 *   npm run user -- create --username x --role archivist|admin|agency|researcher [--agency code] [--password ...] [--name "Tên"] [--internal]
 *   npm run user -- list
 *   npm run user -- set-password --username x [--password ...]     (random when omitted, printed once)
 *   npm run user -- disable --username x      |  enable --username x
 */
import { pathToFileURL } from 'node:url';
import { createUser, getUser, listUsers, updateUser } from '../server/catalogue/accounts.ts';
import { randomPassword } from '../server/auth/passwords.ts';
import { EXIT, commandArgs, withCatalogueDb } from '../server/ops/cli.ts';
import { AppError } from '../server/errors.ts';

const USAGE = `usage (every command also takes --data-dir <dir>, default: DATA_DIR or ./storage):
  npm run user -- create --username <name> --role <admin|archivist|agency|researcher> [--agency <code>] [--password <pw>] [--name <display name>] [--internal]
  npm run user -- list
  npm run user -- set-password --username <name> [--password <pw>]
  npm run user -- disable --username <name>
  npm run user -- enable --username <name>`;

export async function main(argv: string[], env: Record<string, string | undefined>, out: (s: string) => void = console.log): Promise<number> {
  const args = commandArgs(
    argv,
    {
      username: { type: 'string' },
      role: { type: 'string' },
      agency: { type: 'string' },
      password: { type: 'string' },
      name: { type: 'string' },
      internal: { type: 'boolean' },
      'data-dir': { type: 'string' },
    },
    ['create', 'list', 'set-password', 'disable', 'enable'],
    USAGE,
    out,
  );
  if (typeof args === 'number') return args;
  const { cmd, values } = args;
  return withCatalogueDb(env, out, values['data-dir'], async (db) => {
    const need = (v: string | undefined, name: string) => {
      if (!v) throw new AppError(400, 'USAGE', `--${name} is required\n${USAGE}`);
      return v;
    };
    const userByName = (name: string) => {
      const u = getUser(db.sqlite, name);
      if (!u) throw new AppError(404, 'USER_NOT_FOUND', `no user "${name}"`, { field: 'username' });
      return u;
    };
    switch (cmd) {
      case 'create': {
        const r = await createUser(db.sqlite, {
          username: need(values.username, 'username'),
          role: need(values.role, 'role'),
          agency: values.agency,
          password: values.password,
          displayName: values.name,
          canSeeInternal: values.internal,
        });
        out(`created ${r.user.username} (${r.user.role}${r.user.agency ? `, ${r.user.agency.code}` : ''}) id=${r.user.id}`);
        if (r.generatedPassword) out(`password: ${r.generatedPassword}   (shown once)`);
        return 0;
      }
      case 'list':
        for (const u of listUsers(db.sqlite)) {
          out([u.id, u.username, u.role, u.agency?.code ?? '-', u.active ? 'active' : 'disabled', u.canSeeInternal ? 'internal' : ''].join('\t'));
        }
        return 0;
      case 'set-password': {
        const u = userByName(need(values.username, 'username'));
        const password = values.password ?? randomPassword();
        await updateUser(db.sqlite, u.id, { password });
        out(`password of ${u.username} changed; sessions ended`);
        if (!values.password) out(`password: ${password}   (shown once)`);
        return 0;
      }
      case 'disable':
      case 'enable': {
        const u = userByName(need(values.username, 'username'));
        await updateUser(db.sqlite, u.id, { active: cmd === 'enable' });
        out(`${u.username} ${cmd}d`);
        return 0;
      }
      default:
        out(`error: unknown command "${cmd}"\n${USAGE}`);
        return EXIT.usage;
    }
  }, USAGE);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2), process.env).then((code) => process.exit(code));
}
