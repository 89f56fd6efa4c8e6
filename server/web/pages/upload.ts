/**
 * `/nop` — submit a product: the record fields and several files (drag-and-drop or picker).
 * upload.js sends one multipart request to POST /api/products?onDuplicate=reject with a progress
 * bar per file, shows every refusal in Vietnamese, then follows the processing state.
 */
import type { FastifyInstance } from 'fastify';
import { isStaff } from '../../auth/principal.ts';
import { formatBytes, type PageCtx } from '../context.ts';
import { listAgencies, listPlanTasks } from '../data.ts';
import { html, raw } from '../html.ts';
import { notice, sendPage } from '../layout.ts';
import { fieldMessage, formFieldNames, productFields } from './product-form.ts';

export async function uploadPage(app: FastifyInstance, ctx: PageCtx) {
  const { t } = ctx;
  const staff = isStaff(ctx.principal);
  const limits = app.config.upload;
  const tasks = listPlanTasks(app.db.sqlite, staff ? null : ctx.principal!.agencyId);
  const messages = {
    FILE_TOO_LARGE: t('err.FILE_TOO_LARGE'),
    TOO_MANY_FILES: t('err.TOO_MANY_FILES', { n: limits.maxFiles }),
    UNSUPPORTED_MEDIA_TYPE: t('err.UNSUPPORTED_MEDIA_TYPE'),
    EMPTY_FILE: t('err.EMPTY_FILE'),
    NO_FILES: t('err.NO_FILES'),
    DUPLICATE_FILE: t('err.DUPLICATE_FILE'),
    DUPLICATE_HIDDEN: t('err.DUPLICATE_HIDDEN'),
    VALIDATION_FAILED: t('err.VALIDATION_FAILED'),
    UNAUTHORIZED: t('err.UNAUTHORIZED'),
    FORBIDDEN: t('err.FORBIDDEN'),
    CSRF: t('err.CSRF'),
    NETWORK: t('err.NETWORK'),
    FIELD_TOO_LARGE: t('err.FIELD_TOO_LARGE'),
    RATE_LIMITED: t('err.RATE_LIMITED'),
    SERVER: t('err.SERVER'),
    STORAGE_FULL: t('err.STORAGE_FULL'),
    STORAGE_UNAVAILABLE: t('err.STORAGE_UNAVAILABLE'),
    withCode: t('err.withCode'),
    generic: t('err.generic'),
    uploading: t('upload.uploading'),
    success: t('upload.success'),
    viewRecord: t('upload.viewRecord'),
    submitAnyway: t('upload.submitAnyway'),
    processingState: t('upload.processingState'),
    remove: t('upload.remove'),
    progress: t('upload.progress'),
    // The message for each field the API may refuse (upload.js shows it next to the field).
    ...Object.fromEntries(formFieldNames(staff).map((k) => [`field.${k}`, fieldMessage(ctx, k, '')]).filter(([, m]) => m !== '')),
    'processing.queued': t('processing.queued'),
    'processing.running': t('processing.running'),
    'processing.done': t('processing.done'),
    'processing.failed': t('processing.failed'),
    maxSize: formatBytes(limits.maxFileBytes, ctx.lang),
  };
  // The submit button comes disabled and upload.js enables it: without JavaScript the form would
  // post to the JSON API and end on a raw refusal, so the notice explains instead.
  const body = html`<section>
  <h1>${t('upload.title')}</h1>
  <p>${t('upload.intro')}</p>
  <noscript>${notice('info', t('upload.needJs'))}</noscript>
  <form id="upload-form" class="product-form" method="post" action="/api/products?onDuplicate=reject" enctype="multipart/form-data" novalidate
    data-max-bytes="${limits.maxFileBytes}" data-max-files="${limits.maxFiles}">
    <input type="hidden" name="_csrf" value="${ctx.csrf}">
    <script type="application/json" id="upload-messages">${raw(JSON.stringify(messages).replace(/</g, '\\u003c'))}</script>
    ${productFields(ctx, { values: { languages: 'vi' }, errors: {}, agencies: listAgencies(app.db.sqlite), tasks, staff })}
    <fieldset class="files-field">
      <legend>${t('upload.files')}</legend>
      <div class="dropzone" id="dropzone">
        <p>${t('upload.drop')} <label for="file-input" class="file-pick">${t('upload.pick')}</label></p>
        <input id="file-input" name="file" type="file" multiple class="file-input" aria-describedby="file-limits">
        <p class="help" id="file-limits">${t('upload.limits', { n: limits.maxFiles, size: formatBytes(limits.maxFileBytes, ctx.lang) })}</p>
      </div>
      <ul class="file-list" id="file-list" aria-live="polite"></ul>
    </fieldset>
    <div class="upload-errors" id="upload-errors" role="alert"></div>
    <div class="button-row"><button type="submit" id="upload-submit" disabled>${t('upload.submit')}</button></div>
    <div class="upload-status" id="upload-status" role="status" aria-live="polite"></div>
  </form>
</section>`;
  return sendPage(ctx, { title: t('upload.title'), body, scripts: ['upload.js'], bodyClass: 'page-upload' });
}
