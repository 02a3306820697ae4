/**
 * Packaging with Electron Forge 7 (Forge 8 refuses Node < 22.13). `npm run make` needs Electron's binary,
 * so it runs on a machine with internet access, not on the offline CI.
 *
 * - The app is the built `out/` plus the production dependencies (only the native modules; everything else
 *   is bundled by electron-vite). `resources/` (demo model, icons) ships beside the asar.
 * - Native `.node` files AND the shared libraries they load stay outside the asar.
 * - Only this platform's onnxruntime binaries are shipped (the package carries every platform's: ~290 MB).
 * - better-sqlite3 is rebuilt for Electron's ABI in Forge's staging copy.
 * - Fuses: no ELECTRON_RUN_AS_NODE, no NODE_OPTIONS, no --inspect, asar integrity, app only from the asar.
 */
import type { ForgeConfig } from '@electron-forge/shared-types';
import { MakerDeb } from '@electron-forge/maker-deb';
import { MakerDMG } from '@electron-forge/maker-dmg';
import { MakerRpm } from '@electron-forge/maker-rpm';
import { MakerSquirrel } from '@electron-forge/maker-squirrel';
import { MakerZIP } from '@electron-forge/maker-zip';
import { AutoUnpackNativesPlugin } from '@electron-forge/plugin-auto-unpack-natives';
import { FusesPlugin } from '@electron-forge/plugin-fuses';
import { FuseV1Options, FuseVersion } from '@electron/fuses';

const platform = process.platform;
const arch = process.arch;

/** Paths (relative to the app root, leading slash) that must not end up in the package. */
function ignored(file: string): boolean {
  if (file === '') return false;
  if (
    /^\/(src-main|src-renderer|src-shared|test|tools|bench|resources|\.ci|\.git|test-results|playwright-report)(\/|$)/.test(file)
  ) {
    return true;
  }
  if (/^\/[^/]+\.(ts|md|json)$/.test(file) && file !== '/package.json') return true;
  if (/^\/out\/.*\.map$/.test(file)) return true;
  // onnxruntime-node: keep only this platform/arch's binaries.
  const ort = /^\/node_modules\/onnxruntime-node\/bin\/napi-v\d+\/([^/]+)(?:\/([^/]+))?/.exec(file);
  if (ort && (ort[1] !== platform || (ort[2] !== undefined && ort[2] !== arch))) return true;
  return false;
}

const config: ForgeConfig = {
  packagerConfig: {
    name: 'LayerLens',
    executableName: 'layerlens',
    appBundleId: 'dev.layerlens.studio',
    icon: 'resources/icons/icon',
    asar: { unpack: '**/{*.node,*.so,*.so.*,*.dylib,*.dll}' },
    extraResource: ['resources'],
    ignore: ignored,
    prune: true,
    // macOS: LayerLens offers to open .onnx files (the Finder's open-file event reaches the app).
    extendInfo: {
      CFBundleDocumentTypes: [
        {
          CFBundleTypeName: 'ONNX model',
          CFBundleTypeRole: 'Viewer',
          LSHandlerRank: 'Alternate',
          CFBundleTypeExtensions: ['onnx'],
        },
      ],
    },
  },
  rebuildConfig: { onlyModules: ['better-sqlite3'], force: true },
  makers: [
    new MakerZIP({}, ['linux', 'darwin']),
    new MakerDeb({
      options: {
        icon: 'resources/icons/icon.png',
        categories: ['Development', 'Science'],
        mimeType: ['application/x-onnx'],
      },
    }),
    new MakerRpm({ options: { icon: 'resources/icons/icon.png', categories: ['Development', 'Science'] } }),
    new MakerSquirrel({ name: 'LayerLens', setupIcon: 'resources/icons/icon.ico' }),
    new MakerDMG({ icon: 'resources/icons/icon.icns', format: 'ULFO' }),
  ],
  plugins: [
    new AutoUnpackNativesPlugin({}),
    new FusesPlugin({
      version: FuseVersion.V1,
      [FuseV1Options.RunAsNode]: false,
      [FuseV1Options.EnableCookieEncryption]: true,
      [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
      [FuseV1Options.EnableNodeCliInspectArguments]: false,
      [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
      [FuseV1Options.OnlyLoadAppFromAsar]: true,
    }),
  ],
};

export default config;
