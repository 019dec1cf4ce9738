import { Gauge, Registry } from 'prom-client';
import { scrapeRead } from './scrape-read';

describe('scrapeRead', () => {
  it('gives up on a read that does not answer, so the scrape still answers with the last values', async () => {
    const registry = new Registry();
    let answer: () => Promise<number> = async () => 7;
    new Gauge({
      name: 'g',
      help: 'h',
      registers: [registry],
      async collect() {
        const v = await scrapeRead(answer, 50);
        if (v !== null) this.set(v);
      },
    });
    expect(await registry.metrics()).toContain('g 7');
    answer = () => new Promise<number>(() => undefined); // a stalled database
    expect(await registry.metrics()).toContain('g 7');
    answer = async () => Promise.reject(new Error('pool exhausted'));
    expect(await registry.metrics()).toContain('g 7');
  });
});
