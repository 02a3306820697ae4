/**
 * The Settings dialog's state: the run history's size limit as the engine reports it, and setting it (kept in
 * the run database by the engine, applied from the next stored run without a restart).
 */
import type { EngineApi } from '../../../src-shared/api';
import { HISTORY_LIMIT_MB, type HistorySettings } from '../../../src-shared/runs';

const MB = 1024 * 1024;

export class SettingsState {
  open = $state(false);
  history = $state.raw<HistorySettings | null>(null);
  /** What the limit field holds, in MB. */
  limitMb = $state(0);
  error = $state<string | null>(null);
  saved = $state(false);

  constructor(private readonly engine: EngineApi) {}

  async show(): Promise<void> {
    this.open = true;
    this.saved = false;
    this.error = null;
    await this.load(() => this.engine.getHistorySettings());
  }

  close(): void {
    this.open = false;
  }

  async saveLimit(): Promise<void> {
    const mb = Number(this.limitMb);
    if (!Number.isFinite(mb) || mb < HISTORY_LIMIT_MB.min || mb > HISTORY_LIMIT_MB.max) {
      this.error = `The history's limit is a number of MB from ${HISTORY_LIMIT_MB.min} to ${HISTORY_LIMIT_MB.max}.`;
      return;
    }
    await this.load(() => this.engine.setHistoryLimit({ limitMb: mb }), true);
  }

  /** Forgets the limit set here: back to the command line's or environment's, else the default. */
  async resetLimit(): Promise<void> {
    await this.load(() => this.engine.setHistoryLimit({ limitMb: null }), true);
  }

  private async load(call: () => Promise<HistorySettings>, saving = false): Promise<void> {
    this.error = null;
    try {
      const settings = await call();
      this.history = settings;
      this.limitMb = Math.round((settings.limitBytes / MB) * 100) / 100;
      this.saved = saving;
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
      this.saved = false;
    }
  }
}
