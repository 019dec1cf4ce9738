import type { SqlExecutor } from '@reelay/event-store';
import { openDeadLettersGauge } from './log-reader-metrics';
import { createMetrics } from './registry';

describe('reelay_dead_letters_open', () => {
  it('shows what the table holds at each scrape, dropping a consumer whose letters are gone, and keeps the last values when the read fails', async () => {
    const metrics = createMetrics('test');
    let answer: unknown = [{ consumer: 'a', n: 1 }, { consumer: 'b', n: 2 }];
    const db = { query: async () => { if (answer instanceof Error) throw answer; return answer; } } as unknown as SqlExecutor;
    openDeadLettersGauge(metrics, db);
    const series = async () => (await metrics.registry.metrics()).split('\n').filter((l) => l.startsWith('reelay_dead_letters_open{'));
    expect(await series()).toEqual(['reelay_dead_letters_open{consumer="a",service="test"} 1', 'reelay_dead_letters_open{consumer="b",service="test"} 2']);
    answer = [{ consumer: 'a', n: 0 }];
    expect(await series()).toEqual(['reelay_dead_letters_open{consumer="a",service="test"} 0']);
    answer = new Error('database down');
    expect(await series()).toEqual(['reelay_dead_letters_open{consumer="a",service="test"} 0']);
  });
});
