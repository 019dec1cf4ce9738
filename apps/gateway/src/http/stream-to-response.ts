import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '@reelay/service-kit';
import type { Response } from 'express';

/**
 * Streams a stored file into a response whose headers are set. A client that leaves early is not
 * an error worth logging; any other failure cuts the response (its length was promised) and is logged.
 */
export async function streamToResponse(body: Readable, res: Response, logger: Logger, context: Record<string, unknown>): Promise<void> {
  await pipeline(body, res).catch((err: unknown) => {
    if (!res.writableEnded) res.destroy();
    if ((err as { code?: string }).code !== 'ERR_STREAM_PREMATURE_CLOSE') logger.warn({ err, ...context }, 'stream from storage failed');
  });
}
