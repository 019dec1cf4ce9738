import type { SimProvider } from './core/sim-provider';
import { seedanceSim } from './seedance/seedance-sim';
import { openaiSim } from './openai/openai-sim';
import { runwaySim } from './runway/runway-sim';
import { lumaSim } from './luma/luma-sim';

/** Registration point: one line per emulated provider. */
export const SIM_PROVIDERS: SimProvider[] = [
  seedanceSim,
  openaiSim,
  runwaySim,
  lumaSim,
];
