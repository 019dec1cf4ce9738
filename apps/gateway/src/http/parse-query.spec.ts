import { ListJobsQuery } from '@reelay/contracts';
import { ApiException } from '../errors/api-exception';
import { parseQuery } from './parse-query';

describe('parseQuery', () => {
  it('reads deepObject parameters (metadata[key]=value) as an object', () => {
    expect(parseQuery(ListJobsQuery, { 'metadata[orderId]': 'A1', 'metadata[shot]': '3', status: 'running' })).toEqual({ metadata: { orderId: 'A1', shot: '3' }, status: 'running', limit: 20 });
  });

  it('reads metadata keys named like Object.prototype members as ordinary keys, as a submit takes them', () => {
    const query = Object.assign(Object.create(null) as Record<string, unknown>, { 'metadata[constructor]': 'x', 'metadata[prototype]': 'y' });
    const parsed = parseQuery(ListJobsQuery, query);
    expect(Object.entries(parsed.metadata ?? {})).toEqual([['constructor', 'x'], ['prototype', 'y']]);
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });

  it.each([
    [{ '__proto__[polluted]': 'yes' }],
    [{ 'constructor[prototype]': 'yes' }],
    [{ 'metadata[__proto__]': 'yes' }],
    [{ ['__proto__']: ['a', 'b'] }],
    [{ 'metadata[a]': 'x', metadata: 'y' }],
    [{ 'metadata[a]': ['x', 'y'] }],
  ])('refuses %j with a 400 and leaves Object.prototype alone', (query) => {
    const given = Object.assign(Object.create(null) as Record<string, unknown>, query);
    expect(() => parseQuery(ListJobsQuery, given)).toThrow(ApiException);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });
});
