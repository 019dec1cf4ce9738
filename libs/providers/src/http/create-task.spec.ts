import { createTask } from './create-task';
import { ProviderHttp } from './provider-http';

const answering = (body: unknown) =>
  new ProviderHttp({
    provider: 'test',
    baseUrl: 'http://provider.invalid',
    headers: {},
    fetch: async () => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } }),
  });

describe('createTask', () => {
  it('given a create answered with an id, then that id is the task', async () => {
    await expect(createTask(answering({ id: 'task-1' }), { path: '/tasks', json: {}, submissionKey: 'job:1' }, undefined, 'no id')).resolves.toEqual({ providerTaskId: 'task-1' });
  });

  it('given a 2xx without an id, then it fails as a server error that may have made a task (dispatch must not submit again blindly)', async () => {
    await expect(createTask(answering({ status: 'ok' }), { path: '/tasks', json: {}, submissionKey: 'job:1' }, undefined, 'no id')).rejects.toMatchObject({
      kind: 'server',
      detail: 'no id',
      maybeDelivered: true,
    });
  });
});
