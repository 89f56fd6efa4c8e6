/** ISBN normalisation, shared by the record fields and the search query parser (no other imports). */

/** Normalise an ISBN (drop hyphens/spaces) and check its ISBN-10 or ISBN-13 checksum; null when invalid. */
export function normaliseIsbn(input: string): string | null {
  const s = input.replace(/^ISBN(-1[03])?:?\s*/i, '').replace(/[\s-]/g, '').toUpperCase();
  if (/^\d{9}[\dX]$/.test(s)) {
    let sum = 0;
    for (let i = 0; i < 10; i++) sum += (s[i] === 'X' ? 10 : Number(s[i])) * (10 - i);
    return sum % 11 === 0 ? s : null;
  }
  if (/^97[89]\d{10}$/.test(s)) {
    let sum = 0;
    for (let i = 0; i < 13; i++) sum += Number(s[i]) * (i % 2 === 0 ? 1 : 3);
    return sum % 10 === 0 ? s : null;
  }
  return null;
}
