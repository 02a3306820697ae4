/** Imported first by the engine process's entry: lowers it before any worker thread exists (see background-priority.ts). */
import { lowerEnginePriority } from './background-priority';

lowerEnginePriority();
