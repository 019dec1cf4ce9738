import { sendSoon } from './send-soon';

describe('sendSoon', () => {
  it('runs the sends of one turn together, in order, after the turn’s microtasks', async () => {
    const ran: string[] = [];
    const first = sendSoon(() => void ran.push('a'));
    await Promise.resolve();
    const second = Promise.resolve().then(() => sendSoon(() => void ran.push('b')));
    ran.push('sync');
    await Promise.resolve();
    expect(ran).toEqual(['sync']);
    await Promise.all([first, second]);
    expect(ran).toEqual(['sync', 'a', 'b']);
  });

  it('rejects only the send that threw', async () => {
    const ok = sendSoon(() => undefined);
    const bad = sendSoon(() => {
      throw new Error('connection closed');
    });
    const after = sendSoon(() => undefined);
    await expect(ok).resolves.toBeUndefined();
    await expect(bad).rejects.toThrow('connection closed');
    await expect(after).resolves.toBeUndefined();
  });
});
