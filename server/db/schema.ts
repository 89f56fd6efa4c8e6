/**
 * The whole catalogue schema in one module (drizzle-orm, SQLite dialect).
 * Migrations are generated from this file by `npm run db:generate` into `migrations/`.
 *
 * Timestamps are ISO-8601 UTC strings (`2023-03-30T08:00:00.000Z`); calendar dates are `YYYY-MM-DD`.
 * JSON columns hold arrays/objects serialised with JSON.stringify.
 */
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/** Controlled list of product types (the plan's kinds of product). */
export const PRODUCT_TYPES = ['book', 'leaflet', 'flyer', 'map', 'video', 'audio', 'photo', 'document', 'other'] as const;
export type ProductType = (typeof PRODUCT_TYPES)[number];

/** Workflow states of a product record. */
export const PRODUCT_STATES = ['submitted', 'in_review', 'accepted', 'published', 'returned', 'withdrawn'] as const;
export type ProductState = (typeof PRODUCT_STATES)[number];

export const ACCESS_LEVELS = ['public', 'internal'] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];

export const ROLES = ['admin', 'archivist', 'agency', 'researcher'] as const;
export type Role = (typeof ROLES)[number];

/** Media kinds: which extractor handles a blob. */
export const MEDIA_KINDS = ['pdf', 'image', 'video', 'audio', 'office', 'text'] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];

export const JOB_KINDS = ['extract', 'thumbnail'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export const JOB_STATES = ['queued', 'running', 'done', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];

const now = sql`(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`;

/** Issuing bodies named by the plan (and any added later by an admin). */
export const agencies = sqliteTable('agencies', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  /** Stable slug, e.g. `so-vhttdl`. */
  code: text('code').notNull(),
  name: text('name').notNull(),
  shortName: text('short_name'),
  /** party | department | front | mass_org | press | district | other */
  category: text('category').notNull().default('other'),
  active: integer('active', { mode: 'boolean' }).notNull().default(true),
  createdAt: text('created_at').notNull().default(now),
}, (t) => [uniqueIndex('agencies_code_uq').on(t.code)]);

/** A concrete task of a plan: who must deliver which product by when. */
export const planTasks = sqliteTable('plan_tasks', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  /** Stable slug, e.g. `2023-dia-ly-lich-su`. */
  code: text('code').notNull(),
  planRef: text('plan_ref').notNull(),
  year: integer('year').notNull(),
  agencyId: integer('agency_id').notNull().references(() => agencies.id),
  title: text('title').notNull(),
  /** Expected product type (PRODUCT_TYPES) or null when the task is not a single product. */
  productType: text('product_type'),
  expectedProduct: text('expected_product'),
  /** Last day of the deadline, YYYY-MM-DD. */
  deadline: text('deadline').notNull(),
  deadlineLabel: text('deadline_label'),
  notes: text('notes'),
  createdAt: text('created_at').notNull().default(now),
}, (t) => [uniqueIndex('plan_tasks_code_uq').on(t.code), index('plan_tasks_year_idx').on(t.year, t.agencyId)]);

export const users = sqliteTable('users', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  username: text('username').notNull(),
  displayName: text('display_name').notNull(),
  /** scrypt hash: `scrypt$N$r$p$saltB64$hashB64`. Null for token-only accounts. */
  passwordHash: text('password_hash'),
  role: text('role').notNull(),
  agencyId: integer('agency_id').references(() => agencies.id),
  /** Researchers granted access to internal records. */
  canSeeInternal: integer('can_see_internal', { mode: 'boolean' }).notNull().default(false),
  active: integer('active', { mode: 'boolean' }).notNull().default(true),
  createdAt: text('created_at').notNull().default(now),
  updatedAt: text('updated_at').notNull().default(now),
}, (t) => [uniqueIndex('users_username_uq').on(t.username)]);

/** API tokens for scripts: only the SHA-256 of the secret is stored. */
export const apiTokens = sqliteTable('api_tokens', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  name: text('name').notNull(),
  tokenHash: text('token_hash').notNull(),
  /** First characters of the token, to recognise it in lists. */
  prefix: text('prefix').notNull(),
  createdAt: text('created_at').notNull().default(now),
  expiresAt: text('expires_at'),
  revokedAt: text('revoked_at'),
  lastUsedAt: text('last_used_at'),
}, (t) => [uniqueIndex('api_tokens_hash_uq').on(t.tokenHash), index('api_tokens_user_idx').on(t.userId)]);

/** Web sessions: the cookie holds a random id; only its SHA-256 is stored. */
export const sessions = sqliteTable('sessions', {
  idHash: text('id_hash').primaryKey(),
  userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  csrfToken: text('csrf_token').notNull(),
  createdAt: text('created_at').notNull().default(now),
  expiresAt: text('expires_at').notNull(),
}, (t) => [index('sessions_user_idx').on(t.userId)]);

/** A catalogue record: one released product handed in by an agency. */
export const products = sqliteTable('products', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  title: text('title').notNull(),
  altTitle: text('alt_title'),
  type: text('type').notNull(),
  description: text('description'),
  agencyId: integer('agency_id').references(() => agencies.id),
  /** JSON array of agency ids. */
  coIssuers: text('co_issuers').notNull().default('[]'),
  releaseDate: text('release_date'),
  year: integer('year'),
  publisher: text('publisher'),
  identifier: text('identifier'),
  isbn: text('isbn'),
  printRun: integer('print_run'),
  /** JSON array of language codes (vi, tay, nung, hmn, dao, en, …). */
  languages: text('languages').notNull().default('[]'),
  /** JSON array of subject strings. */
  subjects: text('subjects').notNull().default('[]'),
  planTaskId: integer('plan_task_id').references(() => planTasks.id),
  copyReceivedOn: text('copy_received_on'),
  copyCondition: text('copy_condition'),
  copyShelf: text('copy_shelf'),
  access: text('access').notNull().default('public'),
  state: text('state').notNull().default('submitted'),
  returnReason: text('return_reason'),
  /** JSON array of flags: [{kind:'same_file'|'similar_title', productId, detail}]. */
  duplicateFlags: text('duplicate_flags').notNull().default('[]'),
  /** Optimistic-concurrency version, bumped on every change (ETag). */
  version: integer('version').notNull().default(1),
  createdBy: integer('created_by').references(() => users.id),
  createdAt: text('created_at').notNull().default(now),
  updatedAt: text('updated_at').notNull().default(now),
  submittedAt: text('submitted_at').notNull().default(now),
  publishedAt: text('published_at'),
}, (t) => [
  index('products_state_idx').on(t.state, t.createdAt),
  index('products_agency_idx').on(t.agencyId, t.state),
  index('products_plan_task_idx').on(t.planTaskId),
  index('products_year_idx').on(t.year),
  // Incremental catch-up of in-memory structures (e.g. the title-similarity index).
  index('products_updated_idx').on(t.updatedAt),
  // The search index's start-up check sums the versions (server/search/store.ts `fingerprint`): read
  // from this index, not by scanning the whole table (~0.4 s at 100,000 records here).
  index('products_version_idx').on(t.version),
]);

/** One stored content (blob), named by its SHA-256: shared by every product that holds the same bytes. */
export const blobs = sqliteTable('blobs', {
  sha256: text('sha256').primaryKey(),
  size: integer('size').notNull(),
  /** Media type sniffed from the bytes, e.g. `application/pdf`. */
  mediaType: text('media_type').notNull(),
  /** MEDIA_KINDS: which extractor handles it. */
  kind: text('kind').notNull(),
  /** JSON object of extracted facts (pages, dimensions, duration, codecs, EXIF, properties…), null until extracted. */
  metadata: text('metadata'),
  /** Number of text pages stored in blob_texts (0 when no text). */
  pageCount: integer('page_count'),
  createdAt: text('created_at').notNull().default(now),
});

/** A file of a product: a blob plus the name it was uploaded under. */
export const productFiles = sqliteTable('product_files', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  productId: integer('product_id').notNull().references(() => products.id, { onDelete: 'cascade' }),
  sha256: text('sha256').notNull().references(() => blobs.sha256),
  originalName: text('original_name').notNull(),
  /** Media type the client claimed (kept for the record, never trusted). */
  clientMediaType: text('client_media_type'),
  position: integer('position').notNull().default(0),
  createdAt: text('created_at').notNull().default(now),
}, (t) => [index('product_files_product_idx').on(t.productId), index('product_files_sha_idx').on(t.sha256)]);

/**
 * Extracted text of a blob, one row per page (page 1..n for paged media; a single page 1 otherwise).
 * Search indexes these rows.
 */
export const blobTexts = sqliteTable('blob_texts', {
  sha256: text('sha256').notNull().references(() => blobs.sha256, { onDelete: 'cascade' }),
  page: integer('page').notNull(),
  text: text('text').notNull(),
}, (t) => [primaryKey({ columns: [t.sha256, t.page] })]);

/** Derivative files of a blob (thumbnails, previews), stored beside the blob in the blob store. */
export const derivatives = sqliteTable('derivatives', {
  sha256: text('sha256').notNull().references(() => blobs.sha256, { onDelete: 'cascade' }),
  /** e.g. `thumb-256.webp`, `thumb-1024.webp`. */
  name: text('name').notNull(),
  mediaType: text('media_type').notNull(),
  size: integer('size').notNull(),
  width: integer('width'),
  height: integer('height'),
  createdAt: text('created_at').notNull().default(now),
}, (t) => [primaryKey({ columns: [t.sha256, t.name] })]);

/** The durable job queue: one job per (blob, derivative kind). */
export const jobs = sqliteTable('jobs', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  sha256: text('sha256').notNull().references(() => blobs.sha256, { onDelete: 'cascade' }),
  kind: text('kind').notNull(),
  state: text('state').notNull().default('queued'),
  attempts: integer('attempts').notNull().default(0),
  maxAttempts: integer('max_attempts').notNull().default(3),
  /** Earliest time to (re)run, for back-off. */
  runAfter: text('run_after').notNull().default(now),
  startedAt: text('started_at'),
  finishedAt: text('finished_at'),
  /** Stable failure code (e.g. `PDF_ENCRYPTED`, `TIMEOUT`, `MEMORY_LIMIT`) and human reason. */
  errorCode: text('error_code'),
  errorMessage: text('error_message'),
  createdAt: text('created_at').notNull().default(now),
  updatedAt: text('updated_at').notNull().default(now),
}, (t) => [uniqueIndex('jobs_sha_kind_uq').on(t.sha256, t.kind), index('jobs_state_idx').on(t.state, t.runAfter)]);

/** Append-only audit log: who did what, when, with field-level changes. */
export const auditLog = sqliteTable('audit_log', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  at: text('at').notNull().default(now),
  actorUserId: integer('actor_user_id'),
  /** Human label of the actor (`admin-token`, username, `system`). */
  actor: text('actor').notNull(),
  action: text('action').notNull(),
  entity: text('entity').notNull(),
  entityId: text('entity_id').notNull(),
  /** JSON: {field: [old, new]} or free details. */
  changes: text('changes'),
  note: text('note'),
}, (t) => [index('audit_entity_idx').on(t.entity, t.entityId, t.id)]);

/** Results of fixity (integrity) runs. */
export const fixityRuns = sqliteTable('fixity_runs', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  startedAt: text('started_at').notNull().default(now),
  finishedAt: text('finished_at'),
  checked: integer('checked').notNull().default(0),
  missing: integer('missing').notNull().default(0),
  corrupt: integer('corrupt').notNull().default(0),
  orphans: integer('orphans').notNull().default(0),
  /** JSON report with the lists of problem blobs. */
  report: text('report'),
});

/** Small key/value settings (seed markers, schema facts). */
export const meta = sqliteTable('meta', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});
