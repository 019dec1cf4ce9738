import { mapRunwayHttpError } from './runway-errors';

const refused = (error: string) => mapRunwayHttpError({ method: 'POST', path: '/v1/image_to_video', status: 400, body: { error } } as Parameters<typeof mapRunwayHttpError>[0], (t) => t).kind;

describe('Runway HTTP errors', () => {
  // Runway does not document how it words an unreachable promptImage: the image and the failure may come in either order.
  it.each([
    'Invalid asset: failed to fetch promptImage URL (HEAD request returned 404).',
    'Failed to fetch asset from the given URL.',
    'Could not download the image.',
    'The promptImage URL is not accessible.',
  ])('a 400 saying the image could not be read is an asset that could not be fetched: %s', (message) => expect(refused(message)).toBe('asset_fetch'));

  it.each(['promptText must be at most 1000 characters.', 'Invalid ratio for this model.'])('any other 400 is a request the provider will not take: %s', (message) =>
    expect(refused(message)).toBe('invalid_request'));

  it('a 400 naming moderation is moderation', () => expect(refused('Rejected by content moderation.')).toBe('moderation'));
});
