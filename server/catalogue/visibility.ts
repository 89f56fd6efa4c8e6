/**
 * Who may see which product records. One rule, used by reads, lists, search and exports:
 * - anonymous: published + public only;
 * - researcher: published, and internal ones too when granted;
 * - agency submitter: published + public, and every record of their own agency in any state;
 * - archivist, admin: everything.
 */
import type { Principal } from '../auth/principal.ts';

export interface VisibilitySql {
  /** SQL boolean expression over a products table aliased as `alias`. */
  where: string;
  params: Record<string, unknown>;
}

/** A SQL condition (named parameters, prefix `vis_`) restricting `alias` (a products table alias) to what `p` may see. */
export function visibilitySql(p: Principal | null, alias = 'p'): VisibilitySql {
  const pub = `(${alias}.state = 'published' AND ${alias}.access = 'public')`;
  if (p === null) return { where: pub, params: {} };
  switch (p.role) {
    case 'admin':
    case 'archivist':
      return { where: '1', params: {} };
    case 'researcher':
      return p.canSeeInternal ? { where: `(${alias}.state = 'published')`, params: {} } : { where: pub, params: {} };
    case 'agency':
      if (p.agencyId === null) return { where: pub, params: {} };
      return { where: `(${pub} OR ${alias}.agency_id = @vis_agency)`, params: { vis_agency: p.agencyId } };
    default:
      return { where: pub, params: {} };
  }
}

/** The same rule for one record already loaded. */
export function canSee(p: Principal | null, rec: { state: string; access: string; agencyId: number | null }): boolean {
  const published = rec.state === 'published';
  if (published && rec.access === 'public') return true;
  if (p === null) return false;
  switch (p.role) {
    case 'admin':
    case 'archivist':
      return true;
    case 'researcher':
      return published && p.canSeeInternal;
    case 'agency':
      return p.agencyId !== null && rec.agencyId === p.agencyId;
    default:
      return false;
  }
}
