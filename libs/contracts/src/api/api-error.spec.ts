import { z } from 'zod';
import { detailsFromIssues } from './api-error';
import { SubmitJobRequest } from './submit-job-request';

describe('detailsFromIssues', () => {
  it('names each unknown field by its path, not the object that holds it', () => {
    const parsed = SubmitJobRequest.safeParse({ model: 'm', prompt: 'p', aspectRatio: '16:9', durationSeconds: 5, promt: 'typo', extra: 1 });
    expect(parsed.success).toBe(false);
    expect(detailsFromIssues(parsed.error!.issues)).toEqual([
      { path: 'promt', message: 'Unknown field.' },
      { path: 'extra', message: 'Unknown field.' },
    ]);
    const nested = z.strictObject({ referenceImage: z.strictObject({ url: z.string() }) }).safeParse({ referenceImage: { url: 'u', size: 2 } });
    expect(detailsFromIssues(nested.error!.issues)).toEqual([{ path: 'referenceImage.size', message: 'Unknown field.' }]);
  });

  it('keeps the path of other issues, and "(body)" for the body itself', () => {
    expect(detailsFromIssues(z.strictObject({ a: z.number() }).safeParse({ a: 'x' }).error!.issues)).toEqual([{ path: 'a', message: expect.any(String) }]);
    expect(detailsFromIssues(z.strictObject({}).safeParse('x').error!.issues)).toEqual([{ path: '(body)', message: expect.any(String) }]);
  });
});
