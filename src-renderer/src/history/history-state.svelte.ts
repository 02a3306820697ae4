/**
 * The History tab's state: the stored runs (newest first, pinned on top), the model filter, and the edits a
 * user makes to them. Opening or resuming a run is the studio's job (it changes what the studio shows).
 */
import type { EngineApi } from '../../../src-shared/api';
import type { PruneResult, RunId, RunList } from '../../../src-shared/runs';

export class HistoryState {
  list = $state.raw<RunList | null>(null);
  /** Only this model's runs (its content hash), or all. */
  modelFilter = $state<string | null>(null);
  loading = $state(false);
  error = $state<string | null>(null);
  /** What the last prune or delete did, for a one-line notice. */
  notice = $state<string | null>(null);
  /** Thumbnails as object URLs, by run id, released when the list is replaced. */
  private urls: string[] = [];
  thumbnails = $state.raw<Record<number, string>>({});

  constructor(private readonly engine: EngineApi) {}

  async refresh(): Promise<void> {
    this.loading = true;
    this.error = null;
    try {
      const list = await this.engine.listRuns({ modelHash: this.modelFilter });
      this.urls.forEach((u) => URL.revokeObjectURL(u));
      this.urls = [];
      const thumbnails: Record<number, string> = {};
      for (const run of list.runs) {
        if (!run.thumbnail) continue;
        const url = URL.createObjectURL(new Blob([run.thumbnail as BlobPart], { type: 'image/jpeg' }));
        this.urls.push(url);
        thumbnails[run.id] = url;
      }
      this.thumbnails = thumbnails;
      this.list = list;
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    } finally {
      this.loading = false;
    }
  }

  async filter(modelHash: string | null): Promise<void> {
    this.modelFilter = modelHash;
    await this.refresh();
  }

  async rename(id: RunId, name: string): Promise<void> {
    await this.edit(() => this.engine.updateRun({ id, name: name.trim() || null }));
  }

  async pin(id: RunId, pinned: boolean): Promise<void> {
    await this.edit(() => this.engine.updateRun({ id, pinned }));
  }

  async remove(ids: RunId[]): Promise<void> {
    await this.edit(async () => this.report(await this.engine.deleteRuns({ ids })));
  }

  async prune(req: { olderThanDays: number | null; unfinished: boolean; all: boolean }): Promise<void> {
    await this.edit(async () => this.report(await this.engine.pruneRuns(req)));
  }

  private report(result: PruneResult): void {
    const kb = (result.freedBytes / 1024).toFixed(0);
    this.notice = `Deleted ${result.deleted} run${result.deleted === 1 ? '' : 's'} (${kb} KB of results).`;
  }

  private async edit(work: () => Promise<unknown>): Promise<void> {
    this.error = null;
    this.notice = null;
    try {
      await work();
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    }
    await this.refresh();
  }
}
