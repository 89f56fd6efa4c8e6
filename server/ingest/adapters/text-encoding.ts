/**
 * The only module that calls chardet and iconv-lite. Decodes bytes of unknown encoding to an NFC
 * string: BOM first, then strict UTF-8, then the candidates chardet proposes plus the legacy
 * Vietnamese code pages (Windows-1258, TCVN3/ABC, VISCII), scored by how Vietnamese/plausible the
 * decoded text looks.
 */
import chardet from 'chardet';
import iconv from 'iconv-lite';

export interface DecodedText {
  text: string;
  /** Canonical label: utf-8, utf-16le, utf-16be, windows-1258, tcvn, viscii, windows-1252… */
  encoding: string;
  bom: boolean;
  /** 0–1: how sure the choice is (1 for BOM or valid UTF-8). */
  confidence: number;
}

const VI_LETTERS = /[ăâđêôơưĂÂĐÊÔƠƯàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]/gu;
const SUSPICIOUS = /[\u0080-\u009f\ufffd\u0000-\u0008\u000e-\u001f]|[ÃÂ][\u0080-\u00bf]/gu;

/** Higher is more plausible text. Vietnamese letters count for, control/replacement debris against. */
export function plausibility(text: string): number {
  const sample = text.slice(0, 200_000).normalize('NFC');
  const vi = sample.match(VI_LETTERS)?.length ?? 0;
  const bad = sample.match(SUSPICIOUS)?.length ?? 0;
  const letters = sample.match(/\p{L}/gu)?.length ?? 0;
  return (vi * 2 + letters * 0.01 - bad * 5) / Math.max(1, sample.length);
}

const LEGACY_VI = ['windows-1258', 'tcvn', 'viscii'];

export function decodeText(buf: Buffer): DecodedText {
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
    return { text: buf.subarray(3).toString('utf8').normalize('NFC'), encoding: 'utf-8', bom: true, confidence: 1 };
  }
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) {
    return { text: iconv.decode(buf.subarray(2), 'utf-16le').normalize('NFC'), encoding: 'utf-16le', bom: true, confidence: 1 };
  }
  if (buf.length >= 2 && buf[0] === 0xfe && buf[1] === 0xff) {
    return { text: iconv.decode(buf.subarray(2), 'utf-16be').normalize('NFC'), encoding: 'utf-16be', bom: true, confidence: 1 };
  }
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
    return { text: text.normalize('NFC'), encoding: /[^\x00-\x7f]/.test(text) ? 'utf-8' : 'ascii', bom: false, confidence: 1 };
  } catch {
    /* not UTF-8 */
  }
  const guesses = chardet.analyse(buf.subarray(0, 256 * 1024)).slice(0, 4);
  // chardet reports BOM-less UTF-16 well; trust it only when it is confident.
  const utf16 = guesses.find((g) => /^UTF-16/i.test(g.name) && g.confidence >= 60);
  if (utf16) {
    const enc = utf16.name.toLowerCase();
    return { text: iconv.decode(buf, enc).normalize('NFC'), encoding: enc, bom: false, confidence: utf16.confidence / 100 };
  }
  const candidates = [...new Set([...LEGACY_VI, ...guesses.map((g) => g.name.toLowerCase()).filter((n) => iconv.encodingExists(n) && !/^utf-(16|32)/.test(n))])];
  let best: DecodedText | null = null;
  let bestScore = -Infinity;
  for (const enc of candidates) {
    const text = iconv.decode(buf, enc);
    const score = plausibility(text);
    if (score > bestScore) {
      bestScore = score;
      best = { text: text.normalize('NFC'), encoding: enc, bom: false, confidence: Math.max(0, Math.min(1, score * 5)) };
    }
  }
  return best ?? { text: iconv.decode(buf, 'latin1'), encoding: 'latin1', bom: false, confidence: 0 };
}
