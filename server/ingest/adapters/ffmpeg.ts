/**
 * The only module that spawns ffmpeg/ffprobe. Binaries come from the npm installers by default;
 * config (FFMPEG_PATH/FFPROBE_PATH) passes other paths through `ExtractLimits`.
 * Every run has a wall-clock limit (killed with SIGKILL past it) and a cap on captured output.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { PermanentExtractError } from '../extractors/types.ts';

const require = createRequire(import.meta.url);

/** Path of the ffmpeg binary installed by @ffmpeg-installer/ffmpeg. */
export function defaultFfmpegPath(): string {
  return (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
}

/** Path of the ffprobe binary installed by @ffprobe-installer/ffprobe. */
export function defaultFfprobePath(): string {
  return (require('@ffprobe-installer/ffprobe') as { path: string }).path;
}

export interface RunResult {
  stdout: Buffer;
  stderr: string;
  code: number | null;
  /** The signal that ended the process when it crashed (e.g. SIGSEGV), else null. */
  signal: NodeJS.Signals | null;
}

export interface RunOptions {
  /** Absolute deadline (ms since epoch); the process is killed after it. */
  deadline: number;
  maxStdoutBytes?: number;
  /** Hands each piece of stdout to this function instead of collecting it (no output cap then; `stdout` is empty). */
  onStdout?: (chunk: Buffer) => void;
}

/** Runs a binary, collecting stdout (bounded) and the tail of stderr. */
export function run(bin: string, args: string[], opts: RunOptions): Promise<RunResult> {
  const maxOut = opts.maxStdoutBytes ?? 64 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    let killedFor: string | null = null;
    const ms = Math.max(1, opts.deadline - Date.now());
    const timer = setTimeout(() => {
      killedFor = 'TIMEOUT';
      child.kill('SIGKILL');
    }, ms);
    child.stdout.on('data', (c: Buffer) => {
      if (opts.onStdout) {
        opts.onStdout(c);
        return;
      }
      outBytes += c.length;
      if (outBytes > maxOut) {
        killedFor = 'OUTPUT';
        child.kill('SIGKILL');
        return;
      }
      chunks.push(c);
    });
    child.stderr.on('data', (c: Buffer) => {
      err = (err + c.toString('utf8')).slice(-8192);
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`Cannot run ${bin}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (killedFor === 'TIMEOUT') return reject(new PermanentExtractError('TIMEOUT', `${bin.split('/').pop()} did not finish in time`));
      if (killedFor === 'OUTPUT') return reject(new PermanentExtractError('MEDIA_MALFORMED', `${bin.split('/').pop()} produced more output than allowed`));
      resolve({ stdout: Buffer.concat(chunks), stderr: err, code, signal });
    });
  });
}

/** The parts of `ffprobe -show_format -show_streams` we read. */
export interface ProbeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  profile?: string;
  width?: number;
  height?: number;
  sample_aspect_ratio?: string;
  pix_fmt?: string;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  sample_rate?: string;
  channels?: number;
  channel_layout?: string;
  bit_rate?: string;
  duration?: string;
  nb_frames?: string;
  disposition?: Record<string, number>;
  tags?: Record<string, string>;
  side_data_list?: Array<Record<string, unknown>>;
}
export interface ProbeResult {
  streams: ProbeStream[];
  format: { format_name?: string; format_long_name?: string; duration?: string; bit_rate?: string; size?: string; tags?: Record<string, string> };
}

/**
 * Probes container and streams. Fails with MEDIA_MALFORMED when ffprobe cannot read the file. When
 * ffprobe crashes on it (the bundled static build dies with SIGSEGV in its MPEG-TS demuxer, so on
 * every `.ts`, a TV station's recording, and every camcorder `.mts`/`.m2ts`) and `ffmpegPath` is
 * given, the file is read through ffmpeg instead (`probeThroughRemux`); MEDIA_PROBE_CRASHED only when
 * that fails too.
 */
export async function probe(path: string, ffprobePath: string, deadline: number, ffmpegPath?: string): Promise<ProbeResult> {
  const r = await run(ffprobePath, ['-v', 'error', '-hide_banner', '-show_format', '-show_streams', '-of', 'json', '-i', path], { deadline, maxStdoutBytes: 8 * 1024 * 1024 });
  let parsed: Partial<ProbeResult> = {};
  try {
    parsed = JSON.parse(r.stdout.toString('utf8') || '{}') as Partial<ProbeResult>;
  } catch {
    /* handled below */
  }
  if (r.signal !== null) {
    // Not the file's fault: the bundled static ffprobe, for one, crashes on every MPEG-TS file.
    const viaFfmpeg = ffmpegPath !== undefined && Date.now() < deadline ? await probeThroughRemux(path, ffmpegPath, ffprobePath, deadline) : null;
    if (viaFfmpeg !== null) return viaFfmpeg;
    throw new PermanentExtractError(
      'MEDIA_PROBE_CRASHED',
      `ffprobe crashed (${r.signal}) while reading this file; another ffprobe build (FFPROBE_PATH) may read it`,
    );
  }
  if (r.code !== 0 || !parsed.format) {
    throw new PermanentExtractError('MEDIA_MALFORMED', `The media file could not be read: ${lastLine(r.stderr) || 'unknown format'}`);
  }
  return { streams: parsed.streams ?? [], format: parsed.format };
}

/**
 * Probes a file that ffprobe cannot open itself: ffmpeg (a build whose demuxers differ) opens it and
 * copies its video and audio streams, unchanged, into a NUT stream on a pipe, and ffprobe reads
 * that stream's header: codecs, sizes, frame rates, languages, tags as ffprobe reports them. ffprobe
 * stops after the header and its analysis window (a few MB), and ffmpeg is killed then, so a 4 GB
 * recording is not copied. The container's name, duration and bit rate, which the pipe cannot tell,
 * are read from ffmpeg's own description of its input ("Input #0, mpegts", "Duration: 00:12:03.52, …,
 * bitrate: 8000 kb/s"). Null when that does not give a readable stream either.
 */
export async function probeThroughRemux(path: string, ffmpegPath: string, ffprobePath: string, deadline: number): Promise<ProbeResult | null> {
  const MAX_OUT = 8 * 1024 * 1024;
  return new Promise((resolve) => {
    const ff = spawn(ffmpegPath, ['-hide_banner', '-nostdin', '-v', 'info', '-i', path, '-map', '0:v?', '-map', '0:a?', '-dn', '-sn', '-c', 'copy', '-f', 'nut', 'pipe:1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const fp = spawn(ffprobePath, ['-v', 'error', '-hide_banner', '-show_format', '-show_streams', '-of', 'json', '-i', 'pipe:0'], { stdio: ['pipe', 'pipe', 'ignore'] });
    let ffErr = '';
    const out: Buffer[] = [];
    let outBytes = 0;
    let done = false;
    const finish = (r: ProbeResult | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      ff.kill('SIGKILL');
      fp.kill('SIGKILL');
      resolve(r);
    };
    const timer = setTimeout(() => finish(null), Math.max(1, deadline - Date.now()));
    ff.stderr.on('data', (c: Buffer) => {
      if (ffErr.length < 65536) ffErr += c.toString('utf8');
    });
    // NUT, not Matroska: it takes every codec as it is (Matroska refuses a camcorder's ADTS AAC without
    // a bitstream filter). ffprobe closes its input once it has read enough: the broken pipe is expected.
    fp.stdin.on('error', () => {});
    ff.stdout.pipe(fp.stdin);
    fp.stdout.on('data', (c: Buffer) => {
      outBytes += c.length;
      if (outBytes > MAX_OUT) return finish(null);
      out.push(c);
    });
    ff.on('error', () => finish(null));
    fp.on('error', () => finish(null));
    fp.on('close', (code) => {
      if (code !== 0) return finish(null);
      let parsed: Partial<ProbeResult>;
      try {
        parsed = JSON.parse(Buffer.concat(out).toString('utf8') || '{}') as Partial<ProbeResult>;
      } catch {
        return finish(null);
      }
      const streams = parsed.streams ?? [];
      if (!parsed.format || !streams.length) return finish(null);
      // ffmpeg has described its input by the time ffprobe has read the header it wrote.
      const input = /Input #0, ([^,\n]+),/.exec(ffErr);
      const dur = /Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)/.exec(ffErr);
      const rate = /Duration: [^\n]*bitrate: (\d+) kb\/s/.exec(ffErr);
      const format: ProbeResult['format'] = { ...parsed.format, format_name: input?.[1] ?? parsed.format.format_name, format_long_name: undefined };
      delete format.duration;
      delete format.size;
      if (dur) format.duration = String(Number(dur[1]) * 3600 + Number(dur[2]) * 60 + Number(dur[3]));
      format.bit_rate = rate ? String(Number(rate[1]) * 1000) : undefined;
      // The pipe's stream durations are what was copied before ffprobe stopped, not the file's.
      finish({ streams: streams.map((st) => ({ ...st, duration: undefined, nb_frames: undefined })), format });
    });
  });
}

/**
 * Measures what is really decodable: decodes the given stream type to the null muxer and returns
 * the last timestamp reached (seconds), or null when nothing decodes.
 */
export async function measureDecodedDuration(path: string, ffmpegPath: string, stream: 'a' | 'v', deadline: number): Promise<number | null> {
  const r = await run(ffmpegPath, ['-hide_banner', '-nostdin', '-v', 'info', '-i', path, '-map', `0:${stream}:0`, '-f', 'null', '-'], { deadline, maxStdoutBytes: 1024 });
  const times = [...r.stderr.matchAll(/time=(\d+):(\d+):(\d+(?:\.\d+)?)/g)];
  if (!times.length) return null;
  const [, h, m, s] = times[times.length - 1];
  return Number(h) * 3600 + Number(m) * 60 + Number(s);
}

/** One video frame at `seconds` as PNG, rotation applied, square pixels, long side ≤ maxSide. */
export async function grabFrame(path: string, ffmpegPath: string, seconds: number, maxSide: number, deadline: number): Promise<Buffer | null> {
  const scale = `scale='trunc(iw*sar/2)*2':ih,setsar=1,scale='if(gt(iw,ih),min(${maxSide},iw),-2)':'if(gt(iw,ih),-2,min(${maxSide},ih))'`;
  const args = ['-hide_banner', '-nostdin', '-v', 'error', '-ss', seconds.toFixed(3), '-i', path, '-map', '0:v:0', '-frames:v', '1', '-vf', scale, '-f', 'image2pipe', '-vcodec', 'png', '-'];
  const r = await run(ffmpegPath, args, { deadline });
  return r.stdout.length > 0 ? r.stdout : null;
}

/** The attached picture (cover art) stream of a file, as encoded (usually JPEG or PNG). */
export async function extractAttachedPicture(path: string, ffmpegPath: string, streamIndex: number, deadline: number): Promise<Buffer | null> {
  const r = await run(ffmpegPath, ['-hide_banner', '-nostdin', '-v', 'error', '-i', path, '-map', `0:${streamIndex}`, '-frames:v', '1', '-f', 'image2pipe', '-vcodec', 'png', '-'], { deadline });
  return r.stdout.length > 0 ? r.stdout : null;
}

/**
 * Peak levels of the first audio stream: `buckets` values in 0..1, from mono 8 kHz samples.
 * Returns null when no audio decodes.
 */
export async function audioPeaks(path: string, ffmpegPath: string, buckets: number, deadline: number): Promise<number[] | null> {
  const rate = 8000;
  // The decoded samples are not kept: each block of BLOCK samples (10 ms) leaves its peak, and the
  // blocks are shared out among the buckets at the end, so a recording of any length (a 10-hour
  // radio archive) fits. (The whole decoded output was kept before, and past 4.4 hours its cap
  // failed the waveform as MEDIA_MALFORMED.)
  const BLOCK = rate / 100;
  let blocks = new Float32Array(1 << 12);
  let nBlocks = 0;
  let inBlock = 0;
  let peak = 0;
  let carry: Buffer | null = null;
  const closeBlock = () => {
    if (nBlocks === blocks.length) {
      const grown = new Float32Array(blocks.length * 2);
      grown.set(blocks);
      blocks = grown;
    }
    blocks[nBlocks++] = peak;
    peak = 0;
    inBlock = 0;
  };
  await run(ffmpegPath, ['-hide_banner', '-nostdin', '-v', 'error', '-i', path, '-map', '0:a:0', '-ac', '1', '-ar', String(rate), '-f', 's16le', '-acodec', 'pcm_s16le', '-'], {
    deadline,
    onStdout: (chunk) => {
      const c: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
      const even = c.length & ~1;
      for (let i = 0; i < even; i += 2) {
        const v = Math.abs(c.readInt16LE(i)) / 32768;
        if (v > peak) peak = v;
        if (++inBlock === BLOCK) closeBlock();
      }
      carry = even < c.length ? Buffer.from(c.subarray(even)) : null;
    },
  });
  if (inBlock > 0) closeBlock();
  if (nBlocks === 0) return null;
  // Each bucket takes the peak of its share of the blocks (at least one: a clip shorter than
  // `buckets` blocks is drawn in steps).
  const peaks = new Array<number>(buckets).fill(0);
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor((b * nBlocks) / buckets);
    const end = Math.max(start + 1, Math.floor(((b + 1) * nBlocks) / buckets));
    for (let i = start; i < end; i++) if (blocks[i] > peaks[b]) peaks[b] = blocks[i];
  }
  return peaks;
}

/**
 * Decodes a still image ffmpeg can read but libvips cannot (BMP, JPEG 2000) to PNG, already shrunk
 * to `maxSide` on the long side (never enlarged) so no full-size copy crosses the pipe.
 */
export async function decodeStillToPng(path: string, ffmpegPath: string, deadline: number, maxSide = 1024): Promise<Buffer | null> {
  const scale = `scale='if(gt(iw,ih),min(${maxSide},iw),-1)':'if(gt(iw,ih),-1,min(${maxSide},ih))'`;
  const r = await run(ffmpegPath, ['-hide_banner', '-nostdin', '-v', 'error', '-i', path, '-frames:v', '1', '-vf', scale, '-f', 'image2pipe', '-vcodec', 'png', '-'], { deadline, maxStdoutBytes: 64 * 1024 * 1024 });
  return r.code === 0 && r.stdout.length > 0 ? r.stdout : null;
}

function lastLine(s: string): string {
  return s.trim().split('\n').pop()?.trim() ?? '';
}

/**
 * How many seconds of audio decode from `seconds` on, at most `span` (cheap check that a claimed
 * duration is really there: a file cut short decodes less than the span, or nothing).
 */
export async function decodedAudioFrom(path: string, ffmpegPath: string, seconds: number, span: number, deadline: number): Promise<number> {
  const r = await run(ffmpegPath, ['-hide_banner', '-nostdin', '-v', 'info', '-ss', seconds.toFixed(3), '-i', path, '-map', '0:a:0', '-t', String(span), '-f', 'null', '-'], { deadline, maxStdoutBytes: 1024 });
  const times = [...r.stderr.matchAll(/time=(\d+):(\d+):(\d+(?:\.\d+)?)/g)];
  if (!times.length) return 0;
  const [, h, m, s] = times[times.length - 1];
  return Number(h) * 3600 + Number(m) * 60 + Number(s);
}
