/**
 * The compliance report: for a plan year, per plan task and per agency, what was expected, what was
 * handed in on time or late, what was accepted and what is missing.
 *
 * Rules (docs/catalogue.md):
 * - a task expects one product; products count for it when linked (plan_task_id) and not withdrawn;
 * - on time = the first submission (products.submitted_at) is at or before the end of the deadline day
 *   in Asia/Ho_Chi_Minh (UTC+7); a task is on time when its earliest product is;
 * - accepted = state accepted or published; missing = no product at all;
 * - backlog store deadline: products released in year ≤ productYearsUpTo handed in after the deadline
 *   day are late;
 * - the per-agency yearly summary counts products first submitted during the year (local time).
 */
import type Database from 'better-sqlite3';
import type { Principal } from '../auth/principal.ts';
import { canSee } from './visibility.ts';
import { getStoreDeadlines, type StoreDeadline } from './seed.ts';

/** The last instant of a local (UTC+7) calendar day, as an ISO UTC string comparable with stored timestamps. */
export const endOfDayVn = (date: string): string => new Date(`${date}T23:59:59.999+07:00`).toISOString();
export const startOfDayVn = (date: string): string => new Date(`${date}T00:00:00.000+07:00`).toISOString();

export type TaskStatus = 'on_time' | 'late' | 'missing';

export interface TaskRow {
  task: { id: number; code: string; title: string; deadline: string; deadlineLabel: string | null; productType: string | null; expectedProduct: string | null };
  agency: { id: number; code: string; name: string };
  expected: number;
  submitted: number;
  onTime: number;
  late: number;
  accepted: number;
  missing: number;
  status: TaskStatus;
  /** Missing and the deadline day has passed. */
  overdue: boolean;
  firstSubmittedAt: string | null;
  /** Every non-withdrawn record linked to the task; `title` is null for one the viewer may not see (another agency's, linked by the archivists). */
  products: Array<{ id: number; title: string | null; state: string; submittedAt: string; onTime: boolean }>;
}

export interface AgencyRow {
  agency: { id: number; code: string; name: string; category: string };
  tasks: { expected: number; submitted: number; onTime: number; late: number; accepted: number; missing: number };
  products: { submitted: number; accepted: number; published: number; pending: number; returned: number; withdrawn: number };
  backlog: { deadline: string; total: number; onTime: number; late: number } | null;
}

export interface ComplianceReport {
  year: number;
  generatedAt: string;
  storeDeadlines: StoreDeadline[];
  tasks: TaskRow[];
  agencies: AgencyRow[];
  totals: AgencyRow['tasks'] & { products: number; backlogLate: number };
}

export function complianceReport(sqlite: Database.Database, year: number, opts: { agencyId?: number | null; now?: Date; viewer?: Principal | null } = {}): ComplianceReport {
  const now = (opts.now ?? new Date()).toISOString();
  const agencyFilter = opts.agencyId ?? null;
  const taskRows = sqlite
    .prepare(
      `SELECT t.*, a.code AS agency_code, a.name AS agency_name FROM plan_tasks t JOIN agencies a ON a.id = t.agency_id
       WHERE t.year = ? AND (? IS NULL OR t.agency_id = ?) ORDER BY t.deadline, t.code`,
    )
    .all(year, agencyFilter, agencyFilter) as Array<Record<string, unknown>>;
  const productsOf = sqlite.prepare(`SELECT id, title, state, access, agency_id, submitted_at FROM products WHERE plan_task_id = ? AND state <> 'withdrawn' ORDER BY submitted_at, id`);
  // Without a viewer (scripts, staff) every title is shown.
  const seen = (p: Record<string, unknown>) => opts.viewer === undefined || canSee(opts.viewer, { state: p.state as string, access: p.access as string, agencyId: (p.agency_id as number) ?? null });

  const tasks: TaskRow[] = taskRows.map((t) => {
    const end = endOfDayVn(t.deadline as string);
    const prods = (productsOf.all(t.id) as Array<Record<string, unknown>>).map((p) => ({
      id: p.id as number,
      title: seen(p) ? (p.title as string) : null,
      state: p.state as string,
      submittedAt: p.submitted_at as string,
      onTime: (p.submitted_at as string) <= end,
    }));
    const onTime = prods.filter((p) => p.onTime).length;
    const accepted = prods.filter((p) => p.state === 'accepted' || p.state === 'published').length;
    const status: TaskStatus = prods.length === 0 ? 'missing' : prods[0].onTime ? 'on_time' : 'late';
    return {
      task: {
        id: t.id as number,
        code: t.code as string,
        title: t.title as string,
        deadline: t.deadline as string,
        deadlineLabel: (t.deadline_label as string) ?? null,
        productType: (t.product_type as string) ?? null,
        expectedProduct: (t.expected_product as string) ?? null,
      },
      agency: { id: t.agency_id as number, code: t.agency_code as string, name: t.agency_name as string },
      expected: 1,
      submitted: prods.length,
      onTime,
      late: prods.length - onTime,
      accepted,
      missing: prods.length === 0 ? 1 : 0,
      status,
      overdue: prods.length === 0 && now > end,
      firstSubmittedAt: prods[0]?.submittedAt ?? null,
      products: prods,
    };
  });

  const storeDeadlines = getStoreDeadlines(sqlite).filter((d) => d.year === year);
  const backlogRule = storeDeadlines.find((d) => d.kind === 'backlog' && d.deadline);
  const yearStart = startOfDayVn(`${year}-01-01`);
  const yearEnd = startOfDayVn(`${year + 1}-01-01`);

  const agencyRows = sqlite
    .prepare(`SELECT id, code, name, category FROM agencies WHERE (active = 1 OR id IN (SELECT agency_id FROM plan_tasks WHERE year = ?)) AND (? IS NULL OR id = ?) ORDER BY id`)
    .all(year, agencyFilter, agencyFilter) as Array<{ id: number; code: string; name: string; category: string }>;
  const productCounts = sqlite.prepare(
    `SELECT state, count(*) AS n FROM products WHERE agency_id = ? AND submitted_at >= ? AND submitted_at < ? GROUP BY state`,
  );
  const backlogStmt = sqlite.prepare(
    `SELECT count(*) AS total, coalesce(sum(submitted_at <= ?), 0) AS on_time FROM products WHERE agency_id = ? AND year <= ? AND state <> 'withdrawn'`,
  );

  const agencies: AgencyRow[] = agencyRows.map((a) => {
    const mine = tasks.filter((t) => t.agency.id === a.id);
    const byState = Object.fromEntries((productCounts.all(a.id, yearStart, yearEnd) as Array<{ state: string; n: number }>).map((r) => [r.state, r.n]));
    const n = (s: string) => (byState[s] as number | undefined) ?? 0;
    let backlog: AgencyRow['backlog'] = null;
    if (backlogRule?.deadline) {
      const r = backlogStmt.get(endOfDayVn(backlogRule.deadline), a.id, backlogRule.productYearsUpTo ?? year - 1) as { total: number; on_time: number };
      backlog = { deadline: backlogRule.deadline, total: r.total, onTime: r.on_time, late: r.total - r.on_time };
    }
    return {
      agency: a,
      tasks: {
        expected: mine.length,
        submitted: mine.filter((t) => t.submitted > 0).length,
        onTime: mine.filter((t) => t.status === 'on_time').length,
        late: mine.filter((t) => t.status === 'late').length,
        accepted: mine.filter((t) => t.accepted > 0).length,
        missing: mine.filter((t) => t.status === 'missing').length,
      },
      products: {
        submitted: n('submitted') + n('in_review') + n('accepted') + n('published') + n('returned'),
        accepted: n('accepted') + n('published'),
        published: n('published'),
        pending: n('submitted') + n('in_review'),
        returned: n('returned'),
        withdrawn: n('withdrawn'),
      },
      backlog,
    };
  });

  const sum = (f: (a: AgencyRow) => number) => agencies.reduce((s, a) => s + f(a), 0);
  return {
    year,
    generatedAt: now,
    storeDeadlines,
    tasks,
    agencies,
    totals: {
      expected: tasks.length,
      submitted: tasks.filter((t) => t.submitted > 0).length,
      onTime: tasks.filter((t) => t.status === 'on_time').length,
      late: tasks.filter((t) => t.status === 'late').length,
      accepted: tasks.filter((t) => t.accepted > 0).length,
      missing: tasks.filter((t) => t.status === 'missing').length,
      products: sum((a) => a.products.submitted),
      backlogLate: sum((a) => a.backlog?.late ?? 0),
    },
  };
}

const STATUS_VI: Record<TaskStatus, string> = { on_time: 'Đúng hạn', late: 'Muộn', missing: 'Chưa nộp' };

/** One CSV field: always quoted; a leading formula character is neutralised for spreadsheets. */
export function csvField(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

/** UTF-8 with BOM, CRLF line ends, every field quoted: opens in Excel with Vietnamese intact. */
export function toCsv(rows: unknown[][]): string {
  return `\uFEFF${rows.map((r) => r.map(csvField).join(',')).join('\r\n')}\r\n`;
}

export type CsvView = 'tasks' | 'agencies';

export function complianceCsv(report: ComplianceReport, view: CsvView): string {
  if (view === 'tasks') {
    return toCsv([
      ['Năm', 'Mã nhiệm vụ', 'Nhiệm vụ', 'Cơ quan chủ trì', 'Sản phẩm', 'Thời hạn', 'Hạn chót', 'Dự kiến', 'Đã nộp', 'Đúng hạn', 'Muộn', 'Đã tiếp nhận', 'Còn thiếu', 'Tình trạng', 'Nộp lần đầu'],
      ...report.tasks.map((t) => [
        report.year, t.task.code, t.task.title, t.agency.name, t.task.expectedProduct ?? '', t.task.deadlineLabel ?? '', t.task.deadline,
        t.expected, t.submitted, t.onTime, t.late, t.accepted, t.missing, STATUS_VI[t.status], t.firstSubmittedAt ?? '',
      ]),
      ['Tổng', '', '', '', '', '', '', report.totals.expected, report.totals.submitted, report.totals.onTime, report.totals.late, report.totals.accepted, report.totals.missing, '', ''],
    ]);
  }
  return toCsv([
    ['Năm', 'Mã cơ quan', 'Cơ quan', 'Nhiệm vụ được giao', 'Nhiệm vụ đã nộp', 'Nhiệm vụ đúng hạn', 'Nhiệm vụ muộn', 'Nhiệm vụ đã tiếp nhận', 'Nhiệm vụ còn thiếu',
      'Sản phẩm nộp trong năm', 'Sản phẩm đã tiếp nhận', 'Sản phẩm đã công bố', 'Đang chờ duyệt', 'Bị trả lại', 'Đã rút',
      'Sản phẩm tồn đọng (hạn gửi)', 'Tồn đọng: đã gửi', 'Tồn đọng: đúng hạn', 'Tồn đọng: muộn'],
    ...report.agencies.map((a) => [
      report.year, a.agency.code, a.agency.name, a.tasks.expected, a.tasks.submitted, a.tasks.onTime, a.tasks.late, a.tasks.accepted, a.tasks.missing,
      a.products.submitted, a.products.accepted, a.products.published, a.products.pending, a.products.returned, a.products.withdrawn,
      a.backlog?.deadline ?? '', a.backlog?.total ?? '', a.backlog?.onTime ?? '', a.backlog?.late ?? '',
    ]),
  ]);
}
