/**
 * Words typed with a Vietnamese input method that was off (or not switched to Vietnamese): the keys
 * meant as marks are left in the word. Telex: `dd` đ, `aa` â, `aw` ă, `ee` ê, `oo` ô, `ow` ơ, `uw` ư
 * (`uow` ươ), tones `s` sắc, `f` huyền, `r` hỏi, `x` ngã, `j` nặng (`vieetj` → việt, `dduwowngf` →
 * đường). VNI: `a6` â, `a8` ă, `e6` ê, `o6` ô, `o7` ơ, `u7` ư, `d9` đ, tones 1–5 (`vie6t5` → việt).
 * Only a word no record holds is read this way (see plan in service.ts).
 */

export interface TypedSyllable {
  /** The letters with their vowel marks and đ (ă â ê ô ơ ư đ), no tone: `viêt`, `đương`. */
  skeleton: string;
  /** The tone's combining mark (U+0300 huyền, U+0301 sắc, U+0309 hỏi, U+0303 ngã, U+0323 nặng), '' for none. */
  tone: string;
}

const TELEX_TONES: Record<string, string> = { s: '\u0301', f: '\u0300', r: '\u0309', x: '\u0303', j: '\u0323' };
const VNI_TONES: Record<string, string> = { '1': '\u0301', '2': '\u0300', '3': '\u0309', '4': '\u0303', '5': '\u0323' };
const FINALS = /^(?:ch|ng|nh|[cmnpt])?$/;
const VOWELS = 'aăâeêioôơuưy';

/**
 * The syllable a word typed with telex or VNI keys spells, or null when the word holds none of them
 * (or is not one syllable's worth of letters). Lower-case input.
 */
export function decodeTyping(word: string): TypedSyllable | null {
  if (word.length < 2 || word.length > 12 || !/^[a-zđ0-9]+$/.test(word) || /^\d+$/.test(word)) return null;
  const vni = /[1-9]/.test(word);
  let tone = '';
  let changed = false;
  const out: string[] = [];
  const lastIndexOf = (pred: (c: string) => boolean): number => {
    for (let k = out.length - 1; k >= 0; k--) if (pred(out[k])) return k;
    return -1;
  };
  for (let i = 0; i < word.length; i++) {
    const c = word[i];
    if (vni) {
      if (/[a-zđ]/.test(c)) {
        out.push(c);
        continue;
      }
      if (c in VNI_TONES) {
        if (tone !== '' || lastIndexOf((x) => VOWELS.includes(x)) < 0) return null;
        tone = VNI_TONES[c];
      } else if (c === '6') {
        const k = lastIndexOf((x) => x === 'a' || x === 'e' || x === 'o');
        if (k < 0) return null;
        out[k] = { a: 'â', e: 'ê', o: 'ô' }[out[k]]!;
      } else if (c === '8') {
        const k = lastIndexOf((x) => x === 'a');
        if (k < 0) return null;
        out[k] = 'ă';
      } else if (c === '7') {
        const k = lastIndexOf((x) => x === 'o' || x === 'u');
        if (k < 0) return null;
        // `uo7` is ươ, as input methods write it.
        if (out[k] === 'o' && out[k - 1] === 'u') out[k - 1] = 'ư';
        out[k] = out[k] === 'o' ? 'ơ' : 'ư';
      } else if (c === '9') {
        const k = lastIndexOf((x) => x === 'd');
        if (k < 0) return null;
        out[k] = 'đ';
      } else return null;
      changed = true;
      continue;
    }
    const prev = out[out.length - 1];
    if (c === 'd' && prev === 'd' && out.length === 1) {
      out[0] = 'đ';
      changed = true;
    } else if ((c === 'a' || c === 'e' || c === 'o') && prev === c) {
      out[out.length - 1] = { a: 'â', e: 'ê', o: 'ô' }[c]!;
      changed = true;
    } else if (c === 'w') {
      const k = lastIndexOf((x) => x === 'a' || x === 'o' || x === 'u');
      if (k < 0) return null;
      if (out[k] === 'o' && out[k - 1] === 'u') out[k - 1] = 'ư';
      out[k] = { a: 'ă', o: 'ơ', u: 'ư' }[out[k]]!;
      changed = true;
    } else if (c in TELEX_TONES && out.some((x) => VOWELS.includes(x)) && FINALS.test(word.slice(i + 1)) && tone === '') {
      // A tone key after the vowel, at the end or before the final consonant (`vieetj`, `baafng`).
      tone = TELEX_TONES[c];
      changed = true;
    } else out.push(c);
  }
  if (!changed) return null;
  const skeleton = out.join('');
  // One syllable's letters: an onset, one to three vowels, a final.
  if (!/^(?:ngh|ng|nh|ch|gh|gi|kh|ph|th|tr|qu|[bcdđghklmnpqrstvx])?[aăâeêioôơuưy]{1,3}(?:ng|nh|ch|[cmnpt])?$/.test(skeleton)) return null;
  return { skeleton, tone };
}

/** Whether a spelling (lower case, NFC) is the typed syllable: the same letters and vowel marks, the same tone. */
export function spellsTyped(spelling: string, typed: TypedSyllable): boolean {
  const nfd = spelling.normalize('NFD');
  const tone = nfd.match(/[\u0300\u0301\u0303\u0309\u0323]/)?.[0] ?? '';
  return tone === typed.tone && nfd.replace(/[\u0300\u0301\u0303\u0309\u0323]/g, '').normalize('NFC') === typed.skeleton;
}
