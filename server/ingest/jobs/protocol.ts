/** Messages between the job runner (parent) and a worker process (child), over the IPC channel. */
import type { JobKind } from '../../db/schema.ts';
import type { ExtractInput, ExtractResult, ThumbnailResult } from '../extractors/types.ts';

export interface RunJobMessage {
  type: 'run';
  jobId: number;
  jobKind: JobKind;
  input: ExtractInput;
}

export type JobOutcome =
  | { ok: true; jobKind: 'extract'; result: ExtractResult }
  | { ok: true; jobKind: 'thumbnail'; result: ThumbnailResult }
  | { ok: false; code: string; message: string; permanent: boolean };

export interface JobDoneMessage {
  type: 'done';
  jobId: number;
  outcome: JobOutcome;
}

export interface ReadyMessage {
  type: 'ready';
}
