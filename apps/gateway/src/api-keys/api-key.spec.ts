import { API_KEY_PATTERN, generateApiKey, hashApiKey } from './api-key';

describe('API keys', () => {
  it('look like rly_ + 32 base62 characters and differ every time', () => {
    const keys = Array.from({ length: 50 }, generateApiKey);
    for (const k of keys) expect(k).toMatch(API_KEY_PATTERN);
    expect(new Set(keys).size).toBe(50);
  });

  it('are stored as sha256 hex', () => {
    expect(hashApiKey('rly_x')).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiKey('rly_x')).not.toBe(hashApiKey('rly_y'));
  });
});
