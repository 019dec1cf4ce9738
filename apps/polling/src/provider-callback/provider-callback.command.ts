import { z } from 'zod';

/**
 * What the gateway forwards on `commandSubjects(prefix).providerCallback`. TODO(contracts): this
 * shape belongs in libs/contracts (the gateway has its own copy); fields beyond these are allowed.
 */
export const ProviderCallbackCommand = z
  .looseObject({
    provider: z.string().min(1).max(40),
    headers: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
    /** The raw body, base64, exactly as received (signatures cover these bytes). */
    bodyBase64: z.string().optional(),
    /** Or the body as text. */
    body: z.string().optional(),
  })
  .refine((c) => c.bodyBase64 !== undefined || c.body !== undefined, 'a body is required');
export type ProviderCallbackCommand = z.infer<typeof ProviderCallbackCommand>;
