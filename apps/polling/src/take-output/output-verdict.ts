import { probeMp4 } from '@reelay/media';

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
 * MP4 whose header gives a positive duration.
 */
export function judgeOutput(file: Buffer, declaredType: string | null, rules: Pick<OutputRules, 'minBytes' | 'maxBytes'>): OutputVerdict {
  const type = (declaredType ?? '').split(';')[0].trim().toLowerCase();
  if (file.length === 0) return { ok: false, reason: 'output is empty' };
  if (!type.startsWith('video/') && !GENERIC_TYPES.has(type)) return { ok: false, reason: `output content type is ${type.slice(0, 60)}, not a video` };
  if (file.length < rules.minBytes) return { ok: false, reason: `output is only ${file.length} bytes` };
  if (file.length > rules.maxBytes) return { ok: false, reason: `output exceeds ${rules.maxBytes} bytes` };
  const probe = probeMp4(file);
  if (!probe) return { ok: false, reason: 'output is not a readable MP4' };
  if (!(probe.durationSeconds > 0)) return { ok: false, reason: 'output MP4 has no duration' };
  return { ok: true, contentType: 'video/mp4', durationSeconds: Math.round(probe.durationSeconds * 1000) / 1000, width: probe.width, height: probe.height };
}
