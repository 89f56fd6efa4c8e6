/**
 * Image extractor (JPEG, PNG, TIFF, WebP, GIF, BMP, HEIC/HEIF, AVIF, JPEG 2000 as far as libvips reads it).
 *
 * Metadata keys:
 * - `format` (libvips loader name: jpeg, png, tiff, webp, gif, heif…), `compression` (hevc/av1 for HEIF)
 * - `width`, `height`: after EXIF orientation; `storedWidth`, `storedHeight` as encoded
 * - `orientation` (EXIF 1–8, 1 when absent), `colorSpace` (srgb, cmyk, b-w, rgb16, grey16, lab…),
 *   `channels`, `bitDepth` (bits per sample), `hasAlpha`, `hasIccProfile`, `pages` (frames/pages), `density` (dpi)
 * - `exif`: `{dateTaken, make, model, software, artist, copyright, description, title, subject, comment, keywords, gps:{lat, lon, alt}}`
 *   (title…keywords: Windows' XP* tags)
 * - `iptc`: `{caption, credit, byline, copyright, source, objectName, city, country, keywords, dateCreated}`
 * - `xmp`: `{title, description, creator, rights, credit, createDate, creatorTool, rating, subject}`
 * - `png`: `{title, author, description, copyright, comment, source, creationTime, software}` (PNG text chunks)
 *
 * Text: the words the photo carries about itself (XMP/IPTC/EXIF titles, captions, creators, keywords,
 * rights; one per line, as an audio file's tags), none when it carries none.
 *
 * Thumbnails: first page/frame, oriented, sRGB. A truncated file is first decoded strictly; when
 * that fails the thumbnail is made from what can be decoded and the result carries a note
 * (archivists see a partly grey picture rather than nothing). Failures: IMAGE_TOO_LARGE (pixel cap),
 * IMAGE_MALFORMED, HEIC_UNSUPPORTED (HEIC the WebAssembly decoder cannot read), EMPTY_FILE.
 */
import { readImageHeader, writeThumbnails, type ImageHeader, type ImageSource } from '../adapters/sharp.ts';
import { decodeHeic } from '../adapters/heic.ts';
import { decodeStillToPng, probe } from '../adapters/ffmpeg.ts';
import { assertNotEmpty, compact, tagText } from './common.ts';
import { parseExif, parseIptc, parseXmp, readPngText, readTiffIfd0 } from './image-tags.ts';
import { PermanentExtractError, type ExtractInput, type ExtractResult, type Extractor, type ThumbnailResult } from './types.ts';

const isHevc = (format: string, compression: string | null) => format === 'heif' && compression !== 'av1';

type Header = ImageHeader & { viaFfmpeg?: boolean };

/**
 * libvips reads most formats; the prebuilt one has no BMP or JPEG 2000 loader, so those fall back
 * to ffprobe for the header and ffmpeg for the pixels.
 */
async function readHeader(input: ExtractInput): Promise<Header> {
  try {
    return await readImageHeader(input.path, input.limits.maxImagePixels);
  } catch (err) {
    if (!(err instanceof PermanentExtractError) || !/unsupported image format/i.test(err.message)) throw err;
    const p = await probe(input.path, input.limits.ffprobePath, input.limits.deadline).catch(() => null);
    const v = p?.streams.find((s) => s.codec_type === 'video' && s.width && s.height);
    if (!p || !v?.width || !v.height) throw err;
    if (v.width * v.height > input.limits.maxImagePixels) {
      throw new PermanentExtractError('IMAGE_TOO_LARGE', `The image claims ${v.width}×${v.height} pixels, more than the limit of ${input.limits.maxImagePixels}`);
    }
    const pix = v.pix_fmt ?? '';
    const bits = /64|48|16/.test(pix) ? 16 : /pal8|gray$|bgr24|rgb24|bgra|rgba|argb|abgr|0rgb|bgr0/.test(pix) ? 8 : null;
    return {
      format: v.codec_name === 'jpeg2000' ? 'jp2k' : (v.codec_name ?? 'unknown'),
      width: v.width, height: v.height, orientedWidth: v.width, orientedHeight: v.height, orientation: 1,
      space: /gray/.test(pix) ? 'b-w' : 'srgb', channels: /a|bgr0/.test(pix.replace('pal8', '')) ? 4 : 3, depth: 'uchar',
      bitsPerSample: bits, hasAlpha: /rgba|bgra|argb|abgr|ya/.test(pix), hasProfile: false, pages: 1, compression: null, density: null,
      viaFfmpeg: true,
    };
  }
}

/** ImageDescription that cameras fill in by themselves. */
const CAMERA_STOCK_DESCRIPTION = /^(OLYMPUS DIGITAL CAMERA|SONY DSC|DIGITAL CAMERA|KONICA MINOLTA DIGITAL CAMERA|MINOLTA DIGITAL CAMERA|SAMSUNG|DCIM|default)$/i;

export const imageExtractor: Extractor = {
  kind: 'image',

  async extract(input: ExtractInput): Promise<ExtractResult> {
    await assertNotEmpty(input);
    const h = await readHeader(input);
    // A TIFF's own IFD0 holds its caption and author (libvips gives no EXIF block for them); an EXIF
    // block, when there is one, has the camera's.
    const tiff = h.format === 'tiff' ? parseExif(await readTiffIfd0(input.path).catch(() => undefined)) : {};
    const exif = { ...compact({ ...tiff }), ...compact({ ...parseExif(h.exif) }) } as ReturnType<typeof parseExif>;
    const iptc = parseIptc(h.iptc);
    const xmp = parseXmp(h.xmp);
    const png = h.format === 'png' ? await readPngText(input.path) : {};
    // The words a photo carries about itself, as an audio file's tags: titles, captions, people,
    // keywords, rights (a camera's stock description, "OLYMPUS DIGITAL CAMERA", is no caption).
    const description = exif.description && !CAMERA_STOCK_DESCRIPTION.test(exif.description) ? exif.description : undefined;
    const pages = tagText([
      xmp.title, iptc.objectName, exif.title, png.title,
      xmp.description, iptc.caption, description, exif.subject, exif.comment, png.description, png.comment,
      xmp.creator, iptc.byline, exif.artist, png.author,
      xmp.subject, iptc.keywords, exif.keywords,
      xmp.rights, iptc.copyright, exif.copyright, png.copyright,
    ]);
    const metadata = compact({
      format: h.format,
      compression: h.compression,
      width: h.orientedWidth,
      height: h.orientedHeight,
      storedWidth: h.width,
      storedHeight: h.height,
      orientation: h.orientation,
      colorSpace: h.space,
      channels: h.channels,
      bitDepth: h.bitsPerSample,
      hasAlpha: h.hasAlpha,
      hasIccProfile: h.hasProfile,
      pages: h.pages,
      density: h.density,
      exif: compact({ ...exif, orientation: undefined }),
      iptc: compact({ ...iptc }),
      xmp: compact({ ...xmp }),
      png: compact({ ...png }),
    });
    return { metadata, pages };
  },

  async thumbnail(input: ExtractInput): Promise<ThumbnailResult> {
    await assertNotEmpty(input);
    const maxPixels = input.limits.maxImagePixels;
    const h = await readHeader(input);
    let source: ImageSource = { path: input.path };
    if (isHevc(h.format, h.compression)) {
      source = { raw: await decodeHeic(input.path, maxPixels, h) };
    } else if (h.viaFfmpeg) {
      const png = await decodeStillToPng(input.path, input.limits.ffmpegPath, input.limits.deadline);
      if (!png) throw new PermanentExtractError('IMAGE_MALFORMED', `The ${h.format} image could not be decoded`);
      source = { buffer: png };
    }
    try {
      return { derivatives: await writeThumbnails(source, input.workDir, { maxPixels }) };
    } catch (err) {
      if (!(err instanceof PermanentExtractError) || err.code !== 'IMAGE_MALFORMED' || !('path' in source)) throw err;
      // Truncated or partly corrupt: keep what can be decoded, and say so.
      const derivatives = await writeThumbnails(source, input.workDir, { maxPixels, lenient: true });
      const message = `Damaged or truncated image: the thumbnail shows only the part that could be decoded (${err.message})`;
      return { derivatives, note: message, warning: { code: 'IMAGE_DAMAGED', message } };
    }
  },
};
