import { parseArgs, positiveInt, UsageError, userId } from './args';

describe('parseArgs', () => {
  const flags = { consumer: 'value', all: 'switch' } as const;

  it('reads the flags a command declares, with their values', () => {
    expect(parseArgs(['12', '--consumer', 'c1', '--all'], flags)).toEqual({ positional: ['12'], options: { consumer: 'c1', all: 'true' } });
    expect(parseArgs(['--consumer=c2'], flags).options).toEqual({ consumer: 'c2' });
  });
  it('refuses a flag the command does not declare, Object.prototype names included', () => {
    for (const flag of ['--consumr', '--toString', '--__proto__']) expect(() => parseArgs(['--all', flag, 'x'], flags)).toThrow(new UsageError(`unknown option ${flag}`));
  });
  it('refuses a value flag without its value, and a switch with one', () => {
    expect(() => parseArgs(['--consumer'], flags)).toThrow(new UsageError('--consumer needs a value'));
    expect(() => parseArgs(['--consumer', '--all'], flags)).toThrow(new UsageError('--consumer needs a value'));
    expect(() => parseArgs(['--all=no'], flags)).toThrow(new UsageError('--all takes no value'));
  });
});

describe('positiveInt', () => {
  it('takes digits only, within what is counted exactly', () => {
    expect(positiveInt('250', 'credits')).toBe(250);
    for (const bad of ['abc', '0', '-3', '1e20', '2.0', '0x10', '', '9007199254740993']) expect(() => positiveInt(bad, 'credits')).toThrow(UsageError);
  });
});

describe('userId', () => {
  it('takes a user id as the contracts define it, and explains a bad one', () => {
    expect(userId({ user: 'alice@example.com' })).toBe('alice@example.com');
    expect(() => userId({ user: 'no spaces' })).toThrow(new UsageError('--user takes a user id: 1 to 64 letters, digits, or _ . @ -'));
    expect(() => userId({})).toThrow(new UsageError('--user is required'));
  });
});
