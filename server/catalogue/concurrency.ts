/** Optimistic concurrency: records carry a version, sent as the ETag `"v<version>"`. */
import { err } from '../errors.ts';

export const etagOf = (version: number): string => `"v${version}"`;

/** One entity-tag of RFC 9110 (`"v3"`, weak `W/"v3"`): etagc is any visible byte but `"` (and obs-text). */
const ENTITY_TAG = /^(?:W\/)?"([\x21\x23-\x7e\x80-\xff]*)"$/;

/**
 * Check an If-Match header against the current version (RFC 9110 §13.1.1). Missing → 428 when
 * `required`, otherwise accepted; `*` matches any current version (the record exists: the caller
 * has loaded it, a missing one is 404 before this); a list of entity-tags matches if any entry is
 * the current `"v<version>"` (the weak form `W/"v3"` too: a proxy that compresses answers weakens
 * ETags); else 412 with the current ETag. A value that is neither `*` nor such a list (`v3`
 * unquoted, `*` inside a list) is 400 BAD_IF_MATCH: reading it as "stale" would send the client to
 * reload a record that did not change.
 */
export function checkIfMatch(header: string | string[] | undefined, version: number, required: boolean): void {
  const h = Array.isArray(header) ? header.join(',') : header;
  if (h === undefined || h.trim() === '') {
    if (required) throw err.preconditionRequired('If-Match header required: send the ETag you read (e.g. If-Match: "v3")');
    return;
  }
  if (h.trim() === '*') return;
  const tags = h.split(',').map((t) => t.trim()).filter((t) => t !== '').map((t) => ENTITY_TAG.exec(t));
  if (tags.length === 0 || tags.some((m) => m === null)) {
    throw err.badRequest('BAD_IF_MATCH', `If-Match must be * or the ETag you read, in double quotes (e.g. If-Match: "v${version}"; several separated by commas)`);
  }
  const versions = tags.map((m) => /^v?(\d+)$/.exec(m![1])?.[1]).filter((v): v is string => v !== undefined).map(Number);
  if (!versions.includes(version)) {
    throw err.preconditionFailed(`The record changed since you read it (now version ${version}); reload it and apply your change again`, {
      currentVersion: version,
      currentEtag: etagOf(version),
    });
  }
}
