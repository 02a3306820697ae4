/** The window's size and position, remembered between launches (kept only if still on a screen). */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { app, screen, type BrowserWindow, type Rectangle } from 'electron';

const file = (): string => path.join(app.getPath('userData'), 'window-state.json');

export function restoredBounds(): Partial<Rectangle> & { maximized?: boolean } {
  try {
    const saved = JSON.parse(readFileSync(file(), 'utf8')) as Rectangle & { maximized?: boolean };
    const visible = screen.getAllDisplays().some((d) => {
      const a = d.workArea;
      return saved.x < a.x + a.width && saved.x + saved.width > a.x && saved.y < a.y + a.height && saved.y + saved.height > a.y;
    });
    return visible ? saved : { width: saved.width, height: saved.height };
  } catch {
    return { width: 1400, height: 900 };
  }
}

export function rememberBounds(win: BrowserWindow): void {
  const save = (): void => {
    try {
      writeFileSync(file(), JSON.stringify({ ...win.getNormalBounds(), maximized: win.isMaximized() }));
    } catch {
      // Not being able to remember the window is not worth bothering the user.
    }
  };
  win.on('close', save);
}
