/**
 * Dublin Core (the 15 elements of DCMES 1.1) for a catalogue record: the one mapping used by the
 * record export (JSON and XML) and by OAI-PMH (`oai_dc`).
 *
 * Mapping: title ← title and alternative title; creator ← issuing agency; contributor ← co-issuers;
 * subject ← subjects; description ← description; publisher ← publisher; date ← release date, else
 * year; type ← DCMI Type term + the product type; format ← sniffed media types of the files;
 * identifier ← record URL, ISBN (urn:isbn), own identifier; language ← language codes;
 * relation ← the plan task; rights ← access level.
 */
import type { ProductRecord } from '../catalogue/product-read.ts';
import { el } from './xml.ts';

export const DC_ELEMENTS = ['title', 'creator', 'subject', 'description', 'publisher', 'contributor', 'date', 'type', 'format', 'identifier', 'source', 'language', 'relation', 'coverage', 'rights'] as const;
export type DcElement = (typeof DC_ELEMENTS)[number];
export type DublinCore = Partial<Record<DcElement, string[]>>;

export const DC_NS = 'http://purl.org/dc/elements/1.1/';
export const OAI_DC_NS = 'http://www.openarchives.org/OAI/2.0/oai_dc/';
export const OAI_DC_SCHEMA = 'http://www.openarchives.org/OAI/2.0/oai_dc.xsd';

/** DCMI Type Vocabulary term for each product type. */
const DCMI_TYPE: Record<string, string> = {
  book: 'Text', leaflet: 'Text', flyer: 'Text', document: 'Text', map: 'StillImage', photo: 'StillImage', video: 'MovingImage', audio: 'Sound', other: 'PhysicalObject',
};

const uniq = (xs: Array<string | null | undefined>): string[] => [...new Set(xs.filter((x): x is string => typeof x === 'string' && x.trim() !== '').map((x) => x.trim()))];

/** The Dublin Core of a record. `baseUrl` makes the record's URL absolute (e.g. `https://kho.example.vn`). */
export function toDublinCore(rec: ProductRecord, baseUrl: string): DublinCore {
  const dc: DublinCore = {
    title: uniq([rec.title, rec.altTitle]),
    creator: uniq([rec.agency?.name]),
    subject: uniq(rec.subjects),
    description: uniq([rec.description]),
    publisher: uniq([rec.publisher]),
    contributor: uniq(rec.coIssuers.map((a) => a.name)),
    date: uniq([rec.releaseDate ?? (rec.year !== null ? String(rec.year) : null)]),
    type: uniq([DCMI_TYPE[rec.type], rec.type]),
    format: uniq(rec.files.map((f) => f.mediaType)),
    identifier: uniq([`${baseUrl}/api/products/${rec.id}`, rec.isbn ? `urn:isbn:${rec.isbn.replace(/[^0-9Xx]/g, '')}` : null, rec.identifier]),
    language: uniq(rec.languages),
    relation: uniq([rec.planTask ? `${rec.planTask.code}: ${rec.planTask.title}` : null]),
    rights: uniq([rec.access === 'public' ? 'Công khai (public)' : 'Nội bộ (internal)']),
  };
  for (const k of DC_ELEMENTS) if (dc[k]?.length === 0) delete dc[k];
  return dc;
}

/** JSON-LD-style JSON: `{"@context": {...}, "@id": url, "dc:title": [...], ...}`. */
export function dublinCoreJson(rec: ProductRecord, baseUrl: string): Record<string, unknown> {
  const dc = toDublinCore(rec, baseUrl);
  const out: Record<string, unknown> = { '@context': { dc: DC_NS }, '@id': `${baseUrl}/api/products/${rec.id}` };
  for (const k of DC_ELEMENTS) if (dc[k]) out[`dc:${k}`] = dc[k];
  return out;
}

const LANG_RE = /^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$/;

/**
 * The `oai_dc:dc` element. With `standalone`, it carries its namespace declarations and
 * schemaLocation so it can be served as its own document.
 */
export function dublinCoreXml(rec: ProductRecord, baseUrl: string, standalone = true): string {
  const dc = toDublinCore(rec, baseUrl);
  const lang = rec.languages.find((l) => LANG_RE.test(l));
  const inner = DC_ELEMENTS.flatMap((k) =>
    (dc[k] ?? []).map((v) => el(`dc:${k}`, v, k === 'title' || k === 'description' || k === 'subject' ? { 'xml:lang': lang } : {})),
  ).join('\n    ');
  const head = `<oai_dc:dc xmlns:oai_dc="${OAI_DC_NS}" xmlns:dc="${DC_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="${OAI_DC_NS} ${OAI_DC_SCHEMA}">`;
  const body = `${head}\n    ${inner}\n  </oai_dc:dc>`;
  return standalone ? `<?xml version="1.0" encoding="UTF-8"?>\n${body}\n` : body;
}
