import { JobMetadata } from './job-settings';

describe('JobMetadata', () => {
  it('given a __proto__ key (as JSON.parse makes it), then it is refused by name instead of dropped', () => {
    const result = JobMetadata.safeParse(JSON.parse('{"orderId":"A1","__proto__":"x"}'));
    expect(result.success).toBe(false);
    expect(result.error?.issues).toEqual([expect.objectContaining({ path: ['__proto__'], message: '__proto__ cannot be a metadata key' })]);
  });

  it('given keys named like other Object members, then they are kept as sent', () => {
    expect(JobMetadata.parse(JSON.parse('{"constructor":"a","toString":"b"}'))).toEqual({ constructor: 'a', toString: 'b' });
  });
});
