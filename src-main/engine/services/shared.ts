/** What the services that run analyses share: the open models, images, sessions, graph analyses, run history and jobs. */
import type { ModelRegistry } from '../model-registry';
import type { RunCache } from '../runs/run-cache';
import type { Graphs } from './graphs';
import type { Images } from './images';
import type { Jobs } from './jobs';
import type { Sessions } from './sessions';

export interface EngineServices {
  models: ModelRegistry;
  images: Images;
  sessions: Sessions;
  graphs: Graphs;
  runs: RunCache;
  jobs: Jobs;
}
