import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPlanSeed } from '../../server/catalogue/seed.ts';
import { INITIAL_ADMIN_FILE } from '../../server/plugins/catalogue.ts';
import { main as tokenCli } from '../../scripts/token.ts';
import { main as userCli } from '../../scripts/user.ts';
import { auth, makeDataDir, makeTestApp } from '../helpers/app.ts';

describe('plan seed', () => {
  it('derives the agencies, tasks and store deadlines from plan 199-KH/TU', () => {
    const seed = readPlanSeed();
    expect(seed.plan).toMatchObject({ ref: '199-KH/TU', year: 2023 });
    const codes = seed.agencies.map((a) => a.code);
    expect(codes).toEqual(expect.arrayContaining(['ban-tuyen-giao', 'so-vhttdl', 'so-tttt', 'so-gddt', 'mttq', 'tinh-doan', 'bao-cao-bang', 'dai-ptth', 'thanh-uy-cao-bang']));
    expect(seed.agencies.filter((a) => a.category === 'district')).toHaveLength(10);
    const task = (code: string) => seed.tasks.find((t) => t.code === code)!;
    expect(task('2023-dia-ly-lich-su')).toMatchObject({ agency: 'ban-tuyen-giao', productType: 'book', deadline: '2023-03-31', deadlineLabel: 'Quý I/2023' });
    expect(task('2023-ban-do-du-lich')).toMatchObject({ agency: 'so-vhttdl', productType: 'map', deadline: '2023-06-30', deadlineLabel: 'Quý II/2023' });
    expect(task('2023-bao-vat-quoc-gia')).toMatchObject({ agency: 'so-vhttdl', productType: 'book', deadline: '2023-03-31' });
    expect(task('2023-cao-bang-thuc-luc')).toMatchObject({ agency: 'so-vhttdl', productType: 'book', deadline: '2023-03-31' });
    expect(task('2023-to-roi-du-lich-van-minh')).toMatchObject({ agency: 'so-vhttdl', productType: 'leaflet', deadline: '2023-06-30' });
    expect(task('2023-dia-truyen-thanh')).toMatchObject({ agency: 'so-tttt', productType: 'audio', deadline: '2023-06-30' });
    for (const t of seed.tasks) expect(codes).toContain(t.agency);
    expect(seed.storeDeadlines.map((d) => [d.kind, d.deadline])).toEqual([['backlog', '2023-03-30'], ['after_printing', null], ['annual_report', '2023-12-10']]);
  });

  it('loads on first start, keeps admin edits on later starts, and makes one first admin', async () => {
    const dir = await makeDataDir();
    try {
      const t1 = await makeTestApp({ jobs: { workers: 0 } }, dir);
      const agencies = (await t1.app.inject({ url: '/api/agencies' })).json();
      expect(agencies).toHaveLength(readPlanSeed().agencies.length);
      expect(agencies[1]).toMatchObject({ code: 'so-vhttdl', shortName: 'Sở VHTTDL', category: 'department', active: true });
      const tasks = (await t1.app.inject({ url: '/api/plan-tasks?year=2023' })).json();
      expect(tasks).toHaveLength(10);
      expect((await t1.app.inject({ url: '/api/plan-tasks?agency=so-vhttdl' })).json()).toHaveLength(4);
      const id = agencies[1].id;
      const edit = await t1.app.inject({ method: 'PATCH', url: `/api/agencies/${id}`, headers: auth(), payload: { name: 'Sở Văn hoá, Thể thao và Du lịch Cao Bằng' } });
      expect(edit.statusCode).toBe(200);
      const off = await t1.app.inject({ method: 'PATCH', url: `/api/agencies/${agencies[4].id}`, headers: auth(), payload: { active: false } });
      expect(off.json().active).toBe(false);
      const firstPassword = readFileSync(join(dir, INITIAL_ADMIN_FILE), 'utf8');
      await t1.close();

      const t2 = await makeTestApp({ jobs: { workers: 0 } }, dir);
      const again = (await t2.app.inject({ url: '/api/agencies' })).json();
      expect(again).toHaveLength(readPlanSeed().agencies.length - 1);
      expect(again.find((a: { id: number }) => a.id === id).name).toBe('Sở Văn hoá, Thể thao và Du lịch Cao Bằng');
      expect((await t2.app.inject({ url: '/api/agencies?all=true', headers: auth() })).json()).toHaveLength(readPlanSeed().agencies.length);
      expect((await t2.app.inject({ url: '/api/plan-tasks' })).json()).toHaveLength(10);
      expect(readFileSync(join(dir, INITIAL_ADMIN_FILE), 'utf8')).toBe(firstPassword);
      expect(t2.app.db.sqlite.prepare(`SELECT count(*) AS n FROM users WHERE role = 'admin'`).get()).toEqual({ n: 1 });
      await t2.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('user and token scripts work on the data dir the server uses', async () => {
    const dir = await makeDataDir();
    const env = { DATA_DIR: dir };
    const lines: string[] = [];
    const out = (s: string) => lines.push(s);
    try {
      expect(await userCli(['create', '--username', 'so-gddt', '--role', 'agency', '--agency', 'so-gddt', '--password', 'Giáo dục 2023!'], env, out)).toBe(0);
      expect(await userCli(['create', '--username', 'so-moi', '--role', 'agency', '--agency', 'khong-co'], env, out)).toBe(2);
      expect(lines.join('\n')).toMatch(/unknown agency "khong-co" \(--agency\)/);
      expect(await tokenCli(['create', '--user', 'so-gddt', '--name', 'nhập lô', '--days', '90'], env, out)).toBe(0);
      const secret = /secret: (\S+)/.exec(lines.join('\n'))![1];
      const t = await makeTestApp({ jobs: { workers: 0 } }, dir);
      try {
        expect((await t.app.inject({ url: '/api/auth/me', headers: auth(secret) })).json()).toMatchObject({ username: 'so-gddt', role: 'agency', agency: { code: 'so-gddt' } });
        const login = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'so-gddt', password: 'Giáo dục 2023!' } });
        expect(login.statusCode).toBe(200);
        // The script's agency account is not an admin: the first admin is still created.
        expect(t.app.db.sqlite.prepare(`SELECT username FROM users WHERE role = 'admin'`).all()).toEqual([{ username: 'admin' }]);
      } finally {
        await t.close();
      }
      expect(await tokenCli(['revoke', '--id', '1'], env, out)).toBe(0);
      expect(await userCli(['disable', '--username', 'so-gddt'], env, out)).toBe(0);
      lines.length = 0;
      await userCli(['list'], env, out);
      expect(lines.join('\n')).toMatch(/so-gddt\tagency\tso-gddt\tdisabled/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
