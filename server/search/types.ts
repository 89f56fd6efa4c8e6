/** Public types of the search service (the HTTP schemas in server/routes/search.ts mirror them). */

export type SortOrder = 'relevance' | 'date' | 'title';

export interface SearchParams {
  q?: string;
  /** Product type(s): one value or a comma-separated list. */
  type?: string;
  /** Agency code or numeric id (comma-separated list allowed). */
  agency?: string;
  year?: number;
  yearFrom?: number;
  yearTo?: number;
  /** Language code (vi, tay, nut, hmn, dao, …). */
  language?: string;
  /** Workflow state; only meaningful for viewers who can see unpublished records. */
  state?: string;
  /** 1-based. */
  page?: number;
  limit?: number;
  sort?: SortOrder;
}

export interface Snippet {
  /** HTML-safe passage in the original spelling; matched words wrapped in `<mark>…</mark>`. */
  text: string;
  /** 1-based page of a paged file (PDF) the passage comes from (a slide, section or sheet: see `unit`). */
  page?: number;
  /** The PDF's own label of that page ("ii", "A-3") when it has page labels (/PageLabels) that differ from the page numbers; `page` stays the physical page. */
  pageLabel?: string;
  /** What `page` counts: PDF pages, slides of a deck, sections of an e-book, sheets of a spreadsheet. */
  unit?: 'page' | 'slide' | 'section' | 'sheet';
  /** The file (blob) the passage comes from, when it is from extracted text. */
  sha256?: string;
  /** `text` for extracted file text, otherwise the catalogue field it was cut from. */
  field: 'text' | 'title' | 'description' | 'altTitle' | 'subjects' | 'agency';
}

export interface HitAgency {
  id: number;
  code: string;
  name: string;
}

export interface SearchHit {
  id: number;
  title: string;
  type: string;
  agency: HitAgency | null;
  year: number | null;
  score: number;
  thumbnail: string | null;
  snippets: Snippet[];
}

export interface SearchResponse {
  total: number;
  page: number;
  limit: number;
  hits: SearchHit[];
  /** Counts over the matching set with every other filter applied (the year facet keeps yearFrom/yearTo). `agency` is keyed by agency code. */
  facets: {
    type: Record<string, number>;
    agency: Record<string, number>;
    year: Record<string, number>;
    language: Record<string, number>;
  };
  /** Query syllables that were replaced by close spellings from the vocabulary (typo tolerance). */
  corrections: Array<{ from: string; to: string; display?: string }>;
  /** Query syllables found nowhere in the index (nor any close spelling): left out of matching. */
  ignored?: string[];
  /** Abbreviations searched in both forms: `from` as typed (folded), `to` the other form (folded), `display` it as written (`Ủy ban nhân dân`, `UBND`). */
  expansions?: Array<{ from: string; to: string; display: string }>;
  /** Edge words of a long query read as cut off (pasted from the middle of a word): they score where they occur but no record must hold them. */
  optional?: string[];
  /** Something was typed but none of it can be searched for (control characters, punctuation only): no hits. */
  unsearchable?: boolean;
  /** `and`: every syllable matched; `or`: nothing matched all of them, so partial matches are shown. */
  mode: 'and' | 'or' | 'all';
  tookMs: number;
}

export interface Suggestion {
  text: string;
  productId?: number;
  /** An agency suggestion's agency code (the search's `agency` filter). */
  agency?: string;
  kind: 'title' | 'agency' | 'subject';
}
