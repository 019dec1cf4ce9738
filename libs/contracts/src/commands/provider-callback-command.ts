import { z } from 'zod';

/**
 * Gateway → polling on `commandSubjects(prefix).providerCallback`: a provider's callback as it
 * arrived, unparsed and untrusted (polling verifies it with the provider's adapter). Loose, so a
 * field added later does not make older replicas drop callbacks.
 */
export const ProviderCallbackCommand = z
  .looseObject({
    provider: z.string().min(1).max(40),
    /** As received, with lower-cased names; the gateway drops cookies. */
    headers: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
    /** The raw body, base64, exactly as received (signatures cover these bytes). */
    bodyBase64: z.string().optional(),
    /** Or the body as text. */
    body: z.string().optional(),
    /** The query string without '?' (some providers put a token in the callback URL). */
    query: z.string().optional(),
    receivedAt: z.string().optional(),
    correlationId: z.string().optional(),
  })
  .refine((c) => c.bodyBase64 !== undefined || c.body !== undefined, 'a body is required');
export type ProviderCallbackCommand = z.infer<typeof ProviderCallbackCommand>;
