/** Optimistic concurrency: records carry a version, sent as the ETag `"v<version>"`. */
import { err } from '../errors.ts';

export const etagOf = (version: number): string => `"v${version}"`;

/**
 * Check an If-Match header against the current version. Missing → 428 when `required`,
 * otherwise accepted; `*` matches any version; a list matches if any entry does; else 412.
 */
export function checkIfMatch(header: string | string[] | undefined, version: number, required: boolean): void {
  const h = Array.isArray(header) ? header.join(',') : header;
  if (h === undefined || h.trim() === '') {
    if (required) throw err.preconditionRequired('If-Match header required: send the ETag you read (e.g. If-Match: "v3")');
    return;
  }
  if (h.trim() === '*') return;
  const versions = h.split(',').map((t) => /^\s*(?:W\/)?"v?(\d+)"\s*$/.exec(t)?.[1]).filter((v): v is string => v !== undefined).map(Number);
  if (!versions.includes(version)) {
    throw err.preconditionFailed(`The record changed since you read it (now version ${version}); reload it and apply your change again`, {
      currentVersion: version,
      currentEtag: etagOf(version),
    });
  }
}
