import type { AdapterFactory } from './config/adapter-factory';
import { seedanceFactory } from './seedance/seedance-factory';
import { openaiFactory } from './openai/openai-factory';
import { runwayFactory } from './runway/runway-factory';
import { lumaFactory } from './luma/luma-factory';
import { veoFactory } from './veo/veo-factory';
import { replicateFactory } from './replicate/replicate-factory';
import { falFactory } from './fal/fal-factory';
import { minimaxFactory } from './minimax/minimax-factory';
import { klingFactory } from './kling/kling-factory';
import { localFactory } from './local/local-factory';

/** Registration point: one line per provider. Order is the default preference order. */
export const ADAPTER_FACTORIES: AdapterFactory[] = [
  seedanceFactory,
  openaiFactory,
  runwayFactory,
  lumaFactory,
  veoFactory,
  replicateFactory,
  falFactory,
  minimaxFactory,
  klingFactory,
  localFactory,
];
