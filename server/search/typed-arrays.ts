/** Growing the typed arrays the indexes keep per document or per token. */

type TypedArray = Uint8Array | Int32Array | Uint32Array | Float32Array | Float64Array;

/** A new array of the same type and `length` elements, holding `a`'s values first (the rest zero). */
export function grownTo<T extends TypedArray>(a: T, length: number): T {
  const b = new (a.constructor as new (n: number) => T)(length);
  (b as Uint8Array).set(a.length <= length ? (a as Uint8Array) : (a.subarray(0, length) as Uint8Array));
  return b;
}
