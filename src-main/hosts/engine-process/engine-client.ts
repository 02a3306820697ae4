/**
 * A host's handle on the engine process: relays its pages' API frames (each page on its own channel), pushes
 * commands and path grants, asks for the recent models, and starts a new engine when one dies (finished runs
 * are safe in the database; the one being computed shows as interrupted in the history). Plain Node: the
 * spawn function decides whether the child is an Electron utility process (the desktop app) or a Node child
 * (`layerlens serve`, tests).
 */
import type { AppCommand } from '../../../src-shared/api';
import type { FromEngine, MessageLink, ToEngine } from './protocol';

export interface ChildLink extends MessageLink<FromEngine, ToEngine> {
  onExit(listener: (code: number | null) => void): void;
  kill(): void;
}

export class EngineClient {
  private child: ChildLink | null = null;
  private readonly frameListeners = new Set<(frame: Uint8Array, channel: number) => void>();
  private readonly pendingRecent = new Map<number, (models: { name: string; path: string }[]) => void>();
  /** Grants outlive a restarted engine. */
  private readonly granted = new Set<string>();
  private nextId = 1;
  private stopping = false;

  constructor(
    private readonly spawn: () => ChildLink,
    private readonly onCrash: (message: string) => void,
    /** Prints a report's HTML to PDF for the engine (the desktop app: Electron's own printToPDF). */
    private readonly printToPdf: (html: string) => Promise<Uint8Array> = () =>
      Promise.reject(new Error('this host cannot print to PDF')),
  ) {}

  /** Starts the engine and resolves once it serves (rejects with its reason when it cannot start). */
  start(): Promise<void> {
    const child = this.spawn();
    this.child = child;
    return new Promise((resolve, reject) => {
      let ready = false;
      child.subscribe((message) => {
        if (message.kind === 'ready') {
          ready = true;
          if (this.granted.size > 0) child.post({ kind: 'grant', paths: [...this.granted] });
          resolve();
        } else if (message.kind === 'frame') {
          this.frameListeners.forEach((l) => l(message.frame, message.channel ?? 0));
        } else if (message.kind === 'recent') {
          this.pendingRecent.get(message.id)?.(message.models);
          this.pendingRecent.delete(message.id);
        } else if (message.kind === 'fatal') {
          reject(new Error(message.message));
        } else if (message.kind === 'print') {
          this.printToPdf(message.html).then(
            (pdf) => child.post({ kind: 'printed', id: message.id, pdf, error: null }),
            (error: unknown) => child.post({ kind: 'printed', id: message.id, pdf: null, error: String(error) }),
          );
        }
      });
      child.onExit((code) => {
        if (this.child === child) this.child = null;
        this.pendingRecent.forEach((answer) => answer([]));
        this.pendingRecent.clear();
        if (!ready) reject(new Error(`the engine process exited (code ${code}) before it was ready`));
        else if (!this.stopping) {
          this.onCrash(`The engine process stopped (code ${code}); it was restarted.`);
          void this.start().catch((error: unknown) => this.onCrash(`The engine could not be restarted: ${String(error)}`));
        }
      });
    });
  }

  /** `channel`: the page's (0, the default, is the desktop app's window). */
  sendFrame(frame: Uint8Array, channel = 0): void {
    this.child?.post(channel === 0 ? { kind: 'frame', frame } : { kind: 'frame', frame, channel });
  }

  /** A page went away: the engine ends its API session. */
  closeChannel(channel: number): void {
    this.child?.post({ kind: 'close', channel });
  }

  onFrame(listener: (frame: Uint8Array, channel: number) => void): () => void {
    this.frameListeners.add(listener);
    return () => this.frameListeners.delete(listener);
  }

  /** Paths the user chose in a dialog or dropped: the page may now have the engine read them. */
  grant(paths: string[]): void {
    paths.forEach((p) => this.granted.add(p));
    this.child?.post({ kind: 'grant', paths });
  }

  /** Sends a menu command to the page, granting the files it names first. */
  command(command: AppCommand): void {
    if (command.kind === 'open-model') this.grant([command.path]);
    if (command.kind === 'open-images') this.grant(command.paths);
    this.child?.post({ kind: 'command', command });
  }

  recentModels(): Promise<{ name: string; path: string }[]> {
    const child = this.child;
    if (!child) return Promise.resolve([]);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pendingRecent.set(id, resolve);
      child.post({ kind: 'recent', id });
    });
  }

  stop(): void {
    this.stopping = true;
    this.child?.kill();
  }
}
