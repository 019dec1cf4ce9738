import { BadRequestException, HttpException, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import { API_ERROR_STATUS, ApiErrorEnvelope } from '@reelay/contracts';
import { Client } from 'pg';
import { QueryFailedError } from 'typeorm';
import { ApiException } from './api-exception';
import { toErrorResponse } from './error-envelope';

describe('toErrorResponse', () => {
  it('keeps an ApiException as written, with details and headers', () => {
    const r = toErrorResponse(new ApiException('rate_limited', 'Slow down.', { headers: { 'Retry-After': '2' } }));
    expect(r).toEqual({ status: 429, headers: { 'Retry-After': '2' }, body: { error: { code: 'rate_limited', message: 'Slow down.' } } });

    const d = toErrorResponse(new ApiException('invalid_request', 'Bad.', { details: [{ path: 'prompt', message: 'Required' }] }));
    expect(d.body.error.details).toEqual([{ path: 'prompt', message: 'Required' }]);
  });

  it('maps framework errors by status with generic text', () => {
    expect(toErrorResponse(new NotFoundException('Cannot GET /nope'))).toMatchObject({ status: 404, body: { error: { code: 'not_found', message: 'Not found.' } } });
    expect(toErrorResponse(new PayloadTooLargeException())).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
    expect(toErrorResponse(new BadRequestException('Unexpected token } in JSON'))).toMatchObject({ status: 400, body: { error: { code: 'invalid_request', message: 'The request is not valid.' } } });
    expect(toErrorResponse(Object.assign(new Error('raw-body: request entity too large'), { status: 413 }))).toMatchObject({ status: 413 });
  });

  it('answers a framework error with the status its code has in the contract', () => {
    for (const [status, code] of [[403, 'not_found'], [405, 'not_found'], [408, 'invalid_request'], [418, 'invalid_request'], [502, 'internal_error'], [503, 'service_unavailable']] as const) {
      const r = toErrorResponse(new HttpException('raw framework text', status));
      expect(r).toMatchObject({ status: API_ERROR_STATUS[code], body: { error: { code } } });
      expect(JSON.stringify(r.body)).not.toContain('raw framework text');
    }
  });

  it('answers a database out of reach with 503 and Retry-After, as TypeORM or node-postgres throws it', async () => {
    const refused = await new Client({ host: '127.0.0.1', port: 9, user: 'x', database: 'x' }).connect().catch((e: unknown) => e);
    const wrapped = new QueryFailedError('SELECT 1', [], Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }));
    for (const err of [refused, wrapped, new Error('Connection terminated unexpectedly'), new Error('timeout exceeded when trying to connect')]) {
      expect(toErrorResponse(err)).toEqual({ status: 503, headers: { 'Retry-After': '2' }, body: { error: { code: 'service_unavailable', message: expect.any(String) } } });
    }
    const constraint = new QueryFailedError('INSERT', [], Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' }));
    expect(toErrorResponse(constraint).status).toBe(500);
  });

  it('never leaks the text of unexpected errors', () => {
    const r = toErrorResponse(new Error('duplicate key value violates unique constraint "events_pkey" at Client.query (/app/node_modules/pg/lib/client.js:1)'));
    expect(r.status).toBe(500);
    expect(JSON.stringify(r.body)).not.toMatch(/constraint|pg|node_modules/);
    expect(r.body.error.code).toBe('internal_error');
  });

  it('always produces a valid envelope', () => {
    for (const err of [null, undefined, 'a string', 42, { status: 999 }, new ApiException('unauthorized', 'No key.')]) {
      expect(ApiErrorEnvelope.safeParse(toErrorResponse(err).body).success).toBe(true);
    }
  });
});
