/**
 * Entry point of an extraction worker process. It runs one job at a time, sent by the runner over
 * IPC, and answers with the outcome. The runner enforces the time and memory caps by killing this
 * process, so nothing here needs to defend against hangs beyond reporting errors.
 */
import { storageFault } from '../../errors.ts';
import { getExtractor } from '../extractors/index.ts';
import { PermanentExtractError } from '../extractors/types.ts';
import type { JobDoneMessage, JobOutcome, RunJobMessage } from './protocol.ts';

const send = (msg: JobDoneMessage | { type: 'ready' }) =>
  new Promise<void>((resolve) => {
    if (!process.send) return resolve();
    process.send(msg, undefined, {}, () => resolve());
  });

async function run(msg: RunJobMessage): Promise<JobOutcome> {
  try {
    const extractor = getExtractor(msg.input.kind);
    if (msg.jobKind === 'extract') return { ok: true, jobKind: 'extract', result: await extractor.extract(msg.input) };
    return { ok: true, jobKind: 'thumbnail', result: await extractor.thumbnail(msg.input) };
  } catch (e) {
    if (e instanceof PermanentExtractError) return { ok: false, code: e.code, message: scrubPaths(e.message, msg.input), permanent: true };
    const error = e as Error;
    // The scratch folder's disk full or read-only: a reason with a stable code, tried again later.
    return { ok: false, code: storageFault(e)?.code ?? 'EXTRACT_ERROR', message: scrubPaths(error?.message ?? String(e), msg.input), permanent: false };
  }
}

/**
 * The reason is shown to archivists with the record: tools' messages that quote the blob's path
 * (ffprobe: "<path>: Invalid data found…") or the scratch folder must not expose the store's layout.
 */
function scrubPaths(message: string, input: { path: string; workDir: string }): string {
  return message.split(`${input.path}: `).join('').split(input.path).join('(file)').split(input.workDir).join('(work)');
}

process.on('message', (msg: RunJobMessage) => {
  if (msg?.type !== 'run') return;
  void run(msg).then((outcome) => send({ type: 'done', jobId: msg.jobId, outcome }));
});
process.on('disconnect', () => process.exit(0));
void send({ type: 'ready' });
