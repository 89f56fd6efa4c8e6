/**
 * The one table of media types the store accepts: sniffed type → kind (which extractor) and extension.
 * Anything not listed here is refused with 415. HTML and SVG are never accepted (they would run
 * script if served from our origin).
 */
import type { MediaKind } from '../db/schema.ts';

export interface MediaTypeInfo {
  mediaType: string;
  kind: MediaKind;
  ext: string;
  /** Human label (Vietnamese) for messages and the UI. */
  label: string;
}

const T = (mediaType: string, kind: MediaKind, ext: string, label: string): MediaTypeInfo => ({ mediaType, kind, ext, label });

export const MEDIA_TYPES: readonly MediaTypeInfo[] = [
  T('application/pdf', 'pdf', 'pdf', 'Tài liệu PDF'),
  T('image/jpeg', 'image', 'jpg', 'Ảnh JPEG'),
  T('image/png', 'image', 'png', 'Ảnh PNG'),
  T('image/tiff', 'image', 'tif', 'Ảnh TIFF'),
  T('image/webp', 'image', 'webp', 'Ảnh WebP'),
  T('image/gif', 'image', 'gif', 'Ảnh GIF'),
  T('image/bmp', 'image', 'bmp', 'Ảnh BMP'),
  T('image/heic', 'image', 'heic', 'Ảnh HEIC'),
  T('image/heif', 'image', 'heif', 'Ảnh HEIF'),
  T('image/avif', 'image', 'avif', 'Ảnh AVIF'),
  T('image/jp2', 'image', 'jp2', 'Ảnh JPEG 2000'),
  T('video/mp4', 'video', 'mp4', 'Video MP4'),
  T('video/webm', 'video', 'webm', 'Video WebM'),
  T('video/quicktime', 'video', 'mov', 'Video QuickTime'),
  T('video/x-matroska', 'video', 'mkv', 'Video Matroska'),
  T('video/x-msvideo', 'video', 'avi', 'Video AVI'),
  T('video/mpeg', 'video', 'mpg', 'Video MPEG'),
  T('video/mp2t', 'video', 'ts', 'Video MPEG-TS'),
  T('video/3gpp', 'video', '3gp', 'Video 3GP'),
  T('video/x-ms-wmv', 'video', 'wmv', 'Video Windows Media (WMV)'),
  T('video/x-flv', 'video', 'flv', 'Video Flash (FLV)'),
  T('audio/mpeg', 'audio', 'mp3', 'Âm thanh MP3'),
  T('audio/mp4', 'audio', 'm4a', 'Âm thanh M4A'),
  T('audio/x-m4a', 'audio', 'm4a', 'Âm thanh M4A'),
  T('audio/ogg', 'audio', 'ogg', 'Âm thanh Ogg'),
  T('audio/opus', 'audio', 'opus', 'Âm thanh Opus'),
  T('audio/flac', 'audio', 'flac', 'Âm thanh FLAC'),
  T('audio/wav', 'audio', 'wav', 'Âm thanh WAV'),
  T('audio/aac', 'audio', 'aac', 'Âm thanh AAC'),
  T('audio/amr', 'audio', 'amr', 'Âm thanh AMR'),
  T('audio/3gpp', 'audio', '3gp', 'Âm thanh 3GP'),
  T('audio/x-ms-wma', 'audio', 'wma', 'Âm thanh Windows Media (WMA)'),
  T('audio/webm', 'audio', 'webm', 'Âm thanh WebM'),
  T('audio/x-matroska', 'audio', 'mka', 'Âm thanh Matroska'),
  T('application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'office', 'docx', 'Văn bản Word (DOCX)'),
  T('application/vnd.oasis.opendocument.text', 'office', 'odt', 'Văn bản OpenDocument (ODT)'),
  T('application/msword', 'office', 'doc', 'Văn bản Word 97–2003 (DOC)'),
  T('application/rtf', 'office', 'rtf', 'Văn bản RTF'),
  T('application/epub+zip', 'office', 'epub', 'Sách điện tử EPUB'),
  T('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'office', 'xlsx', 'Bảng tính Excel (XLSX)'),
  T('application/vnd.oasis.opendocument.spreadsheet', 'office', 'ods', 'Bảng tính OpenDocument (ODS)'),
  T('application/vnd.ms-excel', 'office', 'xls', 'Bảng tính Excel 97–2003 (XLS)'),
  T('application/vnd.openxmlformats-officedocument.presentationml.presentation', 'office', 'pptx', 'Bài trình chiếu PowerPoint (PPTX)'),
  T('application/vnd.openxmlformats-officedocument.presentationml.slideshow', 'office', 'ppsx', 'Bài trình chiếu PowerPoint (PPSX)'),
  T('application/vnd.oasis.opendocument.presentation', 'office', 'odp', 'Bài trình chiếu OpenDocument (ODP)'),
  T('application/vnd.ms-powerpoint', 'office', 'ppt', 'Bài trình chiếu PowerPoint 97–2003 (PPT)'),
  T('text/plain', 'text', 'txt', 'Văn bản thuần'),
];

const byType = new Map(MEDIA_TYPES.map((m) => [m.mediaType, m]));

export function mediaTypeInfo(mediaType: string): MediaTypeInfo | undefined {
  return byType.get(mediaType);
}
/** Other extensions in common use for a type, besides its table entry's `ext`. */
const OTHER_EXTENSIONS: Record<string, string[]> = {
  'image/jpeg': ['jpeg', 'jpe', 'jfif'],
  'image/tiff': ['tiff'],
  'image/heic': ['heif'],
  'image/heif': ['heic'],
  'image/jp2': ['j2k', 'jpf', 'jpx'],
  'video/mp4': ['m4v'],
  'video/quicktime': ['qt'],
  'video/x-matroska': ['mk3d'],
  'video/mpeg': ['mpeg', 'mpe', 'vob'],
  'video/mp2t': ['mts', 'm2ts'],
  'video/3gpp': ['3g2'],
  'audio/mp4': ['mp4', 'm4b', 'mov', 'aac'],
  'audio/x-m4a': ['mp4', 'm4b'],
  'audio/3gpp': ['3g2', '3ga'],
  // Ogg Opus and Speex are sniffed as Ogg: their own extensions are kept.
  'audio/ogg': ['oga', 'ogx', 'opus', 'spx'],
  'audio/wav': ['wave'],
  'audio/webm': ['weba'],
  'audio/x-matroska': ['mkv'],
  'application/rtf': ['rtx'],
  'application/vnd.ms-excel': ['xlt'],
  'application/msword': ['dot'],
  'application/vnd.ms-powerpoint': ['pps', 'pot'],
};

/**
 * The name a file is downloaded under: the name it was uploaded with, plus the extension of the
 * type its bytes are when the name says otherwise (a video uploaded as `báo cáo.docx` downloads as
 * `báo cáo.docx.mp4`, so the computer that saves it opens it with a player, not a word processor).
 * Plain text keeps any name (.csv, .md, .srt… are all text).
 */
export function downloadName(name: string, mediaType: string): string {
  const info = byType.get(mediaType);
  if (info === undefined || info.kind === 'text') return name;
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
  if (ext === info.ext || OTHER_EXTENSIONS[mediaType]?.includes(ext)) return name;
  return `${name}.${info.ext}`;
}

export const isImage = (mediaType: string) => byType.get(mediaType)?.kind === 'image';
export const isVideo = (mediaType: string) => byType.get(mediaType)?.kind === 'video';
export const isAudio = (mediaType: string) => byType.get(mediaType)?.kind === 'audio';
export const isPdf = (mediaType: string) => mediaType === 'application/pdf';

const PRESENTATIONS = new Set([
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'application/vnd.openxmlformats-officedocument.presentationml.slideshow',
  'application/vnd.oasis.opendocument.presentation',
  'application/vnd.ms-powerpoint',
]);
/** Slide decks: their text is stored one page per slide. */
export const isPresentation = (mediaType: string) => PRESENTATIONS.has(mediaType);
/** E-books: their text is stored one page per document of the reading order (a chapter or section). */
export const isEbook = (mediaType: string) => mediaType === 'application/epub+zip';
/** Spreadsheets: their text is stored one page per sheet. */
const SPREADSHEETS = new Set([
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.oasis.opendocument.spreadsheet',
  'application/vnd.ms-excel',
]);
export const isSpreadsheet = (mediaType: string) => SPREADSHEETS.has(mediaType);
/** What a numbered text page of a file is: a page (PDF), a slide, an e-book section or a sheet; null for texts stored as page 1 of 1. */
export type PageUnit = 'page' | 'slide' | 'section' | 'sheet';
export function pageUnitOf(mediaType: string): PageUnit | null {
  if (isPdf(mediaType)) return 'page';
  if (isPresentation(mediaType)) return 'slide';
  if (isEbook(mediaType)) return 'section';
  if (isSpreadsheet(mediaType)) return 'sheet';
  return null;
}
/** Types whose text pages are real pages (PDF), slides, e-book sections or sheets, so a passage can name its page. */
export const hasNumberedPages = (mediaType: string) => pageUnitOf(mediaType) !== null;

/**
 * Types a current browser plays in <video>/<audio> (the others are offered for download, with the
 * thumbnail or waveform as their picture). Chromium and Firefox play MP4/H.264, WebM, Ogg, MP3, AAC,
 * FLAC, WAV and WebM audio (Chromium also QuickTime and Matroska with those codecs); Windows Media, Flash video, AVI, MPEG program/transport streams, 3GP and AMR they do not.
 */
const PLAYABLE = new Set(['video/mp4', 'video/webm', 'video/quicktime', 'video/x-matroska', 'audio/mpeg', 'audio/mp4', 'audio/x-m4a', 'audio/ogg', 'audio/opus', 'audio/flac', 'audio/wav', 'audio/aac', 'audio/webm', 'audio/x-matroska']);
export const playsInBrowser = (mediaType: string) => PLAYABLE.has(mediaType);
