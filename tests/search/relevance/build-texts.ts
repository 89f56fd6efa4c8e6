/**
 * One-off generator of `texts.json`, the Vietnamese source texts of the relevance catalogue.
 * Run by hand (`npx tsx tests/search/relevance/build-texts.ts <corpus dir> <plan file>`); the tests only read the JSON.
 * Sources: Plan 199-KH/TU (Cao Bằng, 2023), Án lệ 43/2021/AL (PDF, per page), Án lệ 26/2018/AL (DOCX),
 * Thông tư 10/2020/TT-BLĐTBXH (plain text) — public legal texts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PDFParse } from 'pdf-parse';
import mammoth from 'mammoth';

const [corpus = '../shared/corpus', planFile = '../shared/seed/000_b3f56d319a6dd830.txt'] = process.argv.slice(2);
const tidy = (s: string) => s.replace(/\[bookmark: [^\]]*\]/g, '').replace(/[ \t]+/g, ' ').trim();
const plan = readFileSync(planFile, 'utf8').split(/\r?\n/).map(tidy).filter((l) => l.length > 0);
const pdf = await new PDFParse({ data: readFileSync(join(corpus, 'vi-an-le-43-2021.pdf')) }).getText();
const anLe43 = pdf.pages.map((p: { text: string }) => tidy(p.text.replace(/\s*\n\s*/g, ' ')));
const anLe26 = (await mammoth.extractRawText({ path: join(corpus, 'vi-an-le-26-2018.docx') })).value.split(/\n+/).map(tidy).filter(Boolean);
const thongTu = readFileSync(join(corpus, 'vi-thong-tu-10-2020.txt'), 'utf8').split(/\n+/).map(tidy).filter(Boolean);
writeFileSync(new URL('./texts.json', import.meta.url), JSON.stringify({ plan, anLe43, anLe26, thongTu }, null, 1) + '\n');
console.log({ plan: plan.length, anLe43: anLe43.length, anLe26: anLe26.length, thongTu: thongTu.length });
