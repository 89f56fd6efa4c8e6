/**
 * A floor under an upload's rate. The idle timer drops a client that sends nothing for
 * `idleTimeoutMs`; one that sends a byte now and then (a trickle, by accident or on purpose) would
 * keep its request, its socket and its temp file for ever. This watcher counts the socket's bytes
 * over windows of `windowMs` and calls `onSlow` when a window after the first brought some bytes but
 * fewer than `minBytesPerSecond × window`. 0 turns it off.
 */
import type { Socket } from 'node:net';

export function watchUploadRate(socket: Socket | null | undefined, windowMs: number, minBytesPerSecond: number, onSlow: (received: number) => void): () => void {
  if (!socket || minBytesPerSecond <= 0 || windowMs <= 0) return () => {};
  const floor = (minBytesPerSecond * windowMs) / 1000;
  let last = socket.bytesRead;
  let windows = 0;
  const timer = setInterval(() => {
    const now = socket.bytesRead;
    const received = now - last;
    last = now;
    // The first window is not judged (a form sent at once, then silence, is a stall for the idle
    // timer to name), nor is a window without a byte (the idle timer's too).
    if (++windows > 1 && received > 0 && received < floor) {
      clearInterval(timer);
      onSlow(received);
    }
  }, windowMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** The message of `408 UPLOAD_TOO_SLOW`. */
export function tooSlowMessage(received: number, windowMs: number, minBytesPerSecond: number): string {
  const s = Math.round(windowMs / 1000);
  return `Only ${received} bytes arrived in the last ${s} s, below the floor of ${minBytesPerSecond} bytes a second: the upload was dropped`;
}
