import type { PDFDocumentProxy } from 'pdfjs-dist/types/src/display/api.d.ts';

export interface RangePage {
  page: number;
  text: string;
  error?: string;
}
export function documentOptions(data: Uint8Array): Record<string, unknown>;
export function openDocument(data: Uint8Array): Promise<PDFDocumentProxy>;
export function itemsToText(items: unknown[]): string;
export function extractRange(doc: PDFDocumentProxy, from: number, to: number, deadline: number): Promise<RangePage[]>;
