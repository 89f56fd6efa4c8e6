/** Picks the extractor for a media kind (the kind comes from the sniffed type, see media-types.ts). */
import type { MediaKind } from '../../db/schema.ts';
import type { Extractor } from './types.ts';
import { imageExtractor } from './image.ts';
import { pdfExtractor } from './pdf.ts';
import { videoExtractor } from './video.ts';
import { audioExtractor } from './audio.ts';
import { officeExtractor } from './office.ts';
import { textExtractor } from './text.ts';

const EXTRACTORS: Record<MediaKind, Extractor> = {
  image: imageExtractor,
  pdf: pdfExtractor,
  video: videoExtractor,
  audio: audioExtractor,
  office: officeExtractor,
  text: textExtractor,
};

export function getExtractor(kind: MediaKind): Extractor {
  const e = EXTRACTORS[kind];
  if (!e) throw new Error(`No extractor for media kind "${kind}"`);
  return e;
}
