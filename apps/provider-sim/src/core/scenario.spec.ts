import { parseScenario, stripScenarioTags } from './scenario';

describe('parseScenario', () => {
  it('reads several tags and pairs from the prompt', () => {
    expect(parseScenario('a fox [sim:success_after=3] [sim:progress, queue=2] [sim:rate_limit=2;retry_after=5]', undefined)).toEqual({
      success_after: 3, progress: true, queue: 2, rate_limit: 2, retry_after: 5,
    });
  });

  it('applies bare defaults and quoted free text', () => {
    expect(parseScenario('[sim:expire_output,callback_late,fail_code="Failed to download keyframe"]', undefined)).toEqual({
      expire_output: 0, callback_late: 50, fail_code: 'Failed to download keyframe',
    });
  });

  it('lets the x-sim-scenario header override prompt tags and ignores unknown names', () => {
    expect(parseScenario('[sim:success_after=3]', 'success_after=1, bogus=2, never_finish')).toEqual({ success_after: 1, never_finish: true });
  });

  it('strips tags from the prompt', () => {
    expect(stripScenarioTags('a fox [sim:progress] in snow')).toBe('a fox in snow');
  });
});
