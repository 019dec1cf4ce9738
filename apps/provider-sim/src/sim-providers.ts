import type { SimProvider } from './core/sim-provider';
import { seedanceSim } from './seedance/seedance-sim';
import { openaiSim } from './openai/openai-sim';
import { runwaySim } from './runway/runway-sim';
import { lumaSim } from './luma/luma-sim';
import { veoSim } from './veo/veo-sim';
import { replicateSim } from './replicate/replicate-sim';
import { falSim } from './fal/fal-sim';
import { minimaxSim } from './minimax/minimax-sim';
import { klingSim } from './kling/kling-sim';
import { localSim } from './local/local-sim';

/** Registration point: one line per emulated provider. */
export const SIM_PROVIDERS: SimProvider[] = [
  seedanceSim,
  openaiSim,
  runwaySim,
  lumaSim,
  veoSim,
  replicateSim,
  falSim,
  minimaxSim,
  klingSim,
  localSim,
];
