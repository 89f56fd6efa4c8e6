/**
 * The catalogue fields of a product as form controls, shared by the upload page and the record
 * editor. Each control has a label; a problem shows next to its field (aria-invalid +
 * aria-describedby).
 */
import { PRODUCT_TYPES, ACCESS_LEVELS } from '../../db/schema.ts';
import { isoToDayFirst } from '../../catalogue/product-fields.ts';
import type { ProductRecord } from '../../catalogue/product-read.ts';
import type { PageCtx } from '../context.ts';
import type { AgencyRow, TaskRow } from '../data.ts';
import { html, type SafeHtml } from '../html.ts';
import { catalogueLang } from '../layout.ts';

export type FormValues = Record<string, string>;
export type FieldErrors = Record<string, string>;

export const LANGUAGE_CODES = ['vi', 'tay', 'nut', 'hmn', 'dao', 'en'];

export function valuesOf(rec: ProductRecord): FormValues {
  return {
    title: rec.title,
    altTitle: rec.altTitle ?? '',
    type: rec.type,
    description: rec.description ?? '',
    agency: rec.agency?.code ?? '',
    coIssuers: rec.coIssuers.map((a) => a.code).join(', '),
    releaseDate: rec.releaseDate ? isoToDayFirst(rec.releaseDate) : '',
    year: rec.year === null ? '' : String(rec.year),
    publisher: rec.publisher ?? '',
    identifier: rec.identifier ?? '',
    isbn: rec.isbn ?? '',
    printRun: rec.printRun === null ? '' : String(rec.printRun),
    languages: rec.languages.join(', '),
    subjects: rec.subjects.join(', '),
    planTask: rec.planTask ? String(rec.planTask.id) : '',
    copyReceivedOn: rec.physicalCopy.receivedOn ? isoToDayFirst(rec.physicalCopy.receivedOn) : '',
    copyCondition: rec.physicalCopy.condition ?? '',
    copyShelf: rec.physicalCopy.shelf ?? '',
    access: rec.access,
  };
}

/** Fields whose only possible problem is their length. */
const LENGTH_ONLY_FIELDS = ['altTitle', 'description', 'publisher', 'identifier', 'copyCondition', 'copyShelf'];

/** The i18n key of the message for a field problem reported by the API. */
export function fieldMessageKey(field: string): string {
  if (field === 'languages') return 'err.field.language';
  if (LENGTH_ONLY_FIELDS.includes(field)) return 'err.field.tooLong';
  return `err.field.${field}`;
}

/** Vietnamese (or English) message for a field problem reported by the API. */
export function fieldMessage(ctx: PageCtx, field: string, apiMessage: string): string {
  const key = fieldMessageKey(field);
  const m = ctx.t(key);
  return m === key ? apiMessage : m;
}

/** The fields in the order the form shows them. */
const FIELD_ORDER = ['type', 'title', 'altTitle', 'agency', 'releaseDate', 'year', 'planTask', 'languages', 'subjects', 'publisher', 'identifier', 'isbn', 'printRun', 'coIssuers', 'description', 'copyReceivedOn', 'copyCondition', 'copyShelf', 'access'];

interface FormOptions {
  values: FormValues;
  errors: FieldErrors;
  agencies: AgencyRow[];
  tasks: TaskRow[];
  /** Staff see agency, physical copy and access fields. */
  staff: boolean;
  /** Latest values to show beside fields after a stale edit. */
  latest?: FormValues;
}

export function productFields(ctx: PageCtx, o: FormOptions): SafeHtml {
  const { t } = ctx;
  const v = (k: string) => o.values[k] ?? '';
  // After a refused save the page opens on the first field with a problem (as the upload form does).
  const firstError = FIELD_ORDER.find((k) => o.errors[k]);
  const describe = (k: string, help?: string): SafeHtml => {
    const ids = [o.errors[k] ? `${k}-error` : '', help ? `${k}-help` : '', o.latest && o.latest[k] !== undefined && o.latest[k] !== v(k) ? `${k}-latest` : ''].filter(Boolean).join(' ');
    return html`${ids ? html` aria-describedby="${ids}"` : ''}${o.errors[k] ? html` aria-invalid="true"` : ''}${k === firstError ? html` autofocus` : ''}`;
  };
  const after = (k: string, help?: string): SafeHtml => html`${help ? html`<p class="help" id="${k}-help">${help}</p>` : ''}${o.errors[k] ? html`<p class="field-error" id="${k}-error">${o.errors[k]}</p>` : ''}${
    o.latest && o.latest[k] !== undefined && o.latest[k] !== v(k) ? html`<p class="field-latest" id="${k}-latest">${t('edit.latest')}: <q>${o.latest[k] || '—'}</q></p>` : ''
  }`;
  const text = (k: string, label: string, opts: { type?: string; required?: boolean; help?: string; attrs?: SafeHtml } = {}) => html`<div class="form-row${o.errors[k] ? ' has-error' : ''}">
  <label for="f-${k}">${label}${opts.required ? ' *' : ''}</label>
  <input id="f-${k}" name="${k}" type="${opts.type ?? 'text'}" value="${v(k)}"${opts.required ? html` required` : ''}${opts.attrs ?? ''}${describe(k, opts.help)}>
  ${after(k, opts.help)}
</div>`;
  // Options naming agencies or plan tasks are catalogue text (lang="vi" on an English page).
  const select = (k: string, label: string, options: Array<[string, string]>, required = false, catalogue = false) => html`<div class="form-row${o.errors[k] ? ' has-error' : ''}">
  <label for="f-${k}">${label}${required ? ' *' : ''}</label>
  <select id="f-${k}" name="${k}"${required ? html` required` : ''}${describe(k)}>
    ${options.map(([val, lab]) => html`<option value="${val}"${catalogue && val !== '' ? catalogueLang(ctx) : ''}${val === v(k) ? html` selected` : ''}>${lab}</option>`)}
  </select>
  ${after(k)}
</div>`;
  const listHelp = t('edit.listHelp');
  // Dates are typed day first (dd/mm/yyyy) on both the Vietnamese and the English page, as the pages
  // write them: <input type="date"> would show the browser's order (mm/dd/yyyy in an English-language
  // browser, dd/mm/yyyy in a Vietnamese one), whatever the page's language (docs/ui.md).
  const dateField = { help: t('form.dateHelp'), attrs: html` inputmode="numeric" placeholder="${t('form.datePlaceholder')}" maxlength="10" autocomplete="off"` };
  const typeOptions: Array<[string, string]> = [['', '—'], ...PRODUCT_TYPES.map((x): [string, string] => [x, t(`type.${x}`)])];
  const taskOptions: Array<[string, string]> = [['', t('upload.planTaskNone')], ...o.tasks.map((x): [string, string] => [String(x.id), `${x.year} · ${x.title}`])];
  return html`<div class="form-grid">
  ${select('type', t('record.type'), typeOptions, true)}
  ${text('title', t('record.title'), { required: true, attrs: html` maxlength="500"` })}
  ${text('altTitle', t('record.altTitle'))}
  ${o.staff ? select('agency', t('record.agency'), [['', '—'], ...o.agencies.map((a): [string, string] => [a.code, a.name])], false, true) : ''}
  ${text('releaseDate', t('record.releaseDate'), dateField)}
  ${text('year', t('record.year'), { attrs: html` inputmode="numeric" pattern="[0-9]{4}" maxlength="4"` })}
  ${select('planTask', t('record.planTask'), taskOptions, false, true)}
  ${text('languages', t('record.languages'), { help: `${listHelp} vi, tay (Tày), nut (Nùng), hmn (H'Mông), dao (Dao), en` })}
  ${text('subjects', t('record.subjects'), { help: listHelp })}
  ${text('publisher', t('record.publisher'))}
  ${text('identifier', t('record.identifier'))}
  ${text('isbn', t('record.isbn'))}
  ${text('printRun', t('record.printRun'), { attrs: html` inputmode="numeric"` })}
  ${o.staff ? text('coIssuers', t('record.coIssuers'), { help: listHelp }) : ''}
  <div class="form-row wide${o.errors.description ? ' has-error' : ''}">
    <label for="f-description">${t('record.description')}</label>
    <textarea id="f-description" name="description" rows="4"${describe('description')}>${v('description')}</textarea>
    ${after('description')}
  </div>
  ${o.staff
    ? html`${text('copyReceivedOn', t('record.copyReceivedOn'), dateField)}
  ${text('copyCondition', t('record.copyCondition'))}
  ${text('copyShelf', t('record.copyShelf'))}
  ${select('access', t('record.access'), ACCESS_LEVELS.map((a): [string, string] => [a, t(`access.${a}`)]))}`
    : ''}
</div>`;
}

/** Field names the form may send for a principal. */
export function formFieldNames(staff: boolean): string[] {
  const base = ['type', 'title', 'altTitle', 'releaseDate', 'year', 'planTask', 'languages', 'subjects', 'publisher', 'identifier', 'isbn', 'printRun', 'description'];
  return staff ? [...base, 'agency', 'coIssuers', 'copyReceivedOn', 'copyCondition', 'copyShelf', 'access'] : base;
}
