export { startProviderSim, type StartProviderSimOptions, type RunningProviderSim } from './start-provider-sim';
export { simOptionsFromEnv, DEFAULT_SIM_OPTIONS, type SimOptions } from './core/sim-options';
export { parseScenario, stripScenarioTags, type Scenario } from './core/scenario';
export type { SimProvider } from './core/sim-provider';
export type { SubmissionRecord, ProviderStats } from './core/sim-context';
