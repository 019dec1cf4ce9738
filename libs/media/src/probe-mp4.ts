import { Mp4Scanner } from './mp4-scanner';
import type { Mp4Info } from './read-movie';

export type { Mp4Info } from './read-movie';

/**
 * Reads duration and video dimensions from a whole MP4's `moov` box without decoding anything, so
 * output custody can refuse files that are not playable video before a job is `succeeded`. It is
 * an Mp4Scanner fed the file at once, so a file judged whole or while streaming gets one answer.
 */
export function probeMp4(buf: Buffer): Mp4Info | null {
  const scanner = new Mp4Scanner();
  scanner.feed(buf);
  return scanner.result();
}
