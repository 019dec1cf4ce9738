import type { Mp4Info } from '@reelay/media';

export interface OutputRules {
  maxBytes: number;
  minBytes: number;
  downloadTimeoutMs: number;
}

export type OutputVerdict =
  | { ok: true; contentType: 'video/mp4'; durationSeconds: number; width: number | null; height: number | null }
  | { ok: false; reason: string };

const GENERIC_TYPES = new Set(['', 'application/octet-stream', 'binary/octet-stream']);

/**
 * Is this downloaded file the video we promise? The declared type must be video/* (or say
 * nothing useful, e.g. octet-stream from object storage), the size plausible, and the bytes an
 * MP4 whose header gives a positive duration (`probe`: what an Mp4Scanner read while copying it).
 */
export function judgeOutput(file: { bytes: number; probe: Mp4Info | null }, declaredType: string | null, rules: Pick<OutputRules, 'minBytes' | 'maxBytes'>): OutputVerdict {
  const type = (declaredType ?? '').split(';')[0].trim().toLowerCase();
  if (file.bytes === 0) return { ok: false, reason: 'output is empty' };
  if (!type.startsWith('video/') && !GENERIC_TYPES.has(type)) return { ok: false, reason: `output content type is ${type.slice(0, 60)}, not a video` };
  if (file.bytes < rules.minBytes) return { ok: false, reason: `output is only ${file.bytes} bytes` };
  if (file.bytes > rules.maxBytes) return { ok: false, reason: `output exceeds ${rules.maxBytes} bytes` };
  const probe = file.probe;
  if (!probe) return { ok: false, reason: 'output is not a readable MP4' };
  if (!(probe.durationSeconds > 0)) return { ok: false, reason: 'output MP4 has no duration' };
  return { ok: true, contentType: 'video/mp4', durationSeconds: Math.round(probe.durationSeconds * 1000) / 1000, width: probe.width, height: probe.height };
}
